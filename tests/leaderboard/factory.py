"""TEST DATA ONLY: builds schema-valid result dicts from explicit arguments.

Nothing here is a measurement; these dicts exist so the leaderboard can be tested before (and independently of) the
harness. Every dict is validated against competition/schemas/result.schema.json before it is returned, so the
factory cannot drift from the schema.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from competition import scoring
from competition.leaderboard.config import Config, RegisteredRunner
from competition.leaderboard.fingerprint import runner_fingerprint
from competition.results import validate_result
from competition.rules import load_rules


CATEGORY_IDS = ("speed_demon", "memory_miser", "smallest_model", "best_accuracy", "best_accuracy_per_size",
                "edge_expert", "energy_efficient", "tinymlperf_overall")
EVENT_NAMES = {
    "mlp_sprint": "MLP Sprint",
    "cnn_marathon": "CNN Marathon",
    "transformer_decathlon": "Transformer Decathlon",
    "mlp_sprint_offline": "MLP Sprint (offline)",
    "cnn_marathon_offline": "CNN Marathon (offline)",
    "memory_master": "Memory Master",
    "memory_master_offline": "Memory Master (offline)",
}
BASE_TIME = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def hardware(runner_class: str) -> dict[str, Any]:
    """TEST DATA: runner.hardware of the test machines (one per runner class)."""
    return {"cpu_model": "Test CPU", "machine": "aarch64" if runner_class == "edge" else "x86_64", "cores": 4,
            "ram_bytes": 8 * 2**30, "os": "Linux", "python": "3.11.7", "numpy": "1.26.4", "blas": "openblas",
            "blas_threads": 1}


# A config that registers the test reference and edge runners (what a maintainer's reviewed PR would add).
REGISTERED = Config(runners=tuple(RegisteredRunner(runner_fingerprint(hardware(c)), c, f"test {c}")
                                  for c in ("reference", "edge")))


def _measurements(accuracy: float | None, time_s: float, peak_memory: int | None, model_size: int | None,
                  energy_joules: float | None, perplexity: float | None) -> dict[str, Any]:
    energy: dict[str, Any] = {
        "measured": energy_joules is not None,
        "joules_per_inference": energy_joules,
        "method": "rapl" if energy_joules is not None else None,
    }
    if energy_joules is None:
        energy["reason"] = "no RAPL access"
        energy["estimate_joules_per_inference"] = 0.5  # an estimate the leaderboard must never show
        energy["estimate_method"] = "test data: TDP x time"
    return {
        "accuracy": accuracy,
        "perplexity": perplexity,
        "time_s": {"median": time_s, "ci95": [time_s * 0.98, time_s * 1.02], "n": 10, "unit": "s"},
        "latency_ms": {"p50": time_s, "p90": time_s * 1.1, "n": 100},
        "throughput_per_s": 1000.0 / time_s,
        "peak_memory": {"tracemalloc_bytes": peak_memory, "rss_delta_bytes": peak_memory},
        "model_size_bytes": model_size,
        "parameter_count": None if model_size is None else model_size // 4,
        "energy": energy,
    }


def make_result(
    name: str = "alpha",
    *,
    event_id: str = "cnn_marathon",
    runner_class: str = "reference",
    division: str = "closed",
    speedup: float | None = 1.5,
    ci: tuple[float, float] | None = None,
    accuracy: float | None = 0.8,
    perplexity: float | None = None,
    peak_memory: int | None = 4_000_000,
    model_size: int | None = 1_000_000,
    compression: float | None = 1.0,
    efficiency: float | None = 1.0,
    energy_joules: float | None = None,
    qualified: bool = True,
    failed_rule: str = "accuracy_floor",
    status: str = "ok",
    categories: dict[str, dict[str, Any]] | None = None,
    ineligible: dict[str, str] | None = None,
    official_event: bool | None = None,
    run: int = 0,
    athlete_name: str = "Ada Lovelace",
    team: str | None = None,
    github_handle: str = "ada",
    pr_number: int | None = 7,
    techniques: tuple[str, ...] = ("int8 weights",),
) -> dict[str, Any]:
    """TEST DATA: one schema-valid result. `run` shifts the timestamps by `run` days (later run = larger run)."""
    started = BASE_TIME + timedelta(days=run)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    if ci is None and speedup is not None:
        ci = (speedup * 0.97, speedup * 1.03)
    if categories is None:
        categories = {cid: {"eligible": qualified, "reason": "" if qualified else "not qualified"}
                      for cid in CATEGORY_IDS}
    for cid, reason in (ineligible or {}).items():
        categories[cid] = {"eligible": False, "reason": reason}
    result = {
        "schema_version": 1,
        "result_id": f"{name}--{event_id}--{runner_class}--{stamp}",
        "submission": {
            "name": name,
            "athlete_name": athlete_name,
            "github_handle": github_handle,
            "team": team,
            "division": division,
            "techniques_used": list(techniques),
            "tree_sha256": "a" * 64,
            "pr_number": pr_number,
            "commit_sha": "b" * 40,
        },
        "event": {
            "id": event_id,
            "name": EVENT_NAMES.get(event_id, event_id),
            "official": (not event_id.endswith("_offline")) if official_event is None else official_event,
            "kind": "generation" if event_id.startswith("transformer") else "inference",
            "dataset": {"name": "test-data", "split": "test", "n_examples": 1000, "sha256": "c" * 64},
        },
        "runner": {"class": runner_class, "hardware": hardware(runner_class), "gemm_gflops": 100.0},
        "harness": {"version": "0.1.0", "git_commit": "d" * 40},
        "started_at": _stamp(started),
        "finished_at": _stamp(started + timedelta(minutes=5)),
        "status": status,
        "errors": [] if status == "ok" else [{"stage": "run", "message": "worker crashed"}],
        "config": {"quick": False, "rounds": 10, "blas_threads": 1, "seed_sha256": "e" * 64, "budget_scale": 1.0},
        "sandbox": {"network_isolated": True, "isolation": "jail", "method": "test", "limits": {"cpu_seconds": 600}},
        "candidate": _measurements(accuracy, 2.0 / (speedup or 1.0), peak_memory, model_size, energy_joules,
                                   perplexity),
        "baseline": _measurements(accuracy, 2.0, 8_000_000, 2_000_000, None if energy_joules is None else 0.05,
                                  perplexity),
        "noise": {"aa_speedup": {"median": 1.0, "ci95": [0.98, 1.02], "n": 10}, "rounds": 10},
        "scores": {
            "speedup": None if speedup is None else {
                "value": speedup, "ci95": list(ci),
                "verdict": "faster" if ci[0] > 1 else "slower" if ci[1] < 1 else "tie",
            },
            "compression": compression,
            "parameter_ratio": compression,
            "accuracy_delta_points": 0.0,
            "efficiency": efficiency,
            "edge_score": None if speedup is None else {
                "value": speedup, "ci95": list(ci), "energy_measured": energy_joules is not None},
            "qualified": qualified,
            "qualification": [{
                "rule": failed_rule, "passed": qualified,
                "detail": "ok" if qualified else f"{failed_rule} failed: accuracy below the floor",
            }],
            "categories": categories,
        },
    }
    validate_result(result, source="factory result")
    return result


HOSTILE_NAME = '<script>alert("x")</script> "><img src=x onerror=alert(2)> | pipe'


def sample_results() -> list[dict[str, Any]]:
    """TEST DATA: a small season covering ties, thresholds, divisions, runners, energy, reruns and a hostile name."""
    return [
        make_result("alpha", speedup=2.0, ci=(1.9, 2.1), accuracy=0.81, compression=1.5, efficiency=3.0),
        make_result("beta", speedup=1.95, ci=(1.85, 2.05), accuracy=0.83, model_size=800_000, efficiency=2.5,
                    athlete_name=HOSTILE_NAME, team="Team | Pipes", techniques=("<b>bold</b> pruning",)),
        make_result("gamma", speedup=1.2, ci=(1.1, 1.3), accuracy=0.78, energy_joules=0.0125, compression=0.5,
                    model_size=2_000_000, peak_memory=3_000_000),
        make_result("delta", speedup=3.5, qualified=False),
        make_result("opus", division="open", speedup=4.0, accuracy=0.9, pr_number=12),
        make_result("alpha", event_id="mlp_sprint", speedup=3.0, accuracy=0.97),
        make_result("alpha", event_id="transformer_decathlon", speedup=1.3, accuracy=None, perplexity=4.2),
        make_result("alpha", runner_class="edge", speedup=1.1),
        make_result("alpha", runner_class="local", speedup=5.0),
        make_result("gamma", event_id="cnn_marathon_offline", speedup=1.7),
        make_result("alpha", speedup=1.4, ci=(1.3, 1.5), run=-3),
        make_result("beta", speedup=1.6, ci=(1.5, 1.7), run=-2, athlete_name=HOSTILE_NAME),
    ]


def make_scored_result(
    name: str = "alpha",
    *,
    event_id: str = "cnn_marathon",
    runner_class: str = "reference",
    division: str = "closed",
    speedup: float | None = 1.5,
    spread: float = 0.02,
    rounds: int = 10,
    accuracy: float | None = 0.8,
    baseline_accuracy: float | None = 0.8,
    perplexity: float | None = None,
    model_size: int = 1_000_000,
    baseline_size: int = 1_000_000,
    peak_memory: int | None = 40_000_000,
    baseline_peak: int | None = 40_000_000,
    energy_joules: float | None = None,
    baseline_joules: float | None = None,
    quick: bool = False,
    isolation: str = "jail",
    visibility: str | None = None,
    run: int = 0,
    pr_number: int | None = 7,
) -> dict[str, Any]:
    """TEST DATA: a result whose scores follow from its measurements (competition.scoring.score), as the harness
    writes it. Per-round ratios are spread evenly by +-`spread` around `speedup` (None: no candidate timing)."""
    result = make_result(name, event_id=event_id, runner_class=runner_class, division=division, run=run,
                         pr_number=pr_number, speedup=None, accuracy=accuracy, perplexity=perplexity)
    event = load_rules().event(event_id)
    result["event"]["kind"] = event.kind
    if visibility is not None:
        result["event"]["dataset"]["visibility"] = visibility
    candidate = _measurements(accuracy, 2.0 / (speedup or 1.0), peak_memory, model_size, energy_joules, perplexity)
    baseline = _measurements(baseline_accuracy, 2.0, baseline_peak, baseline_size, baseline_joules, perplexity)
    candidate["latency_ms"]["p50"] = baseline["latency_ms"]["p50"] = 1.0
    candidate["reached_target"] = baseline["reached_target"] = True if event.kind == "training" else None
    for side, peak in ((candidate, peak_memory), (baseline, baseline_peak)):
        side["peak_memory"]["external_bytes"] = peak
    ratios = None if speedup is None else [speedup * (1 + spread * (2 * i / (rounds - 1) - 1)) for i in range(rounds)]
    result["candidate"], result["baseline"] = candidate, baseline
    result["config"] = {"quick": quick, "rounds": rounds, "blas_threads": 1, "seed_sha256": "e" * 64, "budget_scale": 1.0}
    result["sandbox"]["isolation"] = isolation
    result["scores"] = scoring.score(event, candidate, baseline, speedup_ratios=ratios,
                                     aa_speedup=result["noise"]["aa_speedup"], runner_class=runner_class)
    validate_result(result, source="factory result")
    return result
