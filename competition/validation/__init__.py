"""`tito submit --validate-only`: every problem of a submission folder or a self-reported submission.json at once.

One module per family of checks: folder (name, files, sizes), manifest (submission.yaml), readme, code (static
check + entry points), weights (every .npz: safe, finite), closed_division (the weights express the baseline's
models: competition.conformance), report (the course's submission.json), and loads (the entry, once it passes
all of those, imports, loads and answers one request per event in the jail). A check that breaks on hostile input
becomes a problem naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from competition.problems import Problem
from competition.rules import Rules, load_rules
from competition.validation import (closed_division, code, folder as folder_checks, loads, manifest, readme, report,
                                   weights)
from competition.validation.base import BASELINE_DIR, REPO_ROOT, CannotValidate

__all__ = ["BASELINE_DIR", "REPO_ROOT", "CannotValidate", "validate_path", "validate_folder", "validate_for_run",
           "validate_report_file"]


def validate_path(path: str | Path, rules: Rules | None = None, baseline_dir: Path | None = None,
                  run_entry: bool = False) -> list[Problem]:
    """All problems of a submission folder or a submission.json file; [] means valid. Raises CannotValidate.
    `run_entry`: a folder that passes every static check must also load and answer one request per event."""
    path = Path(path)
    if path.is_dir():
        return validate_folder(path, rules, baseline_dir, run_entry)
    if path.is_file() and path.suffix == ".json":
        return validate_report_file(path, rules)
    if not path.exists():
        raise CannotValidate(f"{path} does not exist")
    raise CannotValidate(f"{path} is neither a submission folder nor a submission.json file")


def validate_folder(folder: Path, rules: Rules | None = None, baseline_dir: Path | None = None,
                    run_entry: bool = False) -> list[Problem]:
    """Every check of submissions/<name>/: folder rules, manifest, README, code, closed division, report; with
    `run_entry`, then (only if all of those pass) load() and one answer per event in the jail (loads.py)."""
    rules = rules or load_rules()
    baseline_dir = baseline_dir or BASELINE_DIR
    doc, problems = _folder_and_manifest(folder, rules, baseline_dir)
    problems += _guarded(folder / "README.md", lambda: readme.check(folder, rules.limits, doc))
    problems += _guarded(folder / "model.py", lambda: code.check(folder, rules, doc))
    problems += _guarded(folder, lambda: weights.check(folder, rules.limits))
    division = rules.divisions[doc["division"]] if doc is not None else None
    if division is not None and division.architecture_must_match_baseline and not _same(folder, baseline_dir):
        problems += _guarded(folder, lambda: closed_division.check(folder, baseline_dir, doc))
    if (folder / "submission.json").is_file():
        problems += _guarded(folder / "submission.json", lambda: validate_report_file(folder / "submission.json", rules))
    problems = list(dict.fromkeys(problems))  # an unreadable .npz is reported once, not by every check
    if run_entry and not problems and doc is not None:
        problems = _guarded(folder / "model.py", lambda: loads.check(folder, rules, doc))
    return problems


def validate_for_run(folder: Path, rules: Rules | None = None, baseline_dir: Path | None = None) -> list[Problem]:
    """What `tito benchmark run` checks before it measures: the folder (name, files) and its submission.yaml, with
    the messages `tito submit --validate-only` gives (the code is checked by the run itself)."""
    return list(dict.fromkeys(_folder_and_manifest(folder, rules or load_rules(), baseline_dir or BASELINE_DIR)[1]))


def _folder_and_manifest(folder: Path, rules: Rules, baseline_dir: Path) -> tuple[dict | None, list[Problem]]:
    """(the manifest if valid, the problems of the folder rules and of submission.yaml)."""
    doc, found = manifest.check(folder, rules)
    needs_weights = doc is None or any("load" in rules.event(e).entry_points for e in doc["events"])
    return doc, folder_checks.check(folder, rules.limits, _same(folder, baseline_dir), needs_weights) + found


def _guarded(where: Path, check: Callable[[], list[Problem]]) -> list[Problem]:
    """Run one family of checks; hostile input that breaks it becomes a problem, not a traceback."""
    try:
        return check()
    except CannotValidate:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OSError, RecursionError, MemoryError, UnicodeError) as exc:
        return [Problem(str(where), f"could not be checked: {type(exc).__name__}: {exc}"[:300],
                        "make the file well-formed (UTF-8 text, plain numeric .npz); if it is, report a validator bug")]


def validate_report_file(path: Path, rules: Rules | None = None) -> list[Problem]:
    """Schema and sanity checks of a self-reported submission.json (checked, never trusted)."""
    return report.check_file(path, rules or load_rules())


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()
