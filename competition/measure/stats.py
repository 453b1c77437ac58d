"""Explicit statistics: the median with a seeded percentile-bootstrap confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np


def median_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Return (median, lo, hi): the sample median and a percentile bootstrap CI of the median.

    Resampling is seeded, so the same values always give the same interval. A single value gives a zero-width
    interval. The resamples are those of `rng.integers(0, n, (n_resamples, n))`; each one's median is read from
    the sorted values by counting draws (`_resample_medians`) instead of sorting every resample: the same numbers,
    bit for bit, in a tenth of the time (the store recomputes this for every stored result).
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size == 0:
        raise ValueError("median_ci needs at least one value")
    if not np.all(np.isfinite(data)):
        raise ValueError("median_ci got a non-finite value")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    order = np.argsort(data, kind="stable")
    ordered = data[order]
    middle = data.size // 2  # the median as np.median computes it: the middle value, or the mean of the two
    median = float(ordered[middle] if data.size % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0)
    if data.size == 1:
        return median, median, median
    medians, resamples = _resample_medians(ordered, order, n_resamples, seed)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = (_counted_quantile(medians, resamples, q) for q in (alpha, 1.0 - alpha))
    return median, float(lo), float(hi)


@lru_cache(maxsize=16)
def _draw_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """counts[i, r]: how often value i is drawn in resample r (the seeded draws depend only on n and the seed)."""
    draws = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    flat = (draws + n * np.arange(n_resamples)[:, None]).ravel()
    counts = np.bincount(flat, minlength=n * n_resamples).reshape(n_resamples, n).T
    counts = np.ascontiguousarray(counts, dtype=np.uint8 if n < 256 else np.int32)
    counts.flags.writeable = False
    return counts


def _resample_medians(ordered: np.ndarray, order: np.ndarray, n_resamples: int,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The resample medians of np.median(data[draws], axis=1) as (distinct values ascending, how many resamples
    have each), from the values sorted (`ordered` = data[order]).

    With the values sorted, a resample's k-th smallest draw is the sorted value at the first position where the
    running count of its draws (in sorted order) exceeds k; ties keep this exact since equal values are equal.
    A median is then one or two sorted positions, so the resamples fall into at most n * n groups."""
    size = ordered.size
    counts = _draw_counts(size, n_resamples, seed)[order]
    upper = size // 2  # the median's (upper) middle position
    position = np.uint8 if size < 256 else np.intp
    below_lower, below_upper = np.zeros(n_resamples, position), np.zeros(n_resamples, position)
    running, mask = np.zeros(n_resamples, dtype=counts.dtype), np.empty(n_resamples, dtype=bool)
    for row in counts:
        running += row
        below_lower += np.less_equal(running, upper - 1, out=mask)
        below_upper += np.less_equal(running, upper, out=mask)
    if size % 2:
        groups = np.bincount(below_upper, minlength=size)
        values = ordered
    else:
        groups = np.bincount(below_lower.astype(np.intp) * size + below_upper, minlength=size ** 2)
        values = (ordered[:, None] + ordered[None, :]).ravel() / 2.0  # same float as (a + b) / 2 in np.median
    used = groups > 0
    values, groups = values[used], groups[used]
    ascending = np.argsort(values, kind="stable")
    return values[ascending], groups[ascending]


def _counted_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """np.quantile(np.repeat(values, counts), q) (linear method) without building the array: the two order
    statistics around the virtual index are found by counting, then interpolated with numpy's own formula
    (`_lerp`: from the lower end below t = 0.5, from the upper end above, so that t = 1 lands exactly)."""
    total = int(counts.sum())
    virtual = (total - 1) * float(q)
    below = math.floor(virtual)
    if not 0 <= below < total - 1:
        return float(np.quantile(np.repeat(values, counts), q))
    ends = np.cumsum(counts)
    lower, upper = (float(v) for v in values[np.searchsorted(ends, [below, below + 1], side="right")])
    t = virtual - below
    step = upper - lower
    return upper - step * (1 - t) if t >= 0.5 else lower + step * t


def estimate(values: Sequence[float] | np.ndarray, unit: str | None = None, seed: int = 0) -> dict:
    """The result schema's `estimate` object: {median, ci95: [lo, hi], n(, unit)}."""
    median, lo, hi = median_ci(values, seed=seed)
    out: dict = {"median": median, "ci95": [lo, hi], "n": int(np.asarray(values).size)}
    if unit is not None:
        out["unit"] = unit
    return out


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation (NumPy's default)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("percentile needs at least one value")
    return float(np.percentile(data, q))


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-round ratios numerator[i] / denominator[i] (e.g. baseline time / candidate time = speedup)."""
    if len(numerators) != len(denominators):
        raise ValueError("ratios needs paired rounds of equal length")
    return [float(a) / float(b) for a, b in zip(numerators, denominators)]
