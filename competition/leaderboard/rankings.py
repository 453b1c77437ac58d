"""Rankings ("boards"): one per event x division x runner class (x split), and one per category on each of them.

Tie rule (one rule, every pair): two entries share a rank when their 95 % intervals overlap, directly or through a
chain of overlapping entries (the connected components of the "intervals overlap" relation; a point estimate lies
inside its interval, so every group is a contiguous run of the value order). A value ranked at a stated resolution
(peak memory, competition/rules/categories.yaml `tie_resolutions`) has the interval value x (1 -+ resolution / 2).
Other metrics tie on equal values. Ranks are competition ranks (1, =2, =2, 4): no "=3 and =5" is possible.

Only entries that beat the baseline beyond the noise are ranked (competition.scoring decides: category eligibility,
and for an event ranking its primary metric's baseline gap), and only entries strictly better than the baseline's
value measured in their own run (the reference line; a pure function of the stored result, whatever the stored
verdict says); everything else is listed with the reason. The baseline submission is never an entrant: it is the
reference line of every board. Closed and open divisions are ranked
separately; public- and private-split runs too (private boards only with --reveal).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from competition import scoring
from competition.leaderboard import fields, formatting
from competition.leaderboard.categories import Category, Metric, categories, event_metric
from competition.leaderboard.fields import Result

BASELINE = "baseline"  # the reference entrant's folder name (a reserved name, competition/rules/limits.yaml)


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
    """A ranking table. `category` is None for the event ranking itself. `reference` is the baseline's value of
    the metric (the reference line, from the latest run), `reference_span` its range over the board's runs (each
    entry is compared with the baseline of its own run), `split` the evaluation split ("public", or "private" when
    revealed)."""

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
    reference: float | None = None
    split: str = "public"
    reference_span: tuple[float, float] | None = None  # lowest and highest baseline value over the board's runs

    @property
    def category_id(self) -> str:
        """The category id, or "event" for an event ranking (used by filters)."""
        return self.category.id if self.category else "event"

    @property
    def where(self) -> str:
        """Event, division and (unless reference) runner, e.g. "CNN Marathon · closed · edge runner"."""
        runner = "" if self.runner_class == "reference" else f" · {self.runner_class} runner"
        split = " · private split" if self.split == "private" else ""
        return f"{self.event_name} · {self.division}{runner}{split}"

    @property
    def title(self) -> str:
        """Human title, e.g. "Speed Demon: CNN Marathon · closed"."""
        return f"{self.category.title}: {self.where}" if self.category else self.where

    def row_for(self, submission: str) -> Row | None:
        """The row of `submission` on this board, if it is on it."""
        return next((row for row in self.ranked + self.unranked if row.name == submission), None)


def tie_groups(results: list[Result], metric: Metric) -> list[list[Result]]:
    """Results (all with a value) in rank order, grouped by the tie rule of this module's docstring."""
    ordered = sorted(results, key=metric.order)
    if metric.interval is None:
        groups: list[list[Result]] = []
        for result in ordered:
            if groups and metric.value(groups[-1][-1]) == metric.value(result):
                groups[-1].append(result)
            else:
                groups.append([result])
        return groups
    # connected components of overlapping intervals: sweep by lower bound, keep the running upper bound
    spans = sorted((*_interval_or_point(r, metric), i) for i, r in enumerate(ordered))
    component, reach, current = {}, None, -1
    for lo, hi, i in spans:
        if reach is None or lo > reach:
            current, reach = current + 1, hi
        reach = max(reach, hi)
        component[i] = current
    groups, seen = [], {}
    for i, result in enumerate(ordered):
        if component[i] not in seen:
            seen[component[i]] = len(groups)
            groups.append([])
        groups[seen[component[i]]].append(result)
    return groups


def _interval_or_point(result: Result, metric: Metric) -> tuple[float, float]:
    interval = metric.interval(result)
    return interval if interval is not None else (metric.value(result), metric.value(result))


def rank_rows(results: list[Result], metric: Metric) -> list[Row]:
    """Competition ranks for results that all have a metric value."""
    rows, position = [], 1
    for group in tie_groups(results, metric):
        rows += [Row(result, position, len(group) > 1) for result in group]
        position += len(group)
    return rows


def _reason(result: Result, category: Category | None, metric: Metric) -> str | None:
    reason = fields.not_qualified_reason(result)
    if reason is None and category is not None:
        verdict = result["scores"]["categories"].get(category.id)
        if verdict is None:
            reason = f"not assessed for {category.title} by the harness"
        elif not verdict["eligible"]:
            reason = verdict["reason"] or "not eligible (no reason given)"
    if reason is None and metric.value(result) is None:
        reason = f"{formatting.lower_first(metric.label)} not measured"
        energy = fields.candidate(result).get("energy") or {}
        if metric.column == "energy" and energy.get("reason"):
            reason += f" ({energy['reason']})"
    if reason is None and category is None:
        gap = scoring.baseline_gap(metric.rank_by, result["scores"], result["candidate"], result["baseline"])
        reason = None if gap is None else f"does not beat the baseline: {gap}"
    return reason or _below_reference(result, metric)


