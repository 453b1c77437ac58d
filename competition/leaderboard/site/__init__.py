"""The static GitHub Pages site: render every page as text (pure), then write them atomically."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tinytorch.atomic import write_atomic
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.site.index import render_index
from competition.leaderboard.site.submission import render_submission

ASSETS = ("site.css", "site.js")


def render_site(lb: Leaderboard) -> dict[str, str]:
    """{relative path: file content} for the whole site."""
    pages = {"index.html": render_index(lb), ".nojekyll": ""}
    for name in lb.submissions:
        pages[f"submissions/{name}.html"] = render_submission(lb, name)
    assets = resources.files("competition.leaderboard") / "site_assets"
    for asset in ASSETS:
        pages[f"assets/{asset}"] = (assets / asset).read_text(encoding="utf-8")
    return dict(sorted(pages.items()))


def write_site(lb: Leaderboard, site_dir: str | Path) -> list[Path]:
    """Write the site into `site_dir` (each file atomically); returns the written paths."""
    root = Path(site_dir)
    written = []
    for relative, content in render_site(lb).items():
        write_atomic(root / relative, content)
        written.append(root / relative)
    return written
