"""Write and read result JSON files: schema-validated, stable key order, atomic (temp file + os.replace)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema

from tinytorch.atomic import write_atomic

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "result.schema.json"


class ResultError(ValueError):
    """A result does not match competition/schemas/result.schema.json; the message names the file and field."""


@lru_cache(maxsize=1)
def result_validator() -> jsonschema.protocols.Validator:
    """The one validator of result.schema.json (with format checks), built once."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_result(result: dict, source: str = "result") -> None:
    """Raise ResultError listing every schema violation (field path and message)."""
    errors = sorted((_deepest(e) for e in result_validator().iter_errors(result)),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  {'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message[:300]}"
                 for e in errors[:20]]
        raise ResultError(f"{source}: does not match {SCHEMA_PATH.name}:\n" + "\n".join(lines))


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For oneOf/anyOf failures, the sub-error deepest in the document (it names the offending field)."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def result_filename(result: dict) -> str:
    """<result_id>.json (submission--event--runner class--UTC start stamp)."""
    return f"{result['result_id']}.json"


def dumps(result: dict) -> str:
    """Canonical text: sorted keys, 2-space indent, trailing newline (stable diffs in the store)."""
    return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_result(result: dict, out_dir: Path) -> Path:
    """Validate `result`, then write it to out_dir/<result_id>.json atomically; returns the path."""
    validate_result(result)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / result_filename(result)
    write_atomic(path, dumps(result))
    return path


def load_result(path: Path) -> dict:
    """Read and validate one result file; ResultError names the file on any problem."""
    path = Path(path)
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ResultError(f"{path}: cannot read a result: {err}") from None
    if not isinstance(result, dict):
        raise ResultError(f"{path}: a result must be a JSON object")
    validate_result(result, str(path))
    return result
