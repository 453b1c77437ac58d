"""Rankings: CI ties, thresholds, categories, divisions, official vs unofficial, projected ranks."""

from __future__ import annotations

import pytest

from competition.leaderboard.rankings import build_boards, projected_ranks
from tests.leaderboard.factory import make_result


def _board(results, board_id):
    return next(b for b in build_boards(results) if b.id == board_id)


def _ranks(board):
    return [(row.name, row.rank, row.tied) for row in board.ranked]


def test_overlapping_cis_tie_and_ranks_skip_after_a_tie():
    results = [
        make_result("a", speedup=2.0, ci=(1.9, 2.1)),
        make_result("b", speedup=1.95, ci=(1.85, 2.05)),
        make_result("c", speedup=1.5, ci=(1.45, 1.55)),
        make_result("d", speedup=1.47, ci=(1.40, 1.50)),
        make_result("e", speedup=1.2, ci=(1.1, 1.3)),
    ]
    board = _board(results, "cnn_marathon/closed/reference")
    assert _ranks(board) == [("a", 1, True), ("b", 1, True), ("c", 3, True), ("d", 3, True), ("e", 5, False)]


def test_ties_chain_through_overlapping_entries_so_no_group_is_split():
    results = [
        make_result("a", speedup=2.0, ci=(1.9, 2.1)),
        make_result("b", speedup=1.88, ci=(1.8, 1.95)),
        make_result("c", speedup=1.78, ci=(1.7, 1.85)),  # overlaps b, not a: a chain a-b-c, one group
        make_result("d", speedup=1.5, ci=(1.45, 1.55)),
    ]
    assert _ranks(_board(results, "cnn_marathon/closed/reference")) == [("a", 1, True), ("b", 1, True),
                                                                         ("c", 1, True), ("d", 4, False)]


def test_equal_entries_always_share_a_rank_never_3_and_5():
    # the old leader-only rule put b (tied with a) and c (equal to b) in different groups: "=1" and "=3"
    results = [make_result("a", speedup=2.0, ci=(1.95, 2.05)), make_result("b", speedup=1.9, ci=(1.86, 1.96)),
               make_result("c", speedup=1.9, ci=(1.86, 1.96))]
    ranks = {name: rank for name, rank, _ in _ranks(_board(results, "cnn_marathon/closed/reference"))}
    assert ranks["b"] == ranks["c"]


def test_entries_that_tie_with_or_lose_to_the_baseline_are_never_ranked():
    results = [make_result("tie", speedup=1.01, ci=(0.97, 1.05)), make_result("slow", speedup=0.8, ci=(0.75, 0.85)),
               make_result("fast", speedup=1.3, ci=(1.2, 1.4))]
    board = _board(results, "cnn_marathon/closed/reference")
    assert _ranks(board) == [("fast", 1, False)]
    assert "does not beat the baseline" in board.row_for("tie").reason
    assert "slower" in board.row_for("slow").reason


def test_the_baseline_is_the_reference_line_never_an_entrant():
    results = [make_result("baseline", speedup=1.5), make_result("a", speedup=1.3)]
    board = _board(results, "cnn_marathon/closed/reference")
    assert [row.name for row in board.ranked] == ["a"] and board.row_for("baseline") is None
    assert board.reference == 1.0


def test_unqualified_and_failed_results_are_listed_with_the_reason_never_ranked():
    results = [make_result("a"), make_result("b", qualified=False, speedup=9.0),
               make_result("c", status="failed", qualified=False)]
    board = _board(results, "cnn_marathon/closed/reference")
    assert [row.name for row in board.ranked] == ["a"]
    reasons = {row.name: row.reason for row in board.unranked}
    assert "accuracy_floor failed" in reasons["b"]
    assert reasons["c"].startswith("run failed") and "worker crashed" in reasons["c"]
    assert all(row.rank is None for row in board.unranked)


def test_category_ineligibility_keeps_a_qualified_result_off_that_category_only():
    results = [make_result("a"), make_result("b", ineligible={"speed_demon": "accuracy 74 % below the floor"})]
    assert [r.name for r in _board(results, "speed_demon/cnn_marathon/closed/reference").ranked] == ["a"]
    assert [r.name for r in _board(results, "cnn_marathon/closed/reference").ranked] == ["a", "b"]
    row = _board(results, "speed_demon/cnn_marathon/closed/reference").row_for("b")
    assert row.rank is None and "below the floor" in row.reason


