"""Scoring edge cases: ties by CI and by the A/A floor, compression with int8, efficiency, qualification, eligibility."""

import pytest

from competition import scoring
from competition.rules import load_rules

RULES = load_rules()


def measurements(**overrides):
    base = {
        "accuracy": 0.97, "time_s": None, "latency_ms": {"p50": 2.0, "p90": 3.0, "n": 20},
        "throughput_per_s": None, "peak_memory": {"tracemalloc_bytes": 1, "rss_delta_bytes": 1},
        "model_size_bytes": 400_000, "parameter_count": 100_000,
        "energy": {"measured": False, "joules_per_inference": None, "method": None, "reason": "no RAPL here"},
    }
    base.update(overrides)
    return base


def test_tie_when_ci_contains_one():
    result = scoring.speedup([0.9, 1.1, 1.05, 0.95, 1.2, 0.97])
    assert result["ci95"][0] <= 1.0 <= result["ci95"][1]
    assert result["verdict"] == "tie"


def test_tie_by_aa_noise_floor_even_with_tight_ci():
    ratios = [1.03, 1.031, 1.029, 1.03, 1.032]
    assert scoring.speedup(ratios)["verdict"] == "faster"
    noisy = {"median": 1.0, "ci95": [0.95, 1.05], "n": 5}
    assert scoring.speedup(ratios, aa_speedup=noisy)["verdict"] == "tie"


def test_too_few_rounds_is_a_tie():
    assert scoring.speedup([1.7])["verdict"] == "tie"
    assert scoring.speedup([1.7, 1.71])["verdict"] == "tie"
    assert scoring.speedup([1.7, 1.71, 1.69])["verdict"] == "faster"


def test_clear_slowdown_is_slower():
    assert scoring.speedup([0.5, 0.52, 0.49, 0.51])["verdict"] == "slower"


def test_speedup_is_median_of_ratios():
    assert scoring.speedup([1.0, 2.0, 3.0, 100.0, 2.5])["value"] == 2.5
    assert scoring.speedup([]) is None


def test_compression_with_int8_weights():
    float32_bytes = 4 * 10_000
    int8_bytes = 10_000 + 4  # int8 weights plus one float32 scale
    assert scoring.compression(float32_bytes, int8_bytes) == pytest.approx(3.9984, rel=1e-4)
    assert scoring.compression(None, 10) is None and scoring.compression(10, 0) is None


def test_accuracy_delta_in_points():
    assert scoring.accuracy_delta_points(0.98, 0.95) == pytest.approx(-3.0)
    assert scoring.accuracy_delta_points(None, 0.95) is None


def test_efficiency_formula():
    assert scoring.efficiency(2.0, 4.0, -5.0) == pytest.approx(8.0 / 1.05)
    assert scoring.efficiency(2.0, 4.0, None) == pytest.approx(8.0)
    assert scoring.efficiency(None, 4.0, 0.0) is None


def test_qualification_fails_below_floor_and_over_size():
    event = RULES.event("cnn_marathon")
    checks = scoring.qualification(event, measurements(accuracy=0.70, model_size_bytes=11_000_000), RULES)
    failed = {c["rule"] for c in checks if not c["passed"]}
    assert failed == {"accuracy_floor", "model_size"}
    assert all(c["detail"] for c in checks)


def test_training_event_needs_target_reached():
    event = RULES.event("mlp_sprint")
    checks = scoring.qualification(event, measurements(reached_target=False, latency_ms=None), RULES)
    assert {c["rule"]: c["passed"] for c in checks}["target_reached"] is False


def test_training_size_unverifiable_at_run_time_is_not_a_failed_check():
    """An open entry's model trained in the worker has no verified size (null): no size rule, so it can qualify;
    an inference entry without a measured size still fails the rule."""
    training = scoring.qualification(RULES.event("mlp_sprint"), measurements(reached_target=True, latency_ms=None,
                                                                             model_size_bytes=None), RULES)
    assert "model_size" not in {c["rule"] for c in training} and all(c["passed"] for c in training)
    inference = scoring.qualification(RULES.event("cnn_marathon"), measurements(model_size_bytes=None), RULES)
    assert {c["rule"]: c["passed"] for c in inference}["model_size"] is False


def test_generation_event_checks_perplexity_not_accuracy():
    event = RULES.event("transformer_decathlon")
    checks = scoring.qualification(event, measurements(accuracy=None, perplexity=99.0, latency_ms=None), RULES)
    rules = {c["rule"]: c["passed"] for c in checks}
    assert rules == {"max_perplexity": False, "model_size": True}


def test_unmeasured_latency_fails_inference_event():
    checks = scoring.qualification(RULES.event("cnn_marathon"), measurements(latency_ms=None), RULES)
    assert {c["rule"]: c["passed"] for c in checks}["single_sample_latency"] is False


