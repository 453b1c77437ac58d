"""Chart sections of the index: one Pareto scatter per event ranking (speed x quality x size) and the record
progression per event, both with the baseline as a dashed reference line."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime

from competition.leaderboard import fields, formatting
from competition.leaderboard.fields import Result
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.pareto import pareto_front_max
from competition.leaderboard.rankings import Board
from competition.leaderboard.site.html import data_attrs, esc, link
from competition.leaderboard.svg import Point, axis_values, scatter_svg, step_svg, time_axis, value_axis


def _quality(result: Result) -> tuple[str, float | None, bool]:
    """(axis label, value, higher is better): accuracy in %, or perplexity where the event has no accuracy."""
    if fields.accuracy(result) is not None:
        return "accuracy (%)", 100 * fields.accuracy(result), True
    return "perplexity (lower is better)", fields.perplexity(result), False


def _baseline_quality(results: list[Result], higher: bool) -> float | None:
    """The baseline's quality as measured beside the entries (the median over their runs)."""
    key = "accuracy" if higher else "perplexity"
    values = [r["baseline"][key] for r in results if (r.get("baseline") or {}).get(key) is not None]
    if not values:
        return None
    return statistics.median(100 * v if higher else v for v in values)


def pareto_figure(board: Board) -> str:
    """The ranking's own metric (speedup, or peak memory saved) vs quality for one event ranking's qualified entries,
    point area by model size; the front is over all three axes. "" when no entry has both values."""
    results = [row.result for row in board.ranked + board.unranked if fields.not_qualified_reason(row.result) is None]
    x_label, x_value, x_text = _x_metric(board)
    usable = [r for r in results if x_value(r) is not None and _quality(r)[1] is not None]
    if not usable:
        return ""
    y_label, _, higher = _quality(usable[0])
    usable = [r for r in usable if _quality(r)[2] == higher]
    sizes = [fields.model_size_bytes(r) for r in usable]
    known = [s for s in sizes if s is not None]
    smallest, largest = (min(known), max(known)) if known else (0, 0)
    points, key = [], []
    for result, size in zip(usable, sizes):
        scaled = 0.0 if size is None or largest == smallest else (size - smallest) / (largest - smallest)
        quality, name = _quality(result)[1], result["submission"]["name"]
        numbers = f"{x_text(result)}, {formatting.quality(result)}, model {formatting.size(size)}"
        points.append(Point(x_value(result), quality, f"{name}: {numbers}", scaled, name, _page(name)))
        key.append((name, numbers))
    front = pareto_front_max([(p.x, p.y if higher else -p.y, -(s if s is not None else float("inf")))
                              for p, s in zip(points, sizes)])
    base_quality = _baseline_quality(usable, higher)
    x_axis = value_axis(axis_values([p.x for p in points], 1.0), x_label, "x", min_span=0.5)
    y_values = axis_values([p.y for p in points], base_quality)
    y_axis = value_axis(y_values, y_label, min_span=2.0 if higher else 0.05 * max(y_values))
    memory = board.metric.rank_by == "peak_memory_bytes"
    better, axis = ("less memory", "peak memory") if memory else ("faster", "speed")
    title = f"{board.title}: {axis}, quality and model size"
    svg = scatter_svg(title, points, front, x_axis, y_axis, (1.0, base_quality), labels=4)
    attrs = data_attrs({"event": board.event_id, "division": board.division, "runner": board.runner_class})
    return (f'<figure class="filterable"{attrs}>{svg}<figcaption>{esc(board.title)}: right = {better}, '
            f"{'up' if higher else 'down'} = better quality, larger dot = larger model; red: the Pareto front "
            "(no other entry is better on all three at once); dashed: the baseline.</figcaption>"
            f"{chart_key(key)}</figure>")


def _x_metric(board: Board) -> tuple[str, Callable[[Result], float | None], Callable[[Result], str]]:
    """The x axis speaks the event ranking's own metric: peak memory saved (the baseline's peak in the same run over
    the entry's, so right is better as for speed) on peak-memory rankings, else the speedup."""
    if board.metric.rank_by == "peak_memory_bytes":
        return ("peak memory saved vs the baseline (baseline / entry)", fields.memory_saving,
                lambda r: f"peak memory {formatting.size(fields.peak_memory_bytes(r))}")
    return "speedup vs the baseline", fields.speedup, formatting.speedup


def _page(name: str) -> str:
    return f"submissions/{name}.html"


def chart_key(entries: list[tuple[str, str]]) -> str:
    """Each point's submission (a link) and numbers as text under its chart: readable without hovering, which a
    touch screen cannot do."""
    items = "".join(f"<li>{link(_page(name), name)}: {esc(numbers)}</li>" for name, numbers in entries)
    return f'<ul class="chart-key">{items}</ul>'



def pareto_section(lb: Leaderboard) -> str:
    """A Pareto scatter per event ranking (public split) with entries; "" when there is none."""
    figures = "".join(pareto_figure(b) for b in lb.boards if b.category is None and b.split == "public")
    if not figures:
        return ""
    return ('<section id="pareto"><h2>Speed, quality and size</h2><p class="note">Every current entry of each '
            "event ranking that ran and met the thresholds (ranked or not). Each chart lists its points below it; "
            "a dot opens its submission.</p>"
            f'<div class="figures">{figures}</div></section>')


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def progression_section(lb: Leaderboard) -> str:
    """Step line of the speedup record over time per event and division; "" when there is no record yet."""
    end = max((_epoch(r["finished_at"]) for r in lb.results), default=0.0)
    figures = []
    for (event_id, division), records in lb.records.items():
        event_name = records[0].event_name
        key = [(r.submission, f"{r.speedup:.2f}x on {r.time[:10]}") for r in records]
        points = [Point(_epoch(r.time), r.speedup, f"{name}: {numbers}", href=_page(name))
                  for r, (name, numbers) in zip(records, key)]
        title = f"{event_name} ({division}): speedup record over time"
        x_axis = time_axis([p.x for p in points] + [end], "date (UTC)")
        y_axis = value_axis(axis_values([p.y for p in points], 1.0), "speedup record", "x", min_span=0.5)
        svg = step_svg(title, points, end, x_axis, y_axis, reference_y=1.0)
        figures.append(f'<figure class="filterable"{data_attrs({"event": event_id, "division": division})}>{svg}'
                       f"<figcaption>{esc(title)}; dashed: the baseline (1x).</figcaption>{chart_key(key)}</figure>")
    if not figures:
        return ""
    return ('<section id="progression"><h2>Record progression</h2><p class="note">The best official speedup that '
            f'beat the baseline, over time (every stored run counts).</p><div class="figures">{"".join(figures)}'
            "</div></section>")
