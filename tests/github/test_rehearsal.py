"""`tito rehearse`: the whole lifecycle in a throwaway repo, every stage's outcome asserted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from competition.github import rehearsal
from competition.github.comment import MARKER
from tests.github.test_changes import run_cli


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_whole_lifecycle_rehearses(tmp_path: Path) -> None:
    done = rehearsal.rehearse(tmp_path / "rehearsal")
    assert [s.split(":")[0] for s in done.stages] == [stage.__name__.removeprefix("stage_").replace("_", "-")
                                                      for stage in rehearsal.STAGES]
    assert done.comment.startswith(MARKER) and done.head_sha in done.comment
    origin = done.origin
    log = subprocess.run(["git", "--git-dir", str(origin), "log", "--format=%s", "main"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert log[:2] == ["Record rehearsal results", "Merge pull request #1"]
    board = subprocess.run(["git", "--git-dir", str(origin), "show", "main:LEADERBOARD.md"], capture_output=True,
                           text=True, check=True).stdout
    assert rehearsal.STUDENT in board
    stored = sorted((done.repo / "leaderboard" / "results").rglob("*.json"))
    mine = [json.loads(p.read_text()) for p in stored if p.name.startswith(f"{rehearsal.STUDENT}--")]
    assert sorted(r["event"]["id"] for r in mine) == sorted(rehearsal.EVENTS)
    assert (done.repo / "_site" / "index.html").is_file()


def test_rehearse_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "something").write_text("x")
    assert run_cli(["rehearse", "--keep", str(tmp_path)]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "something").exists()


def test_project_files_include_untracked_but_not_ignored(tmp_path: Path) -> None:
    files = rehearsal.project_files()
    assert "competition/github/rehearsal.py" in files
    assert not any("__pycache__" in f for f in files)
