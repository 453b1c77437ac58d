"""Pareto front, record progression and the SVG charts built from them."""

from __future__ import annotations

from competition.leaderboard.pareto import pareto_front
from competition.leaderboard.progression import record_progression
from competition.leaderboard.svg import Point, scatter_svg, step_svg
from tests.leaderboard.factory import make_result


def test_pareto_front_keeps_only_undominated_points():
    # (latency, accuracy): lower latency and higher accuracy are better
    points = [(1.0, 0.80), (2.0, 0.90), (2.0, 0.85), (3.0, 0.90), (0.5, 0.70), (1.5, 0.79)]
    assert pareto_front(points) == {0, 1, 4}


def test_record_progression_counts_old_runs_and_never_goes_down():
    results = [
        make_result("a", speedup=1.2, run=0),
        make_result("b", speedup=1.5, run=1),
        make_result("a", speedup=1.1, run=2),   # a slower rerun: no new record
        make_result("c", speedup=9.0, run=3, qualified=False),  # not qualified: ignored
        make_result("d", speedup=8.0, run=3, runner_class="local"),  # unofficial: ignored
        make_result("a", speedup=2.0, run=4),
    ]
    records = record_progression(results)[("cnn_marathon", "closed")]
    assert [(r.submission, r.speedup) for r in records] == [("a", 1.2), ("b", 1.5), ("a", 2.0)]


def test_svg_escapes_labels_and_marks_the_front():
    points = [Point(1.0, 80.0, "<script>x</script>"), Point(2.0, 70.0, "slow & worse")]
    svg = scatter_svg("t <1>", points, {0}, "latency", "accuracy", str, str)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "slow &amp; worse" in svg
    assert svg.count('class="point front"') == 1 and 'class="front-line"' in svg
    step = step_svg("records", [Point(0.0, 1.0, "a"), Point(10.0, 2.0, "b")], 20.0, "t", "x", str, str)
    assert 'class="record-line"' in step and "H" in step and "V" in step
