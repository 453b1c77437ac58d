"""The plan of an official measurement at any size: which entries each (runner class, chunk) job measures.

The plan is a file (uploaded as the run's `plan` artifact and read by every job), never an environment variable or
an argument: a season of 3 000 entries with 64-character names would exceed Linux's 128 KiB limit on one string.
The workflow's matrix carries only chunk numbers. A plan can be narrowed to some entries (`only`), to one shard
of the entries (`shard`), and can skip what the results branch already holds for this harness commit (`resume`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from competition.github.changes import NAME_PATTERN
from tinytorch.atomic import write_atomic

OFFICIAL_CLASSES = ("reference", "edge")
BASELINE = "baseline"
MAX_MATRIX_JOBS = 256  # GitHub's matrix limit "per workflow run": shared by the classes' matrices, to be safe
MAX_CHUNK = 100  # entries per job: a job's result files stay under an attestation's 1 024 subjects
PLAN_VERSION = 1


class PlanError(ValueError):
    """The plan cannot be made or read; the message says which input or file field is wrong and how to fix it."""


def artifact_name(runner_class: str, chunk: int) -> str:
    """The artifact one measure job uploads."""
    return f"official-{runner_class}-{chunk}"


@dataclass(frozen=True)
class Chunk:
    """The entries one measure job runs, one after the other."""

    runner_class: str
    index: int
    names: tuple[str, ...]

    @property
    def artifact(self) -> str:
        return artifact_name(self.runner_class, self.index)


@dataclass
class Plan:
    """Every chunk of one run, the harness commit it measures with, and how many jobs of a class run at once."""

    harness_commit: str
    chunks: list[Chunk] = field(default_factory=list)
    parallel: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # entries left out because the results branch already holds them (resume)

    def chunk(self, runner_class: str, index: int) -> Chunk:
        for item in self.chunks:
            if item.runner_class == runner_class and item.index == index:
                return item
        raise PlanError(f"the plan has no chunk {index} for runner class {runner_class!r}")

    def of_class(self, runner_class: str) -> list[Chunk]:
        return [c for c in self.chunks if c.runner_class == runner_class]

    def matrix(self, runner_class: str) -> dict[str, list[int]]:
        """The strategy.matrix of one class: chunk numbers only."""
        return {"chunk": [c.index for c in self.of_class(runner_class)]}

    def entries(self) -> list[tuple[str, int, str]]:
        return [(c.runner_class, c.index, name) for c in self.chunks for name in c.names]

    def to_json(self) -> str:
        return json.dumps({"version": PLAN_VERSION, "harness_commit": self.harness_commit, "skipped": self.skipped,
                           "parallel": self.parallel,
                           "chunks": [{"runner_class": c.runner_class, "index": c.index, "names": list(c.names)}
                                      for c in self.chunks]}, indent=1) + "\n"


def select(names: list[str], only: Iterable[str] = (), shard: str | None = None) -> list[str]:
    """The entries to measure: all, or `only` those (each must exist), then shard "K/N" (the K-th of N parts)."""
    wanted = [n for n in dict.fromkeys(only) if n]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise PlanError(f"input 'only' names {len(unknown)} folder(s) that are not entries: {', '.join(unknown[:10])}; "
                        "fix: use names of folders under submissions/ (space-separated)")
    chosen = [n for n in names if n in set(wanted)] if wanted else list(names)
    if shard:
        part, _, total = shard.partition("/")
        if not (part.isdigit() and total.isdigit() and 1 <= int(part) <= int(total)):
            raise PlanError(f"input 'shard' is {shard!r}; fix: write K/N with 1 <= K <= N, e.g. 1/4")
        chosen = chosen[int(part) - 1::int(total)]
    return chosen


def _chunks(runner_class: str, names: list[str], chunk_size: int, max_jobs: int) -> list[Chunk]:
    if not names:
        return []
    size = max(chunk_size, math.ceil(len(names) / max_jobs))
    if size > MAX_CHUNK:
        raise PlanError(f"{len(names)} {runner_class} entries need more than {MAX_CHUNK} per job in "
                        f"{max_jobs} jobs; fix: measure in shards (input shard: 1/2, then 2/2)")
    return [Chunk(runner_class, i, tuple(names[start:start + size]))
            for i, start in enumerate(range(0, len(names), size))]


def make(names: list[str], runner_classes: list[str], harness_commit: str, chunk_size: int = 1,
         include_baseline: bool = False, recorded: set[tuple[str, str]] = frozenset(),
         parallel: dict[str, int] | None = None) -> Plan:
    """Chunk `names` (the baseline first when included) per runner class, leaving out (name, class) pairs already
    `recorded` for this harness commit; at most 256 chunks in all, shared equally by the classes."""
    if not runner_classes or any(rc not in OFFICIAL_CLASSES for rc in runner_classes):
        raise PlanError(f"runner classes must be a non-empty subset of {OFFICIAL_CLASSES}, not {runner_classes}")
    if chunk_size < 1:
        raise PlanError(f"chunk size is {chunk_size}; fix: use 1 or more")
    bad = [n for n in names if not NAME_PATTERN.match(n)]
    if bad:
        raise PlanError(f"not submission folder names: {bad[:10]}")
    ordered = ([BASELINE] if include_baseline else []) + [n for n in names if n != BASELINE]
    plan = Plan(harness_commit=harness_commit, parallel={rc: (parallel or {}).get(rc, 1) for rc in runner_classes})
    for rc in runner_classes:
        todo = [n for n in ordered if (n, rc) not in recorded]
        plan.skipped += len(ordered) - len(todo)
        plan.chunks += _chunks(rc, todo, chunk_size, MAX_MATRIX_JOBS // len(runner_classes))
    return plan


def load(path: Path | str) -> Plan:
    """Read a plan file written by `write`; a malformed one is an error naming the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanError(f"{path}: not a readable plan ({type(err).__name__}); fix: download the run's plan "
                        "artifact") from None
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION:
        raise PlanError(f"{path}: field 'version' is not {PLAN_VERSION}; fix: make it with `tito pr plan`")
    chunks = []
    for i, raw in enumerate(data.get("chunks") or []):
        names = raw.get("names") if isinstance(raw, dict) else None
        if (not isinstance(names, list) or raw.get("runner_class") not in OFFICIAL_CLASSES
                or not isinstance(raw.get("index"), int) or not all(isinstance(n, str) and NAME_PATTERN.match(n)
                                                                    for n in names)):
            raise PlanError(f"{path}: field chunks[{i}] is malformed; fix: make the plan with `tito pr plan`")
        chunks.append(Chunk(raw["runner_class"], raw["index"], tuple(names)))
    return Plan(harness_commit=str(data.get("harness_commit", "")), chunks=chunks,
                parallel={k: int(v) for k, v in (data.get("parallel") or {}).items()},
                skipped=int(data.get("skipped", 0)))


