"""Pareto front for "higher y is better, lower x is better" (accuracy vs latency, size or memory)."""

from __future__ import annotations


def pareto_front(points: list[tuple[float, float]]) -> set[int]:
    """Indices of the points no other point dominates (another is no worse on both axes and better on one)."""
    front = set()
    for i, (x, y) in enumerate(points):
        dominated = any(ox <= x and oy >= y and (ox < x or oy > y) for ox, oy in points)
        if not dominated:
            front.add(i)
    return front
