"""`tito rehearse`: the whole lifecycle, PR to leaderboard, in a throwaway git repository, each stage checked.

The stages are the workflow steps run locally: a student branch adds a submission (`tito submission new`, offline
events on bundled data), the PR is checked (check-changes, validate, quick benchmark, comment dry-run, and three
PRs that must be rejected), merged, published (results committed to the store by scripts/commit_results.sh through
a local bare "origin") and the leaderboard and site rebuilt. The publish stage reuses the PR's quick local results:
there is no reference runner here, and they stay unofficial.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from competition.github import artifact
from competition.github.comment import MARKER

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STUDENT = "rehearsal-student"
PR_NUMBER = 1
EVENTS = ("mlp_sprint_offline", "cnn_marathon_offline")  # bundled data only: the rehearsal needs no downloads
_GIT_ENV = {"GIT_AUTHOR_NAME": "Rehearsal", "GIT_AUTHOR_EMAIL": "rehearsal@example.invalid",
            "GIT_COMMITTER_NAME": "Rehearsal", "GIT_COMMITTER_EMAIL": "rehearsal@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


class RehearsalFailed(RuntimeError):
    """A stage did not have the expected outcome; the message names the stage and shows the command output."""


@dataclass
class Rehearsal:
    """The rehearsal's repositories and what each stage produced."""

    workdir: Path
    stages: list[str] = field(default_factory=list)
    head_sha: str = ""
    comment: str = ""
    results: list[Path] = field(default_factory=list)

    @property
    def repo(self) -> Path:
        return self.workdir / "repo"

    @property
    def origin(self) -> Path:
        return self.workdir / "origin.git"

    def env(self) -> dict[str, str]:
        tito = f"{sys.executable} -m competition.cli"
        return {**os.environ, **_GIT_ENV, "PYTHONPATH": str(self.repo), "TITO": tito, "RETRY_DELAY": "0",
                "PUSH_REMOTE": "origin", "BRANCH": "main", "GITHUB_TOKEN": ""}

    def attempt(self, argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.repo, env=self.env(), capture_output=True, text=True)

    def run(self, stage: str, argv: list[str], expect: int = 0) -> str:
        done = self.attempt(argv)
        if done.returncode != expect:
            raise RehearsalFailed(f"stage {stage!r}: `{' '.join(argv)}` exited {done.returncode}, expected {expect}"
                                  f"\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
        return done.stdout

    def tito(self, stage: str, *args: str, expect: int = 0) -> str:
        return self.run(stage, [sys.executable, "-m", "competition.cli", *args], expect)

    def git(self, *args: str) -> str:
        return self.run("git", ["git", *args]).strip()

    def passed(self, stage: str, detail: str) -> None:
        self.stages.append(f"{stage}: {detail}")
        print(f"ok  {stage:<14} {detail}", flush=True)


def project_files(root: Path = PROJECT_ROOT) -> list[str]:
    """The project's files as git sees them: tracked plus untracked-but-not-ignored (still present on disk)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return sorted(p for p in set(out.split("\0")) if p and (root / p).is_file() and not (root / p).is_symlink())


def _check(condition: bool, stage: str, message: str) -> None:
    if not condition:
        raise RehearsalFailed(f"stage {stage!r}: {message}")


def stage_init(r: Rehearsal) -> None:
    r.repo.mkdir(parents=True)
    files = project_files()
    for rel in files:
        (r.repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / rel, r.repo / rel)
    shutil.rmtree(r.repo / "submissions" / STUDENT, ignore_errors=True)
    r.git("init", "-q", "-b", "main")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "TinyMLPerf (rehearsal copy)")
    r.run("init", ["git", "init", "-q", "--bare", "-b", "main", str(r.origin)])
    r.git("remote", "add", "origin", str(r.origin))
    r.git("push", "-q", "origin", "main")
    r.passed("init", f"{len(files)} files copied into a fresh repo with a bare origin")


def stage_submission(r: Rehearsal) -> None:
    r.git("switch", "-q", "-c", "student")
    r.tito("submission", "submission", "new", STUDENT, "--athlete", "Rehearsal Student", "--github", STUDENT,
           *(arg for event in EVENTS for arg in ("--event", event)))
    _check((r.repo / "submissions" / STUDENT / "model.py").is_file(), "submission", "model.py was not created")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", f"Add submissions/{STUDENT}")
    r.head_sha = r.git("rev-parse", "HEAD")
    r.passed("submission", f"branch 'student' adds submissions/{STUDENT}/ at {r.head_sha[:12]}")


def stage_check_changes(r: Rehearsal) -> None:
    output = r.workdir / "github_output"
    r.tito("check-changes", "pr", "check-changes", "--base", "main", "--head", "student",
           "--github-output", str(output))
    _check(output.read_text() == f"submission={STUDENT}\n", "check-changes", "wrong submission name reported")
    r.passed("check-changes", f"only submissions/{STUDENT}/ changed")


def stage_validate(r: Rehearsal) -> None:
    r.tito("validate", "submit", "--validate-only", f"submissions/{STUDENT}")
    r.passed("validate", "schema and static checks pass")


def stage_benchmark(r: Rehearsal) -> None:
    results = r.workdir / "artifact"
    r.tito("benchmark", "pr", "metadata", "--out", str(results), "--pr", str(PR_NUMBER), "--sha", r.head_sha,
           "--runner-class", "local")
    r.tito("benchmark", "benchmark", "run", "--all-events", "--quick", "--runner-class", "local",
           "--submission", f"submissions/{STUDENT}", "--out", str(results))
    checked = artifact.check_artifact(results, expected_sha=r.head_sha, expected_pr=PR_NUMBER)
    _check(bool(checked.results), "benchmark", "no result JSON was written")
    r.results = sorted(p for p in results.glob("*.json") if p.name != artifact.METADATA_NAME)
    events = ", ".join(res["event"]["id"] for res in checked.results)
    r.passed("benchmark", f"{len(r.results)} schema-valid result(s) ({events}); artifact accepted")


def stage_comment(r: Rehearsal) -> None:
    r.comment = r.tito("comment", "pr", "comment", "--results", str(r.workdir / "artifact"), "--sha", r.head_sha,
                       "--dry-run")
    _check(r.comment.startswith(MARKER), "comment", "the body lacks the sticky marker")
    _check(STUDENT in r.comment and r.head_sha in r.comment, "comment", "the body misses the submission or SHA")
    (r.workdir / "comment.md").write_text(r.comment, encoding="utf-8")
    r.passed("comment", f"{len(r.comment.splitlines())} lines rendered (comment.md)")


def _rejected_branch(r: Rehearsal, branch: str, edits: dict[str, str], expected: str) -> None:
    r.git("switch", "-q", "-c", branch, "student")
    for rel, text in edits.items():
        (r.repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (r.repo / rel).write_text(text, encoding="utf-8")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", branch)
    r.git("switch", "-q", "student")
    done = r.attempt([sys.executable, "-m", "competition.cli", "pr", "check-changes", "--base", "main",
                      "--head", branch])
    _check(done.returncode == 1 and expected in done.stderr, "rejections",
           f"branch {branch} was not rejected with {expected!r}: exit {done.returncode}\n{done.stderr}")


def stage_rejections(r: Rehearsal) -> None:
    _rejected_branch(r, "edits-workflow", {".github/workflows/validate.yml": "name: pwned\n"},
                     ".github/workflows/validate.yml: is outside submissions/<name>/")
    _rejected_branch(r, "two-folders", {"submissions/someone-else/model.py": "# second entry\n"},
                     "touches 2 submission folders")
    forged = r.workdir / "forged"
    shutil.copytree(r.workdir / "artifact", forged)
    artifact.write_metadata(forged, PR_NUMBER, "0" * 40, "local")
    done = r.attempt([sys.executable, "-m", "competition.cli", "pr", "comment", "--results", str(forged),
                      "--sha", r.head_sha, "--dry-run"])
    _check(done.returncode == 1 and "is not the SHA this workflow run tested" in done.stderr and not done.stdout,
           "rejections", f"a forged artifact was not rejected: exit {done.returncode}\n{done.stderr}")
    r.passed("rejections", "workflow edit, two folders and a forged artifact are each rejected")


def stage_merge(r: Rehearsal) -> None:
    before = r.git("rev-parse", "main")
    r.git("switch", "-q", "main")
    r.git("merge", "-q", "--no-ff", "student", "-m", f"Merge pull request #{PR_NUMBER}")
    r.git("push", "-q", "origin", "main")
    changed = json.loads(r.tito("merge", "pr", "submissions", "--base", before, "--head", "HEAD"))
    _check(changed == [STUDENT], "merge", f"publish would measure {changed}, expected [{STUDENT!r}]")
    r.passed("merge", f"merged into main; publish lists {changed}")


def stage_publish(r: Rehearsal) -> None:
    official = r.workdir / "official"
    official.mkdir()
    for path in r.results:
        shutil.copy2(path, official / path.name)
    r.run("publish", ["bash", "scripts/commit_results.sh", str(official), "Record rehearsal results"])
    stored = r.run("publish", ["git", "--git-dir", str(r.origin), "ls-tree", "-r", "--name-only", "main",
                               "leaderboard/results/"]).split()
    missing = [p.name for p in r.results if not any(s.endswith(p.name) for s in stored)]
    _check(not missing, "publish", f"origin/main lacks stored results {missing}")
    r.passed("publish", f"{len(r.results)} result(s) committed to origin/main's store")


def stage_build(r: Rehearsal) -> None:
    r.tito("build", "leaderboard", "build", "--store", "leaderboard/results", "--markdown", "LEADERBOARD.md",
           "--site", "_site")
    board = (r.repo / "LEADERBOARD.md").read_text(encoding="utf-8")
    _check(STUDENT in board, "build", "LEADERBOARD.md does not list the submission")
    _check((r.repo / "_site" / "index.html").is_file(), "build", "the site has no index.html")
    r.passed("build", "LEADERBOARD.md lists the submission; _site/index.html written")


STAGES = (stage_init, stage_submission, stage_check_changes, stage_validate, stage_benchmark, stage_comment,
          stage_rejections, stage_merge, stage_publish, stage_build)


def rehearse(workdir: Path) -> Rehearsal:
    """Run every stage in `workdir` (must be empty or missing); raise RehearsalFailed at the first bad outcome."""
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise RehearsalFailed(f"{workdir} is not empty; pass a new folder to --keep")
    rehearsal = Rehearsal(workdir)
    for stage in STAGES:
        stage(rehearsal)
    return rehearsal


def main(keep: str | None = None) -> int:
    """CLI entry: rehearse in `keep` (kept) or a temporary folder (removed); exit 0 if every stage passed."""
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tinymlperf-rehearsal-"))
    try:
        rehearse(workdir)
    except RehearsalFailed as err:
        print(f"FAILED {err}", file=sys.stderr)
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"rehearsal passed: {len(STAGES)} stages" + (f"; repo kept in {workdir}" if keep else ""))
    return 0
