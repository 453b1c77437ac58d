"""The trusted judge of open-division generations: how surprising the timed tokens are to the baseline GPT, run by
tinytorch in the parent (the harness's own weights, never the entry's code).

Score: the mean negative log-likelihood (nats) per generated token under the reference, every generated token
predicted from the text before it (the prompt included; past the context window, tinytorch's sliding window with
reencode_every = context / 2, the same for every contender). A candidate passes when its mean is at most the
baseline's own generations' (same prompts) plus log(max_perplexity) of the event: its text may be up to
max_perplexity times less likely per token than the baseline's, the factor the quality bound allows on real text.

Measured (bundled Shakespeare, 64-token generations after 64-token prompts, reference = baseline): the baseline's
greedy text 1.1-1.3 nats per token, the real continuation 1.6-2.5, a repeated real 12-character phrase 2.3-2.8,
characters drawn from the unigram distribution 5.5-5.9, the prompt's last character repeated 4.2-7.6, but 64
spaces 0.8; the bound is about 3.3. The limit: text the reference finds plausible passes whatever produced it (a
run of spaces, a repeated phrase); that it is the entry's own greedy decoding is the separate greedy check
(generation.py), on windows the entry cannot tell from perplexity windows by their shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import tinytorch as tt
from tinytorch.competition import sliding_window_logits
from tinytorch.models import GPT

DEFAULT_MAX_PERPLEXITY = math.e  # an event without a perplexity bound: one nat per token above the baseline


def mean_nll(model: GPT, sequences: Sequence[np.ndarray], prompt_lens: Sequence[int]) -> float:
    """Mean NLL (nats) per generated token of (1, T) `sequences` under `model` (module docstring)."""
    total, count = 0.0, 0
    by_shape: dict[tuple[int, int], list[np.ndarray]] = {}
    for sequence, prompt_len in zip(sequences, prompt_lens):
        by_shape.setdefault((sequence.shape[1], int(prompt_len)), []).append(sequence[0])
    for (length, prompt_len), rows in by_shape.items():
        tokens = np.stack(rows).astype(np.int64)
        with tt.no_grad():
            logits = sliding_window_logits(model, tokens, model.context_length // 2).astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(logits).sum(axis=-1))
        picked = np.take_along_axis(logits[:, :-1], tokens[:, 1:, None], axis=-1)[..., 0]
        nll = (log_z[:, :-1] - picked)[:, prompt_len - 1:]
        total, count = total + float(nll.sum()), count + nll.size
    if not count:
        raise ValueError("mean_nll needs at least one generated token")
    return total / count


def bound(baseline_nll: float, max_perplexity: float) -> float:
    """The most a candidate's mean NLL may be: the baseline's plus log(max_perplexity)."""
    return baseline_nll + math.log(max_perplexity)


def failure(candidate_nll: float, baseline_nll: float, max_perplexity: float) -> str | None:
    """None if the candidate's generations are within the bound, else why not."""
    limit = bound(baseline_nll, max_perplexity)
    if candidate_nll <= limit:
        return None
    return (f"the timed generations average {candidate_nll:.2f} nats per token under the reference model, more "
            f"than the baseline's {baseline_nll:.2f} + log({max_perplexity:g}) = {limit:.2f}: they are not text the "
            "model could have generated")
