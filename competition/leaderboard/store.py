"""The results store (leaderboard/results/): one JSON file per submission x event x runner class x run.

Append-only: `add_results` never overwrites a stored result (identical content is a no-op, different content is
refused). Every file is schema-validated on load and errors name the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinytorch.atomic import write_atomic
from competition.results import ResultError, dumps, load_result, result_filename

DEFAULT_STORE = Path("leaderboard/results")


class StoreError(Exception):
    """A result file is unreadable, invalid, or would overwrite a different stored result."""


def read_result(path: Path) -> dict[str, Any]:
    """Read one result file, validated by competition.results (schema) plus a result_id consistency check."""
    try:
        result = load_result(path)
    except ResultError as exc:
        raise StoreError(f"{exc}\n  fix: store only files written by `tito benchmark run`") from None
    expected = "--".join((result["submission"]["name"], result["event"]["id"], result["runner"]["class"]))
    if not result["result_id"].startswith(expected + "--"):
        raise StoreError(f"{path}: result_id {result['result_id']!r} does not start with {expected!r} "
                         "(submission.name--event.id--runner.class); fix: do not edit result files by hand")
    return result


def load_store(store_dir: str | Path) -> list[dict[str, Any]]:
    """All results in the store, validated, sorted by result_id. A missing store is empty."""
    store = Path(store_dir)
    if not store.is_dir():
        return []
    results = []
    for path in sorted(store.glob("*.json")):
        result = read_result(path)
        if path.stem != result["result_id"]:
            raise StoreError(f"{path}: file name does not match result_id {result['result_id']!r}; "
                             f"fix: rename it to {result['result_id']}.json")
        results.append(result)
    return sorted(results, key=lambda r: r["result_id"])


def add_results(paths: Iterable[str | Path], store_dir: str | Path = DEFAULT_STORE) -> list[Path]:
    """Validate every file first, then store each as <result_id>.json. Returns the paths newly written."""
    store = Path(store_dir)
    sources = [Path(p) for p in paths]
    incoming = [read_result(p) for p in sources]
    planned: dict[Path, dict[str, Any]] = {}
    for source, result in zip(sources, incoming):
        target = store / result_filename(result)
        if target in planned and planned[target] != result:
            raise StoreError(f"{source}: two different inputs share result_id {result['result_id']!r}")
        if target.exists() and read_result(target) != result:
            raise StoreError(f"{source}: {target} already holds a different result with the same result_id; "
                             "the store is append-only, fix: rerun the benchmark to get a new result_id")
        planned[target] = result
    written = []
    for target, result in sorted(planned.items()):
        if not target.exists():
            write_atomic(target, dumps(result))
            written.append(target)
    return written
