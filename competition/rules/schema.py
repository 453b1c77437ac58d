"""Validate a parsed YAML/JSON document against one of competition/schemas/*.json; errors become Problems."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from competition.problems import Problem

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """The schema `competition/schemas/<name>.schema.json`, checked against draft 2020-12."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_problems(document: Any, schema_name: str, file: str) -> list[Problem]:
    """Every schema violation of `document`, each naming `file`, the dotted field path and a fix hint."""
    validator = jsonschema.Draft202012Validator(load_schema(schema_name), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [Problem(file=file, field=_field(e), message=_message(e), hint=_hint(e)) for e in _leaves(errors)]


def _leaves(errors: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    """Replace if/then and allOf wrappers by the concrete errors inside them."""
    out: list[jsonschema.ValidationError] = []
    for error in errors:
        if error.validator in ("allOf", "anyOf", "oneOf", "if", "then") and error.context:
            out.extend(_leaves(sorted(error.context, key=lambda e: e.relevance)[:1]))
        else:
            out.append(error)
    return out


def _field(error: jsonschema.ValidationError) -> str | None:
    path = [str(p) for p in error.absolute_path]
    extra = _missing_or_extra(error)
    if extra:
        path.append(extra)
    return ".".join(path) or None


def _missing_or_extra(error: jsonschema.ValidationError) -> str | None:
    if error.validator == "required":
        return next((name for name in error.validator_value if name not in error.instance), None)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        return next((k for k in error.instance if k not in allowed), None)
    return None


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return f"missing required field '{_missing_or_extra(error)}'"
    if error.validator == "additionalProperties":
        return f"unknown field '{_missing_or_extra(error)}'"
    if error.validator == "pattern":
        return f"{error.instance!r} is not in the expected format"
    return error.message if len(error.message) <= 200 else error.message[:197] + "..."


def _hint(error: jsonschema.ValidationError) -> str:
    rule, value = error.validator, error.validator_value
    hints = {
        "required": lambda: f"add '{_missing_or_extra(error)}'",
        "additionalProperties": lambda: "remove it; allowed fields: " + ", ".join(sorted(error.schema.get("properties", {}))),
        "enum": lambda: "use one of: " + ", ".join(map(str, value)),
        "const": lambda: f"use {value!r}",
        "type": lambda: f"use a value of type {value}",
        "pattern": lambda: f"use {error.schema['description']}" if "description" in error.schema else f"make it match the pattern {value}",
        "minimum": lambda: f"use a value >= {value}",
        "maximum": lambda: f"use a value <= {value}",
        "exclusiveMinimum": lambda: f"use a value > {value}",
        "exclusiveMaximum": lambda: f"use a value < {value}",
        "minLength": lambda: f"use at least {value} character(s)",
        "maxLength": lambda: f"use at most {value} characters",
        "minItems": lambda: f"list at least {value} item(s)",
        "maxItems": lambda: f"list at most {value} items",
        "uniqueItems": lambda: "remove the duplicates",
        "format": lambda: f"use a valid {value}",
    }
    return hints.get(rule, lambda: "see the schema " + str(error.schema.get("description", rule)))()


def yaml_lines(text: str) -> dict[str, int]:
    """{dotted field path: 1-based line} for every key and item of a YAML document ('' for the root)."""
    import yaml

    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}.{i}" if path else str(i))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if root is not None:
        walk(root, "")
    return lines


def with_lines(problems: list[Problem], text: str) -> list[Problem]:
    """The same problems with `line` set from the YAML source (the field's line, else its nearest parent's)."""
    lines = yaml_lines(text)

    def line_of(field: str | None) -> int | None:
        while field:
            if field in lines:
                return lines[field]
            field = field.rpartition(".")[0]
        return None

    return [p if p.line is not None else replace(p, line=line_of(p.field)) for p in problems]
