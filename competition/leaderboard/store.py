"""The results store (leaderboard/results/): one JSON file per submission x event x runner class x run.

Append-only: `add_results` never overwrites a stored result (identical content is a no-op, different content is
refused). Every file is schema-validated on load and errors name the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from competition.leaderboard.files import write_atomic

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "result.schema.json"
DEFAULT_STORE = Path("leaderboard/results")


class StoreError(Exception):
    """A result file is unreadable, invalid, or would overwrite a different stored result."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_result(result: Any, source: str) -> dict[str, Any]:
    """Return `result` if it follows result.schema.json and its result_id matches its fields; else StoreError."""
    errors = sorted(_validator().iter_errors(result), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  at {'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors[:10]]
        raise StoreError(f"{source}: not a valid TinyMLPerf result (schema result.schema.json):\n" + "\n".join(lines)
                         + "\n  fix: store only files written by `tito benchmark run`")
    expected = "--".join((result["submission"]["name"], result["event"]["id"], result["runner"]["class"]))
    if not result["result_id"].startswith(expected + "--"):
        raise StoreError(f"{source}: at result_id: {result['result_id']!r} does not start with {expected!r} "
                         "(submission.name--event.id--runner.class); fix: do not edit result files by hand")
    return result


def read_result(path: Path) -> dict[str, Any]:
    """Read and validate one result file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: cannot read result JSON: {exc}") from exc
    return validate_result(data, str(path))


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


def serialize(result: dict[str, Any]) -> str:
    """The stored form of a result: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def add_results(paths: Iterable[str | Path], store_dir: str | Path = DEFAULT_STORE) -> list[Path]:
    """Validate every file first, then store each as <result_id>.json. Returns the paths newly written."""
    store = Path(store_dir)
    sources = [Path(p) for p in paths]
    incoming = [read_result(p) for p in sources]
    planned: dict[Path, dict[str, Any]] = {}
    for source, result in zip(sources, incoming):
        target = store / f"{result['result_id']}.json"
        if target in planned and planned[target] != result:
            raise StoreError(f"{source}: two different inputs share result_id {result['result_id']!r}")
        if target.exists() and read_result(target) != result:
            raise StoreError(f"{source}: {target} already holds a different result with the same result_id; "
                             "the store is append-only, fix: rerun the benchmark to get a new result_id")
        planned[target] = result
    written = []
    for target, result in sorted(planned.items()):
        if not target.exists():
            write_atomic(target, serialize(result))
            written.append(target)
    return written
