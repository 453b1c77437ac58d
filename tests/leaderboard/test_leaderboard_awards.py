"""Awards (champions, Overall Systems Engineer, awards.yaml) and badges (top 10 %, Triple Crown)."""

from __future__ import annotations

import pytest

from competition.leaderboard.awards import AwardsError, all_awards, load_awards
from competition.leaderboard.badges import badges
from competition.leaderboard.rankings import build_boards
from tests.leaderboard.factory import make_result

EVENTS = ("mlp_sprint", "cnn_marathon", "transformer_decathlon")


def _field(n, event_id="cnn_marathon"):
    """n entrants with clearly separated speedups: s00 is fastest."""
    return [make_result(f"s{i:02d}", event_id=event_id, speedup=10.0 - 0.4 * i, ci=(9.9 - 0.4 * i, 10.1 - 0.4 * i),
                        efficiency=10.0 - 0.4 * i) for i in range(n)]


def test_top_ten_percent_badge_goes_to_the_top_ceil_tenth():
    earned = badges(build_boards(_field(20)))
    speed = {name for name, bs in earned.items() if any(b.id == "top10/speed_demon/cnn_marathon/closed/reference"
                                                          for b in bs)}
    assert speed == {"s00", "s01"}


def test_triple_crown_needs_top_ten_percent_in_three_events():
    results = [r for event in EVENTS for r in _field(20, event)]  # top 10 % = the 2 fastest
    results += [make_result("s05", event_id="mlp_sprint", speedup=50.0, ci=(49, 51), run=1)]  # s00 drops to 2nd
    earned = badges(build_boards(results))
    crowned = {name for name, bs in earned.items() if any(b.id == "triple_crown" for b in bs)}
    assert crowned == {"s00"}  # s05 tops only one event


def test_triple_crown_ignores_unofficial_runs():
    results = [r for event in EVENTS for r in _field(3, event)[1:]]
    results += [make_result("s00", event_id=e, runner_class="local", speedup=99.0) for e in EVENTS]
    crowned = {name for name, bs in badges(build_boards(results)).items() if any(b.id == "triple_crown" for b in bs)}
    assert crowned == {"s01"}  # s00 is fastest everywhere, but only on a laptop


def test_champions_share_the_title_when_tied():
    results = [make_result("a", speedup=2.0, ci=(1.9, 2.1)), make_result("b", speedup=1.95, ci=(1.85, 2.05)),
               make_result("c", speedup=1.0, ci=(0.9, 1.1))]
    award = next(a for a in all_awards(build_boards(results), [])
                 if a.id == "champion/speed_demon/cnn_marathon/closed/reference")
    assert award.submissions == ("a", "b")


def test_overall_systems_engineer_has_the_best_combined_rank_per_division():
    results = [make_result("steady", event_id=e, speedup=2.0, ci=(1.95, 2.05)) for e in EVENTS]
    results += [make_result("oneshot", event_id="cnn_marathon", speedup=9.0, ci=(8.9, 9.1))]
    results += [make_result("opener", division="open", speedup=1.1)]
    engineers = {a.id: a for a in all_awards(build_boards(results), []) if a.title == "Overall Systems Engineer"}
    assert engineers["systems_engineer/closed"].submissions == ("steady",)  # 2+1+1 beats 1+2+2
    assert engineers["systems_engineer/open"].submissions == ("opener",)


def test_awards_file_roundtrip_and_errors(tmp_path):
    path = tmp_path / "awards.yaml"
    assert load_awards(tmp_path / "missing.yaml") == []
    path.write_text("# only a comment\n[]\n", encoding="utf-8")
    assert load_awards(path) == []
    path.write_text("- award: teaching\n  submission: alpha\n  note: wrote the tutorial\n", encoding="utf-8")
    entries = load_awards(path)
    assert [a.title for a in all_awards([], entries)] == ["Teaching"]
    path.write_text("- award: best-hair\n  submission: alpha\n", encoding="utf-8")
    with pytest.raises(AwardsError, match=r"awards.yaml: entry 1 \[award\]"):
        load_awards(path)
    path.write_text("- award: innovation\n  submission: ../etc\n", encoding="utf-8")
    with pytest.raises(AwardsError, match="submission"):
        load_awards(path)


def test_repository_awards_file_is_valid():
    from pathlib import Path

    assert load_awards(Path(__file__).resolve().parents[2] / "leaderboard" / "awards.yaml") == []
