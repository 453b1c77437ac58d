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
def test_the_whole_lifecycle_rehearses_including_the_maintainer_triggered_run(tmp_path: Path) -> None:
    done = rehearsal.rehearse(tmp_path / "rehearsal")
    assert [s.split(":")[0] for s in done.stages] == [stage.__name__.removeprefix("stage_").replace("_", "-")
                                                      for stage in rehearsal.STAGES]
    assert done.comment.startswith(MARKER) and done.head_sha in done.comment
    assert "Official rerun: reference runner (x86)" in done.official_comment

    def origin(*args: str) -> str:
        return subprocess.run(["git", "--git-dir", str(done.origin), *args], capture_output=True, text=True,
                              check=True).stdout

    assert origin("log", "--format=%s", "main").splitlines()[:2] == ["Register the reference runner",
                                                                     "Merge pull request #1"]
    assert origin("log", "--format=%s", "results").splitlines() == ["Record rehearsal results"]
    assert rehearsal.STUDENT in origin("show", "results:LEADERBOARD.md")
    stored = [p for p in origin("ls-tree", "-r", "--name-only", "results").split() if p.endswith(".json")]
    mine = [json.loads(origin("show", f"results:{p}")) for p in stored]
    assert [(r["submission"]["name"], r["event"]["id"], r["runner"]["class"], r["sandbox"]["isolation"])
            for r in mine] == [(rehearsal.STUDENT, rehearsal.OFFICIAL_EVENT, "reference", "jail")]
    assert all(r["harness"]["git_commit"] == done.official_commit for r in mine)
    assert (tmp_path / "rehearsal" / "_site" / "index.html").is_file()


def test_rehearse_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "something").write_text("x")
    assert run_cli(["rehearse", "--keep", str(tmp_path)]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "something").exists()


def test_project_files_include_untracked_but_not_ignored(tmp_path: Path) -> None:
    files = rehearsal.project_files()
    assert "competition/github/rehearsal.py" in files
    assert not any("__pycache__" in f for f in files)
