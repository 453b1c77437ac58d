"""submission.yaml: parse, validate against submission.schema.json, and check events and division exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from competition.problems import Problem
from competition.rules import Rules
from competition.rules.schema import schema_problems, with_lines

PLACEHOLDERS = ("todo", "tbd", "fixme", "xxx", "changeme", "your name")


def check(folder: Path, rules: Rules) -> tuple[dict | None, list[Problem]]:
    """(the manifest if it is valid, else None; its problems)."""
    file = folder / "submission.yaml"
    if not file.is_file():
        return None, []  # reported by the folder checks
    text = file.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(str(file), f"not valid YAML: {getattr(exc, 'problem', exc)}", "fix the YAML syntax",
                              line=mark.line + 1 if mark else None)]
    problems = schema_problems(doc, "submission", str(file))
    if isinstance(doc, dict):
        problems += _events(doc, rules, file) + _placeholders(doc, file)
    return (doc if not problems else None), with_lines(problems, text)


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
