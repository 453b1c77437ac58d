"""What each ranking sorts by. Categories come from competition/rules/categories.yaml (rank_by, direction, runner
classes, tie resolutions); the order inside a ranking is competition.scoring's sort key and the values are
competition.scoring's rank values, so ranking logic lives in one place. Every metric also knows the baseline's value
(the reference line of a board): 1.0 for ratios vs the baseline, the baseline's own measurement for absolute values.
A value ranked at a stated resolution (peak memory) gets the interval value x (1 -+ resolution / 2), so two entries
within the resolution of each other overlap and tie by the one tie rule of competition.leaderboard.rankings."""

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
    """A ranking key read from a result; `interval` (a 95 % CI, or the stated resolution around the value) makes
    overlapping entries tie; `reference` is the baseline's value (measured in the same run) that every ranked entry
    beat; `resolution` the relative resolution the value is ranked at (None: exact or by its CI)."""

    rank_by: str
    label: str
    column: str  # the table column (competition.leaderboard.table) that shows it
    value: Callable[[Result], float | None]
    higher_is_better: bool
    interval: Callable[[Result], tuple[float, float] | None] | None = None
    reference: Callable[[Result], float | None] = lambda result: None
    resolution: float | None = None

    def better(self, value: float, reference: float) -> bool:
        """Whether `value` is strictly better than `reference` (the baseline's)."""
        return value > reference if self.higher_is_better else value < reference

    def order(self, result: Result) -> tuple:
        """Ascending sort key (best first)."""
        return scoring.rank_sort_key(result, self.rank_by, self.higher_is_better)


@dataclass(frozen=True)
class Category:
    """A category ranking, computed per event, division and runner class (official on reference/edge runners of
    official events, unofficial otherwise)."""

    id: str
    title: str
    description: str
    source: str
    runner_classes: tuple[str, ...]
    metric: Metric


def _one(result: Result) -> float | None:
    return 1.0


def _from_baseline(read: Callable) -> Callable[[Result], float | None]:
    return lambda result: read(result.get("baseline"))


# rank_by -> (label, table column, CI accessor, baseline reference)
_METRICS: dict[str, tuple[str, str, Callable | None, Callable[[Result], float | None]]] = {
    "speedup": ("Speedup", "speedup", fields.speedup_ci, _one),
    "peak_memory_bytes": ("Peak memory", "memory", None, _from_baseline(scoring.peak_memory_bytes)),
    "model_size_bytes": ("Model size", "size", None, _from_baseline(lambda m: (m or {}).get("model_size_bytes"))),
    "accuracy": ("Accuracy", "quality", None, _from_baseline(lambda m: (m or {}).get("accuracy"))),
    "accuracy_per_mb": ("Accuracy per MB", "accuracy_per_mb", None, _from_baseline(scoring.accuracy_per_mb)),
    "edge_score": ("Edge score", "edge_score", fields.edge_score_ci, _one),
    "joules_per_inference": ("Energy / inference", "energy", None, _from_baseline(scoring.joules_per_inference)),
    "efficiency": ("Efficiency", "efficiency", fields.efficiency_ci, _one),
}


def _within(rank_by: str, resolution: float) -> Callable[[Result], tuple[float, float] | None]:
    """The interval value x (1 -+ resolution / 2): two values overlap when they differ by about `resolution`."""
    def interval(result: Result) -> tuple[float, float] | None:
        value = fields.rank_value(result, rank_by)
        return None if value is None else (value * (1 - resolution / 2), value * (1 + resolution / 2))
    return interval


@cache
def metric(rank_by: str, higher_is_better: bool) -> Metric:
    """The Metric ranking by `rank_by` (a competition.scoring rank value), at the rules' resolution if one is set."""
    label, column, interval, reference = _METRICS[rank_by]
    stated = load_rules().tie_resolutions.get(rank_by)
    resolution = float(stated["relative"]) if stated is not None else None
    if resolution is not None:
        interval = _within(rank_by, resolution)
    return Metric(rank_by, label, column, lambda r: fields.rank_value(r, rank_by), higher_is_better, interval,
                  reference, resolution)


# an event's metrics.primary -> what its event ranking sorts by
EVENT_METRICS = {"time_s": ("speedup", True), "peak_memory": ("peak_memory_bytes", False)}


def event_metric(event_id: str) -> Metric:
    """What an event ranking sorts by: its rules' primary metric (speedup unless it is Memory Master)."""
    event = load_rules().events.get(event_id)
    return metric(*EVENT_METRICS[event.primary_metric if event is not None else "time_s"])


@cache
def categories() -> tuple[Category, ...]:
    """The categories of the rules, in file order."""
    return tuple(Category(rule.id, rule.name, rule.description, rule.source, tuple(rule.runner_classes),
                          metric(rule.rank_by, rule.higher_is_better))
                 for rule in load_rules().categories.values())


def category(category_id: str) -> Category:
    """One category by id."""
    return next(c for c in categories() if c.id == category_id)


# Summary views: (id, title, category shown).
VIEWS: tuple[tuple[str, str, str], ...] = (
    ("speed_champions", "Speed Champions", "speed_demon"),
    ("memory_misers", "Memory Misers", "memory_miser"),
    ("efficiency_leaders", "Efficiency Leaders", "tinymlperf_overall"),
)
