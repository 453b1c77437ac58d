"""Explicit statistics: the median with a seeded percentile-bootstrap confidence interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def median_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Return (median, lo, hi): the sample median and a percentile bootstrap CI of the median.

    Resampling is vectorized and seeded, so the same values always give the same interval.
    A single value gives a zero-width interval.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size == 0:
        raise ValueError("median_ci needs at least one value")
    if not np.all(np.isfinite(data)):
        raise ValueError("median_ci got a non-finite value")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    median = float(np.median(data))
    if data.size == 1:
        return median, median, median
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, data.size, size=(n_resamples, data.size))
    boot = np.median(data[idx], axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return median, float(lo), float(hi)


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
