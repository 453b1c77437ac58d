"""Bootstrap statistics: seeded, correct median, sensible intervals."""

from __future__ import annotations

import numpy as np
import pytest

from competition.measure.stats import (estimate, halfwidth, median_ci, percentile, small_sample_factor, t_quantile,
                                      unit_median_ci)


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


def test_percentile() -> None:
    assert percentile(range(1, 11), 90) == pytest.approx(9.1)


def process_effect_runs(rng: np.random.Generator, units: int = 10, rounds: int = 6, between: float = 0.05,
                        within: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """A/A ratios (true value 1) whose worker processes each carry their own luck: strong between, weak within."""
    unit = np.repeat(np.arange(units), rounds)
    return np.exp(rng.normal(0.0, between, units)[unit] + rng.normal(0.0, within, unit.size)), unit


def test_process_luck_widens_the_unit_interval_where_the_round_bootstrap_stays_narrow() -> None:
    values, units = process_effect_runs(np.random.default_rng(7))
    median, lo, hi = unit_median_ci(values, units)
    _, round_lo, round_hi = median_ci(values)
    assert halfwidth(median, lo, hi) > 2 * halfwidth(median, round_lo, round_hi)  # ~sqrt(6 rounds a process)
    assert halfwidth(median, lo, hi) > 0.02  # ~5 % process luck over 10 processes: no 1 % claim


def test_resampling_processes_covers_the_truth_and_resampling_rounds_does_not() -> None:
    rng = np.random.default_rng(11)
    unit_hits = round_hits = 0
    for seed in range(120):
        values, units = process_effect_runs(rng)
        _, lo, hi = unit_median_ci(values, units, n_resamples=1000, seed=seed)
        _, round_lo, round_hi = median_ci(values, n_resamples=1000, seed=seed)
        unit_hits += lo <= 1.0 <= hi
        round_hits += round_lo <= 1.0 <= round_hi
    assert unit_hits / 120 >= 0.9
    assert round_hits / 120 < 0.6  # rounds of one process are not independent draws


def test_unit_interval_is_seeded_brackets_the_median_and_takes_the_median_of_all_values() -> None:
    values, units = process_effect_runs(np.random.default_rng(3), units=6, rounds=3)
    assert unit_median_ci(values, units, seed=4) == unit_median_ci(values, units, seed=4)
    median, lo, hi = unit_median_ci(values, units)
    assert median == float(np.median(values)) and lo < median < hi


def test_unit_interval_with_one_unit_is_the_whole_range_and_bad_input_is_refused() -> None:
    assert unit_median_ci([1.0, 1.2, 0.9], [4, 4, 4]) == (1.0, 0.9, 1.2)
    with pytest.raises(ValueError, match="one unit label per value"):
        unit_median_ci([1.0, 2.0], [0])
    with pytest.raises(ValueError, match="non-finite"):
        unit_median_ci([1.0, float("inf")], [0, 1])


def test_few_units_widen_the_interval_by_students_t() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.706, rel=1e-3)
    assert t_quantile(0.975, 2) == pytest.approx(4.303, rel=0.01)
    assert t_quantile(0.975, 5) == pytest.approx(2.571, rel=1e-3)
    assert t_quantile(0.975, 1000) == pytest.approx(1.962, rel=1e-3)
    factors = [small_sample_factor(k) for k in (3, 5, 10, 30, 300)]
    assert factors == sorted(factors, reverse=True) and factors[-1] == pytest.approx(1.0, abs=0.01)


def test_estimate_over_units_counts_them() -> None:
    est = estimate([1.0, 1.1, 0.9, 1.05], units=[0, 0, 1, 1])
    assert est["units"] == 2 and est["n"] == 4 and est["median"] == pytest.approx(1.025)
