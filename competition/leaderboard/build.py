"""`tito leaderboard build`: store (+ awards.yaml + config.yaml) -> LEADERBOARD.md and the static site."""

from __future__ import annotations

from pathlib import Path

from competition.leaderboard.awards import load_awards
from competition.leaderboard.config import load_config
from tinytorch.atomic import write_atomic
from competition.leaderboard.markdown import render_markdown
from competition.leaderboard.model import Leaderboard, assemble
from competition.leaderboard.site import write_site
from competition.leaderboard.store import load_store


def load_leaderboard(store_dir: str | Path, awards_path: str | Path, config_path: str | Path) -> Leaderboard:
    """Read the inputs and compute the leaderboard."""
    return assemble(load_store(store_dir), load_awards(awards_path), load_config(config_path))


def build(store_dir: str | Path, markdown_path: str | Path | None, site_dir: str | Path | None,
          awards_path: str | Path, config_path: str | Path) -> list[Path]:
    """Render LEADERBOARD.md and/or the site; returns the files written. Same inputs -> same bytes."""
    lb = load_leaderboard(store_dir, awards_path, config_path)
    written = []
    if markdown_path is not None:
        write_atomic(Path(markdown_path), render_markdown(lb))
        written.append(Path(markdown_path))
    if site_dir is not None:
        written += write_site(lb, site_dir)
    return written