def _below_reference(result: Result, metric: Metric) -> str | None:
    """Why a result is not strictly better than the baseline's value measured in its own run, or None if it is."""
    value, reference = metric.value(result), metric.reference(result)
    if value is None or reference is None or metric.better(value, reference):
        return None
    mine, theirs = (formatting.metric_value(metric.rank_by, v) for v in (value, reference))
    return (f"not above the baseline's reference line: {formatting.lower_first(metric.label)} {mine} vs the "
            f"baseline's {theirs} in the same run")


def _reference(results: list[Result], metric: Metric) -> float | None:
    """The baseline's value on this board, from the most recent run (every run measures the baseline too)."""
    for result in sorted(results, key=fields.run_order, reverse=True):
        value = metric.reference(result)
        if value is not None:
            return value
    return None


def _reference_span(results: list[Result], metric: Metric) -> tuple[float, float] | None:
    """The lowest and highest baseline value over the board's runs (None when none was measured)."""
    values = [v for v in map(metric.reference, results) if v is not None]
    return (min(values), max(values)) if values else None


def make_board(results: list[Result], category: Category | None, official: bool) -> Board:
    """Rank `results` (one event, division, runner class and split) for `category` (None = the event ranking)."""
    first = results[0]
    event_id, division, runner = first["event"]["id"], first["submission"]["division"], first["runner"]["class"]
    metric = category.metric if category else event_metric(event_id)
    entrants = [r for r in results if r["submission"]["name"] != BASELINE]
    reasons = {r["result_id"]: _reason(r, category, metric) for r in entrants}
    ranked = rank_rows([r for r in entrants if reasons[r["result_id"]] is None], metric)
    unranked = [Row(r, reason=reasons[r["result_id"]]) for r in entrants if reasons[r["result_id"]] is not None]
    split = fields.visibility(first)
    board_id = (f"{'private/' if split == 'private' else ''}{category.id + '/' if category else ''}"
                f"{event_id}/{division}/{runner}")
    return Board(board_id, category, event_id, first["event"]["name"], division, runner, official, metric,
                 tuple(ranked), tuple(sorted(unranked, key=lambda row: row.name)), _reference(results, metric),
                 split, _reference_span(results, metric))


def build_boards(results: list[Result], reveal: bool = False) -> list[Board]:
    """All boards from current results: official first, then by event, division, category. Private-split boards
    only when `reveal` (end of season)."""
    groups: dict[tuple[str, str, str, str], list[Result]] = defaultdict(list)
    for result in fields.current_results(results):
        split = fields.visibility(result)
        if split == "public" or reveal:
            groups[(split, result["event"]["id"], result["submission"]["division"],
                    result["runner"]["class"])].append(result)
    boards = []
    for (_, _, _, runner), group in sorted(groups.items()):
        official = all(r["event"]["official"] for r in group) and runner != "local"
        if not (official and runner == "edge"):  # official edge results are ranked by Edge Expert
            boards.append(make_board(group, None, official))
        boards += [make_board(group, c, official) for c in categories() if runner in c.runner_classes]
    order = {c.id: i + 1 for i, c in enumerate(categories())}
    return sorted(boards, key=lambda b: (not b.official, b.split, order.get(b.category_id, 0), b.event_id,
                                         b.division, b.runner_class))


def _projection(board: Board, row: Row) -> dict[str, Any]:
    return {
        "event": board.event_id, "event_name": board.event_name,
        "category": board.category.id if board.category else None,
        "category_title": board.category.title if board.category else None,
        "division": board.division, "runner_class": board.runner_class, "official": board.official,
        "title": board.title, "metric": board.metric.label, "value": board.metric.value(row.result),
        "rank": row.rank, "tied": row.tied, "of": len(board.ranked), "reason": row.reason,
    }


def _missing_reason(result: Result, category: Category) -> str:
    if result["submission"]["name"] == BASELINE:
        return "the baseline is the reference line of every board, never ranked"
    if fields.visibility(result) == "private":
        return "private-split results are ranked only at the end-of-season reveal"
    return f"{category.title} ranks results from the {' or '.join(category.runner_classes)} runner only"


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
                why = _missing_reason(result, category)
                projection[key] = {"event": event_id, "event_name": result["event"]["name"],
                                   "category": category.id, "category_title": category.title,
                                   "division": division, "runner_class": runner,
                                   "official": False,
                                   "title": f"{category.title}: {result['event']['name']} · {division}",
                                   "metric": category.metric.label, "value": None, "rank": None, "tied": False,
                                   "of": None, "reason": why}
    return dict(sorted(projection.items()))
