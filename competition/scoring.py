"""Scores derived from measurements, defined once: speedup (+ tie verdict), compression, parameter ratio, accuracy
delta, efficiency (+ interval), the Edge Expert composite, qualification, category eligibility (which includes
"beats the baseline beyond the noise") and the leaderboard sort key.

Inputs are the result schema's `measurements` objects (candidate and baseline, measured on the same machine in the
same run) and the per-round baseline/candidate time ratios. Accuracy is a fraction in [0, 1]. The store and
`tito leaderboard build` call `score` again on every stored result, so nothing here may depend on anything but
its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from competition.measure.stats import TARGET_HALFWIDTH, halfwidth, median_ci, unit_median_ci
from competition.rules import Event, Rules, load_rules

MIN_ROUNDS_FOR_VERDICT = 3  # results without units (older harness): fewer rounds cannot tell a difference from noise
MIN_UNITS_FOR_VERDICT = 5  # independent units (worker processes) a verdict needs
# Why a speedup is a tie (scores.speedup.reason), most basic first; the words are the console's to choose.
TIE_REASONS = {
    "too_few_units": "too few independent units (worker processes) for a verdict",
    "too_few_rounds": "too few rounds for a verdict",
    "budget_spent_before_target": "the 95 % interval contains 1 and is still wider than its target: the budget ran out",
    "interval_contains_1": "the 95 % interval contains 1",
    "within_aa_floor": "the difference is within the A/A noise floor",
}
# A byte count (model size, peak memory) or an energy reading "clearly" beats the baseline's only when the ratio
# baseline / candidate reaches this: a few percent is a file-format or allocator detail, not an optimization.
CLEAR_RATIO = 1.05


def aa_halfwidth(aa_speedup: Mapping[str, Any] | None) -> float:
    """The A/A noise half-width: how far the baseline-vs-baseline speedup CI reaches from 1.0 (0 if unmeasured)."""
    if not aa_speedup:
        return 0.0
    lo, hi = aa_speedup["ci95"]
    return max(abs(hi - 1.0), abs(1.0 - lo))


def judge(value: float, ci95: Sequence[float], noise_halfwidth: float = 0.0, rounds: int | None = None,
          units: int | None = None, target: float | None = None) -> tuple[str, str | None]:
    """(verdict, reason): 'faster' or 'slower' (reason None) only when the CI excludes 1 and |value - 1| clears the
    A/A noise half-width, with at least MIN_UNITS_FOR_VERDICT independent units (or, when `units` is not known,
    MIN_ROUNDS_FOR_VERDICT rounds); else 'tie' and the first TIE_REASONS key that applies. A CI containing 1 whose
    relative half-width is still above `target` is "budget_spent_before_target": too noisy to say, not equal."""
    lo, hi = ci95
    if units is not None and units < MIN_UNITS_FOR_VERDICT:
        return "tie", "too_few_units"
    if units is None and rounds is not None and rounds < MIN_ROUNDS_FOR_VERDICT:
        return "tie", "too_few_rounds"
    if lo <= 1.0 <= hi:
        wide = target is not None and halfwidth(value, lo, hi) > target
        return "tie", "budget_spent_before_target" if wide else "interval_contains_1"
    if abs(value - 1.0) <= noise_halfwidth:
        return "tie", "within_aa_floor"
    return ("faster" if value > 1.0 else "slower"), None


def verdict(value: float, ci95: Sequence[float], noise_halfwidth: float = 0.0, rounds: int | None = None,
            units: int | None = None) -> str:
    """The verdict of `judge` without its reason."""
    return judge(value, ci95, noise_halfwidth, rounds, units)[0]


def speedup(ratios: Sequence[float] | None, aa_speedup: Mapping[str, Any] | None = None, seed: int = 0,
            units: Sequence[int] | None = None, target: float | None = None) -> dict | None:
    """Median of per-round ratios baseline time / candidate time with a bootstrap 95 % CI and a tie verdict.
    The ratios themselves are kept: they are the measurement the store recomputes the speedup from.

    With `units` (the independent unit of each ratio, kept too) the CI resamples units (stats.unit_median_ci) and
    the record adds the tie `reason` (None for a real difference) and the relative `halfwidth`; without (results
    of an older harness), the CI resamples rounds and the record keeps its old fields, so it recomputes unchanged."""
    if not ratios:
        return None
    if units is None:
        value, lo, hi = median_ci(ratios, seed=seed)
        return {"value": value, "ci95": [lo, hi],
                "verdict": verdict(value, (lo, hi), aa_halfwidth(aa_speedup), rounds=len(ratios)),
                "ratios": [float(r) for r in ratios]}
    if len(units) != len(ratios):
        raise ValueError(f"speedup: {len(units)} units for {len(ratios)} ratios")
    value, lo, hi = unit_median_ci(ratios, units, seed=seed)
    outcome, reason = judge(value, (lo, hi), aa_halfwidth(aa_speedup), len(ratios), len(set(units)), target)
    return {"value": value, "ci95": [lo, hi], "verdict": outcome, "reason": reason,
            "halfwidth": halfwidth(value, lo, hi), "ratios": [float(r) for r in ratios],
            "units": [int(u) for u in units]}


def _ratio(baseline: float | None, candidate: float | None) -> float | None:
    if baseline is None or candidate is None or candidate <= 0:
        return None
    return baseline / candidate


def compression(baseline_bytes: int | None, candidate_bytes: int | None) -> float | None:
    """Baseline model bytes / submission model bytes (an int8 copy of a float32 model is about 4x)."""
    return _ratio(baseline_bytes, candidate_bytes)


def parameter_ratio(baseline_params: int | None, candidate_params: int | None) -> float | None:
    """Baseline parameter count / submission parameter count."""
    return _ratio(baseline_params, candidate_params)


def accuracy_delta_points(baseline_accuracy: float | None, candidate_accuracy: float | None) -> float | None:
    """Candidate minus baseline accuracy in percentage points (negative = the submission lost accuracy)."""
    if baseline_accuracy is None or candidate_accuracy is None:
        return None
    return 100.0 * (candidate_accuracy - baseline_accuracy)


def efficiency(speedup_value: float | None, compression_value: float | None, delta_points: float | None) -> float | None:
    """The course's overall score: speedup x compression / (1 + accuracy LOSS as a fraction).

    Only a loss divides: an accuracy gain leaves the divisor at 1. Text events have no accuracy (delta None):
    their quality is guarded by the perplexity bound instead, so the divisor is 1.
    """
    if speedup_value is None or compression_value is None:
        return None
    loss = 0.0 if delta_points is None else max(0.0, -delta_points) / 100.0
    return speedup_value * compression_value / (1.0 + loss)


def efficiency_ci95(speed: Mapping[str, Any] | None, compression_value: float | None,
                    delta_points: float | None) -> list[float] | None:
    """The efficiency interval: the speedup's 95 % CI through the same formula (size and accuracy are exact)."""
    if speed is None or compression_value is None:
        return None
    return [efficiency(bound, compression_value, delta_points) for bound in speed["ci95"]]