def _score(runner_class="reference", **cand):
    event = RULES.event("mlp_sprint_offline")
    return scoring.score(event, measurements(reached_target=True, **cand), measurements(model_size_bytes=1_600_000),
                         speedup_ratios=[1.5, 1.6, 1.55], aa_speedup=None, runner_class=runner_class, rules=RULES)


def test_edge_expert_only_for_edge_runner_and_energy_only_when_measured():
    cats = _score()["categories"]
    assert not cats["edge_expert"]["eligible"] and "edge" in cats["edge_expert"]["reason"]
    assert not cats["energy_efficient"]["eligible"] and "RAPL" in cats["energy_efficient"]["reason"]
    assert cats["speed_demon"]["eligible"]
    edge = _score("edge", energy={"measured": True, "joules_per_inference": 0.1, "method": "rapl"})["categories"]
    assert edge["edge_expert"]["eligible"] and not edge["speed_demon"]["eligible"]
    # the baseline's energy was not measured: no energy saving can be shown, so no Energy Efficient rank
    assert not edge["energy_efficient"]["eligible"] and "baseline" in edge["energy_efficient"]["reason"]


def test_category_accuracy_floor_above_event_floor_blocks_only_that_category():
    from dataclasses import replace
    floors = {"speed_demon": {"floor": 0.99, "events": ("mlp_sprint_offline",)}}
    strict = replace(RULES, limits=replace(RULES.limits, category_accuracy_floors=floors))
    event = strict.event("mlp_sprint_offline")
    scores = scoring.score(event, measurements(accuracy=0.97, reached_target=True, model_size_bytes=100_000),
                           measurements(), speedup_ratios=[1.5, 1.52, 1.48], aa_speedup=None,
                           runner_class="reference", rules=strict)
    assert scores["qualified"]
    assert not scores["categories"]["speed_demon"]["eligible"]
    assert "99.00 %" in scores["categories"]["speed_demon"]["reason"]
    assert scores["categories"]["tinymlperf_overall"]["eligible"]


def test_failed_qualification_names_the_rule():
    scores = _score(accuracy=0.5)
    assert not scores["qualified"]
    assert "accuracy_floor" in scores["categories"]["speed_demon"]["reason"]


def test_score_block_fields_and_efficiency():
    scores = _score()
    assert scores["compression"] == pytest.approx(4.0)
    assert scores["efficiency"] == pytest.approx(scores["speedup"]["value"] * 4.0)
    assert scores["qualified"] is True


def test_no_candidate_scores_nothing():
    scores = scoring.score(RULES.event("cnn_marathon"), None, measurements(), speedup_ratios=[1.0],
                           aa_speedup=None, runner_class="local", rules=RULES)
    assert scores["speedup"] is None and scores["qualified"] is False
    assert not any(c["eligible"] for c in scores["categories"].values())


def _result(rid, speed, acc):
    return {"result_id": rid, "candidate": {"accuracy": acc},
            "scores": {"speedup": {"value": speed, "ci95": [speed, speed], "verdict": "faster"}}}


def test_sort_key_breaks_ties_by_accuracy():
    results = [_result("a", 2.0, 0.95), _result("b", 3.0, 0.91), _result("c", 2.0, 0.97), _result("d", None, 0.99)]
    results[3]["scores"]["speedup"] = None
    ranked = sorted(results, key=lambda r: scoring.sort_key(r, "speed_demon", RULES))
    assert [r["result_id"] for r in ranked] == ["b", "c", "a", "d"]


def test_efficiency_divides_only_by_accuracy_loss_and_carries_the_speedup_interval():
    assert scoring.efficiency(2.0, 4.0, +5.0) == pytest.approx(8.0)  # a gain does not divide
    assert scoring.efficiency(2.0, 4.0, -5.0) == pytest.approx(8.0 / 1.05)
    speed = {"value": 2.0, "ci95": [1.8, 2.2]}
    assert scoring.efficiency_ci95(speed, 4.0, -5.0) == pytest.approx([7.2 / 1.05, 8.8 / 1.05])
    assert scoring.efficiency_ci95(None, 4.0, 0.0) is None


def _scored(cand, base, ratios):
    return scoring.score(RULES.event("cnn_marathon_offline"), measurements(**cand), measurements(**base),
                         speedup_ratios=ratios, aa_speedup=None, runner_class="local", rules=RULES)


def test_ties_never_win_a_category():
    tie = _scored({}, {}, [0.98, 1.0, 1.03, 1.01])["categories"]
    assert not tie["speed_demon"]["eligible"] and "verdict 'tie'" in tie["speed_demon"]["reason"]
    assert not tie["tinymlperf_overall"]["eligible"] and not tie["smallest_model"]["eligible"]
    assert not tie["best_accuracy"]["eligible"]
    barely = _scored({"model_size_bytes": 390_000}, {}, [1.0, 1.0, 1.0])["categories"]  # 2.6 % fewer bytes
    assert not barely["smallest_model"]["eligible"] and "not clearly better" in barely["smallest_model"]["reason"]
    small = _scored({"model_size_bytes": 100_000}, {}, [1.0, 1.0, 1.0])["categories"]
    assert small["smallest_model"]["eligible"] and small["tinymlperf_overall"]["eligible"]  # 4x smaller
    better = _scored({"accuracy": 0.975}, {}, [1.0, 1.0, 1.0])["categories"]
    assert better["best_accuracy"]["eligible"]


