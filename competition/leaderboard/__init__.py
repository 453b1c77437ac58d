"""Leaderboard: the results store, rankings, awards and badges, and the renderers (LEADERBOARD.md, static site).

Everything after the store is a pure function of the stored results (+ awards.yaml + config.yaml).
"""
