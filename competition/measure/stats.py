"""Explicit statistics: the median with a seeded percentile-bootstrap confidence interval, over rounds
(`median_ci`) or over independent units of rounds (`unit_median_ci`: whole worker processes or contiguous blocks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

# The relative half-width of the speedup interval a run measures toward (protocols.Sampler), by event kind.
TARGET_HALFWIDTH = {"inference": 0.02, "training": 0.02, "generation": 0.03}


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


def unit_median_ci(values: Sequence[float] | np.ndarray, units: Sequence[int] | np.ndarray,
                   confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """(median, lo, hi): the median of `values` and a cluster-bootstrap CI that resamples whole units.

    `units[i]` names the independent unit value i belongs to (a worker process, or a contiguous block of rounds):
    rounds of one unit share its luck and drift, so they are drawn together, never one by one. Each resample draws
    k of the k units with replacement and takes the median of all their values. The percentile interval is then
    widened about the median by t(k-1) / z * sqrt(k / (k-1)) (`small_sample_factor`): with few units the bootstrap's
    plug-in spread is too small by sqrt((k-1)/k), and its normal quantile too short against Student's t. One unit
    cannot show its own luck: the interval is then the values' whole range. Seeded: same inputs, same interval."""
    data = np.asarray(values, dtype=np.float64).ravel()
    labels = np.asarray(units).ravel()
    if data.size == 0 or data.size != labels.size:
        raise ValueError("unit_median_ci needs one unit label per value, and at least one value")
    if not np.all(np.isfinite(data)):
        raise ValueError("unit_median_ci got a non-finite value")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    median = float(np.median(data))
    _, unit_index = np.unique(labels, return_inverse=True)
    k = int(unit_index.max()) + 1
    if k == 1:
        return median, float(data.min()), float(data.max())
    medians = _unit_resample_medians(data, unit_index.ravel(), k, n_resamples, seed)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(medians, [alpha, 1.0 - alpha])
    widen = small_sample_factor(k, confidence)
    return median, float(median - widen * max(median - lo, 0.0)), float(median + widen * max(hi - median, 0.0))


def _unit_resample_medians(data: np.ndarray, unit_index: np.ndarray, k: int, n_resamples: int,
                           seed: int) -> np.ndarray:
    """The median of every cluster resample, counted like `_resample_medians`: the resamples draw units
    (`_draw_counts(k, ...)`, cached), a value weighs as often as its unit was drawn, and walking the sorted values
    once finds, per resample, the first positions whose running weight passes the middle."""
    order = np.argsort(data, kind="stable")
    ordered, unit_of_sorted = data[order], unit_index[order]
    counts = _draw_counts(k, n_resamples, seed)  # counts[j, r]: how often unit j is in resample r
    total = np.bincount(unit_index, minlength=k).astype(np.int64) @ counts
    lower_middle, upper_middle = (total - 1) // 2, total // 2
    running, mask = np.zeros(n_resamples, dtype=np.int64), np.empty(n_resamples, dtype=bool)
    below_lower, below_upper = np.zeros(n_resamples, np.intp), np.zeros(n_resamples, np.intp)
    for unit in unit_of_sorted:
        running += counts[unit]
        below_lower += np.less_equal(running, lower_middle, out=mask)
        below_upper += np.less_equal(running, upper_middle, out=mask)
    return (ordered[below_lower] + ordered[below_upper]) / 2.0


def small_sample_factor(k: int, confidence: float = 0.95) -> float:
    """How much a percentile-bootstrap interval over k independent units is widened: t(k-1) / z * sqrt(k / (k-1))
    (1.87 at 4 units, 1.44 at 6, 1.22 at 10, 1.06 at 30)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return t_quantile(0.5 + confidence / 2.0, k - 1) / z * math.sqrt(k / (k - 1))


def t_quantile(q: float, df: int) -> float:
    """Student's t quantile by the Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5): within 1 % of the exact
    value from 2 degrees of freedom up (4.27 for 4.30 at df 2, q 0.975), exact in the limit. df 1 uses the exact
    Cauchy quantile."""
    if df < 1:
        raise ValueError(f"t_quantile needs df >= 1, got {df}")
    if df == 1:
        return math.tan(math.pi * (q - 0.5))
    z = NormalDist().inv_cdf(q)
    g = ((z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96, (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
         (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160)
    return z + sum(term / df ** (i + 1) for i, term in enumerate(g))


def halfwidth(median: float, lo: float, hi: float) -> float:
    """The interval's relative half-width: (hi - lo) / 2 / median."""
    return (hi - lo) / 2.0 / median if median > 0 else math.inf


def estimate(values: Sequence[float] | np.ndarray, unit: str | None = None, seed: int = 0,
             units: Sequence[int] | None = None) -> dict:
    """The result schema's `estimate` object: {median, ci95: [lo, hi], n(, unit)(, units)}. With `units` (the
    independent unit of each value) the interval resamples units (`unit_median_ci`) and `units` counts them."""
    median, lo, hi = median_ci(values, seed=seed) if units is None else unit_median_ci(values, units, seed=seed)
    out: dict = {"median": median, "ci95": [lo, hi], "n": int(np.asarray(values).size)}
    if unit is not None:
        out["unit"] = unit
    if units is not None:
        out["units"] = len({int(u) for u in units})
    return out


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation (NumPy's default)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("percentile needs at least one value")
    return float(np.percentile(data, q))