def test_energy_ranks_measured_values_only_never_estimates():
    results = [make_result("measured", energy_joules=0.02), make_result("estimated", energy_joules=None)]
    board = _board(results, "energy_efficient/cnn_marathon/closed/reference")
    assert [r.name for r in board.ranked] == ["measured"]
    assert "not measured" in board.row_for("estimated").reason


def test_smallest_model_ranks_by_shipped_bytes_and_edge_expert_by_edge_results_only():
    results = [make_result("small", model_size=250_000), make_result("big", model_size=900_000),
               make_result("small", runner_class="edge", speedup=1.3, efficiency=1.3)]
    assert [r.name for r in _board(results, "smallest_model/cnn_marathon/closed/reference").ranked] == ["small",
                                                                                                         "big"]
    edge = _board(results, "edge_expert/cnn_marathon/closed/edge")
    assert [r.name for r in edge.ranked] == ["small"] and edge.official
    assert not any(b.id.startswith("edge_expert/") and b.runner_class != "edge" for b in build_boards(results))
    assert "cnn_marathon/closed/edge" not in {b.id for b in build_boards(results)}


def test_divisions_are_ranked_separately():
    results = [make_result("c1", division="closed", speedup=1.2), make_result("o1", division="open", speedup=5.0)]
    boards = {b.id: b for b in build_boards(results)}
    assert _ranks(boards["cnn_marathon/closed/reference"]) == [("c1", 1, False)]
    assert _ranks(boards["cnn_marathon/open/reference"]) == [("o1", 1, False)]


def test_local_runner_and_offline_events_are_unofficial_and_listed_after_official():
    results = [make_result("a"), make_result("a", runner_class="local", speedup=9.0),
               make_result("a", event_id="mlp_sprint_offline")]
    boards = build_boards(results)
    official = [b.id for b in boards if b.official]
    unofficial = [b.id for b in boards if not b.official]
    assert "cnn_marathon/closed/reference" in official
    assert {"cnn_marathon/closed/local", "mlp_sprint_offline/closed/reference",
            "speed_demon/cnn_marathon/closed/local", "speed_demon/mlp_sprint_offline/closed/reference"} <= set(unofficial)
    assert [b.official for b in boards] == sorted((b.official for b in boards), reverse=True)
    assert not any(b.category_id == "edge_expert" for b in boards if not b.official)


def test_only_the_latest_run_is_ranked():
    results = [make_result("a", speedup=3.0, run=0), make_result("a", speedup=1.1, run=1), make_result("b", speedup=2)]
    board = _board(results, "cnn_marathon/closed/reference")
    assert [(r.name, r.result["scores"]["speedup"]["value"]) for r in board.ranked] == [("b", 2.0), ("a", 1.1)]


def test_projected_ranks_replace_the_stored_run_and_explain_missing_ranks():
    store = [make_result("a", speedup=2.0, ci=(1.9, 2.1)), make_result("b", speedup=1.2, ci=(1.1, 1.3)),
             make_result("b", speedup=1.0, ci=(0.9, 1.1), run=-1)]
    projection = projected_ranks(store, [make_result("b", speedup=3.0, ci=(2.9, 3.1), run=2)])
    event = projection["cnn_marathon/closed/reference"]
    assert (event["rank"], event["tied"], event["of"], event["reason"]) == (1, False, 2, None)
    assert projection["speed_demon/cnn_marathon/closed/reference"]["rank"] == 1
    edge = projection["edge_expert/cnn_marathon/closed/reference"]
    assert edge["rank"] is None and "edge" in edge["reason"]
    energy = projection["energy_efficient/cnn_marathon/closed/reference"]
    assert energy["rank"] is None and "not measured" in energy["reason"]


def test_projected_ranks_of_an_unqualified_result():
    projection = projected_ranks([make_result("a")], [make_result("b", qualified=False)])
    assert projection["cnn_marathon/closed/reference"]["rank"] is None
    assert "not qualified" in projection["cnn_marathon/closed/reference"]["reason"]


def test_projected_ranks_need_one_submission():
    with pytest.raises(ValueError, match="exactly one submission"):
        projected_ranks([], [make_result("a"), make_result("b")])
