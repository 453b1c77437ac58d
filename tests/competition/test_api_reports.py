"""The course API: generate_submission / generate_baseline turn a harness result into submission.json files
that pass their own validation; a failed run writes nothing."""

import json
import sys
import types

import pytest

from competition import api, scoring
from competition.rules import load_rules
from competition.validation import validate_path
from tests.competition.test_validation_folder import valid_entry

RULES = load_rules()


def _measurements(time_s: float, size: int, accuracy: float) -> dict:
    return {
        "accuracy": accuracy, "time_s": {"median": time_s, "ci95": [time_s * 0.9, time_s * 1.1], "n": 5},
        "latency_ms": {"p50": 1.0, "p90": 1.5, "n": 20}, "throughput_per_s": 1000 / time_s,
        "peak_memory": {"tracemalloc_bytes": None, "rss_delta_bytes": None, "external_bytes": 123456}, "model_size_bytes": size,
        "parameter_count": size // 4,
        "energy": {"measured": False, "joules_per_inference": None, "method": None, "reason": "no RAPL"},
    }


def harness_result(event_id: str = "cnn_marathon_offline") -> dict:
    """A result shaped like result.schema.json, scored by competition.scoring."""
    candidate, baseline = _measurements(0.5, 4000, 0.97), _measurements(1.0, 16000, 0.975)
    return {
        "result_id": f"ada--{event_id}--local--20261122T180000Z", "status": "ok", "errors": [],
        "event": {"id": event_id}, "finished_at": "2026-11-22T18:00:00Z",
        "runner": {"class": "local", "hardware": {"cpu_model": "Test CPU", "machine": "x86_64", "cores": 2}},
        "candidate": candidate, "baseline": baseline,
        "scores": scoring.score(RULES.event(event_id), candidate, baseline, speedup_ratios=[2.0, 2.1, 1.9],
                                aa_speedup=None, runner_class="local", rules=RULES),
    }


@pytest.fixture
def stub_run(monkeypatch):
    results = {"next": harness_result()}

    def run_event(event_id, submission_dir, baseline_dir, runner_class="local", quick=False, progress=None):
        progress("timing interleaved rounds")
        for r in range(1, 4):
            progress(f"round {r}/3")
        return results["next"]

    monkeypatch.setitem(sys.modules, "competition.run", types.SimpleNamespace(run_event=run_event))
    return results


def test_report_fields_follow_the_result():
    manifest = {"division": "closed", "athlete_name": "Ada", "github_repo": "https://github.com/ada/tinymlperf",
                "techniques_used": ["int8_quantization"], "honor_code": "I did this work myself, honestly."}
    report = api.report_from_result(harness_result(), manifest)
    assert report["normalized_scores"]["compression_ratio"] == 4.0
    assert report["normalized_scores"]["speedup"] == 2.0
    assert report["normalized_scores"]["accuracy_delta"] == pytest.approx(-0.5)
    assert report["optimized"]["time_s"] == 0.5 and report["baseline"]["accuracy"] == 0.975
    assert report["hardware"]["cpu_model"] == "Test CPU"
    assert report["division"] == "closed" and report["techniques_used"] == ["int8_quantization"]


def test_generate_submission_writes_a_valid_submission_json(stub_run, tmp_path):
    folder = valid_entry(tmp_path)
    path = api.generate_submission(folder, "cnn_marathon_offline")
    assert path == folder / "submission.json"
    assert validate_path(path) == []
    assert validate_path(folder) == []
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_generate_baseline_writes_baseline_submission_json(stub_run, tmp_path, monkeypatch):
    baseline = valid_entry(tmp_path, "baseline")
    monkeypatch.setattr(api, "BASELINE_DIR", baseline)
    path = api.generate_baseline("cnn_marathon_offline", tmp_path / "out")
    assert path.name == "baseline_submission.json"
    assert json.loads(path.read_text())["athlete_name"] == "Ada Lovelace"


def test_failed_run_writes_nothing(stub_run, tmp_path):
    stub_run["next"] = {**harness_result(), "status": "failed", "candidate": None,
                        "errors": [{"stage": "load", "message": "model.py raised"}]}
    folder = valid_entry(tmp_path)
    with pytest.raises(RuntimeError, match="model.py raised"):
        api.generate_submission(folder, "cnn_marathon_offline")
    assert not (folder / "submission.json").exists()


def test_tinytorch_facade_delegates(stub_run, tmp_path):
    from tinytorch.competition import generate_submission

    folder = valid_entry(tmp_path)
    assert generate_submission(folder, "cnn_marathon_offline", tmp_path / "out") == tmp_path / "out" / "submission.json"


def test_the_api_shows_progress_unless_told_not_to(stub_run, tmp_path, capsys):
    folder = valid_entry(tmp_path)
    api.generate_submission(folder, "cnn_marathon_offline")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[event 1/1 cnn_marathon_offline] starting"
    assert "[event 1/1 cnn_marathon_offline] round 3/3" in err
    api.generate_submission(folder, "cnn_marathon_offline", show_progress=False)
    assert capsys.readouterr().err == ""


def test_the_api_refuses_an_event_without_baseline(stub_run, tmp_path):
    from competition.baseline import BaselineError

    with pytest.raises(BaselineError, match="CNN Marathon has no baseline yet"):
        api.generate_submission(valid_entry(tmp_path), "cnn_marathon")
    assert api.baseline_status("cnn_marathon_offline")[0]
