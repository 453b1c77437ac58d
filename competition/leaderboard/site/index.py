"""index.html: leader cards per event, charts, awards, every ranking (sortable, filterable), entries not ranked,
the category rules and history. A section with nothing to show is left out (and so is its link)."""

from __future__ import annotations

import re

from competition.leaderboard.categories import VIEWS, categories, category
from competition.leaderboard import fields, formatting
from competition.leaderboard.formatting import rank
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.rankings import Board, Row
from competition.leaderboard.site.charts import pareto_section, progression_section
from competition.leaderboard.site.html import data_attrs, esc, link, page, sort_value, table
from competition.leaderboard.table import athlete, columns_for, reference_line

RUNNER_CLASSES = ("reference", "edge", "local")
SECTION_TITLES = (("leaders", "Leaders"), ("pareto", "Charts"), ("progression", "Records"),
                  ("highlights", "Category podiums"), ("awards", "Awards"), ("official", "Official rankings"),
                  ("private", "Private split"), ("unofficial", "Unofficial"), ("not-ranked", "Not ranked"),
                  ("history", "History"), ("categories", "Categories"))


_INTERVAL_GAP = re.compile(r", (?=[-\d.]+\])")  # the space inside an interval "[1.90, 2.10]"
INDEX_ROWS = 10  # rows of a ranking on the front page; longer rankings get their own page under boards/


def board_page_path(board: Board) -> str:
    """Where the full ranking of a long board lives, relative to the site root."""
    return f"boards/{board.id.replace('/', '-')}.html"


def submission_link(name: str, root: str = "") -> str:
    """Link to a submission's page on the site."""
    return link(f"{root}submissions/{name}.html", name)


def _cell(lb: Leaderboard, row: Row, column_id: str, text: str, root: str = "") -> str:
    if column_id == "submission":
        return (f"{submission_link(row.name, root)} · {link(lb.config.report_url(row.name), 'report', 'report')}"
                f'<span class="athlete">{esc(athlete(row.result))}</span>')
    number = row.result["submission"].get("pr_number")
    if column_id == "pr" and number:
        return link(lb.config.pr_url(number), text)
    return esc(_INTERVAL_GAP.sub(",\u00a0", text))  # "[1.90, 2.10]" stays on one line when a narrow cell wraps


def _board_attrs(board: Board) -> dict[str, str]:
    return {"event": board.event_id, "division": board.division, "category": board.category_id,
            "runner": board.runner_class}


def board_section(lb: Leaderboard, board: Board, limit: int | None = INDEX_ROWS, root: str = "") -> str:
    """One ranking as a sortable table inside a filterable section: the first `limit` rows (None: all), with a
    link to the full ranking's page when there are more."""
    columns = columns_for(board)
    classes = [f"col-{c.id}" + (" ranked" if c.id == board.metric.column else "") for c in columns]
    rows = []
    for row in board.ranked[:limit]:
        cells = "".join(f'<td class="{css}" data-sort="{esc(sort_value(c.sort_key(row)))}">'
                        f"{_cell(lb, row, c.id, c.text(row), root)}</td>" for c, css in zip(columns, classes))
        rows.append(f'<tr{data_attrs({"submission": row.name})}>{cells}</tr>')
    body = (table([c.header for c in columns], rows, "sortable", classes) if rows
            else '<p class="empty">No entry beats the baseline yet.</p>')
    if limit is not None and len(board.ranked) > limit:
        more = (link(root + board_page_path(board), "full ranking") if board.category is None
                else "every entrant's rank is on its submission page")
        body += f'<p class="note">Top {limit} of {len(board.ranked)}: {more}</p>'
    ranked_by = f"ranked by {formatting.lower_first(board.metric.label)} · {reference_line(board)}"
    anchor = esc(board.id.replace("/", "-"))
    return (f'<section class="board filterable" id="{anchor}"{data_attrs(_board_attrs(board))}>'
            f"<h3>{esc(board.title)}</h3><p class=\"note\">{esc(ranked_by)}</p>{body}</section>")


def long_boards(lb: Leaderboard) -> list[Board]:
    """Event rankings with more ranked rows than the front page shows: each gets a page (a category ranking
    shows its top rows; each entrant's page gives its rank there, which keeps the site linear in size)."""
    return [b for b in lb.boards if b.category is None and len(b.ranked) > INDEX_ROWS]


