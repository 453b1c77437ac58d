"""Pareto fronts: the entries no other entry beats on every axis at once."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front_max(vectors: Sequence[Sequence[float]]) -> set[int]:
    """Indices of the vectors no other vector dominates, every coordinate "higher is better" (negate the others):
    another dominates when it is no worse on every axis and better on one. Sorted sweep: only vectors earlier in
    descending order can dominate a later one."""
    order = sorted(range(len(vectors)), key=lambda i: tuple(-v for v in vectors[i]))
    front: list[int] = []
    for i in order:
        mine = vectors[i]
        if not any(all(o >= m for o, m in zip(vectors[j], mine)) and tuple(vectors[j]) != tuple(mine)
                   for j in front):
            front.append(i)
    return set(front)


def pareto_front(points: list[tuple[float, float]]) -> set[int]:
    """Indices of the undominated (x, y) points when lower x and higher y are better (e.g. latency, accuracy)."""
    return pareto_front_max([(-x, y) for x, y in points])
