"""LEADERBOARD.md: GitHub-flavoured tables (tabulate, tablefmt="github"), every user string escaped."""

from __future__ import annotations

import html
import re

from tabulate import tabulate

from competition.leaderboard.categories import VIEWS, categories, category
from competition.leaderboard import formatting
from competition.leaderboard.formatting import rank
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.rankings import Board, Row
from competition.leaderboard.table import columns_for, reference_line

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: str) -> str:
    """Escape a user string for a Markdown table cell (no markup, no HTML, no line breaks)."""
    flat = " ".join(str(text).split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", flat), quote=False)


WIDTH = 120  # widest line of a table: GitHub shows wider ones with a scroll bar, and the raw file wraps
ATHLETE_CHARS = 32  # an athlete (team) cell is cut to this many characters (the site shows it whole)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)



def report_link(name: str) -> str:
    """A reference link to a submission's report (the definitions close the file: `link_definitions`)."""
    return f"[{md(name)}][]"


def pr_link(number: int) -> str:
    """A reference link to a pull request."""
    return f"[#{number}][pr-{number}]"


def link_definitions(lb: Leaderboard) -> list[str]:
    """The targets of every report and PR link, relative to LEADERBOARD.md at the repository root."""
    results = lb.results + [h.result for h in lb.history_entries]
    names = sorted({r["submission"]["name"] for r in results})
    numbers = sorted({r["submission"]["pr_number"] for r in results if r["submission"].get("pr_number")})
    return ([f"[{md(name)}]: submissions/{name}/README.md" for name in names]
            + [f"[pr-{number}]: {lb.config.pr_url(number)}" for number in numbers])


def _cell(board_row: Row, column_id: str, text: str) -> str:
    if column_id == "submission":
        return report_link(board_row.name)
    number = board_row.result["submission"].get("pr_number")
    if column_id == "pr" and number:
        return pr_link(number)
    if column_id == "athlete":
        return md(text if len(text) <= ATHLETE_CHARS else text[:ATHLETE_CHARS - 1] + "…")
    return text  # other cells are formatted numbers


CATEGORY_ROWS = 10  # a category table shows its top rows; each entrant's rank is on its site page
KEY_COLUMNS = ("rank", "submission")  # repeated in every part of a ranking split to fit WIDTH


def _split(headers: list[str], cells: list[list[str]], keys: int) -> list[list[int]]:
    """Column indices of each table a wide table is split into: the first `keys` columns start every table, the
    others fill one in order until it would pass WIDTH. Widths as tabulate's github format lays them out (a column
    is its widest cell or its header plus 2; each takes 3 more for "| " and " ", plus the closing "|")."""
    widths = [max([len(h) + 2] + [len(row[i]) for row in cells]) + 3 for i, h in enumerate(headers)]
    base = 1 + sum(widths[:keys])
    groups: list[list[int]] = [[]]
    for i in range(keys, len(headers)):
        if groups[-1] and base + sum(widths[j] for j in groups[-1]) + widths[i] > WIDTH:
            groups.append([])
        groups[-1].append(i)
    return [list(range(keys)) + group for group in groups]


def board_table(board: Board, lb: Leaderboard) -> str:
    """The ranked rows of a board as Markdown tables no wider than WIDTH (split by `_split`, rank and submission
    repeated in each part); a category board shows its top CATEGORY_ROWS."""
    columns = sorted(columns_for(board), key=lambda c: c.id not in KEY_COLUMNS)  # stable: keys first
    shown = board.ranked if board.category is None else board.ranked[:CATEGORY_ROWS]
    headers = [c.header for c in columns]
    cells = [[_cell(row, c.id, c.text(row)) for c in columns] for row in shown]
    keys = sum(c.id in KEY_COLUMNS for c in columns)
    table = "\n\n".join(_table([headers[i] for i in group], [[row[i] for i in group] for row in cells])
                         for group in _split(headers, cells, keys))
    if len(shown) < len(board.ranked):
        table += f"\n\nTop {len(shown)} of {len(board.ranked)}; every entrant's rank is on its page of the site."
    return table


def _boards(boards: list[Board], lb: Leaderboard) -> list[str]:
    parts = []
    for board in boards:
        body = board_table(board, lb) if board.ranked else "_No entry beats the baseline yet._"
        parts += [f"#### {md(board.title)}", "", reference_line(board), "", body, ""]
    return parts


def _categories() -> list[str]:
    return [f"- **{md(c.title)}**, ranked by {md(c.metric.label.lower())}: {md(c.description)} "
            f"_({md(c.source)})_" for c in categories()] + [""]


def _history(lb: Leaderboard) -> list[str]:
    return [f"- `{h.result['result_id']}`: {md(formatting.plain_reason(h.reason))}" for h in lb.history_entries]


def _awards(lb: Leaderboard) -> list[str]:
    rows = [[md(a.title), ", ".join(map(report_link, a.submissions)), md(a.detail)] for a in lb.awards]
    return [_table(["Award", "Winner", "For"], rows), ""] if rows else []


def _views(lb: Leaderboard) -> list[str]:
    parts = []
    for _, _, category_id in VIEWS:
        boards = lb.view_boards(category_id)
        if not boards:
            continue
        rule = category(category_id)
        rows = [[md(b.event_name), b.division,
                 ", ".join(f"{rank(r.rank, r.tied)} {report_link(r.name)}" for r in b.ranked[:3])] for b in boards]
        parts += [f"### {md(rule.title)}", "", f"Podium by {rule.metric.label.lower()}.", "",
                  _table(["Event", "Division", "Top 3"], rows), ""]
    return parts


def _unranked(lb: Leaderboard) -> list[str]:
    return [f"- {md(board.title)}: {report_link(row.name)}: {md(formatting.plain_reason(row.reason or ''))}"
            for board, row in lb.not_ranked()]


def _badges(lb: Leaderboard) -> list[str]:
    return [f"- {report_link(name)}: " + "; ".join(f"{md(b.label)} ({md(b.detail)})" for b in bs)
            for name, bs in lb.badges.items()]


def _records(lb: Leaderboard) -> list[str]:
    rows = [[md(rec.event_name), division, rec.time[:10], report_link(rec.submission), f"{rec.speedup:.2f}x"]
            for (_, division), records in lb.records.items() for rec in records]
    return [_table(["Event", "Division", "Date", "Submission", "Speedup"], rows), ""] if rows else []


def _leaders(lb: Leaderboard) -> list[str]:
    """One line per event ranking: who leads it, or that nobody beats the baseline yet."""
    boards = sorted((b for b in lb.boards if b.category is None and b.split == "public"),
                    key=lambda b: (not b.official, b.event_name, b.division, b.runner_class))
    rows = []
    for board in boards:
        leaders = [row for row in board.ranked if row.rank == 1]
        where = f"{board.division}, {board.runner_class}" + ("" if board.official else " (unofficial)")
        who = ", ".join(report_link(r.name) for r in leaders) or "no entry beats the baseline yet"
        rows.append([md(board.event_name), where, who, _ranked_value(board, leaders[0]) if leaders else ""])
    return [_table(["Event", "Ranking", "Leader", "Ranked by"], rows), ""] if rows else []


def _ranked_value(board: Board, row: Row) -> str:
    """The leader's value of the metric the ranking sorts by (speedup, or peak memory for Memory Master, ...)."""
    value = next(c.text(row) for c in columns_for(board) if c.id == board.metric.column)
    return f"{board.metric.label}: {value}"


def _section(title: str, body: list[str], intro: str = "") -> list[str]:
    """A section, or nothing when `body` is empty (no "none yet" headings before the numbers)."""
    if not body:
        return []
    return [f"## {title}", "", *([intro, ""] if intro else []), *body, *([""] if body[-1] else [])]


def render_markdown(lb: Leaderboard) -> str:
    """The whole LEADERBOARD.md."""
    official = lb.shown_boards(official=True)
    official_parts = _boards([b for b in official if b.category is None and b.split == "public"], lb)
    for each in categories():
        mine = [b for b in official if b.category_id == each.id and b.split == "public"]
        if mine:
            official_parts += [f"### {md(each.title)}", "", md(each.description), "", *_boards(mine, lb)]
    private = _boards([b for b in official if b.split == "private"], lb) if lb.revealed else []
    parts = [
        f"# {md(lb.config.site_title)}: season {md(lb.config.season)}", "",
        "Generated by `tito leaderboard build` from the stored results; do not edit by hand.",
        "Speedup = baseline time / submission time on the same machine, with its 95 % confidence interval.",
        "Only entries that beat the baseline beyond the noise are ranked; the baseline is the reference line.",
        "`=` marks a tie: the intervals overlap, directly or through a chain of overlapping entries.",
        "Closed and open divisions are ranked separately. Energy is shown only when measured (RAPL); estimates",
        "never count.", "",
        *_section("Leaders", _leaders(lb)),
        *_section("Official rankings (reference runner)", official_parts),
        *_section("Private split (revealed at the end of the season)", private,
                  "Scored on the hidden evaluation split that lives only on the runners."),
        *_section("Unofficial results (local runners, offline events)", _boards(lb.shown_boards(official=False), lb),
                  "Measured on contributors' machines or on offline events: for practice, never official."),
        *_section("Category podiums", _views(lb)),
        *_section("Awards", _awards(lb)),
        *_section("Not ranked", _unranked(lb), "Entries left off an event ranking: a failed run, a threshold not "
                  "met, or no gain over the baseline beyond the noise. Each submission's page on the site gives the "
                  "reason for every category."),
        *_section("Record progression", _records(lb)),
        *_section("Badges", _badges(lb)),
        *_section("History (results that do not count now)", _history(lb), "Older harness, quick or unisolated "
                  "runs, unregistered runners, disqualified or removed submissions, and files whose scores do not "
                  "follow from their measurements."),
        *_section("Categories", _categories()),
        *link_definitions(lb),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"