def render_board_page(lb: Leaderboard, board: Board) -> str:
    """The full ranking of one board."""
    body = (f'<p><a href="../index.html">Back to the leaderboard</a></p>'
            + board_section(lb, board, None, "../"))
    return page(f"{board.title}: {lb.config.site_title}", lb.config.site_title, body, "../")


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    items = '<option value="">all</option>' + "".join(f'<option value="{esc(v)}">{esc(t)}</option>'
                                                        for v, t in options)
    return (f'<label>{esc(label)} <select class="filter" id="filter-{esc(name)}" data-filter="{esc(name)}">'
            f"{items}</select></label>")


def filters(lb: Leaderboard) -> str:
    """Filter controls (handled by site.js), offering only values present in the store."""
    events = sorted({(b.event_id, b.event_name) for b in lb.boards})
    kinds = [("event", "Event ranking")] + [(c.id, c.title) for c in categories()
                                                 if any(b.category_id == c.id for b in lb.boards)]
    present = {b.runner_class for b in lb.boards}
    return ('<form class="filters" id="filters">'
            + _select("division", "Division", [(d, d) for d in ("closed", "open")])
            + _select("event", "Event", events)
            + _select("category", "Category", kinds)
            + _select("runner", "Runner", [(r, r) for r in RUNNER_CLASSES if r in present])
            + '<span class="match-count" id="match-count" aria-live="polite"></span></form>')


def _awards(lb: Leaderboard) -> str:
    if not lb.awards:
        return ""
    rows = [f"<tr><td>{esc(a.title)}</td><td>{', '.join(submission_link(n) for n in a.submissions)}</td>"
            f"<td>{esc(a.detail)}</td></tr>" for a in lb.awards]
    return table(["Award", "Winner", "For"], rows)


def _views(lb: Leaderboard) -> str:
    """The podium of a few categories across events, titled as in the rules; "" when no category ranks anyone."""
    parts = []
    for view_id, _, category_id in VIEWS:
        boards = lb.view_boards(category_id)
        if not boards:
            continue
        rule = category(category_id)
        rows = [f'<tr class="filterable"{data_attrs({"event": b.event_id, "division": b.division})}>'
                f"<td>{esc(b.event_name)}</td><td>{esc(b.division)}</td><td>"
                + ", ".join(f"{esc(rank(r.rank, r.tied))} {submission_link(r.name)}" for r in b.ranked[:3])
                + "</td></tr>" for b in boards]
        parts.append(f'<section class="view" id="{esc(view_id)}"><h3>{esc(rule.title)}</h3>'
                     f'<p class="note">podium by {esc(formatting.lower_first(rule.metric.label))}</p>'
                     f'{table(["Event", "Division", "Top 3"], rows)}</section>')
    return '<div class="views">' + "".join(parts) + "</div>" if parts else ""


def _headline(board: Board, row: Row) -> list[tuple[str, str]]:
    """The numbers a leader card shows: the ranking metric, speedup, quality and model size."""
    result = row.result
    numbers = [(board.metric.label, next(c.text(row) for c in columns_for(board) if c.id == board.metric.column))]
    if board.metric.column != "speedup":
        numbers.append(("Speedup", formatting.speedup(result)))
    if fields.accuracy(result) is None and fields.perplexity(result) is not None:
        numbers.append(("Perplexity", formatting.number(fields.perplexity(result))))
    else:
        numbers.append(("Accuracy", formatting.percent(fields.accuracy(result))))
    numbers += [
                ("Model size", formatting.size(fields.model_size_bytes(result)))]
    return numbers


def ranking_href(board: Board) -> str:
    """Where every ranked row of an event ranking is shown: its own page when the front page shows only the top."""
    return board_page_path(board) if len(board.ranked) > INDEX_ROWS else "#" + board.id.replace("/", "-")


def leader_card(lb: Leaderboard, board: Board) -> str:
    """One event ranking's champion (all entries sharing rank 1), their headline numbers and links; the counts are
    those of the ranking it links to (ranked rows) and of the Not ranked table (rows of this ranking)."""
    where = f"{board.division} · {board.runner_class} runner" + ("" if board.official else " · unofficial")
    leaders = [row for row in board.ranked if row.rank == 1]
    if leaders:
        names = ", ".join(submission_link(r.name) for r in leaders)
        tie = " (tied)" if len(leaders) > 1 else ""
        numbers = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in _headline(board, leaders[0]))
        body = (f'<p class="champion"><span class="label">Leader{tie}</span> {names}</p>'
                f'<dl class="headline">{numbers}</dl>')
    else:
        body = '<p class="empty">No entry beats the baseline yet.</p>'
    counts = f"{len(board.ranked)} ranked" + (f" · {len(board.unranked)} not ranked" if board.unranked else "")
    return (f'<article class="card filterable"{data_attrs(_board_attrs(board))}><h3>{esc(board.event_name)}</h3>'
            f'<p class="note">{esc(where)}</p>{body}<p class="card-link">{link(ranking_href(board), "ranking")} · '
            f"{esc(counts)}</p></article>")