def peak_memory_bytes(measurements: Mapping[str, Any] | None) -> int | None:
    """Peak memory during inference as the parent measured it from OUTSIDE the worker (cgroup peak or VmHWM),
    `peak_memory.external_bytes`. None when not measured that way: tracemalloc, read inside, never counts."""
    return ((measurements or {}).get("peak_memory") or {}).get("external_bytes")


def joules_per_inference(measurements: Mapping[str, Any] | None) -> float | None:
    """Measured energy per inference; None unless measured (estimates never count)."""
    energy = (measurements or {}).get("energy") or {}
    return energy.get("joules_per_inference") if energy.get("measured") else None


def accuracy_per_mb(measurements: Mapping[str, Any] | None) -> float | None:
    """Best Accuracy/Size: accuracy (fraction) per megabyte (10^6 bytes) of shipped model."""
    cand = measurements or {}
    acc, size = cand.get("accuracy"), cand.get("model_size_bytes")
    return None if acc is None or not size else acc / (size / 1e6)


def edge_score(speed: Mapping[str, Any] | None, candidate: Mapping[str, Any] | None,
               baseline: Mapping[str, Any] | None) -> dict | None:
    """Edge Expert composite: speedup x quality ratio x energy ratio, each "vs the baseline on the edge runner".

    quality ratio = candidate / baseline accuracy (text events: baseline / candidate perplexity); energy ratio =
    baseline / candidate joules per inference when BOTH were measured, else the factor is left out and
    `energy_measured` is false (shown as "energy not measured", never guessed). The interval is the speedup CI
    through the same product.
    """
    cand, base = candidate or {}, baseline or {}
    if speed is None:
        return None
    if cand.get("accuracy") is not None:
        quality = _ratio(cand["accuracy"], base.get("accuracy"))
    else:
        quality = _ratio(base.get("perplexity"), cand.get("perplexity"))
    if quality is None:
        return None
    energy = _ratio(joules_per_inference(base), joules_per_inference(cand))
    factor = quality * (energy if energy is not None else 1.0)
    return {"value": speed["value"] * factor, "ci95": [bound * factor for bound in speed["ci95"]],
            "energy_measured": energy is not None}


