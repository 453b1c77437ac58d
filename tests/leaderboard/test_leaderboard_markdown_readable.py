"""LEADERBOARD.md reads as text and as rendered Markdown: only boards with entries, no HTML entities, no escaped
backticks, names whole (the committed file too)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from competition.leaderboard.config import Config
from competition.leaderboard.markdown import render_markdown
from competition.leaderboard.model import assemble
from tests.leaderboard.factory import make_scored_result

ROOT = Path(__file__).resolve().parents[2]
ENTITY = re.compile(r"&#?\w+;")
LONG_NAME = "Grace Brewster Murray Hopper & Anita Borg <Navy Research Group, Compilers & Systems Team>"


def _render(markdown: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)


def _text(html: str) -> str:
    """The visible text of rendered HTML (tags dropped, the renderer's own entities decoded)."""
    import html as html_module
    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


def _season():
    fast = make_scored_result("fast", event_id="cnn_marathon_offline", runner_class="local", speedup=2.0,
                              accuracy=0.96, baseline_accuracy=0.96, model_size=400_000)
    fast["submission"]["athlete_name"] = LONG_NAME
    even = make_scored_result("even", event_id="mlp_sprint_offline", runner_class="local", speedup=1.0,
                              accuracy=0.96, baseline_accuracy=0.96)
    return [fast, even]


def _markdown():
    return render_markdown(assemble(_season(), [], Config(repository="org/repo")))


def test_only_boards_with_ranked_entries_are_shown():
    text = _markdown()
    headings = re.findall(r"^#{3,4} (.*)$", text, re.MULTILINE)
    assert headings == ["CNN Marathon (offline) · closed · local runner"]  # MLP Sprint ranks nobody: no board
    assert "No entry beats the baseline" not in text
    leaders = text[text.index("## Leaders"):text.index("## Unofficial")]
    assert "MLP Sprint (offline)" in leaders and "no entry beats the baseline yet" in leaders
    assert "[even][]" in text[text.index("## Not ranked"):]
    boards = text[text.index("## Unofficial"):text.index("## Not ranked")]
    podium = re.findall(r"^- \*\*(.*?)\*\* by ", boards, re.MULTILINE)
    assert podium == ["Speed Demon", "Smallest Model", "Best Accuracy/Size", "TinyMLPerf Overall"]  # no empty ones


def test_markdown_has_no_entities_no_escaped_backticks_and_whole_names():
    text = _markdown()
    assert not ENTITY.search(text), ENTITY.search(text)
    assert "\\`" not in text
    rendered = _render(text)
    assert LONG_NAME in _text(rendered)  # whole, and shown as the text it is
    assert "<Navy" not in rendered  # never a tag
    categories = _text(rendered[rendered.index("<h2>Categories</h2>"):])
    assert ">= 90 %" in categories and "`" not in categories and "runner class edge count" in categories


def test_committed_leaderboard_reads_as_text():
    text = (ROOT / "LEADERBOARD.md").read_text(encoding="utf-8")
    assert not ENTITY.search(text) and "\\`" not in text and "…" not in text
    assert "No entry beats the baseline" not in text
    athletes = {json.loads(path.read_text(encoding="utf-8"))["submission"]["athlete_name"]
                for path in (ROOT / "leaderboard" / "results").glob("*--*.json")
                if not path.name.startswith("baseline--")}
    rendered = _text(_render(text))
    assert athletes and all(name in rendered for name in athletes)
    for block in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:  # every board shown has a ranked row
        assert re.search(r"^\| 1 ", block, re.MULTILINE) or re.search(r"^- \*\*.*: =?1 ", block, re.MULTILINE)


@pytest.mark.parametrize("user", ["R&amp;D <b>x</b>", "a | b `c` *d* _e_ [f](g) ~h~ \\i", "&#60;script&#62;"])
def test_a_user_string_renders_as_exactly_its_text(user):
    from competition.leaderboard.markdown import md
    rendered = _render(f"- {md(user)}\n")
    assert _text(rendered).strip() == user and "<b>" not in rendered and "<code>" not in rendered
