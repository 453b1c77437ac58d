"""The built site in a real browser (Playwright + Debian Chromium): rendering, sorting, filtering, escaping, and
what a person sees on a 390 px phone and a 1280 px screen (the ranked value in view, no cut tables, jumps that clear
the sticky bar, card counts that match their tables, chart points a finger can use)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

from competition.leaderboard.build import build
from competition.leaderboard.config import Config
from competition.leaderboard.model import assemble
from competition.leaderboard.site import write_site
from tests.leaderboard.factory import HOSTILE_NAME, make_scored_result, sample_results

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """Serve a freshly built site on 127.0.0.1 (ephemeral port) from a thread; shut down afterwards."""
    root = tmp_path_factory.mktemp("site")
    write_site(assemble(sample_results(), [], Config()), root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that records console errors, page errors and dialogs (a dialog means injected script ran)."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda msg: tab.problems.append(f"console {msg.type}: {msg.text}")
           if msg.type in ("error", "warning") else None)
    tab.on("pageerror", lambda exc: tab.problems.append(f"page error: {exc}"))
    tab.on("dialog", lambda dialog: (tab.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield tab
    context.close()


def _column(page, board_id, header):
    table = page.locator(f"#{board_id} table")
    headers = table.locator("thead th").all_inner_texts()
    index = next(i for i, text in enumerate(headers) if text.startswith(header))
    return table, index


def _names(page, board_id):
    return page.locator(f"#{board_id} tbody tr").evaluate_all("rows => rows.map(r => r.dataset.submission)")


def test_index_renders_without_console_errors(page, site_url):
    page.goto(site_url + "index.html")
    assert page.title() == "TinyMLPerf Leaderboard"
    assert page.locator("section.board").count() > 5
    assert page.locator("svg.chart").count() >= 4
    assert page.locator("#match-count").inner_text().endswith("shown")  # site.js ran
    assert page.problems == []


def test_clicking_a_header_sorts_numerically_and_toggles(page, site_url):
    page.goto(site_url + "index.html")
    board = "cnn_marathon-closed-reference"
    table, index = _column(page, board, "Model size")
    assert _names(page, board) == ["alpha", "beta", "gamma"]
    table.locator("thead th").nth(index).click()
    assert _names(page, board) == ["beta", "alpha", "gamma"]  # 781 KiB < 977 KiB < 1.91 MiB (not text order)
    table.locator("thead th").nth(index).click()
    assert _names(page, board) == ["gamma", "alpha", "beta"]
    assert table.locator("thead th").nth(index).get_attribute("aria-sort") == "descending"
    assert page.problems == []


def test_filters_show_only_matching_rankings(page, site_url):
    page.goto(site_url + "index.html")
    closed = page.locator("#cnn_marathon-closed-reference")
    opened = page.locator("#cnn_marathon-open-reference")
    page.select_option("#filter-division", "open")
    assert opened.is_visible() and not closed.is_visible()
    page.select_option("#filter-division", "")
    page.select_option("#filter-category", "edge_expert")
    visible = page.locator("section.board:visible")
    assert visible.count() >= 1
    assert set(visible.evaluate_all("els => els.map(e => e.dataset.category)")) == {"edge_expert"}
    page.select_option("#filter-runner", "local")
    assert page.locator("section.board:visible").count() == 0 and page.locator("#no-match").is_visible()
    page.select_option("#filter-category", "")
    assert page.locator("#cnn_marathon-closed-local").is_visible()
    assert page.problems == []


def test_injected_markup_stays_text(page, site_url):
    for path in ("index.html", "submissions/beta.html"):
        page.goto(site_url + path)
        assert page.locator("img").count() == 0
        assert page.get_by_text('<script>alert("x")</script>', exact=False).first.is_visible()
    assert page.locator("#athlete-name").inner_text() == HOSTILE_NAME
    assert page.problems == []


def test_submission_page_shows_cis_provenance_and_links(page, site_url):
    page.goto(site_url + "submissions/alpha.html")
    body = page.locator("main").inner_text()
    assert "2.00x [1.90, 2.10]" in body and "not measured (no RAPL access)" in body
    page.locator("details summary").first.click()
    assert page.get_by_text("Submission tree sha256").first.is_visible()
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert any(h.endswith("/submissions/alpha/README.md") for h in hrefs)
    assert any("/pull/7" in h for h in hrefs)
    page.get_by_role("link", name="TinyMLPerf Leaderboard", exact=True).click()
    assert page.url.endswith("/index.html")
    assert page.problems == []


def _season_with_a_long_board():
    """TEST DATA: the sample season plus twelve entries on one board (so it gets its own page)."""
    extra = [make_scored_result(f"entrant-{i:02d}", speedup=1.2 + 0.15 * i, accuracy=0.8 + 0.005 * i,
                                model_size=400_000 + 50_000 * i) for i in range(12)]
    return sample_results() + extra


@pytest.fixture(scope="module")
def season_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("season-site")
    write_site(assemble(_season_with_a_long_board(), [], Config()), root)
    return root


PAGE_TYPES = ("index.html", "submissions/beta.html", "boards/cnn_marathon-closed-reference.html")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_type_fits_the_viewport(browser, season_site, tmp_path_factory, width):
    """No horizontal page scroll at desktop and phone widths (wide tables scroll inside their own box); each page
    is kept as a screenshot (under pytest's tmp dir, and in $TINYMLPERF_SCREENSHOTS when set)."""
    shots = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("TINYMLPERF_SCREENSHOTS"):
        shots.append(Path(os.environ["TINYMLPERF_SCREENSHOTS"]))
        shots[-1].mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    for relative in PAGE_TYPES:
        assert (season_site / relative).is_file(), relative
        tab.goto((season_site / relative).as_uri())
        scroll_width = tab.evaluate("document.scrollingElement.scrollWidth")
        name = f"{width}-{relative.replace('/', '_').removesuffix('.html')}.png"
        for folder in shots:
            tab.screenshot(path=str(folder / name), full_page=True)
        assert scroll_width <= width, f"{relative} is {scroll_width} px wide at a {width} px viewport"
    if width == 390:  # a wide ranking scrolls inside its own box, not the page
        tab.goto((season_site / "index.html").as_uri())
        boxes = tab.locator(".board .table-wrap").evaluate_all(
            "els => els.map(e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX])")
        assert any(scroll > client for scroll, client, _ in boxes) and all(o == "auto" for *_, o in boxes)
    context.close()
    assert errors == []


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store_site(tmp_path_factory):
    """The site of the committed store (leaderboard/results), built as `tito leaderboard build` builds it."""
    root = tmp_path_factory.mktemp("store-site")
    board = ROOT / "leaderboard"
    build(board / "results", None, root, board / "awards.yaml", board / "config.yaml", board / "disqualified.yaml",
          ROOT / "submissions")
    return root


SITES = ("season_site", "store_site")


def _tab(browser, width, height=844):
    context = browser.new_context(viewport={"width": width, "height": height})
    return context, context.new_page()


RANKED_COLUMN_BOXES = """sections => sections.map(section => {
  const label = section.querySelector('p.note').textContent.match(/^ranked by (.*?) ·/)[1];
  const squash = text => text.toLowerCase().replace(/[^a-z]/g, '');
  const headers = [...section.querySelectorAll('thead th')];
  const index = headers.findIndex(th => squash(th.textContent).startsWith(squash(label)));
  const rows = [...section.querySelectorAll('tbody tr')];
  const cells = index < 0 ? [] : [headers[index], ...rows.map(r => r.children[index])];
  return [section.id, cells.map(c => { const r = c.getBoundingClientRect(); return [r.left, r.right]; })];
})"""


@pytest.mark.parametrize("site", SITES)
def test_the_ranked_value_is_in_view_on_a_phone_without_scrolling_sideways(browser, request, site):
    """At 390 px the column a ranking sorts by is on screen (header and every cell) and the page does not scroll
    sideways; the other columns may scroll inside the table's own box."""
    context, tab = _tab(browser, 390)
    tab.goto((request.getfixturevalue(site) / "index.html").as_uri())
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= 390
    boards = tab.locator("section.board").evaluate_all(RANKED_COLUMN_BOXES)
    assert boards
    for board_id, cells in boards:
        assert cells, f"{board_id}: no column for the ranked value"
        assert all(0 <= left and right <= 390 for left, right in cells), (board_id, cells)
    context.close()


@pytest.mark.parametrize("site", SITES)
def test_no_table_is_cut_at_1280_px(browser, request, site):
    root = request.getfixturevalue(site)
    context, tab = _tab(browser, 1280, 800)
    pages = ["index.html"] + sorted(str(p.relative_to(root)) for p in root.glob("*/*.html"))
    for relative in pages:
        tab.goto((root / relative).as_uri())
        cut = tab.locator(".table-wrap").evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => [e.closest('[id]')?.id, "
            "e.scrollWidth, e.clientWidth])")
        assert cut == [], f"{relative}: {cut}"
    context.close()


FILTER_BAR_CLEARANCE = """target => {
  const heading = target.matches('h1, h2, h3') ? target : target.querySelector('h2, h3');
  return [heading.getBoundingClientRect().top, document.getElementById('filters').getBoundingClientRect().bottom];
}"""


@pytest.mark.parametrize("width", [1280, 800])
def test_a_jump_to_a_section_or_ranking_lands_below_the_sticky_filter_bar(browser, season_site, width):
    """Every nav link and every leader card's ranking link: the heading it jumps to is not under the sticky bar
    (at 800 px the bar wraps onto two lines)."""
    context, tab = _tab(browser, width, 800)
    tab.goto((season_site / "index.html").as_uri())
    links = tab.locator("nav.sections a, .card-link a[href^='#']")
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) > 5
    for i, href in enumerate(hrefs):
        tab.evaluate("window.scrollTo(0, 0)")
        links.nth(i).click()
        tab.wait_for_function("hash => location.hash === hash", arg=href)
        top, bar_bottom = tab.locator(href).evaluate(FILTER_BAR_CLEARANCE)
        assert top >= bar_bottom, f"{href}: heading at {top} px under the bar ending at {bar_bottom} px"
    context.close()


