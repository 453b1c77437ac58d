"""The static GitHub Pages site: render every page as text (pure), then swap the whole site in at once."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.site.index import board_page_path, long_boards, render_board_page, render_index
from competition.leaderboard.site.submission import render_submission

ASSETS = ("site.css", "site.js")


def render_site(lb: Leaderboard) -> dict[str, str]:
    """{relative path: file content} for the whole site."""
    pages = {"index.html": render_index(lb), ".nojekyll": ""}
    for name in lb.submissions:
        pages[f"submissions/{name}.html"] = render_submission(lb, name)
    for board in long_boards(lb):
        pages[board_page_path(board)] = render_board_page(lb, board)
    assets = resources.files("competition.leaderboard") / "site_assets"
    for asset in ASSETS:
        pages[f"assets/{asset}"] = (assets / asset).read_text(encoding="utf-8")
    return dict(sorted(pages.items()))


class SiteError(ValueError):
    """The site folder holds something that is not a previous build of the site."""


def write_site(lb: Leaderboard, site_dir: str | Path) -> list[Path]:
    """Write the site into `site_dir`: every page goes into a staging folder beside it, which then replaces the
    previous site in two renames (readers see the old site or the new one, never a mix; the site is rebuilt from
    the store, so no per-file fsync). Returns the paths."""
    root = Path(site_dir).resolve()
    if root.exists() and any(root.iterdir()) and not (root / "index.html").is_file():
        raise SiteError(f"{site_dir}: exists and is not a previous site (no index.html); fix: pass an empty or "
                        "new folder to --site")
    staging = root.with_name(f".{root.name}.staging-{os.getpid()}")
    retired = root.with_name(f".{root.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for relative, content in render_site(lb).items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        if root.exists():
            os.replace(root, retired)
        os.replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return sorted(p for p in root.rglob("*") if p.is_file())
