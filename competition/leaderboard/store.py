"""The results store (leaderboard/results/): one JSON file per submission x event x runner class x run.

Append-only and believing nothing: `add_results` schema-validates every incoming file, then refuses any result with
an admission problem (competition.leaderboard.admission: quick or unisolated run, unregistered runner, older
harness, disqualified, scores that do not follow from the measurements), naming file, field and reason. It writes
nothing unless every file passes (identical content is a no-op, different content under a stored result_id is
refused). Every stored file is schema-validated on load and errors name the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinytorch.atomic import write_atomic
from competition.leaderboard import admission
from competition.leaderboard.schema_check import conforms
from competition.results import ResultError, dumps, load_result, result_filename, validate_result

DEFAULT_STORE = Path("leaderboard/results")


class StoreError(Exception):
    """A result file is unreadable, invalid, refused, or would overwrite a different stored result."""


def read_result(path: Path) -> dict[str, Any]:
    """Read one result file, validated by competition.results (schema) plus a result_id consistency check."""
    try:
        result = load_result(path)
    except ResultError as exc:
        raise StoreError(f"{exc}\n  fix: store only files written by `tito benchmark run`") from None
    return _consistent(result, path)


def parse_result(data: bytes, path: Path) -> dict[str, Any]:
    """The same checks as read_result, on bytes already read from `path` (the schema through the compiled check
    of competition.leaderboard.schema_check, which accepts exactly what jsonschema accepts, or sends it there)."""
    try:
        result = json.loads(data)
        if not isinstance(result, dict):
            raise ResultError(f"{path}: a result must be a JSON object")
        if not conforms(result):  # the fast check; jsonschema decides (and names the field) when it says no
            validate_result(result, str(path))
    except (ValueError, ResultError) as exc:
        raise StoreError(f"{path}: {exc}\n  fix: store only files written by `tito benchmark run`") from None
    return _consistent(result, path)


def _consistent(result: dict[str, Any], path: Path) -> dict[str, Any]:
    expected = "--".join((result["submission"]["name"], result["event"]["id"], result["runner"]["class"]))
    if not result["result_id"].startswith(expected + "--"):
        raise StoreError(f"{path}: result_id {result['result_id']!r} does not start with {expected!r} "
                         "(submission.name--event.id--runner.class); fix: do not edit result files by hand")
    return result


def store_files(store_dir: str | Path) -> list[Path]:
    """The result files of a store, sorted by name."""
    store = Path(store_dir)
    return sorted(store.glob("*.json"), key=lambda path: path.name) if store.is_dir() else []


def load_store(store_dir: str | Path) -> list[dict[str, Any]]:
    """All results in the store, validated, sorted by result_id. A missing store is empty."""
    results = []
    for path in store_files(store_dir):
        result = read_result(path)
        if path.stem != result["result_id"]:
            raise StoreError(f"{path}: file name does not match result_id {result['result_id']!r}; "
                             f"fix: rename it to {result['result_id']}.json")
        results.append(result)
    return sorted(results, key=lambda r: r["result_id"])


def _refusals(source: Path, result: dict[str, Any], policy: admission.Policy) -> list[str]:
    return [f"{source}: refused [{p.field}]: {p.reason}" for p in admission.problems(result, policy)]


def add_results(paths: Iterable[str | Path], store_dir: str | Path = DEFAULT_STORE,
                policy: admission.Policy | None = None) -> list[Path]:
    """Check every file first (schema, admission, append-only), then store each as <result_id>.json.
    Returns the paths newly written; on any problem raises StoreError listing them all and writes nothing."""
    policy = policy or admission.Policy()
    store = Path(store_dir)
    sources = [Path(p) for p in paths]
    incoming = [read_result(p) for p in sources]
    errors: list[str] = []
    planned: dict[Path, dict[str, Any]] = {}
    for source, result in zip(sources, incoming):
        errors += _refusals(source, result, policy)
        target = store / result_filename(result)
        if target in planned and planned[target] != result:
            errors.append(f"{source}: two different inputs share result_id {result['result_id']!r}")
        if target.exists() and read_result(target) != result:
            errors.append(f"{source}: {target} already holds a different result with the same result_id; "
                          "the store is append-only, fix: rerun the benchmark to get a new result_id")
        planned[target] = result
    if errors:
        raise StoreError("nothing was stored:\n" + "\n".join(errors))
    written = []
    for target, result in sorted(planned.items()):
        if not target.exists():
            write_atomic(target, dumps(result))
            written.append(target)
    return written
