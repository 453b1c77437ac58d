"""`tito submit --validate-only`: every problem of a submission folder or a self-reported submission.json at once.

One module per family of checks: folder (name, files, sizes), manifest (submission.yaml), readme, code (static
check + entry points), closed_division (weights vs the baseline's), report (the course's submission.json).
"""

from __future__ import annotations

from pathlib import Path

from competition.problems import Problem
from competition.rules import Rules, load_rules
from competition.validation import closed_division, code, folder as folder_checks, manifest, readme, report
from competition.validation.base import BASELINE_DIR, REPO_ROOT, CannotValidate

__all__ = ["BASELINE_DIR", "REPO_ROOT", "CannotValidate", "validate_path", "validate_folder", "validate_report_file"]


def validate_path(path: str | Path, rules: Rules | None = None, baseline_dir: Path | None = None) -> list[Problem]:
    """All problems of a submission folder or a submission.json file; [] means valid. Raises CannotValidate."""
    path = Path(path)
    if path.is_dir():
        return validate_folder(path, rules, baseline_dir)
    if path.is_file() and path.suffix == ".json":
        return validate_report_file(path, rules)
    if not path.exists():
        raise CannotValidate(f"{path} does not exist")
    raise CannotValidate(f"{path} is neither a submission folder nor a submission.json file")


def validate_folder(folder: Path, rules: Rules | None = None, baseline_dir: Path | None = None) -> list[Problem]:
    """Every check of submissions/<name>/: folder rules, manifest, README, code, closed division, report."""
    rules = rules or load_rules()
    baseline_dir = baseline_dir or BASELINE_DIR
    doc, found = manifest.check(folder, rules)
    needs_weights = doc is None or any("load" in rules.event(e).entry_points for e in doc["events"])
    problems = folder_checks.check(folder, rules.limits, _same(folder, baseline_dir), needs_weights) + found
    problems += readme.check(folder, rules.limits, doc)
    problems += code.check(folder, rules, doc)
    division = rules.divisions[doc["division"]] if doc is not None else None
    if division is not None and division.architecture_must_match_baseline and not _same(folder, baseline_dir):
        problems += closed_division.check(folder, baseline_dir, division, doc)
    if (folder / "submission.json").is_file():
        problems += validate_report_file(folder / "submission.json", rules)
    return problems


def validate_report_file(path: Path, rules: Rules | None = None) -> list[Problem]:
    """Schema and sanity checks of a self-reported submission.json (checked, never trusted)."""
    return report.check_file(path, rules or load_rules())


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()
