"""LEADERBOARD.md: readable as plain text and as rendered GitHub Markdown. Per event ranking with entries: the
ranking (tabulate's github tables, split to fit WIDTH) and the top 3 of each category that ranks anyone; boards
with no ranked entry are left out (Leaders and Not ranked say why). User strings are escaped with backslashes, never
HTML entities, and shown whole."""

from __future__ import annotations

import re
from collections import defaultdict

from tabulate import tabulate

from competition.leaderboard import fields, formatting
from competition.leaderboard.categories import categories
from competition.leaderboard.formatting import rank
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.rankings import Board, Row
from competition.leaderboard.table import athlete, columns_for, reference_line

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<])")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&amp;" would render as "&": escape the "&" of anything entity-shaped


def md(text: str) -> str:
    """Escape a user string for Markdown (a table cell or a list item): no markup, no HTML tag or entity, no line
    break. Backslash escapes only, so the raw file reads as the text ("a \\| b", never "&lt;")."""
    flat = " ".join(str(text).split())
    return _ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", flat))


def prose(text: str) -> str:
    """The maintainers' rules text (categories.yaml): its Markdown (`code`) is kept; no HTML, no table pipes."""
    flat = " ".join(str(text).split())
    return _ENTITY.sub(r"\\&", re.sub(r"([<|])", r"\\\1", flat))


WIDTH = 120  # widest line of a table: GitHub shows wider ones with a scroll bar, and the raw file wraps
PODIUM = 3  # the category lines show the entries ranked 1 to 3 (all of a tie); every rank is on the site
OPTIONAL_COLUMNS = {"energy": formatting.NOT_MEASURED, "pr": "no PR"}  # left out when no row has a value


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def report_link(name: str) -> str:
    """A reference link to a submission's report (the definitions close the file: `link_definitions`)."""
    return f"[{md(name)}][]"


def pr_link(number: int) -> str:
    """A reference link to a pull request."""
    return f"[#{number}][pr-{number}]"


def link_definitions(lb: Leaderboard) -> list[str]:
    """The targets of every report and PR link (results that count; history lines link nothing), relative to
    LEADERBOARD.md at the repository root."""
    results = lb.results
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
    return text  # other cells are formatted numbers


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


def board_table(board: Board) -> str:
    """Every ranked row of an event ranking as Markdown tables no wider than WIDTH (split by `_split`, rank and
    submission repeated in each part); a column no row has a value for (energy, PR) is left out."""
    columns = [c for c in columns_for(board)
               if c.id not in OPTIONAL_COLUMNS or any(c.text(r) != OPTIONAL_COLUMNS[c.id] for r in board.ranked)]
    headers = [c.header for c in columns]
    cells = [[_cell(row, c.id, c.text(row)) for c in columns] for row in board.ranked]
    keys = sum(c.id in KEY_COLUMNS for c in columns)
    return "\n\n".join(_table([headers[i] for i in group], [[row[i] for i in group] for row in cells])
                        for group in _split(headers, cells, keys))


def _ranked_value(board: Board, row: Row) -> str:
    """An entry's value of the metric the board sorts by (speedup, peak memory for Memory Master, ...)."""
    return next(c.text(row) for c in columns_for(board) if c.id == board.metric.column)


def _podium(board: Board) -> str:
    """One category's line: its value, the baseline's, and the entries ranked 1 to PODIUM (all of a tie)."""
    rows = [row for row in board.ranked if row.rank is not None and row.rank <= PODIUM]
    entries = ", ".join(f"{rank(r.rank, r.tied)} {report_link(r.name)} {_ranked_value(board, r)}" for r in rows)
    more = f" ({len(board.ranked)} ranked)" if len(board.ranked) > len(rows) else ""
    baseline = formatting.metric_value(board.metric.rank_by, board.reference)
    label = md(formatting.lower_first(board.metric.label))
    return f"- **{md(board.category.title)}** by {label}, baseline {baseline}: {entries}{more}"


def _group(boards: list[Board]) -> list[str]:
    """One event x division x runner: its event ranking when anyone is ranked, then the podium of every category
    that ranks anyone; nothing when nobody is ranked anywhere."""
    event = next((b for b in boards if b.category is None and b.ranked), None)
    podiums = [_podium(b) for b in boards if b.category is not None and b.ranked]
    if event is None and not podiums:
        return []
    parts = [f"### {md(boards[0].where)}", ""]
    if event is not None:
        parts += [reference_line(event), "", board_table(event), ""]
    if podiums:
        parts += ["Categories (top 3):", "", *podiums, ""]
    return parts