def _count(text, what):
    found = re.search(rf"(\d+) {what}", text)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("site", SITES)
def test_leader_card_counts_equal_the_rows_of_the_tables_they_point_to(browser, request, site):
    root = request.getfixturevalue(site)
    context, tab = _tab(browser, 1280, 800)
    tab.goto((root / "index.html").as_uri())
    cards = tab.locator("article.card").evaluate_all("""cards => cards.map(c => [
        c.querySelector('.card-link').textContent, c.querySelector('.card-link a').getAttribute('href'),
        c.dataset.event, c.dataset.division, c.dataset.runner])""")
    assert cards
    for text, href, event, division, runner in cards:
        not_ranked = tab.locator(f"#not-ranked tbody tr[data-category='event'][data-event='{event}']"
                                 f"[data-division='{division}'][data-runner='{runner}']").count()
        assert _count(text, "not ranked") == not_ranked, (href, text)
        if href.startswith("#"):
            rows = tab.locator(f"{href} tbody tr").count()
        else:
            board = context.new_page()
            board.goto((root / href).as_uri())
            rows = board.locator("section.board tbody tr").count()
            board.close()
        assert _count(text, "ranked") == rows, (href, text)
    context.close()


def test_chart_points_are_finger_sized_links_with_their_numbers_written_out(browser, season_site):
    """On a phone there is no hover: each point is a tap target of at least 24 x 24 px (WCAG 2.5.8) that opens its
    submission, every point's numbers are listed under its chart, and the labels stay legible."""
    context, tab = _tab(browser, 390)
    tab.goto((season_site / "index.html").as_uri())
    figures = tab.locator("#pareto figure, #progression figure").evaluate_all("""figures => figures.map(f => {
        const scale = f.querySelector('svg').getBoundingClientRect().width / 520;  // the chart's viewBox width
        const boxes = [...f.querySelectorAll('circle.hit')].map(h => h.getBoundingClientRect());
        const sizes = [...f.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
        return [f.querySelectorAll('circle.point').length, f.querySelectorAll('.chart-key li').length,
                boxes.map(r => [r.width, r.height]), Math.min(...sizes)];
    })""")
    assert len(figures) >= 4
    for points, listed, hits, smallest_text in figures:
        assert points == listed == len(hits) > 0
        assert all(width >= 24 and height >= 24 for width, height in hits), hits
        assert smallest_text >= 10, smallest_text  # CSS px as drawn on the phone's screen
    assert tab.locator(".chart-key li").first.is_visible()
    tab.locator("#pareto a.point-link").first.click()
    tab.wait_for_url(re.compile(r"/submissions/[^/]+\.html$"))
    context.close()
