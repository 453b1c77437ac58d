"""The columns of a ranking table, shared by LEADERBOARD.md and the site (renderers add links and markup)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from competition.leaderboard import fields, formatting
from competition.leaderboard.fields import Result
from competition.leaderboard.rankings import Board, Row


@dataclass(frozen=True)
class Column:
    """Header, display text and sort key of one column; `id` lets renderers turn cells into links."""

    id: str
    header: str
    text: Callable[[Row], str]
    sort_key: Callable[[Row], float | str | None]


def athlete(result: Result) -> str:
    """"Name (team)", whole: renderers show it beside the submission name (it is not a column, so the ranked
    value stays in view on a phone)."""
    team = result["submission"]["team"]
    name = result["submission"]["athlete_name"]
    return f"{name} ({team})" if team else name


def _pr(row: Row) -> str:
    number = row.result["submission"].get("pr_number")
    return f"#{number}" if number else "no PR"


COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", lambda row: formatting.rank(row.rank, row.tied), lambda row: row.rank),
    Column("submission", "Submission", lambda row: row.name, lambda row: row.name),
    Column("speedup", "Speedup [95% CI]", lambda row: formatting.speedup(row.result),
           lambda row: fields.speedup(row.result)),
    Column("quality", "Accuracy", lambda row: formatting.quality(row.result),
           lambda row: fields.accuracy(row.result)),
    Column("memory", "Peak memory", lambda row: formatting.size(fields.peak_memory_bytes(row.result)),
           lambda row: fields.peak_memory_bytes(row.result)),
    Column("size", "Model size", lambda row: formatting.size(fields.model_size_bytes(row.result)),
           lambda row: fields.model_size_bytes(row.result)),
    Column("compression", "Compression", lambda row: formatting.ratio(fields.compression(row.result)),
           lambda row: fields.compression(row.result)),
    Column("efficiency", "Efficiency [95% CI]",
           lambda row: formatting.with_ci(fields.efficiency(row.result), fields.efficiency_ci(row.result), ""),
           lambda row: fields.efficiency(row.result)),
    Column("accuracy_per_mb", "Accuracy per MB",
           lambda row: formatting.number(fields.rank_value(row.result, "accuracy_per_mb"), 3),
           lambda row: fields.rank_value(row.result, "accuracy_per_mb")),
    Column("edge_score", "Edge score [95% CI]", lambda row: formatting.edge_score(row.result),
           lambda row: fields.rank_value(row.result, "edge_score")),
    Column("energy", "Energy/inference", lambda row: formatting.energy(row.result),
           lambda row: fields.energy_joules(row.result)),
    Column("pr", "PR", _pr, lambda row: row.result["submission"].get("pr_number")),
)


EVENT_COLUMNS = ("speedup", "quality", "memory", "size", "compression", "efficiency", "energy", "pr")
CATEGORY_COLUMNS = ("quality", "pr")


def columns_for(board: Board) -> tuple[Column, ...]:
    """Rank, submission and the value the board ranks by first (in view on a narrow screen), then the other event
    columns for an event ranking, or accuracy and PR for a category ranking."""
    order = ("rank", "submission", board.metric.column,
             *(EVENT_COLUMNS if board.category is None else CATEGORY_COLUMNS))
    by_id = {c.id: c for c in COLUMNS}
    return tuple(by_id[i] for i in dict.fromkeys(order))


def reference_line(board: Board) -> str:
    """The baseline's value on this board (the line every ranked entry beat beyond the noise, each against the
    baseline of its own run: the range when the runs differ) and the resolution the metric ranks at."""
    if board.reference is None:
        return "Baseline (reference line, not ranked): not measured."
    rank_by = board.metric.rank_by
    text = f"Baseline (reference line, not ranked): {formatting.lower_first(board.metric.label)} "
    low, high = board.reference_span or (board.reference, board.reference)
    same = formatting.metric_value(rank_by, low) == formatting.metric_value(rank_by, high)
    if same or high <= low * (1 + (board.metric.resolution or 0.0)):  # runs agree (within the resolution)
        text += f"{formatting.metric_value(rank_by, board.reference)}."
    else:
        text += (f"{formatting.metric_value(rank_by, low)} to {formatting.metric_value(rank_by, high)} over this "
                 "board's runs (each entry against the baseline of its own run).")
    if board.metric.resolution is not None:
        text += f" Values within {100 * board.metric.resolution:g} % of each other tie."
    return text
