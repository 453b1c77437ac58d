"""Bootstrap statistics: seeded, correct median, sensible intervals."""

from __future__ import annotations

import numpy as np
import pytest

from competition.measure.stats import estimate, median_ci, percentile, ratios


def test_median_and_interval_bracket_the_sample_median() -> None:
    values = [1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.3]
    median, lo, hi = median_ci(values)
    assert median == pytest.approx(1.05)
    assert lo <= median <= hi
    assert lo >= min(values) and hi <= max(values)


def test_seeded_and_reproducible() -> None:
    values = np.random.default_rng(3).normal(size=25)
    assert median_ci(values, seed=1) == median_ci(values, seed=1)
    seeds = {median_ci(values, n_resamples=20, seed=s) for s in range(10)}
    assert len(seeds) > 1  # the seed really drives the resampling


def test_interval_narrows_with_more_data() -> None:
    rng = np.random.default_rng(0)
    _, lo_small, hi_small = median_ci(rng.normal(size=10))
    _, lo_big, hi_big = median_ci(rng.normal(size=1000))
    assert hi_big - lo_big < (hi_small - lo_small) / 3


def test_coverage_is_near_the_nominal_level() -> None:
    rng = np.random.default_rng(42)
    hits = 0
    for seed in range(200):
        _, lo, hi = median_ci(rng.exponential(size=41), n_resamples=1000, seed=seed)
        hits += lo <= np.log(2) <= hi  # true median of Exp(1)
    assert 0.85 <= hits / 200 <= 1.0


def test_single_value_and_bad_input() -> None:
    assert median_ci([2.5]) == (2.5, 2.5, 2.5)
    with pytest.raises(ValueError, match="at least one"):
        median_ci([])
    with pytest.raises(ValueError, match="non-finite"):
        median_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="confidence"):
        median_ci([1.0, 2.0], confidence=1.5)


def test_estimate_matches_the_schema_shape() -> None:
    est = estimate([1.0, 2.0, 3.0], unit="s")
    assert set(est) == {"median", "ci95", "n", "unit"} and est["n"] == 3 and est["median"] == 2.0


def test_percentile_and_paired_ratios() -> None:
    assert percentile(range(1, 11), 90) == pytest.approx(9.1)
    assert ratios([2.0, 3.0], [1.0, 3.0]) == [2.0, 1.0]
    with pytest.raises(ValueError, match="paired"):
        ratios([1.0], [1.0, 2.0])
