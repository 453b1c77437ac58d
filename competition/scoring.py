"""Scores derived from measurements, defined once: speedup (+ tie verdict), compression, parameter ratio, accuracy
delta, efficiency, qualification, category eligibility and the leaderboard sort key.

Inputs are the result schema's `measurements` objects (candidate and baseline, measured on the same machine in the
same run) and the per-round baseline/candidate time ratios. Accuracy is a fraction in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from competition.measure.stats import median_ci
from competition.rules import Event, Rules, load_rules


def aa_halfwidth(aa_speedup: Mapping[str, Any] | None) -> float:
    """The A/A noise half-width: how far the baseline-vs-baseline speedup CI reaches from 1.0 (0 if unmeasured)."""
    if not aa_speedup:
        return 0.0
    lo, hi = aa_speedup["ci95"]
    return max(abs(hi - 1.0), abs(1.0 - lo))


MIN_ROUNDS_FOR_VERDICT = 3  # fewer paired rounds cannot tell a difference from noise (a 1-round CI has zero width)


def verdict(value: float, ci95: Sequence[float], noise_halfwidth: float = 0.0, rounds: int | None = None) -> str:
    """'tie' if the CI contains 1.0, |value - 1| is within the A/A noise half-width, or there are fewer than
    MIN_ROUNDS_FOR_VERDICT rounds; else 'faster' or 'slower'."""
    lo, hi = ci95
    too_few = rounds is not None and rounds < MIN_ROUNDS_FOR_VERDICT
    if too_few or lo <= 1.0 <= hi or abs(value - 1.0) <= noise_halfwidth:
        return "tie"
    return "faster" if value > 1.0 else "slower"


def speedup(ratios: Sequence[float] | None, aa_speedup: Mapping[str, Any] | None = None, seed: int = 0) -> dict | None:
    """Median of per-round ratios baseline time / candidate time with a bootstrap 95 % CI and a tie verdict."""
    if not ratios:
        return None
    value, lo, hi = median_ci(ratios, seed=seed)
    return {"value": value, "ci95": [lo, hi],
            "verdict": verdict(value, (lo, hi), aa_halfwidth(aa_speedup), rounds=len(ratios))}


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
    """The course's overall score: speedup x compression / (1 + |accuracy change as a fraction|).

    Text events have no accuracy (delta None): their quality is guarded by the perplexity bound instead, so the
    divisor is 1. Any accuracy change, up or down, divides the score, exactly as the course defines it.
    """
    if speedup_value is None or compression_value is None:
        return None
    change = 0.0 if delta_points is None else abs(delta_points) / 100.0
    return speedup_value * compression_value / (1.0 + change)


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
    checks.append(_check("model_size", size is not None and size <= limits.model_size_bytes_max,
                         f"model {_num(size)} bytes vs limit {limits.model_size_bytes_max}"))
    latency = candidate.get("latency_ms")
    if latency is not None or event.kind == "inference":
        p50 = latency["p50"] if latency else None
        checks.append(_check("single_sample_latency", p50 is not None and p50 < limits.single_sample_latency_ms_max,
                             f"p50 single-sample latency {_num(p50)} ms vs limit {limits.single_sample_latency_ms_max} ms"))
    return checks


def category_eligibility(event: Event, candidate: Mapping[str, Any] | None, scores: Mapping[str, Any],
                         runner_class: str, rules: Rules | None = None) -> dict[str, dict]:
    """For each category: {eligible, reason}. `scores` needs qualified, qualification, speedup, compression, efficiency."""
    rules = rules or load_rules()
    return {cid: _eligibility(cat, event, candidate, scores, runner_class, rules) for cid, cat in rules.categories.items()}


def _eligibility(category, event, candidate, scores, runner_class, rules) -> dict:
    def no(reason: str) -> dict:
        return {"eligible": False, "reason": reason}

    if runner_class not in category.runner_classes:
        return no(f"only results from runner class {' or '.join(category.runner_classes)} count (this run: {runner_class})")
    energy = (candidate or {}).get("energy") or {}
    if category.requires_measured_energy and not energy.get("measured"):
        return no("energy was not measured on this runner" + (f": {energy['reason']}" if energy.get("reason") else ""))
    if not scores["qualified"]:
        failed = [c["rule"] for c in scores["qualification"] if not c["passed"]]
        return no("did not qualify: " + ", ".join(failed))
    floor = rules.accuracy_floor(event, category.id)
    acc = (candidate or {}).get("accuracy")
    if event.has_accuracy and floor is not None and (acc is None or acc < floor):
        return no(f"accuracy {_pct(acc)} is below the {category.name} floor {_pct(floor)}")
    if _rank_value(category.rank_by, scores, candidate) is None:
        return no(f"{category.rank_by} was not measured")
    return {"eligible": True, "reason": f"qualified; ranked by {category.rank_by}"}


def score(event: Event, candidate: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None, *,
          speedup_ratios: Sequence[float] | None, aa_speedup: Mapping[str, Any] | None, runner_class: str,
          rules: Rules | None = None, seed: int = 0) -> dict:
    """The result schema's `scores` block from one run's measurements.

    speedup_ratios: per-round baseline time / candidate time (same machine, same run); aa_speedup: the run's
    baseline-vs-baseline estimate {median, ci95, n} (its noise floor) or None.
    """
    rules = rules or load_rules()
    cand, base = candidate or {}, baseline or {}
    speed = speedup(speedup_ratios, aa_speedup, seed=seed) if candidate is not None else None
    comp = compression(base.get("model_size_bytes"), cand.get("model_size_bytes"))
    delta = accuracy_delta_points(base.get("accuracy"), cand.get("accuracy"))
    checks = qualification(event, candidate, rules)
    scores = {
        "speedup": speed,
        "compression": comp,
        "parameter_ratio": parameter_ratio(base.get("parameter_count"), cand.get("parameter_count")),
        "accuracy_delta_points": delta,
        "efficiency": efficiency(speed["value"] if speed else None, comp, delta),
        "qualified": all(c["passed"] for c in checks),
        "qualification": checks,
    }
    scores["categories"] = category_eligibility(event, candidate, scores, runner_class, rules)
    return scores


def _rank_value(rank_by: str, scores: Mapping[str, Any], candidate: Mapping[str, Any] | None) -> float | None:
    if rank_by == "speedup":
        return scores["speedup"]["value"] if scores.get("speedup") else None
    if rank_by == "joules_per_inference":
        return ((candidate or {}).get("energy") or {}).get("joules_per_inference")
    return scores.get(rank_by)


def sort_key(result: Mapping[str, Any], category_id: str, rules: Rules | None = None) -> tuple:
    """Ascending sort key for a category's ranking: best metric first, then higher accuracy (lower perplexity),
    then result_id for a stable order. Results without the metric sort last."""
    category = (rules or load_rules()).categories[category_id]
    candidate = result.get("candidate") or {}
    value = _rank_value(category.rank_by, result["scores"], candidate)
    primary = math.inf if value is None else (-value if category.higher_is_better else value)
    accuracy = candidate.get("accuracy")
    perplexity = candidate.get("perplexity")
    quality = -accuracy if accuracy is not None else (perplexity if perplexity is not None else math.inf)
    return (value is None, primary, quality, result.get("result_id", ""))


def _pct(fraction: float | None) -> str:
    return "not measured" if fraction is None else f"{100.0 * fraction:.2f} %"


def _num(value: float | None) -> str:
    return "not measured" if value is None else f"{value:g}"
