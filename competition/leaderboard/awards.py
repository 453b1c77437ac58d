"""Awards: category champions and Overall Systems Engineer (computed), Innovation and Teaching (awards.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from competition.leaderboard.rankings import Board

MAINTAINER_AWARDS = {"innovation": "Innovation", "teaching": "Teaching"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AwardsError(ValueError):
    """awards.yaml is malformed."""


@dataclass(frozen=True)
class Award:
    """An award given to one or more submissions (several when they tie)."""

    id: str
    title: str
    submissions: tuple[str, ...]
    detail: str


def load_awards(path: str | Path) -> list[dict[str, str]]:
    """Read the maintainers' awards file: a list of {award: innovation|teaching, submission, note}. Missing = []."""
    source = Path(path)
    if not source.exists():
        return []
    try:
        entries = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AwardsError(f"{source}: not valid YAML: {exc}") from exc
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise AwardsError(f"{source}: must be a list of awards; fix: see the commented example in the file")
    for i, entry in enumerate(entries):
        where = f"{source}: entry {i + 1}"
        if not isinstance(entry, dict) or set(entry) - {"award", "submission", "note"}:
            raise AwardsError(f"{where}: must be a mapping with keys award, submission, note")
        if entry.get("award") not in MAINTAINER_AWARDS:
            raise AwardsError(f"{where} [award]: {entry.get('award')!r}; fix: use one of {sorted(MAINTAINER_AWARDS)}")
        if not isinstance(entry.get("submission"), str) or not _NAME.match(entry["submission"]):
            raise AwardsError(f"{where} [submission]: must be a submissions/<name> folder name")
        if not isinstance(entry.get("note", ""), str):
            raise AwardsError(f"{where} [note]: must be text")
    return [{"award": e["award"], "submission": e["submission"], "note": e.get("note", "")} for e in entries]


def category_champions(boards: list[Board]) -> list[Award]:
    """Rank-1 entries of every official category board (ties share the title)."""
    return [
        Award(f"champion/{board.id}", f"{board.category.title} champion",
              tuple(row.name for row in board.ranked if row.rank == 1), board.where)
        for board in boards
        if board.official and board.category is not None and board.ranked
    ]


def systems_engineers(boards: list[Board]) -> list[Award]:
    """Overall Systems Engineer per division: lowest sum of ranks over the official event rankings.

    A submission missing from an event (or not ranked in it) counts as last + 1 there.
    """
    awards = []
    event_boards = [b for b in boards if b.official and b.category is None]
    for division in sorted({b.division for b in event_boards}):
        mine = [b for b in event_boards if b.division == division]
        entrants = sorted({row.name for b in mine for row in b.ranked})
        if not entrants:
            continue
        ranks = [({row.name: row.rank for row in b.ranked}, len(b.ranked) + 1) for b in mine]
        totals = {name: sum(ranked.get(name, last) for ranked, last in ranks) for name in entrants}
        best = min(totals.values())
        awards.append(Award(f"systems_engineer/{division}", "Overall Systems Engineer",
                            tuple(n for n in entrants if totals[n] == best),
                            f"{division} division: combined rank {best} over {len(mine)} event(s)"))
    return awards


def maintainer_awards(entries: list[dict[str, str]]) -> list[Award]:
    """Awards from awards.yaml, in file order."""
    return [Award(f"{e['award']}/{e['submission']}", MAINTAINER_AWARDS[e["award"]], (e["submission"],), e["note"])
            for e in entries]


def all_awards(boards: list[Board], entries: list[dict[str, Any]]) -> list[Award]:
    """Every award: computed ones first, then the maintainers'."""
    return systems_engineers(boards) + category_champions(boards) + maintainer_awards(entries)
