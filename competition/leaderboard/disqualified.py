"""leaderboard/disqualified.yaml: submissions the maintainers disqualified (added in a reviewed pull request).

A disqualified submission drops out of every current board; its stored results stay in the store as history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class DisqualifiedError(ValueError):
    """disqualified.yaml is malformed."""


@dataclass(frozen=True)
class Disqualification:
    """One disqualified submission and why."""

    submission: str
    reason: str


def load_disqualified(path: str | Path) -> dict[str, Disqualification]:
    """{submission name: Disqualification}; a missing file means nobody is disqualified."""
    source = Path(path)
    if not source.exists():
        return {}
    try:
        entries = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DisqualifiedError(f"{source}: not valid YAML: {exc}") from None
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise DisqualifiedError(f"{source}: must be a list of {{submission, reason}}; fix: see the example in the file")
    found = {}
    for i, entry in enumerate(entries):
        where = f"{source} [{i}]"
        if not isinstance(entry, dict) or set(entry) != {"submission", "reason"}:
            raise DisqualifiedError(f"{where}: must be a mapping with exactly the keys submission, reason")
        if not isinstance(entry["submission"], str) or not _NAME.match(entry["submission"]):
            raise DisqualifiedError(f"{where}.submission: must be a submissions/<name> folder name")
        if not isinstance(entry["reason"], str) or not entry["reason"].strip():
            raise DisqualifiedError(f"{where}.reason: say why (it is shown on the leaderboard)")
        found[entry["submission"]] = Disqualification(entry["submission"], entry["reason"].strip())
    return found
