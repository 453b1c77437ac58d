"""Checks the parent applies to every output it times: a run whose outputs fail them is disqualified.

- Scores (predict): a numeric array of shape (batch, classes), every value finite and within +-1e30.
- Rounds agree: every image the timed rounds saw more than once gets the same predicted class in (almost) every
  round, and no round's accuracy falls far below the others (a model that returns garbage while timed).
- Distinct outputs: every timed input is new bytes (measure/draws.py), so at most MAX_REPEATED_ROWS of a contender's
  output rows may repeat, bit for bit, a row it returned for another input (a constant output, class labels instead
  of scores, or a cache answering for an image it saw before). measure/audit.py holds the fresh-input audit.
- Greedy generation: the tokens generate() returns start with the prompt, and each new token the check reaches is
  the argmax of the submission's own next_token_logits on the tokens before it (teacher-forced; float ties
  tolerated). generation.py asks for those logits on windows of the perplexity width mixed among the perplexity
  windows, so the entry cannot answer the check differently; the trusted judge of every timed token is
  competition/conformance/generation.py (closed) and measure/judge.py (open).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_ABS_VALUE = 1e30
# Of repeated predictions, the fraction that may differ from the image's majority class: each sight of an image is
# shifted and noised anew, and an image near a decision boundary may change class, the more often the weaker the
# model. Measured: 0.9-1.1 % for the baseline CNN and the example entrants, 2.4 % for the reference MLP, 5.6 % for the
# protocol tests' 80 %-accurate template classifier (benchmarks/perturbation_accuracy.py), 17-21 % for test_run's
# untrained random network. A flip costs the entry its share of the reported accuracy, so the bound only has to
# catch outputs that do not depend on the image (per-call garbage differs from the majority most of the time).
MAX_DISAGREEMENT = 0.5
MAX_ROUND_ACCURACY_DROP = 0.05  # below the median round accuracy
MAX_REPEATED_ROWS = 0.5  # of the output rows, bit-identical to a row for another input
TIE_TOLERANCE = 1e-3  # logits this close to the maximum (relative to max(1, |max|)) count as ties


class Disqualified(ValueError):
    """The submission's outputs fail a check of the protocol; the message says which and why."""


def scores(out: np.ndarray, rows: int, classes: int, who: str) -> np.ndarray:
    """`out` as float64 after checking dtype, shape (rows, classes) and values."""
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "biuf":
        raise Disqualified(f"{who}: predict() returned {getattr(out, 'dtype', type(out))}, not a numeric array")
    if out.shape != (rows, classes):
        raise Disqualified(f"{who}: predict() returned shape {out.shape} for {rows} images, expected {(rows, classes)}")
    values = out.astype(np.float64)
    if not np.all(np.isfinite(values)) or np.abs(values).max(initial=0) > MAX_ABS_VALUE:
        raise Disqualified(f"{who}: predict() returned NaN, infinite or absurdly large scores")
    return values


def rounds_agree(rounds: Sequence[tuple[np.ndarray, np.ndarray]], labels: np.ndarray, who: str) -> float:
    """Accuracy over all timed rounds, after checking they agree. `rounds`: (image indices, predicted classes)."""
    accs = [float(np.mean(pred == labels[idx])) for idx, pred in rounds]
    median = float(np.median(accs))
    for r, acc in enumerate(accs):
        if acc < median - MAX_ROUND_ACCURACY_DROP:
            raise Disqualified(f"{who}: timed round {r + 1} scored {acc:.1%} accuracy against a median of "
                               f"{median:.1%} over the rounds: the timed outputs do not agree")
    idx = np.concatenate([i for i, _ in rounds])
    pred = np.concatenate([p for _, p in rounds])
    votes = np.zeros((int(labels.size), int(max(pred.max(initial=0), labels.max()) + 1)), dtype=np.int64)
    np.add.at(votes, (idx, pred), 1)
    seen = votes.sum(axis=1)
    repeated = seen[idx] > 1
    if repeated.any():
        changed = float(np.mean(pred[repeated] != votes.argmax(axis=1)[idx][repeated]))
        if changed > MAX_DISAGREEMENT:
            raise Disqualified(f"{who}: {changed:.1%} of the predictions for images seen in several timed rounds "
                               f"differ from the image's majority class (at most {MAX_DISAGREEMENT:.0%} allowed)")
    return float(np.mean(pred == labels[idx]))


def row_keys(scores: np.ndarray) -> np.ndarray:
    """One key per row of checked `scores`: the row's float64 bytes, so equal rows give equal keys and different
    rows never collide. (A 64-bit multiply-add hash did: float32 scores widened to float64 leave the low 29 bits
    zero, so it had about 35 bits left and two honest rows in 18 500 met in two CI runs.)"""
    rows = np.ascontiguousarray(scores, dtype=np.float64)
    return rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel().copy()


def distinct_outputs(keys: np.ndarray, who: str) -> float:
    """The fraction of output rows (by row_keys, one per input, every input distinct) that repeat an earlier row,
    after checking it is at most MAX_REPEATED_ROWS."""
    repeated = 1.0 - np.unique(keys).size / max(keys.size, 1)
    if repeated > MAX_REPEATED_ROWS:
        raise Disqualified(f"{who}: {repeated:.0%} of its outputs repeat, bit for bit, its output for a different "
                           f"input (at most {MAX_REPEATED_ROWS:.0%} allowed; every timed input is new): predict() must "
                           "compute scores for each input - a constant output, labels instead of scores, or a cache "
                           "is not allowed")
    return repeated


def tokens(out: np.ndarray, prompt: np.ndarray, new_tokens: int, who: str) -> np.ndarray:
    """generate()'s output as int64 after checking shape, the prompt prefix and that ids are non-negative (whether
    each is the model's choice is checked by greedy_mismatches)."""
    expected = (prompt.shape[0], prompt.shape[1] + new_tokens)
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "iu" or out.shape != expected:
        raise Disqualified(f"{who}: generate() must return {expected} integer token ids, got "
                           f"{getattr(out, 'shape', None)} {getattr(out, 'dtype', type(out))}")
    if not np.array_equal(out[:, :prompt.shape[1]], prompt):
        raise Disqualified(f"{who}: generate() changed the prompt")
    if out.min() < 0 or out.max() >= 2**31:
        raise Disqualified(f"{who}: generate() returned negative or absurd token ids")
    return out.astype(np.int64)


def greedy_mismatches(sequence: np.ndarray, prompt_len: int, logits: np.ndarray) -> list[int]:
    """Positions n >= prompt_len of `sequence` (1, T) whose token is not (up to ties) the argmax of row n - 1 of
    `logits` (width, vocab), the entry's next_token_logits on sequence[:, :width]: every new token those rows
    predict."""
    logits = np.asarray(logits, dtype=np.float64)
    bad = []
    for n in range(prompt_len, min(len(logits), sequence.shape[1] - 1) + 1):
        row, token = logits[n - 1], int(sequence[0, n])
        best = row.max()
        if token >= row.size or row[token] < best - TIE_TOLERANCE * max(1.0, abs(best)):
            bad.append(n)
    return bad