def test_memory_miser_needs_the_outside_meter_and_a_clear_saving():
    inside_only = _scored({"peak_memory": {"tracemalloc_bytes": 1, "rss_delta_bytes": 1}}, {}, [1.5] * 3)
    assert "peak memory bytes was not measured" in inside_only["categories"]["memory_miser"]["reason"]
    outside = {"tracemalloc_bytes": 1, "rss_delta_bytes": 1}
    lean = _scored({"peak_memory": {**outside, "external_bytes": 10_000_000}},
                   {"peak_memory": {**outside, "external_bytes": 30_000_000}}, [1.0] * 3)
    assert lean["categories"]["memory_miser"]["eligible"]


def test_edge_score_multiplies_speed_quality_and_measured_energy_only():
    speed = {"value": 2.0, "ci95": [1.9, 2.1]}
    unmeasured = scoring.edge_score(speed, measurements(accuracy=0.9), measurements(accuracy=0.9))
    assert unmeasured == {"value": 2.0, "ci95": [1.9, 2.1], "energy_measured": False}
    joules = {"measured": True, "joules_per_inference": 0.5, "method": "rapl"}
    measured = scoring.edge_score(speed, measurements(accuracy=0.9, energy=joules),
                                  measurements(accuracy=0.9, energy={**joules, "joules_per_inference": 1.0}))
    assert measured["value"] == pytest.approx(4.0) and measured["energy_measured"]


def test_verdict_names_why_a_tie_is_a_tie():
    assert scoring.judge(1.5, (1.4, 1.6), units=4) == ("tie", "too_few_units")
    assert scoring.judge(1.5, (1.4, 1.6), rounds=2) == ("tie", "too_few_rounds")
    assert scoring.judge(1.01, (0.99, 1.03), units=10, target=0.02) == ("tie", "interval_contains_1")
    assert scoring.judge(1.01, (0.95, 1.08), units=10, target=0.02) == ("tie", "budget_spent_before_target")
    assert scoring.judge(1.01, (0.95, 1.08), units=10) == ("tie", "interval_contains_1")  # no target: no claim
    assert scoring.judge(1.03, (1.01, 1.05), 0.04, units=10) == ("tie", "within_aa_floor")
    assert scoring.judge(1.03, (1.01, 1.05), 0.02, units=10) == ("faster", None)
    assert scoring.judge(0.8, (0.75, 0.85), 0.02, units=5) == ("slower", None)
    assert set(scoring.TIE_REASONS) >= {"too_few_units", "interval_contains_1", "within_aa_floor",
                                        "budget_spent_before_target"}


def test_speedup_over_units_resamples_processes_and_keeps_what_the_store_recomputes_from():
    ratios = [1.10, 1.11, 0.98, 0.99, 1.05, 1.06, 1.02, 1.03, 1.08, 1.07]
    units = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    by_units = scoring.speedup(ratios, units=units, target=0.02)
    by_rounds = scoring.speedup(ratios)
    assert by_units["units"] == units and by_units["ratios"] == ratios and by_units["value"] == by_rounds["value"]
    assert by_units["ci95"][1] - by_units["ci95"][0] > by_rounds["ci95"][1] - by_rounds["ci95"][0]
    assert by_units["verdict"] == "tie" and by_units["reason"] == "budget_spent_before_target"
    assert by_units["halfwidth"] == pytest.approx((by_units["ci95"][1] - by_units["ci95"][0]) / 2 / by_units["value"])
    assert set(by_rounds) == {"value", "ci95", "verdict", "ratios"}  # an older result recomputes unchanged
    with pytest.raises(ValueError, match="units for"):
        scoring.speedup(ratios, units=units[:-1])


def test_clear_speedup_over_enough_units_is_faster_and_score_passes_the_units_and_the_event_target():
    ratios = [1.5 + 0.01 * (i % 3) for i in range(12)]
    speed = scoring.score(RULES.event("cnn_marathon_offline"), measurements(), measurements(), speedup_ratios=ratios,
                          aa_speedup=None, runner_class="local", speedup_units=list(range(12)))["speedup"]
    assert speed["verdict"] == "faster" and speed["reason"] is None and speed["units"] == list(range(12))
    few = scoring.score(RULES.event("cnn_marathon_offline"), measurements(), measurements(), speedup_ratios=ratios,
                        aa_speedup=None, runner_class="local", speedup_units=[i // 3 for i in range(12)])["speedup"]
    assert few["verdict"] == "tie" and few["reason"] == "too_few_units"  # 4 processes, however many rounds
