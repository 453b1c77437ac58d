"""Chart sections of the index: Pareto fronts per event and division, record progression per event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone

from competition.leaderboard import fields, formatting
from competition.leaderboard.fields import Result
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.pareto import pareto_front
from competition.leaderboard.site.html import data_attrs, esc
from competition.leaderboard.svg import Point, scatter_svg, step_svg


def _bytes(value: float) -> str:
    return formatting.size(int(value)) if value >= 0 else ""


PARETO_AXES: tuple[tuple[str, Callable[[Result], float | None], Callable[[float], str]], ...] = (
    ("latency p50 (ms)", fields.latency_p50_ms, lambda v: f"{v:.3g}"),
    ("model size", fields.model_size_bytes, _bytes),
    ("peak memory", fields.peak_memory_bytes, _bytes),
)


def _percent(value: float) -> str:
    return f"{value:.1f} %"


def pareto_figure(event_name: str, division: str, results: list[Result]) -> str:
    """Three scatter plots (accuracy vs latency, size, memory) for one event and division."""
    if all(fields.accuracy(r) is None for r in results):
        return '<p class="empty">No accuracy in this event (its quality measure is perplexity): no Pareto plot.</p>'
    plots = []
    for x_label, x_of, x_fmt in PARETO_AXES:
        usable = [r for r in results if x_of(r) is not None and fields.accuracy(r) is not None]
        title = f"{event_name} ({division}): accuracy vs {x_label}"
        if not usable:
            plots.append(f'<p class="empty">{esc(title)}: {esc(x_label)} not measured.</p>')
            continue
        points = [Point(float(x_of(r)), 100 * fields.accuracy(r), r["submission"]["name"]) for r in usable]
        front = pareto_front([(p.x, p.y) for p in points])
        plots.append(f"<figure>{scatter_svg(title, points, front, x_label, 'accuracy (%)', x_fmt, _percent)}"
                     f"<figcaption>{esc(title)}; highlighted: the Pareto front</figcaption></figure>")
    return "".join(plots)


def pareto_section(lb: Leaderboard) -> str:
    """Pareto fronts of the current official reference-runner results that qualified."""
    groups: dict[tuple[str, str, str], list[Result]] = defaultdict(list)
    for result in lb.current:
        if fields.is_official(result) and result["runner"]["class"] == "reference" \
                and fields.not_qualified_reason(result) is None:
            groups[(result["event"]["id"], result["event"]["name"], result["submission"]["division"])].append(result)
    figures = [f'<div class="figures filterable"{data_attrs({"event": event_id, "division": division})}>'
               f"<h3>{esc(event_name)} ({esc(division)})</h3>{pareto_figure(event_name, division, results)}</div>"
               for (event_id, event_name, division), results in sorted(groups.items())]
    body = "".join(figures) or '<p class="empty">No qualified official results yet.</p>'
    return f'<section id="pareto"><h2>Pareto fronts</h2>{body}</section>'


ONE_DAY = 86400.0


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d")


def progression_section(lb: Leaderboard) -> str:
    """Step line of the speedup record over time per event and division (all stored runs count)."""
    end = max((_epoch(r["finished_at"]) for r in lb.results), default=0.0)
    figures = []
    for (event_id, division), records in lb.records.items():
        event_name = records[0].event_name
        points = [Point(_epoch(r.time), r.speedup, f"{r.submission}: {r.speedup:.2f}x on {r.time[:10]}")
                  for r in records]
        title = f"{event_name} ({division}): speedup record over time"
        svg = step_svg(title, points, end, "date (UTC)", "speedup (x)", _date, lambda v: f"{v:.2f}x", ONE_DAY)
        figures.append(f'<figure class="filterable"{data_attrs({"event": event_id, "division": division})}>{svg}'
                       f"<figcaption>{esc(title)}</figcaption></figure>")
    body = "".join(figures) or '<p class="empty">No records yet.</p>'
    return f'<section id="progression"><h2>Record progression</h2>{body}</section>'
