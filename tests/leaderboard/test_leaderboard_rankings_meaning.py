"""Rankings that mean what they say: Best Accuracy ranks only entries above the baseline of their own run, and
peak memory ranks at the resolution the rules state (the same model run twice ties instead of being split)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from competition.leaderboard.categories import metric
from competition.leaderboard.rankings import build_boards
from competition.leaderboard.table import reference_line
from competition.rules import RULES_DIR, RulesError, load_rules
from tests.leaderboard.factory import make_result, make_scored_result

MIB = 2**20


def _board(results, board_id):
    return next(b for b in build_boards(results) if b.id == board_id)


def _ranks(board):
    return [(row.name, row.rank, row.tied) for row in board.ranked]


def test_best_accuracy_never_ranks_an_entry_level_with_its_own_baseline_whatever_the_stored_verdict():
    """The stored verdicts say "eligible" for all three; only the one strictly above its run's baseline ranks."""
    level = make_result("level", accuracy=0.81)  # the factory's baseline scores 0.81 in the same run
    below = make_result("below", accuracy=0.80)
    below["baseline"]["accuracy"] = 0.82
    above = make_result("above", accuracy=0.83)
    above["baseline"]["accuracy"] = 0.82
    board = _board([level, below, above], "best_accuracy/cnn_marathon/closed/reference")
    assert _ranks(board) == [("above", 1, False)]
    assert "not above the baseline's reference line: accuracy 81.00 % vs the baseline's 81.00 %" in \
        board.row_for("level").reason
    assert "80.00 % vs the baseline's 82.00 %" in board.row_for("below").reason


def test_every_ranked_row_beats_the_baseline_of_its_own_run_on_every_board():
    results = [make_result("same-size", model_size=2_000_000), make_result("smaller", model_size=1_000_000),
               make_result("same-energy", energy_joules=0.05), make_result("frugal", energy_joules=0.01)]
    for board in build_boards(results):
        for row in board.ranked:
            value, reference = board.metric.value(row.result), board.metric.reference(row.result)
            assert reference is None or board.metric.better(value, reference), (board.id, row.name)
    assert "same-size" not in {row.name for row in _board(results, "smallest_model/cnn_marathon/closed/reference")
                               .ranked}
    assert [row.name for row in _board(results, "energy_efficient/cnn_marathon/closed/reference").ranked] == [
        "frugal"]


def test_the_reference_line_gives_the_range_when_runs_measured_the_baseline_differently():
    early = make_scored_result("early", accuracy=0.82, baseline_accuracy=0.80, run=-1)
    late = make_scored_result("late", accuracy=0.83, baseline_accuracy=0.81)
    board = _board([early, late], "best_accuracy/cnn_marathon/closed/reference")
    assert [row.name for row in board.ranked] == ["late", "early"]
    assert "80.00 % to 81.00 % over this board's runs (each entry against the baseline of its own run)" in \
        reference_line(board)


def _memory_season(event_id):
    """Two runs of one model (peaks 0.3 MiB apart, the spread the stored baseline runs show) and a smaller one."""
    return [make_scored_result(name, event_id=event_id, peak_memory=int(peak * MIB), baseline_peak=60 * MIB,
                               accuracy=0.99, baseline_accuracy=0.99)
            for name, peak in (("twin-a", 41.6), ("twin-b", 41.9), ("lean", 30.0), ("heavy", 45.0))]


@pytest.mark.parametrize("board_id", ["memory_miser/cnn_marathon/closed/reference",
                                      "memory_master/closed/reference"])
def test_peak_memory_boards_tie_entries_within_the_stated_resolution(board_id):
    event_id = "cnn_marathon" if board_id.startswith("memory_miser") else "memory_master"
    board = _board(_memory_season(event_id), board_id)
    assert _ranks(board) == [("lean", 1, False), ("twin-a", 2, True), ("twin-b", 2, True), ("heavy", 4, False)]
    assert "Values within 2 % of each other tie." in reference_line(board)


def test_the_resolution_is_rules_data_with_its_source():
    stated = load_rules().tie_resolutions["peak_memory_bytes"]
    assert stated["relative"] == 0.02 and "measured" in stated["source"]
    assert metric("peak_memory_bytes", False).resolution == 0.02
    assert metric("model_size_bytes", False).resolution is None  # shipped bytes are exact: equal values only


@pytest.mark.parametrize("bad", [0, 0.5, "2 %"])
def test_a_bad_resolution_is_refused_naming_file_and_field(tmp_path, bad):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = rules / "categories.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["tie_resolutions"][0]["relative"] = bad
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(rules)
    assert [(p.file.endswith("categories.yaml"), p.field) for p in info.value.problems] == [
        (True, "tie_resolutions.0.relative")]
