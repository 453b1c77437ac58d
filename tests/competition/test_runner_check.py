"""Runner qualification: the rates a calibration prints and the rule that qualifies a runner (no harness runs here;
benchmarks/calibration.py and `tito runner check` run the real comparisons)."""

from __future__ import annotations

from pathlib import Path

import pytest

from competition import runner_check
from competition.cli import build_parser
from competition.measure.provenance import tree_sha256
from competition.runner_check import Comparison, problems, summarize


def comparison(ci=(0.99, 1.01), verdict="tie", reason="interval_contains_1", event="cnn_marathon_offline",
               kind="inference", status="ok", stop="target_reached", round_ci=(0.995, 1.005)) -> Comparison:
    return Comparison(event, kind, status, verdict, reason, ci, 1.0, round_ci, (0.99, 1.01),
                      {"stop": stop, "units": 8}, 40.0, 1.5, {"class": "reference", "hardware": {}})


def test_a_quiet_honest_runner_qualifies() -> None:
    runs = [comparison(), comparison(ci=(0.985, 1.015)), comparison(event="mlp_sprint_offline", kind="training")]
    summaries = summarize(runs)
    assert [s.event_id for s in summaries] == ["cnn_marathon_offline", "mlp_sprint_offline"]
    assert summaries[0].coverage == 1.0 and summaries[0].false_verdicts == 0 and summaries[0].stops == {
        "target_reached": 2}
    assert problems(summaries) == []


def test_a_false_verdict_a_missed_interval_or_a_wide_one_disqualifies_and_floor_catches_are_counted() -> None:
    runs = [comparison(ci=(1.01, 1.03), verdict="faster", reason=None, round_ci=(1.015, 1.025)),
            comparison(ci=(1.005, 1.02), reason="within_aa_floor", round_ci=(1.01, 1.015)),
            comparison(ci=(0.9, 1.1), reason="budget_spent_before_target", stop="budget_spent")]
    (summary,) = summarize(runs)
    assert (summary.false_verdicts, summary.caught_by_floor) == (1, 1)
    assert summary.coverage == pytest.approx(1 / 3) and summary.round_coverage == pytest.approx(1 / 3)
    found = problems([summary])
    assert any("1 false verdicts in 3" in p for p in found)
    assert any("contained 1 in 33 %" in p for p in found)
    assert not any("median half-width" in p for p in found)  # the median run's interval: 1 %
    wide = summarize([comparison(ci=(0.96, 1.04), reason="budget_spent_before_target", stop="budget_spent")] * 2)
    assert [p for p in problems(wide) if "median half-width 4.0 % (target 2 %)" in p]
    assert "|".join(runner_check.summary_lines([summary])).count("cnn_marathon_offline") == 1


def test_failed_runs_do_not_qualify() -> None:
    runs = [comparison(status="failed", ci=None, verdict=None, reason=None, round_ci=None)]
    assert any("did not finish" in p for p in problems(summarize(runs)))


def test_the_candidate_is_a_byte_identical_copy(tmp_path: Path) -> None:
    source = tmp_path / "baseline"
    source.mkdir()
    (source / "model.py").write_text("x = 1\n")
    copy = runner_check.identical_copy(source, tmp_path / "copies")
    assert copy != source and tree_sha256(copy) == tree_sha256(source)


def test_tito_runner_check_is_a_command() -> None:
    args = build_parser().parse_args(["runner", "check", "--n", "2", "--events", "mlp_sprint_offline"])
    assert args.func is runner_check.cmd_check and args.n == 2 and args.runner_class == "reference"


def test_runner_check_exits_0_with_the_registration_lines_or_1_with_the_reasons(monkeypatch, capsys) -> None:
    hardware = {"cpu_model": "Test CPU", "cores": 4, "machine": "x86_64"}
    honest = [comparison(), comparison(ci=(0.985, 1.012))]
    for run in honest:
        run.runner.update({"hardware": hardware})
    monkeypatch.setattr(runner_check, "calibrate", lambda *args, **kwargs: honest)
    args = build_parser().parse_args(["runner", "check", "--n", "2", "--events", "cnn_marathon_offline"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "qualifies as a reference runner" in out and "- fingerprint: " in out and "class: reference" in out
    monkeypatch.setattr(runner_check, "calibrate", lambda *args, **kwargs: honest + [
        comparison(ci=(1.01, 1.03), verdict="faster", reason=None)])
    assert args.func(args) == 1
    assert "does NOT qualify" in capsys.readouterr().out
