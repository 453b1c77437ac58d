"""The jailed side: a small, dumb server that runs the submission's entry points on request.

It times nothing, measures nothing and reports no sizes: it stores arrays, imports model.py, calls load / predict /
generate / next_token_logits / train and returns their outputs. Everything that is measured is measured by the
parent (competition.measure), which never imports this package (tests/competition/test_layering.py).
Run as: python -I -B -m competition.worker --read-fd R --write-fd W --root DIR
"""
