"""`tito leaderboard build`: store (+ awards.yaml, config.yaml, disqualified.yaml) -> LEADERBOARD.md and the site.

The build believes the store no more than `tito leaderboard add` does: every result is checked again
(competition.leaderboard.admission, scores recomputed), so a hand-edited file cannot change a rank; results that do
not count are shown as history with the reason.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from competition.leaderboard.admission import Policy
from competition.leaderboard.awards import load_awards
from competition.leaderboard.config import load_config
from competition.leaderboard.disqualified import load_disqualified
from competition.leaderboard.markdown import render_markdown
from competition.leaderboard.model import Leaderboard, admit, assemble
from competition.leaderboard.site import write_site
from competition.leaderboard.index import CheckIndex, load_checked
from competition.leaderboard.store import StoreError
from tinytorch.atomic import write_atomic


def submissions_folder(path: str | Path) -> Path:
    """The submissions folder results are checked against (a removed folder drops its results)."""
    folder = Path(path)
    if not folder.is_dir():
        raise StoreError(f"{path}: no submissions folder here (results of removed folders are dropped against it); "
                         "fix: run from the repository root, or pass --submissions DIR, or --submissions '' to skip")
    return folder


def load_leaderboard(store_dir: str | Path, awards_path: str | Path, config_path: str | Path,
                     disqualified_path: str | Path | None = None, submissions_dir: str | Path | None = None,
                     reveal: bool = False, index_path: str | Path | None = None) -> Leaderboard:
    """Read the inputs, check every result again (the schema and score checks once per file content, through
    the check index at `index_path`; None = no index kept) and compute the leaderboard."""
    store = Path(store_dir)
    if not store.is_dir():
        raise StoreError(f"{store}: no results store here; fix: run inside a TinyMLPerf checkout (the store is "
                         "leaderboard/results/) or pass --store DIR")
    config = load_config(config_path)
    disqualified = load_disqualified(disqualified_path) if disqualified_path is not None else {}
    policy = Policy(config, disqualified, submissions_folder(submissions_dir) if submissions_dir is not None else None)
    index = CheckIndex.open(Path(index_path) if index_path is not None else None)
    results, score_checks = load_checked(store, index)
    index.save()
    counted, history = admit(results, policy, score_checks)
    return assemble(counted, load_awards(awards_path), config, history, reveal)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a build allocates a few hundred thousand small dicts (the results)
    that are all alive until it ends, so the collector's passes find nothing and cost a quarter of the time.
    Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(store_dir: str | Path, markdown_path: str | Path | None, site_dir: str | Path | None,
          awards_path: str | Path, config_path: str | Path, disqualified_path: str | Path | None = None,
          submissions_dir: str | Path | None = None, reveal: bool = False,
          index_path: str | Path | None = None) -> list[Path]:
    """Render LEADERBOARD.md and/or the site; returns the files written. Same inputs -> same bytes."""
    with _without_cycle_collection():
        lb = load_leaderboard(store_dir, awards_path, config_path, disqualified_path, submissions_dir, reveal,
                              index_path)
        written = []
        if markdown_path is not None:
            write_atomic(Path(markdown_path), render_markdown(lb))
            written.append(Path(markdown_path))
        if site_dir is not None:
            written += write_site(lb, site_dir)
    return written