def leader_cards(lb: Leaderboard) -> str:
    """A card per event ranking (public split), official rankings first."""
    boards = sorted((b for b in lb.boards if b.category is None and b.split == "public"),
                    key=lambda b: (not b.official, b.event_name, b.division, b.runner_class))
    return '<div class="cards">' + "".join(leader_card(lb, b) for b in boards) + "</div>" if boards else ""


def _unranked(lb: Leaderboard) -> str:
    rows = [f'<tr class="filterable"{data_attrs(_board_attrs(board))}><td>{esc(board.title)}</td>'
            f"<td>{submission_link(row.name)}</td><td>{esc(formatting.plain_reason(row.reason or ''))}</td></tr>"
            for board, row in lb.not_ranked()]
    return table(["Ranking", "Submission", "Reason"], rows, "sortable") if rows else ""


def _categories() -> str:
    rows = [f"<tr><td>{esc(c.title)}</td><td>{esc(c.metric.label)}</td><td>{esc(c.description)}</td>"
            f"<td>{esc(c.source)}</td></tr>" for c in categories()]
    return table(["Category", "Ranked by", "Rule", "Source"], rows)


def _history(lb: Leaderboard) -> str:
    rows = [f"<tr><td>{esc(h.result['result_id'])}</td><td>{esc(formatting.plain_reason(h.reason))}</td></tr>"
            for h in lb.history_entries]
    return table(["Result", "Why it does not count"], rows) if rows else ""


def _section(anchor: str, title: str, content: str, note: str = "") -> tuple[str, str] | None:
    """(anchor, html) of one section, or None when `content` is empty (the section is left out)."""
    if not content:
        return None
    intro = f'<p class="note">{note}</p>' if note else ""
    return anchor, f'<section id="{anchor}"><h2>{esc(title)}</h2>{intro}{content}</section>'


def _nav(anchors: list[str]) -> str:
    titles = dict(SECTION_TITLES)
    return ('<nav class="sections">' + " · ".join(f'<a href="#{a}">{esc(titles[a])}</a>' for a in anchors)
            + "</nav>")


def render_index(lb: Leaderboard) -> str:
    """The site's front page."""
    official = "".join(board_section(lb, b) for b in lb.shown_boards(official=True) if b.split == "public")
    private = "".join(board_section(lb, b) for b in lb.shown_boards(official=True) if b.split == "private")
    unofficial = "".join(board_section(lb, b) for b in lb.shown_boards(official=False))
    charts = [(a, html) for a, html in (("pareto", pareto_section(lb)), ("progression", progression_section(lb)))
              if html]
    sections = [s for s in (
        _section("leaders", "Leaders", leader_cards(lb), "The entry ranked first in each event ranking. Only "
                 "entries that beat the baseline beyond the noise are ranked."),
        *charts,
        _section("highlights", "Category podiums", _views(lb)),
        _section("awards", "Awards", _awards(lb)),
        _section("official", "Official rankings", official),
        _section("private", "Private split (revealed)", private if lb.revealed else "",
                 "Scored on the hidden evaluation split that lives only on the runners."),
        _section("unofficial", "Unofficial results", unofficial,
                 "Local runners and offline events: practice only, never official."),
        _section("not-ranked", "Not ranked", _unranked(lb), "Failed runs, thresholds not met, no gain over the "
                 "baseline beyond the noise: listed, never ranked (each submission's page gives the reason for "
                 "every category)."),
        _section("history", "History", _history(lb), "Stored results that do not count now: older harness, quick "
                 "or unisolated runs, unregistered runners, disqualified or removed submissions, scores that do not "
                 "follow from the measurements."),
        _section("categories", "Categories", f"<details><summary>The {len(categories())} categories and how each "
                 f"is ranked</summary>{_categories()}</details>"),
    ) if s is not None]
    body = (
        f"<h1>{esc(lb.config.site_title)} <small>season {esc(lb.config.season)}</small></h1>"
        '<p class="lede">Speedup = baseline time / submission time on the same machine, with its 95 % confidence '
        "interval. The baseline is each ranking's reference line; <strong>=</strong> marks a tie (intervals "
        "overlapping). Closed and open divisions are ranked separately. Energy appears only when measured.</p>"
        + _nav([anchor for anchor, _ in sections])
        + filters(lb)
        + '<p class="empty" id="no-match" hidden>No ranking matches these filters.</p>'
        + "".join(html for _, html in sections)
    )
    return page(lb.config.site_title, lb.config.site_title, body, "")
