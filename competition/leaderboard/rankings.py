"""Rankings ("boards"): one per event x division x runner class, and one per category x official event x division.

Only qualified results are ranked; the others are listed with the reason. Two entries tie (same rank, "=") when the
later one's 95 % CI overlaps the CI of the first entry of its tie group; metrics without a CI tie on equal values.
Ranks are competition ranks (1, =2, =2, 4). Closed and open divisions are ranked separately.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from competition.leaderboard import fields
from competition.leaderboard.categories import SPEEDUP, Category, Metric, categories, event_order
from competition.leaderboard.fields import Result


@dataclass(frozen=True)
class Row:
    """One result on one board: a rank (None if not ranked), whether it shares it, and why it is not ranked."""

    result: Result
    rank: int | None = None
    tied: bool = False
    reason: str | None = None

    @property
    def name(self) -> str:
        """The submission's folder name."""
        return self.result["submission"]["name"]


@dataclass(frozen=True)
class Board:
    """A ranking table. `category` is None for the event ranking itself."""

    id: str
    category: Category | None
    event_id: str
    event_name: str
    division: str
    runner_class: str
    official: bool
    metric: Metric
    ranked: tuple[Row, ...]
    unranked: tuple[Row, ...]

    @property
    def category_id(self) -> str:
        """The category id, or "event" for an event ranking (used by filters)."""
        return self.category.id if self.category else "event"

    @property
    def where(self) -> str:
        """Event, division and (unless reference) runner, e.g. "CNN Marathon · closed · edge runner"."""
        runner = "" if self.runner_class == "reference" else f" · {self.runner_class} runner"
        return f"{self.event_name} · {self.division}{runner}"

    @property
    def title(self) -> str:
        """Human title, e.g. "Speed Demon: CNN Marathon · closed"."""
        return f"{self.category.title}: {self.where}" if self.category else self.where

    def row_for(self, submission: str) -> Row | None:
        """The row of `submission` on this board, if it is on it."""
        return next((row for row in self.ranked + self.unranked if row.name == submission), None)


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def rank_rows(results: list[Result], metric: Metric, order: Callable[[Result], tuple]) -> list[Row]:
    """Rank results that all have a metric value in `order` (best first); ties by CI overlap with the group's
    first entry, or by equal values when the metric has no CI."""
    ordered = sorted(results, key=order)
    groups: list[list[Result]] = []
    for result in ordered:
        leader = groups[-1][0] if groups else None
        if leader is not None and _same(leader, result, metric):
            groups[-1].append(result)
        else:
            groups.append([result])
    rows, position = [], 1
    for group in groups:
        rows += [Row(result, position, len(group) > 1) for result in group]
        position += len(group)
    return rows


def _same(leader: Result, result: Result, metric: Metric) -> bool:
    if metric.interval is not None:
        return _overlap(metric.interval(leader), metric.interval(result))
    return metric.value(leader) == metric.value(result)


def _category_reason(result: Result, category: Category | None, metric: Metric) -> str | None:
    reason = fields.not_qualified_reason(result)
    if reason is None and category is not None:
        verdict = result["scores"]["categories"].get(category.id)
        if verdict is None:
            reason = f"not assessed for {category.title} by the harness"
        elif not verdict["eligible"]:
            reason = f"not eligible for {category.title}: {verdict['reason'] or 'no reason given'}"
    if reason is None and metric.value(result) is None:
        reason = f"{metric.label.lower()} not measured"
        energy = fields.candidate(result).get("energy") or {}
        if metric.column == "energy" and energy.get("reason"):
            reason += f" ({energy['reason']})"
    return reason


