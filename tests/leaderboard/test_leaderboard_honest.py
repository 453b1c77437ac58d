"""Boards built from hand-crafted stores: who wins when results are forged, quick, unisolated, from unregistered
runners, disqualified, from an older harness, tied with each other or with the baseline (TEST DATA)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from competition.leaderboard.admission import Policy
from competition.leaderboard.build import build, load_leaderboard
from competition.leaderboard.cli import main
from competition.leaderboard.config import Config, load_config
from competition.leaderboard.store import StoreError, add_results, load_store
from competition.results import dumps
from tests.leaderboard.factory import REGISTERED, make_result, make_scored_result

ROOT = Path(__file__).resolve().parents[2]
POLICY = Policy(REGISTERED)


def _write(path: Path, result: dict) -> Path:
    path.write_text(json.dumps(result), encoding="utf-8")
    return path


def _plant(store: Path, *results: dict) -> Path:
    """Put results straight into a store (as a hand edit or an old harness would), bypassing `add`."""
    store.mkdir(parents=True, exist_ok=True)
    for result in results:
        (store / f"{result['result_id']}.json").write_text(dumps(result), encoding="utf-8")
    return store


def _config_file(tmp_path: Path, config: Config = REGISTERED) -> Path:
    path = tmp_path / "config.yaml"
    runners = [{"fingerprint": r.fingerprint, "class": r.runner_class, "name": r.name} for r in config.runners]
    data = {"runners": runners, "min_harness_version": config.min_harness_version}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _leaderboard(tmp_path: Path, store: Path, disqualified: list | None = None, submissions: Path | None = None,
                 config: Config = REGISTERED, reveal: bool = False):
    dq = tmp_path / "disqualified.yaml"
    dq.write_text(yaml.safe_dump(disqualified or []), encoding="utf-8")
    return load_leaderboard(store, tmp_path / "none.yaml", _config_file(tmp_path, config), dq, submissions, reveal)


def _board(lb, board_id):
    return next(b for b in lb.boards if b.id == board_id)


def _winners(lb, category_id="speed_demon", where="cnn_marathon/closed/reference"):
    award = next((a for a in lb.awards if a.id == f"champion/{category_id}/{where}"), None)
    return award.submissions if award else ()


# --- tito leaderboard add: refusals name file, field and reason; nothing is half-written -----------------------

@pytest.mark.parametrize("edit, field", [
    (lambda r: r["scores"]["speedup"].update(value=9.0), "scores.speedup.value"),
    (lambda r: r["scores"].update(compression=400.0), "scores.compression"),
    (lambda r: r["scores"]["categories"]["speed_demon"].update(eligible=True, reason="x"), "scores.categories"),
    (lambda r: r["candidate"].update(accuracy=0.99), "scores.accuracy_delta_points"),
])
def test_add_refuses_scores_that_do_not_follow_from_the_measurements(tmp_path, edit, field):
    forged = make_scored_result("mallory", speedup=1.2, accuracy=0.8)
    edit(forged)
    source = _write(tmp_path / "forged.json", forged)
    with pytest.raises(StoreError) as caught:
        add_results([source], tmp_path / "store", POLICY)
    message = str(caught.value)
    assert "forged.json" in message and field in message and "measurements give" in message
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("kwargs, field", [
    ({"quick": True}, "config.quick"),
    ({"isolation": "process", "runner_class": "local"}, "sandbox.isolation"),
])
def test_add_refuses_quick_and_unisolated_runs(tmp_path, kwargs, field):
    source = _write(tmp_path / "run.json", make_scored_result("ada", **kwargs))
    with pytest.raises(StoreError, match=field.replace(".", r"\.")):
        add_results([source], tmp_path / "store", POLICY)


def test_add_refuses_reference_and_edge_results_from_unregistered_runners(tmp_path):
    laptop = make_scored_result("ada", runner_class="reference")
    laptop["runner"]["hardware"]["cpu_model"] = "Student laptop"
    laptop["scores"] = make_scored_result("ada")["scores"]
    source = _write(tmp_path / "laptop.json", laptop)
    with pytest.raises(StoreError) as caught:
        add_results([source], tmp_path / "store", POLICY)
    assert "runner.hardware" in str(caught.value) and "tito leaderboard fingerprint" in str(caught.value)
    # the same machine labelled local is fine: local results are never official
    local = make_scored_result("ada", runner_class="local")
    local["runner"]["hardware"]["cpu_model"] = "Student laptop"
    assert add_results([_write(tmp_path / "local.json", local)], tmp_path / "store", POLICY)


def test_add_refuses_older_harness_results_and_disqualified_submissions(tmp_path):
    old = make_scored_result("ada")
    del old["config"]
    with pytest.raises(StoreError, match=r"\[config\].*older harness"):
        add_results([_write(tmp_path / "old.json", old)], tmp_path / "store", POLICY)
    banned = Policy(REGISTERED, load_disqualified_from(tmp_path, [{"submission": "eve", "reason": "test labels"}]))
    with pytest.raises(StoreError, match="eve is disqualified: test labels"):
        add_results([_write(tmp_path / "eve.json", make_scored_result("eve"))], tmp_path / "store", banned)


def load_disqualified_from(tmp_path: Path, entries: list) -> dict:
    from competition.leaderboard.disqualified import load_disqualified
    path = tmp_path / "dq.yaml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return load_disqualified(path)


def test_one_bad_file_in_a_batch_stores_nothing_and_every_problem_is_listed(tmp_path):
    good = _write(tmp_path / "good.json", make_scored_result("ada"))
    quick = _write(tmp_path / "quick.json", make_scored_result("bob", quick=True))
    forged = make_scored_result("eve")
    forged["scores"]["efficiency"] = 50.0
    forged = _write(tmp_path / "forged.json", forged)
    with pytest.raises(StoreError) as caught:
        add_results([good, quick, forged], tmp_path / "store", POLICY)
    assert "quick.json" in str(caught.value) and "forged.json" in str(caught.value)
    assert load_store(tmp_path / "store") == []


def test_fingerprint_command_prints_the_lines_that_register_a_runner(tmp_path, capsys):
    result = make_scored_result("ada")
    result["runner"]["hardware"]["cpu_model"] = "New reference box"
    result["scores"] = make_scored_result("ada")["scores"]
    source = _write(tmp_path / "r.json", result)
    config = tmp_path / "config.yaml"
    config.write_text("runners: []\n", encoding="utf-8")
    args = ["leaderboard", "add", str(source), "--store", str(tmp_path / "store"), "--config", str(config),
            "--disqualified", str(tmp_path / "none.yaml"), "--submissions", ""]
    assert main(args) == 1 and "not registered" in capsys.readouterr().err
    assert main(["leaderboard", "fingerprint", str(source)]) == 0
    snippet = capsys.readouterr().out
    config.write_text("runners:\n" + "".join(l + "\n" for l in snippet.splitlines() if not l.startswith("#")),
                      encoding="utf-8")
    assert load_config(config).runners[0].runner_class == "reference"
    assert main(args) == 0


# --- tito leaderboard build: recomputes, so a hand edit cannot change a rank -----------------------------------

def test_a_hand_edited_file_in_the_store_cannot_change_a_rank(tmp_path):
    honest = make_scored_result("ada", speedup=1.5)
    forged = make_scored_result("eve", speedup=1.1)
    forged["scores"]["speedup"].update(value=9.0, ci95=[8.8, 9.2])
    lb = _leaderboard(tmp_path, _plant(tmp_path / "store", honest, forged))
    board = _board(lb, "cnn_marathon/closed/reference")
    assert [row.name for row in board.ranked] == ["ada"] and board.row_for("eve") is None
    assert _winners(lb) == ("ada",)
    (entry,) = lb.history_entries
    assert entry.name == "eve" and "scores.speedup" in entry.reason


def test_quick_unisolated_unregistered_older_and_disqualified_results_are_history(tmp_path):
    old = make_scored_result("old")
    del old["sandbox"]["isolation"]
    stranger = make_scored_result("stranger")
    stranger["runner"]["hardware"]["cores"] = 64
    stranger["scores"] = make_scored_result("stranger")["scores"]
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.2), old, stranger,
                   make_scored_result("quick", quick=True, speedup=3.0),
                   make_scored_result("loose", isolation="process", speedup=3.0),
                   make_scored_result("eve", speedup=4.0))
    lb = _leaderboard(tmp_path, store, disqualified=[{"submission": "eve", "reason": "hard-coded labels"}])
    assert [row.name for row in _board(lb, "cnn_marathon/closed/reference").ranked] == ["ada"]
    reasons = {h.name: h.reason for h in lb.history_entries}
    assert set(reasons) == {"old", "stranger", "quick", "loose", "eve"}
    assert "older harness" in reasons["old"] and "runner.hardware" in reasons["stranger"]
    assert "config.quick" in reasons["quick"] and "sandbox.isolation" in reasons["loose"]
    assert "hard-coded labels" in reasons["eve"]
    assert _winners(lb) == ("ada",)


def test_a_removed_submission_folder_drops_out_of_the_boards(tmp_path):
    submissions = tmp_path / "submissions"
    (submissions / "ada").mkdir(parents=True)
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.2), make_scored_result("gone", speedup=2))
    lb = _leaderboard(tmp_path, store, submissions=submissions)
    assert [row.name for row in _board(lb, "cnn_marathon/closed/reference").ranked] == ["ada"]
    assert "removed" in lb.history_entries[0].reason


def test_results_of_an_older_harness_version_are_history(tmp_path):
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.2))
    lb = _leaderboard(tmp_path, store, config=replace(REGISTERED, min_harness_version="0.2.0"))
    assert not lb.boards and "harness.version" in lb.history_entries[0].reason


def test_a_later_refused_run_does_not_hide_the_last_counted_run(tmp_path):
    forged = make_scored_result("ada", speedup=1.1, run=1)
    forged["scores"]["speedup"]["value"] = 5.0
    lb = _leaderboard(tmp_path, _plant(tmp_path / "store", make_scored_result("ada", speedup=1.3, run=0), forged))
    (row,) = _board(lb, "cnn_marathon/closed/reference").ranked
    assert row.result["scores"]["speedup"]["value"] == pytest.approx(1.3)


# --- ties never win ---------------------------------------------------------------------------------------------

def test_equal_entries_share_the_title_and_a_tie_with_the_baseline_wins_nothing(tmp_path):
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.5), make_scored_result("bob", speedup=1.5),
                   make_scored_result("tie", speedup=1.0, spread=0.05),
                   make_scored_result("baseline", speedup=1.0, spread=0.05))
    lb = _leaderboard(tmp_path, store)
    board = _board(lb, "cnn_marathon/closed/reference")
    assert [(row.name, row.rank, row.tied) for row in board.ranked] == [("ada", 1, True), ("bob", 1, True)]
    assert "verdict 'tie'" in board.row_for("tie").reason and board.row_for("baseline") is None
    assert _winners(lb) == ("ada", "bob")
    assert all("tie" not in a.submissions and "baseline" not in a.submissions for a in lb.awards)
    assert "tie" not in lb.badges and "baseline" not in lb.badges


def test_a_baseline_only_store_has_boards_with_a_reference_line_and_no_winner(tmp_path):
    store = _plant(tmp_path / "store", make_scored_result("baseline", speedup=1.0, spread=0.03))
    lb = _leaderboard(tmp_path, store)
    board = _board(lb, "cnn_marathon/closed/reference")
    assert board.ranked == () and board.unranked == () and board.reference == 1.0
    assert lb.awards == [] and lb.badges == {}
    memory = _board(lb, "memory_miser/cnn_marathon/closed/reference")
    assert memory.reference == 40_000_000


def test_memory_miser_ranks_outside_peak_memory_that_clearly_beats_the_baseline(tmp_path):
    store = _plant(tmp_path / "store",
                   make_scored_result("lean", event_id="cnn_marathon_offline", runner_class="local", speedup=1.0,
                                      accuracy=0.96, peak_memory=20_000_000),
                   make_scored_result("same", event_id="cnn_marathon_offline", runner_class="local", speedup=1.0,
                                      accuracy=0.96, peak_memory=39_000_000),
                   make_scored_result("sloppy", event_id="cnn_marathon_offline", runner_class="local", speedup=1.0,
                                      accuracy=0.86, peak_memory=10_000_000))
    lb = _leaderboard(tmp_path, store)
    board = _board(lb, "memory_miser/cnn_marathon_offline/closed/local")
    assert not board.official and [row.name for row in board.ranked] == ["lean"]
    assert "not clearly better" in board.row_for("same").reason
    assert "not qualified" in board.row_for("sloppy").reason  # 86 % is below the event's 95 % floor


def test_memory_master_event_ranks_peak_memory_offline(tmp_path):
    results = [make_scored_result(n, event_id="memory_master_offline", runner_class="local", speedup=1.0,
                                  accuracy=0.96, peak_memory=peak)
               for n, peak in (("a", 30_000_000), ("b", 12_000_000), ("c", 12_000_000))]
    lb = _leaderboard(tmp_path, _plant(tmp_path / "store", *results))
    board = _board(lb, "memory_master_offline/closed/local")
    assert board.metric.rank_by == "peak_memory_bytes"
    assert [(row.name, row.rank) for row in board.ranked] == [("b", 1), ("c", 1), ("a", 3)]


def test_edge_expert_composite_says_energy_not_measured(tmp_path):
    from competition.leaderboard.formatting import edge_score
    store = _plant(tmp_path / "store", make_scored_result("ada", runner_class="edge", speedup=1.4))
    lb = _leaderboard(tmp_path, store)
    (row,) = _board(lb, "edge_expert/cnn_marathon/closed/edge").ranked
    assert edge_score(row.result).endswith("(energy not measured)")


# --- hidden test set: public during the season, private ranking revealed at the end ------------------------------

def test_private_split_results_stay_hidden_until_the_reveal(tmp_path):
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.5),
                   make_scored_result("bob", speedup=1.2),
                   make_scored_result("ada", speedup=1.1, visibility="private", run=1),
                   make_scored_result("bob", speedup=1.6, visibility="private", run=1))
    season = _leaderboard(tmp_path, store)
    assert not any(b.split == "private" for b in season.boards) and _winners(season) == ("ada",)
    final = _leaderboard(tmp_path, store, reveal=True)
    private = _board(final, "private/cnn_marathon/closed/reference")
    assert [row.name for row in private.ranked] == ["bob", "ada"]
    assert [row.name for row in _board(final, "cnn_marathon/closed/reference").ranked] == ["ada", "bob"]
    out = tmp_path / "L.md"
    build(store, out, None, tmp_path / "none.yaml", _config_file(tmp_path), reveal=True)
    assert "## Private split (revealed" in out.read_text(encoding="utf-8")


def test_build_outside_a_repository_store_refuses(tmp_path, capsys):
    code = main(["leaderboard", "build", "--store", str(tmp_path / "nowhere"), "--markdown", str(tmp_path / "L.md"),
                 "--site", ""])
    assert code == 1 and "no results store" in capsys.readouterr().err
    assert not (tmp_path / "L.md").exists()


def test_the_committed_baseline_results_are_history_not_crashes():
    lb = load_leaderboard(ROOT / "leaderboard" / "results", ROOT / "leaderboard" / "awards.yaml",
                          ROOT / "leaderboard" / "config.yaml", ROOT / "leaderboard" / "disqualified.yaml",
                          ROOT / "submissions")
    assert lb.history_entries and all("older harness" in h.reason for h in lb.history_entries)
    assert lb.awards == []


def test_hand_set_factory_scores_are_not_what_the_store_believes(tmp_path):
    # the plain factory writes scores by hand (for renderer tests); the store recomputes and refuses them
    with pytest.raises(StoreError, match="measurements give"):
        add_results([_write(tmp_path / "x.json", make_result("ada", speedup=3.0))], tmp_path / "store", POLICY)


def test_a_closed_entry_that_failed_conformance_is_refused(tmp_path):
    from competition.results import SCHEMA_PATH
    if '"conformance"' not in SCHEMA_PATH.read_text(encoding="utf-8"):
        pytest.skip("the result schema has no conformance block yet")
    result = make_scored_result("ada")
    result["conformance"] = {"division": "closed", "verdict": "fails", "reason": "fc1.weight differs by 0.3",
                             "max_abs_diff": 0.3, "tolerance": 1e-4}
    with pytest.raises(StoreError, match=r"conformance\.verdict.*fc1\.weight"):
        add_results([_write(tmp_path / "c.json", result)], tmp_path / "store", POLICY)


def test_the_check_index_never_vouches_for_an_edited_file(tmp_path):
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.5), make_scored_result("eve", speedup=1.1))
    index = tmp_path / "cache" / "index.json"
    config = _config_file(tmp_path)
    first = load_leaderboard(store, tmp_path / "none.yaml", config, None, None, False, index)
    assert index.is_file() and not first.history_entries
    path = next(store.glob("eve--*.json"))
    forged = json.loads(path.read_text(encoding="utf-8"))
    forged["scores"]["speedup"].update(value=9.0, ci95=[8.9, 9.1])
    path.write_text(dumps(forged), encoding="utf-8")
    second = load_leaderboard(store, tmp_path / "none.yaml", config, None, None, False, index)
    assert [h.name for h in second.history_entries] == ["eve"]
    assert [r.name for r in _board(second, "cnn_marathon/closed/reference").ranked] == ["ada"]


def test_the_site_is_swapped_in_whole_and_never_written_over_a_foreign_folder(tmp_path, capsys):
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.5))
    site = tmp_path / "site"
    build(store, None, site, tmp_path / "none.yaml", _config_file(tmp_path))
    stale = site / "submissions" / "gone.html"
    stale.write_text("old", encoding="utf-8")
    build(store, None, site, tmp_path / "none.yaml", _config_file(tmp_path))
    assert (site / "index.html").is_file() and not stale.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []
    foreign = tmp_path / "home"
    (foreign / "notes.txt").parent.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    code = main(["leaderboard", "build", "--store", str(store), "--markdown", "", "--site", str(foreign),
                 "--config", str(_config_file(tmp_path)), "--submissions", "", "--no-index"])
    assert code == 1 and "not a previous site" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_parallel_cold_check_finds_the_same_forgery(tmp_path, monkeypatch):
    from competition.leaderboard import index
    monkeypatch.setattr(index, "PARALLEL_FROM", 2)
    forged = make_scored_result("eve", speedup=1.1)
    forged["scores"]["compression"] = 40.0
    store = _plant(tmp_path / "store", make_scored_result("ada", speedup=1.5), make_scored_result("bob", speedup=1.3),
                   forged)
    lb = _leaderboard(tmp_path, store)
    assert [r.name for r in _board(lb, "cnn_marathon/closed/reference").ranked] == ["ada", "bob"]
    assert [(h.name, "scores.compression" in h.reason) for h in lb.history_entries] == [("eve", True)]