def _boards(boards: list[Board]) -> list[str]:
    """The groups of `boards` (event x division x runner x split), in board order."""
    groups: dict[tuple[str, str, str, str], list[Board]] = defaultdict(list)
    for board in boards:
        groups[(board.split, board.event_id, board.division, board.runner_class)].append(board)
    return [line for group in groups.values() for line in _group(group)]


def _categories() -> list[str]:
    return [f"- **{prose(c.title)}**, ranked by {prose(formatting.lower_first(c.metric.label))}: "
            f"{prose(c.description)} _({prose(c.source)})_" for c in categories()] + [""]


def _history(lb: Leaderboard) -> list[str]:
    return [f"- `{h.result['result_id']}`: {md(formatting.plain_reason(h.reason))}" for h in lb.history_entries]


def _awards(lb: Leaderboard) -> list[str]:
    rows = [[md(a.title), ", ".join(map(report_link, a.submissions)), md(a.detail)] for a in lb.awards]
    return [_table(["Award", "Winner", "For"], rows), ""] if rows else []


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
        value = f"{board.metric.label}: {_ranked_value(board, leaders[0])}" if leaders else ""
        rows.append([md(board.event_name), where, who, value])
    return [_table(["Event", "Ranking", "Leader", "Ranked by"], rows), ""] if rows else []


def _section(title: str, body: list[str], intro: str = "") -> list[str]:
    """A section, or nothing when `body` is empty (no "none yet" headings before the numbers)."""
    if not body:
        return []
    return [f"## {title}", "", *([intro, ""] if intro else []), *body, *([""] if body[-1] else [])]


def _entrants(lb: Leaderboard) -> list[str]:
    """Who each submission is by (whole names; the tables leave them out so the numbers fit), from its latest run."""
    lines = []
    for name in lb.submissions:
        latest = max(lb.history(name), key=fields.run_order)
        number = latest["submission"].get("pr_number")
        pr = f", {pr_link(number)}" if number else ""
        lines.append(f"- {report_link(name)} ({latest['submission']['division']}{pr}): {md(athlete(latest))}")
    return lines


def _resolutions() -> list[str]:
    """A sentence per value ranked at a stated resolution (competition/rules/categories.yaml)."""
    stated = {(c.metric.label, c.metric.resolution) for c in categories() if c.metric.resolution is not None}
    return [f"{label} values within {100 * resolution:g} % of each other tie (the meter's noise)."
            for label, resolution in sorted(stated)]


def render_markdown(lb: Leaderboard) -> str:
    """The whole LEADERBOARD.md."""
    official = [b for b in lb.boards if b.official and b.split == "public"]
    private = [b for b in lb.boards if b.official and b.split == "private"] if lb.revealed else []
    parts = [
        f"# {md(lb.config.site_title)}: season {md(lb.config.season)}", "",
        "Generated by `tito leaderboard build` from the stored results; do not edit by hand.",
        "Speedup = baseline time / submission time on the same machine, with its 95 % confidence interval.",
        "Only entries that beat the baseline beyond the noise are ranked; the baseline is the reference line.",
        "`=` marks a tie: the intervals overlap, directly or through a chain of overlapping entries.",
        *_resolutions(),
        "Closed and open divisions are ranked separately. Energy is shown only when measured (RAPL); estimates",
        "never count. Every ranking in full, with charts, is on the site.", "",
        *_section("Leaders", _leaders(lb)),
        *_section("Official rankings (reference runner)", _boards(official)),
        *_section("Private split (revealed at the end of the season)", _boards(private),
                  "Scored on the hidden evaluation split that lives only on the runners."),
        *_section("Unofficial results (local runners, offline events)",
                  _boards([b for b in lb.boards if not b.official]),
                  "Measured on contributors' machines or on offline events: for practice, never official."),
        *_section("Awards", _awards(lb)),
        *_section("Not ranked", _unranked(lb), "Entries left off an event ranking: a failed run, a threshold not "
                  "met, or no gain over the baseline beyond the noise. Each submission's page on the site gives the "
                  "reason for every category."),
        *_section("Record progression", _records(lb)),
        *_section("Badges", _badges(lb)),
        *_section("Entrants", _entrants(lb)),
        *_section("History (results that do not count now)", _history(lb), "Older harness, quick or unisolated "
                  "runs, unregistered runners, disqualified or removed submissions, and files whose scores do not "
                  "follow from their measurements."),
        *_section("Categories", _categories()),
        *link_definitions(lb),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"
