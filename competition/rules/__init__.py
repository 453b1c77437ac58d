"""Rules as data: load and validate competition/rules/*.yaml against competition/schemas/rules_*.schema.json."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from competition.problems import Problem
from competition.rules.model import Category, Division, Event, Limits, Rules, freeze
from competition.rules.schema import schema_problems, with_lines

RULES_DIR = Path(__file__).resolve().parent

__all__ = ["Category", "Division", "Event", "Limits", "Rules", "RulesError", "load_rules", "RULES_DIR"]


class RulesError(ValueError):
    """The rules files are invalid; `problems` names every file, field and fix."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("invalid rules:\n" + "\n".join(f"  {p}" for p in problems))


def load_rules(path: str | Path | None = None) -> Rules:
    """Load and validate the rules directory (default: competition/rules/). Raises RulesError listing all problems."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Rules:
    return _load(RULES_DIR)


def _load(root: Path) -> Rules:
    problems: list[Problem] = []
    docs = {name: _read(root / f"{name}.yaml", f"rules_{name}", problems) for name in ("categories", "divisions", "limits")}
    event_files = sorted((root / "events").glob("*.yaml"))
    if not event_files:
        problems.append(Problem(str(root / "events"), "no event files", "add events/<id>.yaml, one per event"))
    events = {}
    for file in event_files:
        doc = _read(file, "rules_event", problems)
        if doc is None:
            continue
        if doc["id"] != file.stem:
            problems.append(Problem(str(file), f"id {doc['id']!r} differs from the file name", f"rename the file to {doc['id']}.yaml or set id: {file.stem}", field="id"))
        events[doc["id"]] = Event(**{k: freeze(v) for k, v in doc.items()}, source=file)
    if problems:
        raise RulesError(problems)
    categories = {c["id"]: Category(**freeze(c)) for c in docs["categories"]["categories"]}
    divisions = {d["id"]: Division(**freeze(d)) for d in docs["divisions"]["divisions"]}
    limits = Limits(**{k: freeze(v) for k, v in docs["limits"].items()})
    problems += _cross_checks(root, events, categories, limits)
    if problems:
        raise RulesError(problems)
    resolutions = {t["rank_by"]: t for t in docs["categories"].get("tie_resolutions", [])}
    return Rules(events=freeze(events), categories=freeze(categories), divisions=freeze(divisions), limits=limits, root=root,
                 tie_resolutions=freeze(resolutions))


def _read(file: Path, schema_name: str, problems: list[Problem]) -> dict | None:
    """Parse one YAML file and validate it; append problems and return None when it is unusable."""
    try:
        text = file.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
    except FileNotFoundError:
        problems.append(Problem(str(file), "file is missing", f"restore {file.name} from git"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem(str(file), f"not valid YAML: {getattr(exc, 'problem', exc)}", "fix the YAML syntax", line=line))
        return None
    found = with_lines(schema_problems(doc, schema_name, str(file)), text)
    problems.extend(found)
    return None if found else doc


def _cross_checks(root: Path, events: dict, categories: dict, limits: Limits) -> list[Problem]:
    """References between files: category floors name real categories and events."""
    file = str(root / "limits.yaml")
    problems = []
    for category_id, entry in limits.category_accuracy_floors.items():
        if category_id not in categories:
            problems.append(Problem(file, f"unknown category {category_id!r}", "use one of: " + ", ".join(categories), field=f"category_accuracy_floors.{category_id}"))
        for i, event_id in enumerate(entry["events"]):
            if event_id not in events:
                problems.append(Problem(file, f"unknown event {event_id!r}", "use one of: " + ", ".join(sorted(events)), field=f"category_accuracy_floors.{category_id}.events.{i}"))
    return problems