def _check(rule: str, passed: bool, detail: str) -> dict:
    return {"rule": rule, "passed": bool(passed), "detail": detail}


def qualification(event: Event, candidate: Mapping[str, Any] | None, rules: Rules | None = None) -> list[dict]:
    """Every threshold the candidate must pass for this event, each as {rule, passed, detail}."""
    rules = rules or load_rules()
    if candidate is None:
        return [_check("measured", False, "the submission produced no measurements")]
    limits = rules.limits
    checks = []
    if event.has_accuracy:
        acc, floor = candidate.get("accuracy"), event.accuracy_floor
        checks.append(_check("accuracy_floor", acc is not None and acc >= floor,
                             f"accuracy {_pct(acc)} vs floor {_pct(floor)}"))
    if event.kind == "training":
        reached = candidate.get("reached_target")
        checks.append(_check("target_reached", reached is True,
                             f"target {_pct(event.protocol['target_accuracy'])} "
                             f"{'reached' if reached else 'not reached'} within {event.protocol['max_epochs']} epochs "
                             f"/ {event.protocol['time_budget_s']} s"))
    if event.max_perplexity is not None:
        ppl = candidate.get("perplexity")
        checks.append(_check("max_perplexity", ppl is not None and ppl <= event.max_perplexity,
                             f"perplexity {_num(ppl)} vs bound {event.max_perplexity}"))
    size = candidate.get("model_size_bytes")
    if size is not None or event.kind != "training":  # an open entry's model trained at run time has no verified size
        checks.append(_check("model_size", size is not None and size <= limits.model_size_bytes_max,
                             f"model {_num(size)} bytes vs limit {limits.model_size_bytes_max}"))
    latency = candidate.get("latency_ms")
    if latency is not None or event.kind == "inference":
        p50 = latency["p50"] if latency else None
        checks.append(_check("single_sample_latency", p50 is not None and p50 < limits.single_sample_latency_ms_max,
                             f"p50 single-sample latency {_num(p50)} ms vs limit {limits.single_sample_latency_ms_max} ms"))
    return checks


# rank_by (categories.yaml) -> the value ranked, read from (scores, candidate measurements).
_RANK_VALUES = {
    "speedup": lambda s, c: s["speedup"]["value"] if s.get("speedup") else None,
    "peak_memory_bytes": lambda s, c: peak_memory_bytes(c),
    "model_size_bytes": lambda s, c: (c or {}).get("model_size_bytes"),
    "accuracy": lambda s, c: (c or {}).get("accuracy"),
    "accuracy_per_mb": lambda s, c: accuracy_per_mb(c),
    "edge_score": lambda s, c: s["edge_score"]["value"] if s.get("edge_score") else None,
    "joules_per_inference": lambda s, c: joules_per_inference(c),
    "efficiency": lambda s, c: s.get("efficiency"),
}
RANK_BY = tuple(_RANK_VALUES)


