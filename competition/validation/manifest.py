"""submission.yaml: parse, validate against submission.schema.json, and check events and division exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from competition.problems import Problem
from competition.rules import Rules
from competition.rules.schema import schema_problems, with_lines

PLACEHOLDERS = ("todo", "tbd", "fixme", "xxx", "changeme", "your name")
MAX_BYTES = 65_536  # a manifest is a few hundred bytes
MAX_ALIASES = 16  # billion-laughs bombs expand a few dozen aliases exponentially; a manifest needs none
MAX_DEPTH = 32  # the YAML composer recurses once per nesting level


def check(folder: Path, rules: Rules) -> tuple[dict | None, list[Problem]]:
    """(the manifest if it is valid, else None; its problems)."""
    file = folder / "submission.yaml"
    if not file.is_file():
        return None, []  # reported by the folder checks
    text, problem = _bounded_text(file)
    if problem is not None:
        return None, [problem]
    try:
        _check_structure(text, file)
        doc = yaml.safe_load(text)
    except _TooComplex as exc:
        return None, [exc.problem]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(str(file), f"not valid YAML: {getattr(exc, 'problem', exc)}", "fix the YAML syntax",
                              line=mark.line + 1 if mark else None)]
    problems = schema_problems(doc, "submission", str(file))
    if isinstance(doc, dict):
        problems += _events(doc, rules, file) + _placeholders(doc, file)
    return (doc if not problems else None), with_lines(problems, text)


def read_bounded(file: Path) -> dict:
    """The manifest as a dict, parsed only within the validator's bounds (size, aliases, depth); {} for anything
    else. For the harness, which reads identity fields of a folder that may not have been validated."""
    text, problem = _bounded_text(file) if file.is_file() else ("", True)
    if problem is not None:
        return {}
    try:
        _check_structure(text, file)
        doc = yaml.safe_load(text)
    except (_TooComplex, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


class _TooComplex(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _bounded_text(file: Path) -> tuple[str, Problem | None]:
    """The manifest's text, refusing oversized or non-UTF-8 files before any parsing."""
    size = file.stat().st_size
    if size > MAX_BYTES:
        return "", Problem(str(file), f"submission.yaml is {size} bytes, over the {MAX_BYTES}-byte limit",
                           "keep it to the fields of the template (`tito submission new`)")
    try:
        return file.read_bytes().decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return "", Problem(str(file), f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8")


def _check_structure(text: str, file: Path) -> None:
    """Scan the YAML events (cheap, no expansion) and refuse alias bombs and deep nesting before composing."""
    aliases = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _TooComplex(Problem(str(file), f"more than {MAX_ALIASES} YAML aliases (*name): refused before "
                                          "expansion (an alias bomb)", "write the values out; no anchors or aliases are "
                                          "needed", line=event.start_mark.line + 1))
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooComplex(Problem(str(file), f"nested more than {MAX_DEPTH} levels deep",
                                          "use the flat layout of the template", line=event.start_mark.line + 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _events(doc: dict, rules: Rules, file: Path) -> list[Problem]:
    events = doc.get("events")
    if not isinstance(events, list):
        return []
    return [Problem(str(file), f"unknown event {event!r}", "use one of: " + ", ".join(sorted(rules.events)), field=f"events.{i}")
            for i, event in enumerate(events) if isinstance(event, str) and event not in rules.events]


def _placeholders(doc: dict, file: Path) -> list[Problem]:
    """Template text left in place (the scaffold writes TODO markers)."""
    problems = []
    for field in ("athlete_name", "honor_code", "description"):
        value = doc.get(field)
        if isinstance(value, str) and any(mark in value.lower() for mark in PLACEHOLDERS):
            problems.append(Problem(str(file), f"{field} still holds template text", f"write your own {field.replace('_', ' ')}", field=field))
    return problems
