"""Text-quality metrics computed in the parent from what the worker returns.

perplexity: exp of the mean next-token cross-entropy (natural log) over every position of the validation windows.
bleu: corpus BLEU on token ids (characters for the char-level TinyGPT): n-grams 1..4, uniform weights, clipped
counts summed over the corpus, brevity penalty; no smoothing, so any zero n-gram precision gives 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


def perplexity(logits: np.ndarray, targets: np.ndarray) -> float:
    """exp(mean cross-entropy) of `logits` (B, T, V) against int `targets` (B, T)."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits must have shape {(*targets.shape, 'vocab')}, got {logits.shape}")
    if targets.max() >= logits.shape[2]:
        raise ValueError(f"logits have {logits.shape[2]} classes but targets go up to {targets.max()}")
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=2))
    picked = np.take_along_axis(shifted, targets[..., None].astype(np.int64), axis=2)[..., 0]
    return float(np.exp(np.mean(log_z - picked)))


def corpus_bleu(candidates: Sequence[Sequence[int]], references: Sequence[Sequence[int]], max_n: int = 4) -> float:
    """Corpus BLEU in [0, 1] of token sequences against one reference each (see module docstring)."""
    if len(candidates) != len(references) or not candidates:
        raise ValueError("corpus_bleu needs one reference per candidate and at least one pair")
    matches, totals = [0] * max_n, [0] * max_n
    cand_len = ref_len = 0
    for cand, ref in zip(candidates, references):
        cand, ref = list(cand), list(ref)
        cand_len, ref_len = cand_len + len(cand), ref_len + len(ref)
        for n in range(1, max_n + 1):
            c_grams = Counter(tuple(cand[i:i + n]) for i in range(len(cand) - n + 1))
            r_grams = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
            matches[n - 1] += sum(min(count, r_grams[g]) for g, count in c_grams.items())
            totals[n - 1] += max(0, len(cand) - n + 1)
    if cand_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = 1.0 if cand_len > ref_len else math.exp(1 - ref_len / cand_len)
    return float(brevity * math.exp(log_precision))
