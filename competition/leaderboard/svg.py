"""Inline SVG charts generated in Python: scatter with a highlighted Pareto front, and a record step line.

Every label is escaped; no style attributes (the site's CSP forbids inline styles), only classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 520, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 44, 16, 46
TICKS = 5


@dataclass(frozen=True)
class Point:
    """One plotted point; `label` becomes its tooltip."""

    x: float
    y: float
    label: str


def _span(values: list[float], flat_pad: float | None = None) -> tuple[float, float]:
    """Axis range with 8 % padding; a single value gets `flat_pad` (default 10 % of it) on each side."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or flat_pad or abs(high) * 0.1 or 1.0
    return low - pad, high + pad


@dataclass(frozen=True)
class _Frame:
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        low, high = self.x_range
        return round(LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT), 2)

    def y(self, value: float) -> float:
        low, high = self.y_range
        return round(HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM), 2)

    def axes(self, x_label: str, y_label: str, x_fmt: Callable[[float], str], y_fmt: Callable[[float], str]) -> str:
        parts = [f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}"/>',
                 f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>']
        for i in range(TICKS):
            xv = self.x_range[0] + (self.x_range[1] - self.x_range[0]) * i / (TICKS - 1)
            yv = self.y_range[0] + (self.y_range[1] - self.y_range[0]) * i / (TICKS - 1)
            parts.append(f'<text class="tick" x="{self.x(xv)}" y="{HEIGHT - BOTTOM + 16}" '
                         f'text-anchor="middle">{escape(x_fmt(xv))}</text>')
            parts.append(f'<text class="tick" x="{LEFT - 6}" y="{self.y(yv) + 4}" '
                         f'text-anchor="end">{escape(y_fmt(yv))}</text>')
        parts.append(f'<text class="axis-label" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" '
                     f'text-anchor="middle">{escape(x_label)}</text>')
        parts.append(f'<text class="axis-label" x="14" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>')
        return "".join(parts)


def _svg(title: str, body: str) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>{body}</svg>')


def _dot(frame: _Frame, point: Point, css: str) -> str:
    return (f'<circle class="{css}" cx="{frame.x(point.x)}" cy="{frame.y(point.y)}" r="5">'
            f'<title>{escape(point.label)}</title></circle>')


def _steps(frame: _Frame, points: list[Point], end_x: float, css: str) -> str:
    """Staircase through `points` (sorted by x): horizontal to the next x, then vertical; flat until end_x."""
    path = [f"M{frame.x(points[0].x)},{frame.y(points[0].y)}"]
    path += [f"H{frame.x(p.x)}V{frame.y(p.y)}" for p in points[1:]]
    path.append(f"H{frame.x(end_x)}")
    return f'<path class="{css}" d="{"".join(path)}"/>'


def scatter_svg(title: str, points: list[Point], front: set[int], x_label: str, y_label: str,
                x_fmt: Callable[[float], str], y_fmt: Callable[[float], str]) -> str:
    """Scatter plot; the points whose indices are in `front` are highlighted and joined by a step line."""
    frame = _Frame(_span([p.x for p in points]), _span([p.y for p in points]))
    on_front = sorted((points[i] for i in front), key=lambda p: (p.x, -p.y))
    body = [frame.axes(x_label, y_label, x_fmt, y_fmt), _steps(frame, on_front, on_front[-1].x, "front-line")]
    body += [_dot(frame, p, "point") for i, p in enumerate(points) if i not in front]
    body += [_dot(frame, p, "point front") for p in on_front]
    body += [f'<text class="point-label" x="{frame.x(p.x) + 7}" y="{frame.y(p.y) - 7}">{escape(p.label)}</text>'
             for p in on_front]
    return _svg(title, "".join(body))


def step_svg(title: str, points: list[Point], end_x: float, x_label: str, y_label: str,
             x_fmt: Callable[[float], str], y_fmt: Callable[[float], str], x_flat_pad: float | None = None) -> str:
    """Step line through chronological records, held flat until `end_x`."""
    frame = _Frame(_span([p.x for p in points] + [end_x], x_flat_pad), _span([p.y for p in points]))
    body = [frame.axes(x_label, y_label, x_fmt, y_fmt), _steps(frame, points, end_x, "record-line")]
    body += [_dot(frame, p, "point front") for p in points]
    return _svg(title, "".join(body))
