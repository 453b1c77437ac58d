"""A fast yes/no check against result.schema.json, so a cold build can re-validate 10 000 files in seconds.

jsonschema walks the schema anew for every document (about 8 ms per result file). `compile_schema` turns the schema
once into nested Python closures that answer only "valid?" (about 50x faster). It is never the last word on a
rejection: `conforms(result)` True means valid; False sends the document to jsonschema (competition.results
.validate_result), which gives the verdict and the message naming the field. So the check may be stricter than
jsonschema but never laxer: every keyword the schema uses is compiled with jsonschema's own semantics (booleans are
not numbers, an integer may be 1.0, `format` through the validator's own format checker), and a keyword it does not
know makes `compile_schema` refuse, which sends every document to jsonschema. tests/leaderboard compares both
verdicts on mutated results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from competition.results import result_validator

Check = Callable[[Any], bool]
ANNOTATIONS = {"description", "title", "$schema", "$id", "$defs", "$comment", "default", "examples"}


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


CLASSES = {"null": (type(None),), "boolean": (bool,), "integer": (int,), "number": (int, float), "string": (str,),
           "array": (list,), "object": (dict,)}


def _type_check(names: list[str]) -> Check:
    """jsonschema's types by exact class (what json.loads makes; a subclass such as numpy.float64 is left to
    jsonschema); "integer" also takes a float with no fraction, as jsonschema does."""
    classes = frozenset(c for name in names for c in CLASSES[name])
    if "integer" in names and "number" not in names:
        return lambda v: type(v) in classes or (type(v) is float and v.is_integer())
    return lambda v: type(v) in classes


def _all_of(checks: list[Check]) -> Check:
    def check(value: Any) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True
    return checks[0] if len(checks) == 1 else check


def _equal_to(expected: Any) -> Check:
    """const/enum equality as jsonschema has it for scalars (True is not 1)."""
    if isinstance(expected, (dict, list)):
        raise Unsupported("const/enum with a container value")
    if isinstance(expected, bool) or expected is None:
        return lambda v: v is expected
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    return lambda v: _is_number(v) and v == expected


def _one_of(branches: list[Check]) -> Check:
    def check(value: Any) -> bool:
        matched = 0
        for branch in branches:
            if branch(value):
                matched += 1
                if matched > 1:
                    return False
        return matched == 1
    return check


def _keyword(key: str, value: Any, root: dict[str, Any], compile_ref: Callable[[str], Check]) -> Check:
    if key == "type":
        return _type_check([value] if isinstance(value, str) else value)
    if key in ("enum", "const"):
        options = [_equal_to(option) for option in (value if key == "enum" else [value])]
        return lambda v: any(option(v) for option in options)
    if key in ("minimum", "maximum"):
        below = key == "minimum"
        return lambda v: not _is_number(v) or (v >= value if below else v <= value)
    if key in ("exclusiveMinimum", "exclusiveMaximum"):
        below = key == "exclusiveMinimum"
        return lambda v: not _is_number(v) or (v > value if below else v < value)
    if key in ("minLength", "maxLength"):
        shortest = key == "minLength"
        return lambda v: not isinstance(v, str) or (len(v) >= value if shortest else len(v) <= value)
    if key in ("minItems", "maxItems"):
        fewest = key == "minItems"
        return lambda v: not isinstance(v, list) or (len(v) >= value if fewest else len(v) <= value)
    if key == "pattern":
        regex = re.compile(value)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if key == "format":
        checker = result_validator().format_checker
        return lambda v: checker is None or checker.conforms(v, value)
    if key == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in value)
    if key == "items":
        if not isinstance(value, dict):
            raise Unsupported("items must be one schema")
        item = _compile(value, root, compile_ref)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if key == "oneOf":
        return _one_of([_compile(branch, root, compile_ref) for branch in value])
    if key == "$ref":
        return compile_ref(value)
    raise Unsupported(f"keyword {key!r}")


def _object_check(schema: dict[str, Any], root: dict[str, Any], compile_ref: Callable[[str], Check]) -> Check:
    """type object + required + properties + additionalProperties in one pass (the extra keys are those not named
    in properties)."""
    named = {key: _compile(sub, root, compile_ref) for key, sub in schema.get("properties", {}).items()}
    required = frozenset(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = None if isinstance(extra, bool) else _compile(extra, root, compile_ref)
    closed = extra is False and frozenset(named)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return False
        if not required <= value.keys() or (closed and not value.keys() <= closed):
            return False
        for key, item in value.items():
            sub = named.get(key)
            if sub is not None:
                if not sub(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True
    return check


LEAF = {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "pattern"}
OBJECT = {"type", "required", "properties", "additionalProperties"}


def _leaf_check(schema: dict[str, Any]) -> Check:
    """A schema of scalar keywords only, as one closure (the common leaf: {"type": "string", "maxLength": 64})."""
    kinds = [schema["type"]] if isinstance(schema.get("type"), str) else schema.get("type")
    classes = frozenset(c for name in kinds for c in CLASSES[name]) if kinds else None
    whole_floats = bool(kinds) and "integer" in kinds and "number" not in kinds
    options = [_equal_to(o) for o in (schema["enum"] if "enum" in schema else [schema["const"]])] \
        if "enum" in schema or "const" in schema else None
    low, high = schema.get("minimum"), schema.get("maximum")
    above, under = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    regex = re.compile(schema["pattern"]) if "pattern" in schema else None

    def check(v: Any) -> bool:
        kind = type(v)
        if classes is not None and kind not in classes and not (whole_floats and kind is float and v.is_integer()):
            return False
        if kind is str:
            if (longest is not None and len(v) > longest) or (shortest is not None and len(v) < shortest):
                return False
            if regex is not None and regex.search(v) is None:
                return False
        elif kind is int or kind is float:
            if (low is not None and not v >= low) or (high is not None and not v <= high):
                return False
            if (above is not None and not v > above) or (under is not None and not v < under):
                return False
        return options is None or any(option(v) for option in options)
    return check


def _compile(schema: Any, root: dict[str, Any], compile_ref: Callable[[str], Check]) -> Check:
    if schema is True or schema == {}:
        return lambda v: True
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    keys = set(schema) - ANNOTATIONS
    if keys and keys <= LEAF:
        return _leaf_check(schema)
    if schema.get("type") == "object" and keys <= OBJECT:
        return _object_check(schema, root, compile_ref)
    checks = [_keyword(key, value, root, compile_ref) for key, value in schema.items()
              if key not in ANNOTATIONS and key not in ("properties", "additionalProperties")]
    if "properties" in schema or "additionalProperties" in schema:
        checks.append(_object_check_open(schema, root, compile_ref))
    return _all_of(checks)


def _object_check_open(schema: dict[str, Any], root: dict[str, Any], compile_ref: Callable[[str], Check]) -> Check:
    """properties + additionalProperties where the schema does not say "type": "object" (non-objects pass)."""
    inner = _object_check({k: v for k, v in schema.items() if k in ("properties", "additionalProperties")}, root,
                          compile_ref)
    return lambda v: type(v) is not dict or inner(v)


def compile_schema(schema: dict[str, Any]) -> Check:
    """The schema as one predicate; raises Unsupported for a keyword it cannot compile exactly."""
    compiled: dict[str, Check] = {}

    def compile_ref(ref: str) -> Check:
        if not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/"):]:
            raise Unsupported(f"$ref {ref!r}")
        name = ref[len("#/$defs/"):]
        if name not in compiled:
            compiled[name] = lambda v: compiled[name + "!"](v)  # a recursive reference resolves once compiled
            compiled[name + "!"] = _compile(schema["$defs"][name], schema, compile_ref)
        return compiled[name]
    return _compile(schema, schema, compile_ref)


@lru_cache(maxsize=1)
def _result_check() -> Check | None:
    try:
        return compile_schema(result_validator().schema)
    except Unsupported:
        return None


def conforms(result: Any) -> bool:
    """True only if `result` is valid under result.schema.json; False means "ask jsonschema"."""
    check = _result_check()
    return check is not None and check(result)
