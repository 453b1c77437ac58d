"""What the sticky comment says: scores with CIs, tie verdicts, failures, unmeasured energy, inert student text."""

from __future__ import annotations

import re
from pathlib import Path

from competition.github import comment
from tests.leaderboard.factory import make_result

SHA = "5" * 40


def section(result: dict, ranks: dict | None = None) -> str:
    return comment.render_section(result["runner"]["class"], [result], SHA, ranks)


def test_a_tie_names_its_real_reason_from_the_results_numbers() -> None:
    text = section(make_result("ada", speedup=1.01, ci=(0.95, 1.07)))
    assert "speedup **1.010×** (95 % CI 0.950–1.070): a tie with the baseline: the 95 % interval contains 1" in text
    assert "inside the noise floor" not in text, "one reason: the one scoring recorded (the interval)"
    outside_ci = make_result("ada", speedup=1.015, ci=(1.005, 1.03))
    outside_ci["scores"]["speedup"]["verdict"] = "tie"  # what scoring.verdict says for +1.5 % at ±2 % noise
    text = section(outside_ci)
    assert "contains 1" not in text, "the interval excludes 1: that must not be given as the reason"
    assert "a tie with the baseline: inside the noise floor (A/A interval +/-2.0 %)" in text
    few = make_result("ada", speedup=1.5, ci=(1.4, 1.6))
    few["noise"]["rounds"] = 2
    few["scores"]["speedup"]["verdict"] = "tie"
    assert "a tie with the baseline: too few rounds (2, a verdict needs 3)" in section(few)


def test_the_noise_floor_is_shown_with_every_speedup() -> None:
    text = section(make_result("ada"))
    assert "noise floor (baseline vs baseline, 10 rounds): 1.000× (0.980–1.020), ±2.0 %" in text


def test_unmeasured_energy_is_explained_once_and_never_shows_the_estimate() -> None:
    results = [make_result("ada", event_id=e, energy_joules=None) for e in ("mlp_sprint", "cnn_marathon")]
    body = comment.render_comment({"reference": comment.render_section("reference", results, SHA)}, SHA, 7)
    visible = re.sub(r"<!--.*?-->", "", body)  # what a reader sees on the PR page
    assert visible.count("no RAPL access") == 1, body
    assert "| energy" in body and "not measured" in body.split("| energy")[1].split("\n")[0]
    assert "0.5" not in body.split("| energy")[1].split("\n")[0]
    measured = section(make_result("ada", energy_joules=0.0123))
    assert "0.0123 J/inference (rapl)" in measured


def test_smoke_numbers_are_unverified_and_official_ones_say_who_ran_them() -> None:
    local = comment.render_section("local", [make_result("ada", runner_class="local")], SHA)
    assert "## Smoke run on a GitHub-hosted machine (unverified)" in local
    claimed = comment.render_section("reference", [make_result("ada")], SHA)
    assert "Reference runner (x86): unverified" in claimed and "Official" not in claimed
    official = comment.render_section("reference", [make_result("ada")], SHA, official=True)
    assert "## Official rerun: reference runner (x86)" in official
    assert "maintainer-triggered run of the default branch's Benchmark workflow" in official


def test_failed_and_unqualified_runs_say_why() -> None:
    assert "**run failed**: worker crashed" in section(make_result("ada", status="failed"))
    text = section(make_result("ada", qualified=False))
    assert "qualified: **no**: accuracy\\_floor: accuracy\\_floor failed: accuracy below the floor" in text


def test_projected_ranks_per_category_and_event() -> None:
    result = make_result("ada", event_id="cnn_marathon")
    ranks = {"cnn_marathon/closed/reference": {"rank": 3, "of": 9, "tied": True},
             "speed_demon/cnn_marathon/closed": {"rank": 2, "of": 9, "tied": False},
             "memory_miser/cnn_marathon/closed": {"rank": None, "reason": "needs memory"}}
    text = section(result, ranks)
    assert "Projected rank in this event (closed division, reference runner): #3 of 9 (tie)" in text
    assert re.search(r"\| Speed Demon +\| yes +\| #2 of 9", text)
    assert "not ranked: needs memory" in text
    assert "| unavailable" in section(result, None)


def test_student_text_is_inert() -> None:
    assert comment.escape("@everyone <img src=x> | [x](y)\nnew") == \
        "@\u200beveryone \\<img src=x\\> \\| \\[x\\](y) new"


def test_a_section_without_results_points_to_the_log() -> None:
    text = comment.render_section("local", [], SHA, run_url="https://example.invalid/run/1")
    assert "No results were produced for this commit" in text
    assert "[workflow run](https://example.invalid/run/1)" in text


def test_sections_merge_by_runner_class_and_sha() -> None:
    local = comment.render_section("local", [make_result("ada", runner_class="local")], SHA)
    edge = comment.render_section("edge", [make_result("ada", runner_class="edge")], SHA)
    first = comment.render_comment({"local": local}, SHA, 7)
    merged = comment.render_comment({"edge": edge}, SHA, 7, previous_body=first)
    assert merged.index("Smoke run") < merged.index("Edge runner (ARM64)")
    assert comment.render_comment({"edge": edge}, "6" * 40, 7, previous_body=first).count("tinymlperf:section r") == 1


def test_projected_ranks_compare_only_with_results_the_leaderboard_counts(tmp_path: Path) -> None:
    """A hand-edited (forged) result in the store is never a rival in the bot comment's projected ranks."""
    import yaml

    from competition.github.cli import _store
    from competition.results import dumps
    from tests.leaderboard.factory import REGISTERED, make_scored_result

    store = tmp_path / "leaderboard" / "results"
    store.mkdir(parents=True)
    honest = make_scored_result("ada", speedup=1.5)
    forged = make_scored_result("bob", speedup=1.2, run=1)
    forged["scores"]["speedup"]["value"] = 9.0
    for result in (honest, forged):
        (store / f"{result['result_id']}.json").write_text(dumps(result), encoding="utf-8")
    runners = [{"fingerprint": r.fingerprint, "class": r.runner_class, "name": r.name} for r in REGISTERED.runners]
    (store.parent / "config.yaml").write_text(yaml.safe_dump({"runners": runners}), encoding="utf-8")
    assert [r["submission"]["name"] for r in _store(str(store))] == ["ada"]