def rank_value(rank_by: str, scores: Mapping[str, Any], candidate: Mapping[str, Any] | None) -> float | None:
    """The value a category with this `rank_by` ranks (None = not measured)."""
    return _RANK_VALUES[rank_by](scores, candidate)


def _clear(ratio: float | None, what: str) -> str | None:
    if ratio is None:
        return f"{what} of the baseline was not measured"
    if ratio < CLEAR_RATIO:
        return f"{what} {ratio:.3g}x the baseline's, not clearly better (needs >= {CLEAR_RATIO}x)"
    return None


def baseline_gap(rank_by: str, scores: Mapping[str, Any], candidate: Mapping[str, Any] | None,
                 baseline: Mapping[str, Any] | None) -> str | None:
    """None if the candidate beats the baseline on `rank_by` beyond the noise, else why not (a tie never wins).

    speedup: verdict "faster" (CI above 1 and beyond the A/A noise floor). Byte counts and energy: baseline /
    candidate >= CLEAR_RATIO. accuracy: strictly more test examples right (accuracy is an exact count on a fixed
    split). edge_score and efficiency: the whole interval above 1 and a real gain behind it (faster, or clearly
    smaller for efficiency).
    """
    cand, base = candidate or {}, baseline or {}
    speed = scores.get("speedup") or {}
    faster = speed.get("verdict") == "faster"
    if rank_by == "speedup":
        return None if faster else f"speedup verdict '{speed.get('verdict', 'not measured')}' (not faster than the baseline beyond the noise)"
    if rank_by == "peak_memory_bytes":
        return _clear(_ratio(peak_memory_bytes(base), peak_memory_bytes(cand)), "peak memory saving")
    if rank_by == "model_size_bytes":
        return _clear(scores.get("compression"), "compression")
    if rank_by == "joules_per_inference":
        return _clear(_ratio(joules_per_inference(base), joules_per_inference(cand)), "energy saving")
    if rank_by == "accuracy_per_mb":
        return _clear(_ratio(accuracy_per_mb(cand), accuracy_per_mb(base)), "accuracy per MB")
    if rank_by == "accuracy":
        delta = scores.get("accuracy_delta_points")
        return None if delta is not None and delta > 0 else f"accuracy change {_signed(delta)} points (not above the baseline)"
    interval = (scores.get("edge_score") or {}).get("ci95") if rank_by == "edge_score" else scores.get("efficiency_ci95")
    gain = faster or (rank_by == "efficiency" and (scores.get("compression") or 0) >= CLEAR_RATIO)
    if interval is None or interval[0] <= 1.0 or not gain:
        return f"{rank_by.replace('_', ' ')} interval {_interval(interval)} does not clear the baseline (1.0) with a real gain"
    return None


