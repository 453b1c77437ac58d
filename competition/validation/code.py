"""model.py: the sandbox's static check (allowed imports, no escape hatches) and the entry points events need."""

from __future__ import annotations

import ast
from pathlib import Path

from competition.measure.source_payload import payload_problems
from competition.problems import Problem
from competition.validation.base import CannotValidate
from competition.rules import Rules

SIGNATURES = {
    "load": "def load(event: str) -> object",
    "predict": "def predict(model, inputs: np.ndarray) -> np.ndarray",
    "train": "def train(event: str, inputs: np.ndarray, labels: np.ndarray, seed: int) -> Iterator[object]",
    "next_token_logits": "def next_token_logits(model, tokens: np.ndarray) -> np.ndarray",
    "generate": "def generate(model, prompt: np.ndarray, max_new_tokens: int) -> np.ndarray",
}


def check(folder: Path, rules: Rules, manifest: dict | None) -> list[Problem]:
    """Static-check problems of every .py file, entry points missing from model.py, and literal data beyond what a
    training entry may carry."""
    training = [e for e in (manifest or {}).get("events", []) if rules.event(e).kind == "training"]
    return _static(folder) + _entry_points(folder, rules, manifest) + payload_problems(folder, training)


def _static(folder: Path) -> list[Problem]:
    try:
        from competition.sandbox.static_check import check_folder
    except ImportError as exc:
        raise CannotValidate(f"the static code check is unavailable: {exc}") from exc
    return [Problem(str(folder / p.file), p.message, p.hint, field=p.field, line=p.line) for p in check_folder(folder)]


def defined_functions(source: str) -> set[str] | None:
    """Names of the top-level functions of a module source; None if it does not parse (the static check reports
    the syntax error once: a file that does not parse has no functions to miss)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _entry_points(folder: Path, rules: Rules, manifest: dict | None) -> list[Problem]:
    file = folder / "model.py"
    if manifest is None or not file.is_file():
        return []
    defined = defined_functions(file.read_text(encoding="utf-8", errors="replace"))
    if defined is None:
        return []
    needed: dict[str, list[str]] = {}
    for event_id in manifest["events"]:
        for name in rules.event(event_id).entry_points:
            needed.setdefault(name, []).append(event_id)
    return [Problem(str(file), f"no top-level function {name!r}, needed by {', '.join(events)}",
                    f"add `{SIGNATURES[name]}` (see docs/architecture.md)", field=name)
            for name, events in needed.items() if name not in defined]
