"""Everything the renderers show, computed once from the stored results (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from competition.leaderboard import admission, fields
from competition.leaderboard.awards import Award, all_awards
from competition.leaderboard.badges import Badge, badges
from competition.leaderboard.config import Config
from competition.leaderboard.fields import Result
from competition.leaderboard.progression import Record, record_progression
from competition.leaderboard.rankings import Board, Row, build_boards


@dataclass(frozen=True)
class HistoryEntry:
    """A stored result that does not count now, and why (older harness, disqualified, forged, ...)."""

    result: Result
    reason: str

    @property
    def name(self) -> str:
        """The submission's folder name."""
        return self.result["submission"]["name"]


@dataclass(frozen=True)
class Leaderboard:
    """Rankings, awards, badges and record progression of one store; `history` lists what does not count."""

    config: Config
    results: list[Result]
    boards: list[Board]
    awards: list[Award]
    badges: dict[str, list[Badge]]
    records: dict[tuple[str, str], list[Record]]
    history_entries: list[HistoryEntry] = field(default_factory=list)
    revealed: bool = False

    @cached_property
    def current(self) -> list[Result]:
        """Latest counted run per submission x event x runner class x split."""
        return fields.current_results(self.results)

    @cached_property
    def _runs(self) -> dict[str, list[Result]]:
        runs: dict[str, list[Result]] = defaultdict(list)
        for result in sorted(self.results, key=fields.run_order):
            runs[result["submission"]["name"]].append(result)
        return runs

    @cached_property
    def _current_by_name(self) -> dict[str, list[Result]]:
        found: dict[str, list[Result]] = defaultdict(list)
        for result in self.current:
            found[result["submission"]["name"]].append(result)
        return found

    @cached_property
    def _placements(self) -> dict[str, list[tuple[Board, Row]]]:
        found: dict[str, list[tuple[Board, Row]]] = defaultdict(list)
        for board in self.boards:
            for row in board.ranked + board.unranked:
                found[row.name].append((board, row))
        return found

    def current_of(self, submission: str) -> list[Result]:
        """The current runs of one submission."""
        return self._current_by_name.get(submission, [])

    def placements(self, submission: str) -> list[tuple[Board, Row]]:
        """Every board row of one submission, in board order."""
        return self._placements.get(submission, [])

    @property
    def submissions(self) -> list[str]:
        """All submission names with a counted result, sorted."""
        return sorted({r["submission"]["name"] for r in self.results})

    def shown_boards(self, official: bool) -> list[Board]:
        """Official or unofficial boards to render: every event ranking, category rankings with entries."""
        return [b for b in self.boards if b.official == official and (b.category is None or b.ranked)]

    def view_boards(self, category_id: str) -> list[Board]:
        """Official public boards of one category that have entries (the summary views show their podiums)."""
        return [b for b in self.boards if b.official and b.split == "public" and b.category_id == category_id
                and b.ranked]

    def not_ranked(self) -> list[tuple[Board, Row]]:
        """Entries left off an event ranking, with the reason. (Why an entry is not on a category ranking is on its
        submission page: listing every category here would grow with entries x categories.)"""
        return [(board, row) for board in self.boards if board.category is None for row in board.unranked]

    def history(self, submission: str) -> list[Result]:
        """Every counted run of one submission, oldest first."""
        return self._runs.get(submission, [])


def admit(results: list[Result], policy: admission.Policy,
          score_checks: dict[str, admission.Problem | None] | None = None) -> tuple[list[Result], list[HistoryEntry]]:
    """Split stored results into those that count and history entries with the reason they do not.
    `score_checks`: {result_id: score problem} already known (from the check index); others are computed."""
    counted, history = [], []
    for result in results:
        problems = admission.problems(result, policy, known=score_checks)
        if problems:
            history.append(HistoryEntry(result, "; ".join(str(p) for p in problems)))
        else:
            counted.append(result)
    return counted, history


def assemble(results: list[Result], award_entries: list[dict[str, Any]], config: Config,
             history: list[HistoryEntry] | None = None, reveal: bool = False) -> Leaderboard:
    """Compute the whole leaderboard from counted results, the maintainers' awards and the config."""
    ordered = sorted(results, key=lambda r: r["result_id"])
    boards = build_boards(ordered, reveal=reveal)
    return Leaderboard(config, ordered, boards, all_awards(boards, award_entries), badges(boards),
                       record_progression(ordered),
                       sorted(history or [], key=lambda h: h.result["result_id"]), reveal)
