"""What the sticky comment says: scores with CIs, tie verdicts, failures, unmeasured energy, inert student text."""

from __future__ import annotations

from competition.github import comment
from tests.leaderboard.factory import make_result

SHA = "5" * 40


def section(result: dict, ranks: dict | None = None) -> str:
    return comment.render_section(result["runner"]["class"], [result], SHA, ranks)


def test_tie_verdict_and_confidence_interval_are_shown() -> None:
    text = section(make_result("ada", speedup=1.01, ci=(0.95, 1.07)))
    assert "speedup **1.010×** (95 % CI 0.950–1.070): a statistical tie with the baseline" in text


def test_unmeasured_energy_reads_not_measured_and_never_shows_the_estimate() -> None:
    text = section(make_result("ada", energy_joules=None))
    assert "not measured (no RAPL access)" in text
    assert "0.5" not in text.split("| energy")[1].split("\n")[0]
    measured = section(make_result("ada", energy_joules=0.0123))
    assert "0.0123 J/inference (rapl)" in measured


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
    assert "| Speed Demon        | yes        | #2 of 9" in text
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
    assert merged.index("Preview run") < merged.index("Edge runner (ARM64)")
    assert comment.render_comment({"edge": edge}, "6" * 40, 7, previous_body=first).count("tinymlperf:section r") == 1
