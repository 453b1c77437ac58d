"""Badges: top 10 % of a category ranking, and Triple Crown (top 10 % of three official event rankings)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from competition.leaderboard.rankings import Board

TOP_FRACTION = 0.10
TRIPLE_CROWN_EVENTS = 3


@dataclass(frozen=True)
class Badge:
    """A badge earned by a submission."""

    id: str
    label: str
    detail: str


def top_names(board: Board) -> list[str]:
    """Submissions in the top 10 % of a board (at least the rank-1 entries)."""
    cutoff = max(1, math.ceil(TOP_FRACTION * len(board.ranked)))
    return [row.name for row in board.ranked if row.rank is not None and row.rank <= cutoff]


def badges(boards: list[Board]) -> dict[str, list[Badge]]:
    """Badges per submission name, in board order."""
    earned: dict[str, list[Badge]] = defaultdict(list)
    crowns: dict[str, set[str]] = defaultdict(set)
    for board in (b for b in boards if b.official):
        for name in top_names(board):
            if board.category is None:
                crowns[name].add(board.event_name)
            else:
                earned[name].append(Badge(f"top10/{board.id}", f"Top 10 % {board.category.title}",
                                          board.where))
    for name, events in crowns.items():
        if len(events) >= TRIPLE_CROWN_EVENTS:
            earned[name].insert(0, Badge("triple_crown", "Triple Crown",
                                         "top 10 % in " + ", ".join(sorted(events))))
    return dict(sorted(earned.items()))
