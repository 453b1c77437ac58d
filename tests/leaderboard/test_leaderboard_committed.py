"""The committed LEADERBOARD.md is exactly what `tito leaderboard build` renders from the committed store."""

from pathlib import Path

from competition.leaderboard.build import build

ROOT = Path(__file__).resolve().parents[2]


def test_committed_leaderboard_matches_the_store(tmp_path):
    rendered = tmp_path / "LEADERBOARD.md"
    build(ROOT / "leaderboard" / "results", rendered, None,
          ROOT / "leaderboard" / "awards.yaml", ROOT / "leaderboard" / "config.yaml")
    committed = (ROOT / "LEADERBOARD.md").read_text(encoding="utf-8")
    assert committed == rendered.read_text(encoding="utf-8"), "LEADERBOARD.md is stale: run `tito leaderboard build`"
