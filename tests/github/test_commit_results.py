"""scripts/commit_results.sh: results land on the data-only results branch (never main) and survive races."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.github.gitrepo import GIT_ENV, git, init_repo, write

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "commit_results.sh"

# A stand-in for `tito leaderboard add|build`: copies results into --store, lists the store in --markdown, and (once,
# when RACE_FROM is set) pushes a competing results commit from another clone, as a second merge's record job would.
FAKE_TITO = r'''
import os, shutil, subprocess, sys
from pathlib import Path
command, args = sys.argv[2], sys.argv[3:]
store = Path(args[args.index("--store") + 1])
if command == "add":
    store.mkdir(parents=True, exist_ok=True)
    for name in args[:args.index("--store")]:
        shutil.copy(name, store / Path(name).name)
elif command == "build":
    Path(args[args.index("--markdown") + 1]).write_text("\n".join(sorted(p.name for p in store.glob("*.json"))))
    race = os.environ.get("RACE_FROM")
    flag = Path(os.environ.get("RACE_FLAG", "/nonexistent"))
    if race and not flag.exists():
        flag.write_text("raced")
        Path(race, "leaderboard/results").mkdir(parents=True, exist_ok=True)
        Path(race, "leaderboard/results/other.json").write_text("{}")
        Path(race, "LEADERBOARD.md").write_text("other.json")
        for step in (["add", "-A"], ["commit", "-q", "-m", "other merge's results"],
                     ["push", "-q", "origin", "HEAD:refs/heads/results"]):
            subprocess.run(["git", *step], cwd=race, check=True)
'''
RESULT = "ada--mlp_sprint--reference--20261101T120000Z.json"


def setup(tmp_path: Path, results_branch: bool = True) -> tuple[Path, Path, Path]:
    seed = init_repo(tmp_path / "seed", {"README.md": "x\n", "leaderboard/results/.keep": ""})
    if results_branch:
        git(seed, "switch", "-q", "--orphan", "results")
        write(seed, {"leaderboard/results/seed.json": "{}", "LEADERBOARD.md": "seed.json"})
        git(seed, "add", "leaderboard/results/seed.json", "LEADERBOARD.md")
        git(seed, "commit", "-q", "-m", "results branch")
        git(seed, "switch", "-q", "main")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    results = tmp_path / "results"
    write(results, {RESULT: "{}"})
    (tmp_path / "fake_tito.py").write_text(FAKE_TITO)
    return origin, work, results


def run_script(work: Path, results: Path, fake: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **GIT_ENV, "TITO": f"{sys.executable} {fake}", "RETRY_DELAY": "0",
                "GITHUB_TOKEN": "", **env}
    return subprocess.run(["bash", str(SCRIPT), str(results), "Record results"], cwd=work, env=full_env,
                          capture_output=True, text=True, timeout=60)


def branch_files(origin: Path, branch: str = "results") -> list[str]:
    return git(origin, "ls-tree", "-r", "--name-only", branch).split()


def test_results_are_committed_to_the_results_branch_and_main_is_untouched(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    main_before = git(origin, "rev-parse", "main")
    done = run_script(work, results, tmp_path / "fake_tito.py")
    assert done.returncode == 0, done.stderr
    assert f"leaderboard/results/{RESULT}" in branch_files(origin)
    assert "leaderboard/results/seed.json" in branch_files(origin), "earlier results must be kept"
    assert git(origin, "log", "-1", "--format=%s", "results") == "Record results"
    assert git(origin, "rev-parse", "main") == main_before, "protected main must never be pushed to"
    assert "README.md" not in branch_files(origin), "the results branch holds data only"


def test_the_first_record_creates_the_results_branch(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path, results_branch=False)
    done = run_script(work, results, tmp_path / "fake_tito.py")
    assert done.returncode == 0, done.stderr
    assert sorted(branch_files(origin)) == ["LEADERBOARD.md", f"leaderboard/results/{RESULT}"]


def test_two_merges_racing_lose_no_result(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    racer = tmp_path / "racer"
    git(tmp_path, "clone", "-q", "--branch", "results", str(origin), str(racer))
    done = run_script(work, results, tmp_path / "fake_tito.py", RACE_FROM=str(racer),
                      RACE_FLAG=str(tmp_path / "raced"), GIT_AUTHOR_NAME="Test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "moved while recording (attempt 1 of 5)" in done.stdout
    files = branch_files(origin)
    assert "leaderboard/results/other.json" in files, "the other merge's result was lost"
    assert f"leaderboard/results/{RESULT}" in files
    board = git(origin, "show", "results:LEADERBOARD.md")
    assert "other.json" in board and "ada--mlp_sprint" in board, "LEADERBOARD.md must be rebuilt on the new tip"


def test_gives_up_after_max_tries(tmp_path: Path) -> None:
    origin, work, results = setup(tmp_path)
    (origin / "hooks" / "pre-receive").write_text("#!/bin/sh\necho rejected >&2\nexit 1\n")
    (origin / "hooks" / "pre-receive").chmod(0o755)
    done = run_script(work, results, tmp_path / "fake_tito.py", MAX_TRIES="2")
    assert done.returncode == 1
    assert "could not push the results to results after 2 attempts" in done.stdout


def test_nothing_to_record_is_not_an_error(tmp_path: Path) -> None:
    origin, work, _ = setup(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_script(work, empty, tmp_path / "fake_tito.py")
    assert done.returncode == 0 and "nothing to record" in done.stdout
