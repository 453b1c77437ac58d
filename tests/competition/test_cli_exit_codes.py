"""`tito` exit codes 0 / 1 / 2, JSON output, and the benchmark summary (with the harness replaced by a stub)."""

import json
import sys
import types
from pathlib import Path

import pytest

from competition.cli import main
from tests.competition.test_validation_folder import FIXTURES, valid_entry

REPORTS = FIXTURES.parent / "reports"


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("benchmark", "baseline", "submit", "submission"):
        assert command in out


def test_validate_exit_0_for_valid_folder_and_report(tmp_path):
    assert main(["submit", "--validate-only", str(valid_entry(tmp_path))]) == 0
    assert main(["submit", "--validate-only", str(REPORTS / "valid.json")]) == 0


def test_validate_exit_1_lists_every_problem(capsys):
    assert main(["submit", "--validate-only", str(FIXTURES / "invalid_manifest")]) == 1
    out = capsys.readouterr().out
    for field in ("email", "honor_code", "division", "github_repo", "events.1"):
        assert f"[{field}]" in out
    assert "5 problem(s)" in out


def test_validate_exit_2_when_it_cannot_run(tmp_path, capsys):
    assert main(["submit", "--validate-only", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().out
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["submit", "--validate-only", str(text)]) == 2


def test_validate_json_output(capsys):
    assert main(["submit", "--validate-only", str(REPORTS / "implausible.json"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False
    assert {p["field"] for p in data["problems"]} >= {"normalized_scores.speedup"}
    assert all(set(p) == {"file", "message", "hint", "field", "line"} for p in data["problems"])


def test_submission_new_and_bad_name(tmp_path, capsys):
    assert main(["submission", "new", "ada", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "ada" / "submission.yaml").is_file()
    assert main(["submission", "new", "baseline", "--root", str(tmp_path)]) == 2
    assert main(["submission", "new", "ada", "--root", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().out


def _fake_result(event_id: str, status: str = "ok", isolation: str = "jail") -> dict:
    estimate = {"median": 0.5, "ci95": [0.45, 0.55], "n": 5}
    measured = {"accuracy": 0.97, "time_s": estimate, "perplexity": None}
    return {
        "result_id": f"ada--{event_id}--local--20261122T180000Z", "status": status, "event": {"id": event_id},
        "sandbox": {"isolation": isolation},
        "candidate": measured, "baseline": {**measured, "time_s": {**estimate, "median": 1.0}},
        "scores": {"speedup": {"value": 2.0, "ci95": [1.9, 2.1], "verdict": "faster"}, "compression": 4.0,
                   "qualified": status == "ok",
                   "qualification": [{"rule": "accuracy_floor", "passed": status == "ok", "detail": "x"}]},
    }


@pytest.fixture
def stub_harness(monkeypatch, tmp_path):
    calls = []

    def run_event(event_id, submission_dir, baseline_dir, runner_class="local", quick=False, progress=None,
                  budget_scale=1.0):
        calls.append((event_id, Path(submission_dir), runner_class, quick))
        progress("measuring")
        isolation = "process" if "unjailed" in str(submission_dir) else "jail"
        return _fake_result(event_id, "failed" if event_id == "transformer_decathlon" else "ok", isolation)

    def write_result(result, out_dir):
        path = Path(out_dir) / f"{result['result_id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result))
        return path

    monkeypatch.setitem(sys.modules, "competition.run", types.SimpleNamespace(run_event=run_event))
    monkeypatch.setitem(sys.modules, "competition.results", types.SimpleNamespace(write_result=write_result))
    return calls


def test_benchmark_run_writes_results_and_prints_table(stub_harness, tmp_path, capsys):
    entry = valid_entry(tmp_path)
    out = tmp_path / "out"
    code = main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", str(entry),
                 "--out", str(out), "--quick", "--runner-class", "reference"])
    assert code == 0
    assert stub_harness == [("cnn_marathon_offline", entry, "reference", True)]
    text = capsys.readouterr().out
    assert "2.00x faster" in text and "4.0x" in text  # the 80-column table
    assert "cnn_marathon_offline: 2.00x faster [1.90-2.10], 4.0x smaller" in text  # the verdict
    assert len(list(out.glob("*.json"))) == 1


def test_benchmark_run_all_events_json_and_failure_exit(stub_harness, tmp_path, capsys):
    entry = valid_entry(tmp_path)
    assert main(["benchmark", "run", "--all-events", "--submission", str(entry), "--out", str(tmp_path), "--json"]) == 0
    assert [json.loads(capsys.readouterr().out)[0]["result"]["event"]["id"]] == ["cnn_marathon_offline"]
    assert main(["benchmark", "run", "--event", "transformer_decathlon", "--submission", str(entry),
                 "--out", str(tmp_path)]) == 1


def test_benchmark_run_unknown_event_or_folder_is_exit_2(stub_harness, tmp_path):
    assert main(["benchmark", "run", "--event", "warp_speed"]) == 2
    assert main(["benchmark", "run", "--event", "mlp_sprint", "--submission", str(tmp_path / "nope")]) == 2
    assert stub_harness == []


def test_a_crash_is_exit_2_not_invalid(monkeypatch, tmp_path, capsys):
    import competition.validation as validation

    def boom(path, **options):
        raise RuntimeError("bug in a checker")

    monkeypatch.setattr(validation, "validate_path", boom)
    assert main(["submit", "--validate-only", str(tmp_path)]) == 2
    assert "bug in a checker" in capsys.readouterr().err


def test_benchmark_run_checks_the_manifest_first_with_validate_only_messages(stub_harness, tmp_path, capsys,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = valid_entry(tmp_path)
    manifest = entry / "submission.yaml"
    manifest.write_text(manifest.read_text().replace("division: open", "division: closd"))
    assert main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", str(entry)]) == 1
    out = capsys.readouterr().out
    assert "[division]: 'closd' is not one of ['closed', 'open']" in out and stub_harness == []


def test_benchmark_run_refuses_a_folder_name_with_a_space_without_a_traceback(stub_harness, tmp_path, capsys,
                                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = valid_entry(tmp_path)
    spaced = entry.rename(tmp_path / "my entry")
    assert main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", str(spaced)]) == 1
    captured = capsys.readouterr()
    assert "folder name 'my entry' is not a lowercase slug" in captured.out and "'my-entry'" in captured.out
    assert "Traceback" not in captured.out + captured.err and stub_harness == []


def test_an_unjailed_run_ends_with_a_persistent_line_and_exit_3(stub_harness, tmp_path, capsys):
    entry = valid_entry(tmp_path).rename(tmp_path / "unjailed")
    code = main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", str(entry),
                 "--out", str(tmp_path / "out")])
    assert code == 3
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("NOT RANKABLE: measured outside the OS jail") and "exit code 3" in last


def test_running_inside_the_entry_folder_never_writes_into_it(stub_harness, tmp_path, monkeypatch):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    entry = valid_entry(tmp_path).rename(submissions / "ada")
    monkeypatch.chdir(entry)
    assert main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", "."]) == 0
    assert not (entry / ".tito").exists()
    assert len(list((tmp_path / ".tito" / "results").glob("*.json"))) == 1
    assert main(["benchmark", "run", "--event", "cnn_marathon_offline", "--submission", ".", "--quick"]) == 0
    assert len(list((tmp_path / ".tito" / "smoke").glob("*.json"))) == 1  # never where the board reads
