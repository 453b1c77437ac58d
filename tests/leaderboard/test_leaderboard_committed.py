"""The committed LEADERBOARD.md is exactly what `tito leaderboard build` renders from the committed store (with the
same inputs as the CLI's defaults: awards, config with the registered runners, disqualification list, submissions)."""

from pathlib import Path

from competition.leaderboard.build import build

ROOT = Path(__file__).resolve().parents[2]


def test_committed_leaderboard_matches_the_store(tmp_path):
    rendered = tmp_path / "LEADERBOARD.md"
    board = ROOT / "leaderboard"
    build(board / "results", rendered, None, board / "awards.yaml", board / "config.yaml",
          board / "disqualified.yaml", ROOT / "submissions")
    committed = (ROOT / "LEADERBOARD.md").read_text(encoding="utf-8")
    assert committed == rendered.read_text(encoding="utf-8"), "LEADERBOARD.md is stale: run `tito leaderboard build`"