def make_board(results: list[Result], category: Category | None, official: bool) -> Board:
    """Rank `results` (one event, division and runner class) for `category` (None = the event ranking)."""
    metric = category.metric if category else SPEEDUP
    order = category.order if category else event_order()
    first = results[0]
    reasons = {r["result_id"]: _category_reason(r, category, metric) for r in results}
    ranked = rank_rows([r for r in results if reasons[r["result_id"]] is None], metric, order)
    unranked = [Row(r, reason=reasons[r["result_id"]]) for r in results if reasons[r["result_id"]] is not None]
    event_id, division, runner = first["event"]["id"], first["submission"]["division"], first["runner"]["class"]
    board_id = f"{category.id + '/' if category else ''}{event_id}/{division}/{runner}"
    return Board(board_id, category, event_id, first["event"]["name"], division, runner, official, metric,
                 tuple(ranked), tuple(sorted(unranked, key=lambda row: row.name)))


def build_boards(results: list[Result]) -> list[Board]:
    """All boards from stored results (current runs only): official first, then by event, division, category."""
    groups: dict[tuple[str, str, str], list[Result]] = defaultdict(list)
    for result in fields.current_results(results):
        groups[(result["event"]["id"], result["submission"]["division"], result["runner"]["class"])].append(result)
    boards = []
    for (_, _, runner), group in sorted(groups.items()):
        official_event = all(r["event"]["official"] for r in group)
        if not (official_event and runner == "edge"):  # official edge results are ranked by Edge Expert
            boards.append(make_board(group, None, official_event and runner == "reference"))
        if official_event:
            boards += [make_board(group, c, True) for c in categories() if runner in c.runner_classes]
    order = {c.id: i + 1 for i, c in enumerate(categories())}
    return sorted(boards, key=lambda b: (not b.official, order.get(b.category_id, 0), b.event_id, b.division,
                                         b.runner_class))


def _projection(board: Board, row: Row) -> dict[str, Any]:
    return {
        "event": board.event_id, "event_name": board.event_name,
        "category": board.category.id if board.category else None,
        "category_title": board.category.title if board.category else None,
        "division": board.division, "runner_class": board.runner_class, "official": board.official,
        "title": board.title, "metric": board.metric.label, "value": board.metric.value(row.result),
        "rank": row.rank, "tied": row.tied, "of": len(board.ranked), "reason": row.reason,
    }


def projected_ranks(store_results: list[Result], new_results: list[Result]) -> dict[str, dict[str, Any]]:
    """Rank the new results of one submission as if they were stored (replacing its earlier runs of the same key).

    Keys are board ids ("<event>/<division>/<runner>" or "<category>/<event>/<division>/<runner>"); each value holds
    rank (None if not ranked), tied, of (number ranked), reason (why not ranked) and the board's labels.
    """
    names = {r["submission"]["name"] for r in new_results}
    if len(names) != 1:
        raise ValueError(f"projected_ranks needs results of exactly one submission, got {sorted(names)}")
    (name,) = names
    replaced = {fields.run_key(r) for r in new_results}
    merged = [r for r in store_results if fields.run_key(r) not in replaced] + list(new_results)
    projection: dict[str, dict[str, Any]] = {}
    for board in build_boards(merged):
        row = board.row_for(name)
        if row is not None:
            projection[board.id] = _projection(board, row)
    for result in new_results:
        event_id, division, runner = result["event"]["id"], result["submission"]["division"], result["runner"]["class"]
        for category in categories():
            key = f"{category.id}/{event_id}/{division}/{runner}"
            if key not in projection:
                why = ("categories rank official events only" if not result["event"]["official"]
                       else f"{category.title} ranks results from the {' or '.join(category.runner_classes)} "
                            "runner only")
                projection[key] = {"event": event_id, "event_name": result["event"]["name"],
                                   "category": category.id, "category_title": category.title,
                                   "division": division, "runner_class": runner,
                                   "official": False,
                                   "title": f"{category.title}: {result['event']['name']} · {division}",
                                   "metric": category.metric.label, "value": None, "rank": None, "tied": False,
                                   "of": None, "reason": why}
    return dict(sorted(projection.items()))