def write(plan: Plan, path: Path | str) -> Path:
    """Write the plan file atomically."""
    write_atomic(Path(path), plan.to_json())
    return Path(path)


def registered_runners(config: Path | str) -> dict[str, int]:
    """How many runners of each class leaderboard/config.yaml registers (at least 1). A chunk job waits for a
    runner, so starting at most this many jobs of a class at once keeps every job from queueing long enough for
    GitHub to cancel it (24 h)."""
    from competition.leaderboard.config import ConfigError, load_config

    try:
        runners = load_config(Path(config)).runners
    except ConfigError as err:
        raise PlanError(str(err)) from None
    return {rc: max(1, sum(1 for r in runners if r.runner_class == rc)) for rc in OFFICIAL_CLASSES}


def recorded(store: Path | str, harness_commit: str, names: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(entry, runner class) pairs the store holds a result of, measured by `harness_commit`. Only files named
    after `names` (result_id = name--event--class--stamp) are opened."""
    wanted = set(names) if names is not None else None
    found: set[tuple[str, str]] = set()
    root = Path(store)
    for path in sorted(root.glob("*.json")) if root.is_dir() else []:
        parts = path.stem.rsplit("--", 3)
        if len(parts) != 4 or parts[2] not in OFFICIAL_CLASSES or (wanted is not None and parts[0] not in wanted):
            continue
        if (parts[0], parts[2]) in found:
            continue
        try:
            result: Any = json.loads(path.read_text(encoding="utf-8"))
            same = (result["harness"]["git_commit"] == harness_commit and result["submission"]["name"] == parts[0]
                    and result["runner"]["class"] == parts[2])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if same:
            found.add((parts[0], parts[2]))
    return found


def missing(plan: Plan, store: Path | str) -> list[tuple[str, int, str]]:
    """(runner class, chunk, entry) of every planned entry the store holds no result of for the plan's commit."""
    done = recorded(store, plan.harness_commit, {name for _, _, name in plan.entries()})
    return [(rc, index, name) for rc, index, name in plan.entries() if (name, rc) not in done]
