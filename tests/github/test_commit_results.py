"""scripts/commit_results.sh: results are committed to the store and survive a main that moved meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.github.gitrepo import GIT_ENV, git, init_repo, write

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "commit_results.sh"

# A stand-in for `tito leaderboard add|build`: copies results into the store, lists the store in LEADERBOARD.md,
# and (once, when RACE_FROM is set) pushes a competing results commit from another clone, as a second merge would.
FAKE_TITO = r'''
import os, shutil, subprocess, sys
from pathlib import Path
command = sys.argv[2]
if command == "add":
    store = Path(sys.argv[sys.argv.index("--store") + 1]); store.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[3:sys.argv.index("--store")]:
        shutil.copy(name, store / Path(name).name)
elif command == "build":
    Path("LEADERBOARD.md").write_text("\n".join(sorted(p.name for p in Path("leaderboard/results").glob("*.json"))))
    race = os.environ.get("RACE_FROM")
    flag = Path(os.environ.get("RACE_FLAG", "/nonexistent"))
    if race and not flag.exists():
        flag.write_text("raced")
        Path(race, "leaderboard/results").mkdir(parents=True, exist_ok=True)
        Path(race, "leaderboard/results/other.json").write_text("{}")
        Path(race, "LEADERBOARD.md").write_text("other.json")
        for args in (["add", "-A"], ["commit", "-q", "-m", "other merge's results"], ["push", "-q", "origin", "main"]):
            subprocess.run(["git", *args], cwd=race, check=True)
'''


def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    seed = init_repo(tmp_path / "seed", {"README.md": "x\n", "leaderboard/results/.keep": ""})
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    results = tmp_path / "results"
    write(results, {"ada--mlp_sprint--reference--20261101T120000Z.json": "{}"})
    fake = tmp_path / "fake_tito.py"
    fake.write_text(FAKE_TITO)
    return origin, work, results


def run_script(work: Path, results: Path, fake: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **GIT_ENV, "TITO": f"{sys.executable} {fake}", "RETRY_DELAY": "0",
                "GITHUB_TOKEN": "", **env}
    return subprocess.run(["bash", str(SCRIPT), str(results), "Record results"], cwd=work, env=full_env,
                          capture_output=True, text=True, timeout=60)


def origin_files(origin: Path) -> list[str]:
    return git(origin, "ls-tree", "-r", "--name-only", "main").split()


def test_results_are_committed_and_pushed(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    done = run_script(work, results, tmp_path / "fake_tito.py")
    assert done.returncode == 0, done.stderr
    assert "leaderboard/results/ada--mlp_sprint--reference--20261101T120000Z.json" in origin_files(origin)
    assert git(origin, "log", "-1", "--format=%s", "main") == "Record results"


def test_a_moved_main_is_fetched_and_replayed_so_no_result_is_lost(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    racer = tmp_path / "racer"
    git(tmp_path, "clone", "-q", str(origin), str(racer))
    done = run_script(work, results, tmp_path / "fake_tito.py", RACE_FROM=str(racer),
                      RACE_FLAG=str(tmp_path / "raced"), GIT_AUTHOR_NAME="Test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "moved while recording (attempt 1 of 5)" in done.stdout
    files = origin_files(origin)
    assert "leaderboard/results/other.json" in files, "the other merge's result was lost"
    assert "leaderboard/results/ada--mlp_sprint--reference--20261101T120000Z.json" in files
    board = git(origin, "show", "main:LEADERBOARD.md")
    assert "other.json" in board and "ada--mlp_sprint" in board, "LEADERBOARD.md must be rebuilt on the new tip"


def test_gives_up_after_max_tries(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    (origin / "hooks" / "pre-receive").write_text("#!/bin/sh\necho rejected >&2\nexit 1\n")
    (origin / "hooks" / "pre-receive").chmod(0o755)
    done = run_script(work, results, tmp_path / "fake_tito.py", MAX_TRIES="2")
    assert done.returncode == 1
    assert "could not push the results to main after 2 attempts" in done.stdout


def test_nothing_to_record_is_not_an_error(tmp_path: Path) -> None:
    origin, work, _ = setup(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_script(work, empty, tmp_path / "fake_tito.py")
    assert done.returncode == 0 and "nothing to record" in done.stdout
