"""What each ranking sorts by. Categories come from competition/rules/categories.yaml (rank_by, direction, runner
classes); the order inside a ranking is competition.scoring.sort_key, so ranking logic lives in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from competition import scoring
from competition.leaderboard import fields
from competition.leaderboard.fields import Result
from competition.rules import load_rules


@dataclass(frozen=True)
class Metric:
    """A ranking key read from a result; `interval` (a 95 % CI) makes overlapping entries tie."""

    label: str
    column: str  # the table column (competition.leaderboard.table) that shows it
    value: Callable[[Result], float | None]
    higher_is_better: bool
    interval: Callable[[Result], tuple[float, float] | None] | None = None


@dataclass(frozen=True)
class Category:
    """A category ranking, computed per official event, division and official runner class."""

    id: str
    title: str
    description: str
    runner_classes: tuple[str, ...]  # official runner classes only (never "local")
    metric: Metric
    order: Callable[[Result], tuple]


# rank_by (categories.yaml) -> (label, table column, accessor, CI accessor)
_RANK_BY: dict[str, tuple[str, str, Callable[[Result], float | None], Callable | None]] = {
    "speedup": ("Speedup", "speedup", fields.speedup, fields.speedup_ci),
    "compression": ("Compression", "compression", fields.compression, None),
    "efficiency": ("Efficiency", "efficiency", fields.efficiency, None),
    "joules_per_inference": ("Energy / inference", "energy", fields.energy_joules, None),
}
EVENT_ORDER = "speed_demon"  # event rankings order by speedup, exactly like Speed Demon
SPEEDUP = Metric("Speedup", "speedup", fields.speedup, True, fields.speedup_ci)


def _order(category_id: str) -> Callable[[Result], tuple]:
    return lambda result: scoring.sort_key(result, category_id)


def event_order() -> Callable[[Result], tuple]:
    """Sort key of an event ranking (best first)."""
    return _order(EVENT_ORDER)


@cache
def categories() -> tuple[Category, ...]:
    """The categories of the rules, in file order."""
    found = []
    for rule in load_rules().categories.values():
        label, column, value, interval = _RANK_BY[rule.rank_by]
        metric = Metric(label, column, value, rule.higher_is_better, interval)
        official = tuple(r for r in rule.runner_classes if r != "local")
        found.append(Category(rule.id, rule.name, rule.description, official, metric, _order(rule.id)))
    return tuple(found)


def category(category_id: str) -> Category:
    """One category by id."""
    return next(c for c in categories() if c.id == category_id)


# Summary views: (id, title, category shown).
VIEWS: tuple[tuple[str, str, str], ...] = (
    ("speed_champions", "Speed Champions", "speed_demon"),
    ("memory_masters", "Memory Masters", "memory_miser"),
    ("efficiency_leaders", "Efficiency Leaders", "tinymlperf_overall"),
)
