"""Pareto front, record progression and the SVG charts built from them."""

from __future__ import annotations

import re

from competition.leaderboard.pareto import pareto_front, pareto_front_max
from competition.leaderboard.progression import record_progression
from competition.leaderboard.svg import Point, scatter_svg, step_svg, time_axis, value_axis
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


def test_pareto_front_over_three_axes():
    # (speedup, accuracy, -size): higher is better on every axis
    vectors = [(2.0, 0.9, -4.0), (2.0, 0.9, -2.0), (3.0, 0.8, -5.0), (1.0, 0.7, -1.0), (1.5, 0.7, -3.0)]
    assert pareto_front_max(vectors) == {1, 2, 3}


def test_svg_escapes_labels_and_marks_the_front():
    points = [Point(1.0, 80.0, "<script>x</script>", name="<b>a</b>"), Point(2.0, 70.0, "slow & worse")]
    x_axis, y_axis = value_axis([1.0, 2.0], "latency"), value_axis([70.0, 80.0], "accuracy")
    svg = scatter_svg("t <1>", points, {0}, x_axis, y_axis, (1.5, 75.0))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "slow &amp; worse" in svg and "&lt;b&gt;" in svg
    assert svg.count('class="point front"') == 1 and svg.count('class="reference"') == 2
    step = step_svg("records", [Point(0.0, 1.0, "a"), Point(10.0, 2.0, "b")], 20.0, x_axis, y_axis)
    assert 'class="record-line"' in step and "H" in step and "V" in step


def _tick_labels(svg: str) -> list[str]:
    return re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg)


def test_axes_have_distinct_readable_ticks():
    close = value_axis([1.001, 1.004, 1.0], "speedup", "x", min_span=0.5)  # noise must not fill the chart
    labels = [close.fmt(t) for t in close.ticks]
    assert len(labels) >= 3 and len(set(labels)) == len(labels) and "1.0x" in labels
    wide = value_axis([0.0, 10.0], "v")
    assert [wide.fmt(t) for t in wide.ticks] == ["0", "5", "10"]
    quarters = value_axis([1.0, 1.8], "v", "x")
    assert [quarters.fmt(t) for t in quarters.ticks] == ["1.00x", "1.25x", "1.50x", "1.75x"]  # 0.25 steps
    day = 86400.0
    hours = time_axis([day * 300, day * 300 + 6 * 3600], "t")
    assert [hours.fmt(t) for t in hours.ticks] == ["Oct 28", "03:00", "06:00"]  # midnight named by its date
    weeks = time_axis([0.0, 60 * day], "t")
    assert len(weeks.ticks) <= 6 and len({weeks.fmt(t) for t in weeks.ticks}) == len(weeks.ticks)
    svg = step_svg("r", [Point(0.0, 1.2, "a")], 10 * day, time_axis([0.0, 10 * day], "t"),
                   value_axis([1.0, 1.2], "s", "x", min_span=0.5), reference_y=1.0)
    ticks = _tick_labels(svg)
    assert len(set(ticks)) == len(ticks) and 'class="reference"' in svg


def test_each_event_chart_speaks_its_own_ranked_metric():
    """Memory Master's chart plots peak memory saved (the baseline's peak over the entry's), not speed; the other
    events plot the speedup (the committed example results hold both kinds)."""
    from pathlib import Path

    from competition.leaderboard.build import load_leaderboard
    from competition.leaderboard.site.charts import pareto_figure

    root = Path(__file__).resolve().parents[2]
    lb = load_leaderboard(root / "leaderboard" / "results", root / "leaderboard" / "awards.yaml",
                          root / "leaderboard" / "config.yaml", root / "leaderboard" / "disqualified.yaml",
                          root / "submissions")
    figures = {board.event_id: pareto_figure(board) for board in lb.boards if board.category is None}
    memory, speed = figures["memory_master_offline"], figures["cnn_marathon_offline"]
    assert "peak memory saved vs the baseline" in memory and "speedup vs the baseline" not in memory
    assert "right = less memory" in memory and re.search(r"peak memory [0-9.]+ MiB", memory)  # the key's numbers
    assert "speedup vs the baseline" in speed and "right = faster" in speed
