"""The rules as frozen dataclasses: Event, Category, Division, Limits, Rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping


def freeze(value: Any) -> Any:
    """Recursively turn dicts into read-only mappings and lists into tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Event:
    """One event (competition/rules/events/<id>.yaml)."""

    id: str
    name: str
    official: bool
    kind: str  # training | inference | generation
    dataset: str  # mnist_bundled | mnist | cifar10 | shakespeare
    split: str
    description: str
    metrics: Mapping[str, Any]
    entry_points: tuple[str, ...]
    protocol: Mapping[str, Any]  # n_inferences/batch_size | new_tokens/prompt_tokens | target_accuracy/time_budget_s/max_epochs
    quality: Mapping[str, float]  # accuracy_floor | max_perplexity
    threshold_origin: str
    source: Path

    @property
    def accuracy_floor(self) -> float | None:
        return self.quality.get("accuracy_floor")

    @property
    def max_perplexity(self) -> float | None:
        return self.quality.get("max_perplexity")

    @property
    def primary_metric(self) -> str:
        """What the event ranking sorts by: "time_s" (as speedup) or "peak_memory" (Memory Master)."""
        return self.metrics["primary"]

    @property
    def has_accuracy(self) -> bool:
        """Image events are scored on accuracy; text events on perplexity."""
        return self.kind in ("training", "inference")


@dataclass(frozen=True)
class Category:
    """One award category (categories.yaml)."""

    id: str
    name: str
    description: str
    rank_by: str
    higher_is_better: bool
    runner_classes: tuple[str, ...]
    requires_measured_energy: bool
    source: str  # where the definition and its threshold come from


@dataclass(frozen=True)
class Division:
    """Closed or open (divisions.yaml); closed lists its allowed weight transforms as data."""

    id: str
    name: str
    description: str
    architecture_must_match_baseline: bool
    allowed_transforms: tuple[Mapping[str, Any], ...]

    def transforms(self, kind: str) -> tuple[Mapping[str, Any], ...]:
        return tuple(t for t in self.allowed_transforms if t["kind"] == kind)


@dataclass(frozen=True)
class Limits:
    """Course limits and submission-folder rules (limits.yaml)."""

    model_size_bytes_max: int
    single_sample_latency_ms_max: float
    submission_folder_bytes_max: int
    file_bytes_max: int
    allowed_file_extensions: tuple[str, ...]
    reserved_names: tuple[str, ...]
    category_accuracy_floors: Mapping[str, Mapping[str, Any]]
    self_report: Mapping[str, float]
    readme_required_sections: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Rules:
    """Everything in competition/rules/, validated."""

    events: Mapping[str, Event]
    categories: Mapping[str, Category]
    divisions: Mapping[str, Division]
    limits: Limits
    root: Path
    # rank_by -> {rank_by, relative, source} (categories.yaml tie_resolutions)
    tie_resolutions: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    def event(self, event_id: str) -> Event:
        """The event `event_id`; KeyError naming the valid ids otherwise."""
        if event_id not in self.events:
            raise KeyError(f"unknown event {event_id!r}; valid events: {', '.join(sorted(self.events))}")
        return self.events[event_id]

    def accuracy_floor(self, event: Event, category_id: str | None = None) -> float | None:
        """The accuracy a result must reach: the event's floor, raised by the category's floor where it applies."""
        floor = event.accuracy_floor
        entry = self.limits.category_accuracy_floors.get(category_id or "")
        if entry is not None and event.id in entry["events"] and event.has_accuracy:
            floor = max(floor or 0.0, entry["floor"])
        return floor
