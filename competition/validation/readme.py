"""README.md: the required sections (performance report, reproduction guide) and every technique explained."""

from __future__ import annotations

import re
from pathlib import Path

from competition.problems import Problem
from competition.rules import Limits

HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def headings(text: str) -> list[str]:
    """The Markdown ATX headings of `text`, in order."""
    return [h.strip() for h in HEADING.findall(text)]


def mentions(text: str, technique: str) -> bool:
    """True if README text names the technique (underscores and hyphens may be written as spaces)."""
    words = re.split(r"[_\-\s]+", technique.lower())
    return re.search(r"[_\-\s]+".join(map(re.escape, words)), text.lower()) is not None


def check(folder: Path, limits: Limits, manifest: dict | None) -> list[Problem]:
    """Missing required sections and techniques from submission.yaml that README.md never mentions."""
    file = folder / "README.md"
    if not file.is_file():
        return []  # reported by the folder checks
    text = file.read_text(encoding="utf-8", errors="replace")
    found = [h.lower() for h in headings(text)]
    problems = [Problem(str(file), f"missing the '{s['heading']}' section ({s['purpose']})",
                        f"add a heading that starts with '## {s['heading']}'", field=f"section '{s['heading']}'")
                for s in limits.readme_required_sections if not any(h.startswith(s["heading"].lower()) for h in found)]
    for i, technique in enumerate((manifest or {}).get("techniques_used", [])):
        if not mentions(text, technique):
            problems.append(Problem(str(file), f"technique {technique!r} from submission.yaml is not explained",
                                    f"describe what {technique!r} changes and why in README.md", field=f"techniques_used.{i}"))
    return problems
