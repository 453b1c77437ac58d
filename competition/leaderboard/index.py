"""The check index: each stored file is schema-validated and rescored once, not on every build.

An entry maps a file's SHA-256 to the outcome of the expensive checks (schema + scores recomputed with
competition.scoring): None, or the Problem naming the score that does not follow. Entries are valid only under the
same checker fingerprint (the result schema, the rules files and the scoring/admission code), so changing any of
them rechecks everything, and a changed file has a new SHA-256 and is rechecked. The index lives outside the
repository (default: $XDG_CACHE_HOME/tinymlperf/leaderboard-index.json): it is a cache the build writes for itself,
never an input anyone else can supply. The cheap checks (disqualified, registered runner, ...) run on every build.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from competition import scoring
from competition.measure import stats
from competition.leaderboard import admission, schema_check, store
from competition.leaderboard.admission import Problem
from competition.leaderboard.store import StoreError, parse_result, store_files
from competition.results import SCHEMA_PATH
from competition.rules import RULES_DIR, load_rules
from tinytorch.atomic import write_atomic

VERSION = 1


def default_index_path() -> Path:
    """$XDG_CACHE_HOME/tinymlperf/leaderboard-index.json (~/.cache when unset)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tinymlperf" / "leaderboard-index.json"


def checker_fingerprint() -> str:
    """SHA-256 over everything the cached checks depend on."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    sources = [SCHEMA_PATH, *(Path(m.__file__) for m in (scoring, stats, admission, schema_check, store)), *sorted(RULES_DIR.rglob("*.yaml"))]
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


@dataclass
class CheckIndex:
    """{file SHA-256: None | [field, reason]} under one checker fingerprint; `path` None = in memory only."""

    path: Path | None
    fingerprint: str
    entries: dict[str, list[str] | None] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, path: Path | None) -> CheckIndex:
        """Load the index at `path` (an unreadable or outdated one starts empty)."""
        fingerprint = checker_fingerprint()
        entries: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("fingerprint") == fingerprint and isinstance(data.get("entries"), dict):
                    entries = data["entries"]
            except (OSError, ValueError):
                entries = {}
        return cls(path, fingerprint, entries)

    def save(self) -> None:
        """Write the index atomically if anything was added."""
        if self.path is not None and self.changed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps({"fingerprint": self.fingerprint, "entries": self.entries},
                                               sort_keys=True, separators=(",", ":")))


PARALLEL_FROM = 200  # files to check before a process pool pays off


def _check(item: tuple[str, bytes]) -> list[str] | None:
    """Schema and score check of one file's bytes: None, or [field, reason] of the score that does not follow
    (runs in a worker process for large cold builds; only this small answer travels back)."""
    path, data = Path(item[0]), item[1]
    problem = admission.score_problem(parse_result(data, path), load_rules())
    return None if problem is None else [problem.field, problem.reason]


def _check_all(items: list[tuple[str, bytes]]) -> tuple[list[dict[str, Any]], list[list[str] | None]]:
    """(parsed results, check entries) of the files' bytes; many files are checked by a process pool while this
    process parses them for itself."""
    workers = os.cpu_count() or 1
    if len(items) < PARALLEL_FROM or workers < 2:
        entries = [_check(item) for item in items]
        return [json.loads(data) for _, data in items], entries
    with ProcessPoolExecutor(workers) as pool:  # a few large chunks per worker: less pickling round trips
        pending = pool.map(_check, items, chunksize=max(64, len(items) // (16 * workers)))
        parsed = [json.loads(data) for _, data in items]
        return parsed, list(pending)


def load_checked(store_dir: str | Path, index: CheckIndex) -> tuple[list[dict[str, Any]], dict[str, Problem | None]]:
    """Every stored result (sorted by result_id) and its score check, from the index where it holds the file;
    files the index does not hold are checked (in parallel when there are many) and added to it."""
    known: list[tuple[Path, dict[str, Any], list[str] | None]] = []
    missing: list[tuple[Path, str, bytes]] = []
    for path in store_files(store_dir):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in index.entries:
            known.append((path, json.loads(data), index.entries[digest]))
        else:
            missing.append((path, digest, data))
    parsed, entries = _check_all([(str(p), d) for p, _, d in missing])
    for (path, digest, _), result, entry in zip(missing, parsed, entries):
        index.entries[digest] = entry
        index.changed = True
        known.append((path, result, entry))
    results, checks = [], {}
    for path, result, entry in known:
        if path.stem != result["result_id"]:
            raise StoreError(f"{path}: file name does not match result_id {result['result_id']!r}; "
                             f"fix: rename it to {result['result_id']}.json")
        results.append(result)
        checks[result["result_id"]] = None if entry is None else Problem(entry[0], entry[1])
    return sorted(results, key=lambda r: r["result_id"]), checks
