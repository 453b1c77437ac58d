"""Inline SVG charts generated in Python: a scatter with a highlighted Pareto front, and a record step line, both
with "nice" axis ticks (1, 2, 2.5 or 5 times a power of ten; calendar steps for dates) and optional baseline
reference lines.

Every label is escaped; no style attributes (the site's CSP forbids inline styles), only classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

WIDTH, HEIGHT = 520, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 32, 16, 48
TARGET_TICKS = 5
HOUR, DAY = 3600.0, 86400.0
TIME_STEPS = (HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY)


HIT_RADIUS = 18  # a point's tap target (viewBox units; >= 24 CSS px across when a chart is shrunk to a phone)


@dataclass(frozen=True)
class Point:
    """One plotted point; `label` becomes its tooltip, `name` its text on the chart (front points only); `size`
    (0..1) scales its radius; `href` makes the point a link with a finger-sized tap target."""

    x: float
    y: float
    label: str
    size: float = 0.0
    name: str = ""
    href: str = ""


@dataclass(frozen=True)
class Axis:
    """A value range with tick positions and a label formatter."""

    low: float
    high: float
    ticks: tuple[float, ...]
    label: str
    fmt: Callable[[float], str]


def _padded(values: list[float], flat_pad: float, min_span: float = 0.0) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    pad = (high - low) * 0.08 or flat_pad or abs(high) * 0.1 or 1.0
    return low - pad, high + pad


def nice_step(span: float, target: int = TARGET_TICKS) -> float:
    """The step among 1, 2, 2.5, 5 x 10^k that gives about `target` ticks over `span`."""
    raw = span / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _ticks(low: float, high: float, step: float) -> tuple[float, ...]:
    first = math.ceil(low / step - 1e-9)
    return tuple(round(i * step, 12) for i in range(first, math.floor(high / step + 1e-9) + 1))


def value_axis(values: list[float], label: str, unit: str = "", min_span: float = 0.0) -> Axis:
    """A numeric axis over `values` (at least `min_span` wide, so noise does not fill the chart) whose tick labels
    show just the digits the step needs ("1.25x", not "1.00x")."""
    low, high = _padded(values, 0.0, min_span)
    step = nice_step(high - low)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if round(step / 10 ** math.floor(
        math.log10(step)), 6) == 2.5 else 0)
    return Axis(low, high, _ticks(low, high, step), label, lambda v: f"{v:.{decimals}f}{unit}")


def bytes_axis(values: list[float], label: str, fmt: Callable[[float], str]) -> Axis:
    """An axis of byte counts (ticks on nice numbers of the unit `fmt` picks)."""
    low, high = _padded(values, 0.0)
    return Axis(max(low, 0.0), high, _ticks(max(low, 0.0), high, nice_step(high - max(low, 0.0))), label, fmt)


def time_axis(values: list[float], label: str) -> Axis:
    """A UTC time axis (epoch seconds) with calendar steps: hours (labelled "06:00", "Nov 02" at midnight), days,
    weeks, months."""
    low, high = _padded(values, DAY)
    step = next((s for s in TIME_STEPS if (high - low) / s <= TARGET_TICKS), TIME_STEPS[-1])
    pattern = "%b %d" if step < 365 * DAY else "%Y"

    def fmt(value: float) -> str:
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
        return moment.strftime("%H:%M" if value % DAY else pattern)  # hours between the dates
    return Axis(low, high, _ticks(low, high, step), label, fmt)


@dataclass(frozen=True)
class _Frame:
    x_axis: Axis
    y_axis: Axis

    def x(self, value: float) -> float:
        axis = self.x_axis
        return round(LEFT + (value - axis.low) / (axis.high - axis.low) * (WIDTH - LEFT - RIGHT), 2)

    def y(self, value: float) -> float:
        axis = self.y_axis
        return round(HEIGHT - BOTTOM - (value - axis.low) / (axis.high - axis.low) * (HEIGHT - TOP - BOTTOM), 2)

    def axes(self) -> str:
        bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
        parts = [f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
                 f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>']
        for tick in self.x_axis.ticks:
            x = self.x(tick)
            parts.append(f'<line class="grid" x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}"/>'
                         f'<text class="tick" x="{x}" y="{bottom + 16}" text-anchor="middle">'
                         f"{escape(self.x_axis.fmt(tick))}</text>")
        for tick in self.y_axis.ticks:
            y = self.y(tick)
            parts.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}"/>'
                         f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
                         f"{escape(self.y_axis.fmt(tick))}</text>")
        middle = (TOP + bottom) / 2
        parts.append(f'<text class="axis-label" x="{(LEFT + right) / 2}" y="{HEIGHT - 8}" '
                     f'text-anchor="middle">{escape(self.x_axis.label)}</text>')
        parts.append(f'<text class="axis-label" x="14" y="{middle}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {middle})">{escape(self.y_axis.label)}</text>')
        return "".join(parts)

    def reference(self, x: float | None, y: float | None, label: str) -> str:
        """Dashed baseline lines at x and/or y, labelled."""
        parts = []
        if x is not None and self.x_axis.low <= x <= self.x_axis.high:
            parts.append(f'<line class="reference" x1="{self.x(x)}" y1="{TOP}" x2="{self.x(x)}" '
                         f'y2="{HEIGHT - BOTTOM}"/><text class="reference-label" x="{self.x(x) + 4}" '
                         f'y="{TOP + 10}">{escape(label)}</text>')
        if y is not None and self.y_axis.low <= y <= self.y_axis.high:
            parts.append(f'<line class="reference" x1="{LEFT}" y1="{self.y(y)}" x2="{WIDTH - RIGHT}" '
                         f'y2="{self.y(y)}"/><text class="reference-label" x="{LEFT + 4}" '
                         f'y="{self.y(y) - 4}">{escape(label)}</text>')
        return "".join(parts)


def _svg(title: str, body: str) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>')


def _dot(frame: _Frame, point: Point, css: str) -> str:
    radius = round(4 + 8 * point.size, 1)
    x, y = frame.x(point.x), frame.y(point.y)
    dot = f'<circle class="{css}" cx="{x}" cy="{y}" r="{radius}"><title>{escape(point.label)}</title></circle>'
    if not point.href:
        return dot
    return (f'<a class="point-link" href="{escape(point.href)}" aria-label="{escape(point.label)}">'
            f'<circle class="hit" cx="{x}" cy="{y}" r="{max(HIT_RADIUS, radius)}"/>{dot}</a>')


def _steps(frame: _Frame, points: list[Point], end_x: float, css: str) -> str:
    """Staircase through `points` (sorted by x): horizontal to the next x, then vertical; flat until end_x."""
    path = [f"M{frame.x(points[0].x)},{frame.y(points[0].y)}"]
    path += [f"H{frame.x(p.x)}V{frame.y(p.y)}" for p in points[1:]]
    path.append(f"H{frame.x(end_x)}")
    return f'<path class="{css}" d="{"".join(path)}"/>'


def scatter_svg(title: str, points: list[Point], front: set[int], x_axis: Axis, y_axis: Axis,
                reference: tuple[float | None, float | None] = (None, None), labels: int = 6) -> str:
    """Scatter plot; points whose indices are in `front` are highlighted (the `labels` rightmost named);
    `reference` = (x, y) of the baseline's dashed lines."""
    frame = _Frame(x_axis, y_axis)
    on_front = sorted((points[i] for i in front), key=lambda p: (p.x, p.y))
    body = [frame.axes(), frame.reference(*reference, "baseline")]
    body += [_dot(frame, p, "point") for i, p in enumerate(points) if i not in front]
    body += [_dot(frame, p, "point front") for p in on_front]
    named = [p for p in reversed(on_front) if p.name][:labels]
    body += [f'<text class="point-label" x="{frame.x(p.x) - 6}" y="{frame.y(p.y) - 9}" text-anchor="end">'
             f"{escape(p.name)}</text>" for p in named]
    return _svg(title, "".join(body))


def step_svg(title: str, points: list[Point], end_x: float, x_axis: Axis, y_axis: Axis,
             reference_y: float | None = None) -> str:
    """Step line through chronological records, held flat until `end_x`; a dashed baseline at `reference_y`."""
    frame = _Frame(x_axis, y_axis)
    body = [frame.axes(), frame.reference(None, reference_y, "baseline"), _steps(frame, points, end_x, "record-line")]
    body += [_dot(frame, p, "point front") for p in points]
    return _svg(title, "".join(body))


def axis_values(values: list[float], reference: float | None) -> list[float]:
    """The values an axis must show: the data and the baseline's reference value."""
    return values + ([reference] if reference is not None else [])