def category_eligibility(event: Event, candidate: Mapping[str, Any] | None, scores: Mapping[str, Any],
                         runner_class: str, rules: Rules | None = None,
                         baseline: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """For each category: {eligible, reason}. `scores` needs qualified, qualification and the rank values."""
    rules = rules or load_rules()
    return {cid: _eligibility(cat, event, candidate, baseline, scores, runner_class, rules)
            for cid, cat in rules.categories.items()}


def _eligibility(category, event, candidate, baseline, scores, runner_class, rules) -> dict:
    def no(reason: str) -> dict:
        return {"eligible": False, "reason": reason[:500]}

    if runner_class not in category.runner_classes:
        return no(f"only results from runner class {' or '.join(category.runner_classes)} count (this run: {runner_class})")
    energy = (candidate or {}).get("energy") or {}
    if category.requires_measured_energy and not energy.get("measured"):
        return no("energy was not measured on this runner" + (f": {energy['reason']}" if energy.get("reason") else ""))
    if category.rank_by in ("accuracy", "accuracy_per_mb") and not event.has_accuracy:
        return no(f"{event.name} has no accuracy (text event)")
    if not scores["qualified"]:
        failed = [c["rule"] for c in scores["qualification"] if not c["passed"]]
        return no("did not qualify: " + ", ".join(failed))
    floor = rules.accuracy_floor(event, category.id)
    acc = (candidate or {}).get("accuracy")
    if event.has_accuracy and floor is not None and (acc is None or acc < floor):
        return no(f"accuracy {_pct(acc)} is below the {category.name} floor {_pct(floor)}")
    if rank_value(category.rank_by, scores, candidate) is None:
        return no(f"{category.rank_by.replace('_', ' ')} was not measured")
    gap = baseline_gap(category.rank_by, scores, candidate, baseline)
    if gap is not None:
        return no(f"does not beat the baseline: {gap}")
    return {"eligible": True, "reason": f"qualified; beats the baseline; ranked by {category.rank_by}"}


def score(event: Event, candidate: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None, *,
          speedup_ratios: Sequence[float] | None, aa_speedup: Mapping[str, Any] | None, runner_class: str,
          rules: Rules | None = None, seed: int = 0, speedup_units: Sequence[int] | None = None) -> dict:
    """The result schema's `scores` block from one run's measurements.

    speedup_ratios: per-round baseline time / candidate time (same machine, same run); speedup_units: the
    independent unit of each ratio (scores.speedup.units; None for an older harness's result); aa_speedup: the
    run's baseline-vs-baseline estimate {median, ci95, n} (its noise floor) or None.
    """
    rules = rules or load_rules()
    cand, base = candidate or {}, baseline or {}
    target = TARGET_HALFWIDTH.get(event.kind)
    speed = (speedup(speedup_ratios, aa_speedup, seed=seed, units=speedup_units, target=target)
             if candidate is not None else None)
    comp = compression(base.get("model_size_bytes"), cand.get("model_size_bytes"))
    delta = accuracy_delta_points(base.get("accuracy"), cand.get("accuracy"))
    checks = qualification(event, candidate, rules)
    scores = {
        "speedup": speed,
        "compression": comp,
        "parameter_ratio": parameter_ratio(base.get("parameter_count"), cand.get("parameter_count")),
        "accuracy_delta_points": delta,
        "efficiency": efficiency(speed["value"] if speed else None, comp, delta),
        "efficiency_ci95": efficiency_ci95(speed, comp, delta),
        "edge_score": edge_score(speed, candidate, baseline) if candidate is not None else None,
        "qualified": all(c["passed"] for c in checks),
        "qualification": checks,
    }
    scores["categories"] = category_eligibility(event, candidate, scores, runner_class, rules, baseline)
    return scores


def sort_key(result: Mapping[str, Any], category_id: str, rules: Rules | None = None) -> tuple:
    """Ascending sort key for a category's ranking: best metric first, then higher accuracy (lower perplexity),
    then result_id for a stable order. Results without the metric sort last."""
    category = (rules or load_rules()).categories[category_id]
    return rank_sort_key(result, category.rank_by, category.higher_is_better)


def rank_sort_key(result: Mapping[str, Any], rank_by: str, higher_is_better: bool) -> tuple:
    """sort_key for any rank_by (event rankings use the event's primary metric)."""
    candidate = result.get("candidate") or {}
    value = rank_value(rank_by, result["scores"], candidate)
    primary = math.inf if value is None else (-value if higher_is_better else value)
    accuracy = candidate.get("accuracy")
    perplexity = candidate.get("perplexity")
    quality = -accuracy if accuracy is not None else (perplexity if perplexity is not None else math.inf)
    return (value is None, primary, quality, result.get("result_id", ""))


def _pct(fraction: float | None) -> str:
    return "not measured" if fraction is None else f"{100.0 * fraction:.2f} %"


def _num(value: float | None) -> str:
    return "not measured" if value is None else f"{value:g}"


def _signed(value: float | None) -> str:
    return "not measured" if value is None else f"{value:+.2f}"


def _interval(interval: Sequence[float] | None) -> str:
    return "not measured" if interval is None else f"[{interval[0]:.3g}, {interval[1]:.3g}]"
