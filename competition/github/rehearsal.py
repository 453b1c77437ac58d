"""`tito rehearse`: the whole lifecycle, PR to leaderboard, in a throwaway git repository, each stage checked.

The stages are the workflow steps run locally, in the order GitHub would run them: a student branch adds a
submission (`tito submission new`, offline events on bundled data); the gate checks it with main's code; Validate
checks out the base, overlays only the submission folder and smoke-runs it (--quick, runner class local); the bot
renders its comment; PRs that must be rejected are rejected; then the maintainer-triggered official run: main's
checkout, the folder overlaid at the reviewed SHA, validated, measured in the jail as runner class `reference`
(one inference event, full rounds), its provenance classified as GitHub's record would make it; the merge; the
maintainer registers the runner's fingerprint; the record job checks the official results (`tito pr collect`) and
commits them to the `results` branch of a local bare "origin" (scripts/commit_results.sh); the leaderboard and site
are built from that branch. The official measurement is reused for the merge (Publish would measure again).
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

from competition.github import artifact, comment, plan, provenance
from competition.github.comment import MARKER

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STUDENT = "rehearsal-student"
PR_NUMBER = 1
EVENTS = ("mlp_sprint_offline", "cnn_marathon_offline")  # bundled data only: the rehearsal needs no downloads
OFFICIAL_EVENT = "cnn_marathon_offline"  # inference: a full-round official run stays under a minute
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
    official_comment: str = ""
    official_commit: str = ""
    official: list[Path] = field(default_factory=list)

    @property
    def repo(self) -> Path:
        return self.workdir / "repo"

    @property
    def origin(self) -> Path:
        return self.workdir / "origin.git"

    def env(self, root: Path | None = None) -> dict[str, str]:
        tito = f"{sys.executable} -m competition.cli"
        return {**os.environ, **_GIT_ENV, "PYTHONPATH": str(root or self.repo), "TITO": tito, "RETRY_DELAY": "0",
                "PUSH_REMOTE": "origin", "BRANCH": "results", "GITHUB_TOKEN": ""}

    def attempt(self, argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=cwd or self.repo, env=self.env(cwd), capture_output=True, text=True)

    def run(self, stage: str, argv: list[str], expect: int = 0, cwd: Path | None = None) -> str:
        done = self.attempt(argv, cwd)
        if done.returncode != expect:
            raise RehearsalFailed(f"stage {stage!r}: `{' '.join(argv)}` exited {done.returncode}, expected {expect}"
                                  f"\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
        return done.stdout

    def tito(self, stage: str, *args: str, expect: int = 0, cwd: Path | None = None) -> str:
        return self.run(stage, [sys.executable, "-m", "competition.cli", *args], expect, cwd)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return self.run("git", ["git", *args], cwd=cwd).strip()

    def checkout_of(self, name: str, revision: str) -> Path:
        """A clean worktree of `revision` (what actions/checkout gives a job)."""
        path = self.workdir / name
        self.git("worktree", "add", "-q", "--detach", str(path), revision)
        return path

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
    r.git("switch", "-q", "main")
    r.passed("submission", f"branch 'student' adds submissions/{STUDENT}/ at {r.head_sha[:12]}")


def stage_gate(r: Rehearsal) -> None:
    output = r.workdir / "github_output"
    r.tito("gate", "pr", "check-changes", "--base", "main", "--head", r.head_sha, "--author", STUDENT,
           "--github-output", str(output))
    _check(output.read_text() == f"kind=submission\nsubmission={STUDENT}\n", "gate", "wrong gate outputs")
    r.passed("gate", f"only submissions/{STUDENT}/, owned by @{STUDENT} (main's code, PR read as data)")


def stage_validate(r: Rehearsal) -> None:
    base = r.checkout_of("validate", "main")
    r.tito("validate", "pr", "overlay", "--rev", r.head_sha, "--submission", STUDENT, cwd=base)
    r.tito("validate", "submit", "--validate-only", f"submissions/{STUDENT}", cwd=base)
    _check(not (r.repo / "submissions" / STUDENT).exists(), "validate", "the overlay touched another checkout")
    r.passed("validate", "base checked out, only the folder overlaid; schema and static checks pass")


def stage_smoke(r: Rehearsal) -> None:
    base, results = r.workdir / "validate", r.workdir / "artifact"
    r.tito("smoke", "pr", "metadata", "--out", str(results), "--pr", str(PR_NUMBER), "--sha", r.head_sha,
           "--runner-class", "local", cwd=base)
    r.tito("smoke", "benchmark", "run", "--all-events", "--quick", "--runner-class", "local",
           "--submission", f"submissions/{STUDENT}", "--out", str(results), cwd=base)
    checked = artifact.check_artifact(results, expected_sha=r.head_sha, expected_pr=PR_NUMBER,
                                      runner_classes=provenance.RUNNER_CLASSES["smoke"])
    _check(bool(checked.results), "smoke", "no result JSON was written")
    events = ", ".join(res["event"]["id"] for res in checked.results)
    r.passed("smoke", f"{len(checked.results)} schema-valid result(s) ({events}); artifact accepted")


def stage_comment(r: Rehearsal) -> None:
    r.comment = r.tito("comment", "pr", "comment", "--results", str(r.workdir / "artifact"), "--sha", r.head_sha,
                       "--dry-run")
    _check(r.comment.startswith(MARKER), "comment", "the body lacks the sticky marker")
    _check(STUDENT in r.comment and r.head_sha in r.comment, "comment", "the body misses the submission or SHA")
    _check("Smoke run on a GitHub-hosted machine (unverified)" in r.comment, "comment", "smoke not labelled")
    (r.workdir / "comment.md").write_text(r.comment, encoding="utf-8")
    r.passed("comment", f"{len(r.comment.splitlines())} lines rendered (comment.md), labelled unverified")


def _rejected_branch(r: Rehearsal, branch: str, edits: dict[str, str], expected: str,
                     author: str = STUDENT) -> None:
    r.git("switch", "-q", "-c", branch, r.head_sha)
    for rel, text in edits.items():
        (r.repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (r.repo / rel).write_text(text, encoding="utf-8")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", branch)
    r.git("switch", "-q", "main")
    done = r.attempt([sys.executable, "-m", "competition.cli", "pr", "check-changes", "--base", "main",
                      "--head", branch, "--author", author])
    _check(done.returncode == 1 and expected in done.stderr, "rejections",
           f"branch {branch} was not rejected with {expected!r}: exit {done.returncode}\n{done.stderr}")


def stage_rejections(r: Rehearsal) -> None:
    _rejected_branch(r, "edits-workflow", {".github/workflows/validate.yml": "name: pwned\n"},
                     ".github/workflows/validate.yml: is outside submissions/<name>/")
    _rejected_branch(r, "edits-scripts", {"scripts/commit_results.sh": "echo pwned\n"},
                     "scripts/commit_results.sh: is outside submissions/<name>/")
    _rejected_branch(r, "two-folders", {"submissions/someone-else/model.py": "# second entry\n"},
                     "touches 2 submission folders")
    _rejected_branch(r, "foreign-folder", {f"submissions/{STUDENT}/model.py": "# sabotage\n"},
                     f"github_handle is '{STUDENT}' but the pull request was opened by @mallory", author="mallory")
    forged = r.workdir / "forged"
    shutil.copytree(r.workdir / "artifact", forged)
    artifact.write_metadata(forged, PR_NUMBER, "0" * 40, "local")
    done = r.attempt([sys.executable, "-m", "competition.cli", "pr", "comment", "--results", str(forged),
                      "--sha", r.head_sha, "--dry-run"])
    _check(done.returncode == 1 and "is not the SHA this workflow run tested" in done.stderr and not done.stdout,
           "rejections", f"a forged artifact was not rejected: exit {done.returncode}\n{done.stderr}")
    artifact.write_metadata(forged, PR_NUMBER, r.head_sha, "local")
    claims = [p for p in forged.glob("*.json") if p.name != artifact.METADATA_NAME]
    for path in claims:
        result = json.loads(path.read_text(encoding="utf-8"))
        result["runner"]["class"] = "reference"
        path.write_text(json.dumps(result), encoding="utf-8")
    artifact.write_metadata(forged, PR_NUMBER, r.head_sha, "reference")
    try:
        artifact.check_artifact(forged, r.head_sha, PR_NUMBER, runner_classes=provenance.RUNNER_CLASSES["smoke"])
        _check(False, "rejections", "a smoke artifact claiming the reference runner was accepted")
    except artifact.ArtifactRejected as err:
        _check("cannot come from this workflow run" in str(err), "rejections", str(err))
    r.passed("rejections", "workflow, scripts/, two folders, another's folder and forged artifacts rejected")


def _benchmark_run(main_sha: str, event: str, branch: str) -> provenance.RunInfo:
    """The record GitHub keeps of a Benchmark run (what comment.yml reads through the API)."""
    return provenance.RunInfo(id=1, path=provenance.BENCHMARK_PATH, event=event, head_branch=branch,
                              head_sha=main_sha, head_repository="rehearsal/tinymlperf")


def stage_official(r: Rehearsal) -> None:
    main_sha = r.git("rev-parse", "main")
    origin = provenance.classify(_benchmark_run(main_sha, "workflow_dispatch", "main"), "rehearsal/tinymlperf",
                                 "main")
    forged = provenance.classify(_benchmark_run(main_sha, "pull_request", "student"), "rehearsal/tinymlperf",
                                 "main")
    _check(origin.kind == "official" and forged.kind == "untrusted", "official", f"{origin} / {forged}")
    checkout, results = r.checkout_of("official-main", main_sha), r.workdir / "official-artifact"
    r.tito("official", "pr", "overlay", "--rev", r.head_sha, "--submission", STUDENT, cwd=checkout)
    r.tito("official", "submit", "--validate-only", f"submissions/{STUDENT}", cwd=checkout)
    r.tito("official", "pr", "metadata", "--out", str(results), "--pr", str(PR_NUMBER), "--sha", r.head_sha,
           "--runner-class", "reference", cwd=checkout)
    r.tito("official", "benchmark", "run", "--event", OFFICIAL_EVENT, "--runner-class", "reference",
           "--submission", f"submissions/{STUDENT}", "--out", str(results), cwd=checkout)
    checked = artifact.check_artifact(results, expected_sha=None, runner_classes=origin.runner_classes,
                                      harness_commit=main_sha)
    _check([res["sandbox"].get("isolation") for res in checked.results] == ["jail"], "official",
           "the official run did not run in the jail")
    section = comment.render_section("reference", checked.results, r.head_sha, official=True)
    r.official_comment = comment.render_comment({"reference": section}, r.head_sha, PR_NUMBER, r.comment)
    _check("Official rerun: reference runner (x86)" in r.official_comment and "Smoke run" in r.official_comment,
           "official", "the official section was not added beside the smoke one")
    r.official_commit = main_sha
    r.official = sorted(p for p in results.glob("*.json") if p.name != artifact.METADATA_NAME)
    r.passed("official", f"maintainer dispatch on main: {OFFICIAL_EVENT} measured in the jail as `reference`, "
             "shown as official")


def stage_merge(r: Rehearsal) -> None:
    before = r.git("rev-parse", "main")
    r.git("merge", "-q", "--no-ff", r.head_sha, "-m", f"Merge pull request #{PR_NUMBER}")
    r.git("push", "-q", "origin", "main")
    after = r.git("rev-parse", "HEAD")
    r.tito("merge", "pr", "plan", "--changed-since", before, "--harness-commit", after, "--out",
           str(r.workdir / "merge-plan.json"))
    listed = sorted((rc, name) for rc, _, name in plan.load(r.workdir / "merge-plan.json").entries())
    _check(listed == [("edge", STUDENT), ("reference", STUDENT)], "merge", f"publish would measure {listed}")
    r.passed("merge", f"merged into main; publish measures {STUDENT} on reference and edge")


def stage_register(r: Rehearsal) -> None:
    snippet = r.tito("register", "leaderboard", "fingerprint", str(r.official[0]))
    config = r.repo / "leaderboard" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    _check("runners: []" in text, "register", "leaderboard/config.yaml has no empty runners list")
    entry = "\n".join(line for line in snippet.splitlines() if not line.startswith("#"))
    config.write_text(text.replace("runners: []", "runners:\n" + entry), encoding="utf-8")
    r.git("commit", "-q", "-am", "Register the reference runner")
    r.git("push", "-q", "origin", "main")
    r.passed("register", "the reference runner's fingerprint is in leaderboard/config.yaml")


def stage_record(r: Rehearsal) -> None:
    artifacts, plan_file = r.workdir / "downloaded", r.workdir / "record-plan.json"
    made = plan.make([STUDENT], ["reference"], r.official_commit)
    plan.write(made, plan_file)
    (artifacts / made.chunks[0].artifact).mkdir(parents=True)
    for path in r.official:
        shutil.copy2(path, artifacts / made.chunks[0].artifact / path.name)
    accepted = r.workdir / "accepted"
    r.tito("record", "pr", "collect", "--artifacts", str(artifacts), "--plan", str(plan_file), "--runner-class",
           "reference", "--chunk", "0", "--out", str(accepted))
    _check(sorted(p.name for p in accepted.iterdir()) == sorted(p.name for p in r.official), "record",
           "the official results were not accepted")
    r.run("record", ["bash", "scripts/commit_results.sh", str(accepted), "Record rehearsal results"])
    stored = r.run("record", ["git", "--git-dir", str(r.origin), "ls-tree", "-r", "--name-only", "results",
                              "leaderboard/results/"]).split()
    missing = [p.name for p in r.official if not any(s.endswith(p.name) for s in stored)]
    _check(not missing, "record", f"origin's results branch lacks {missing}")
    r.passed("record", f"{len(r.official)} checked result(s) committed to origin's results branch; main untouched")


def stage_build(r: Rehearsal) -> None:
    data = r.workdir / "results-branch"
    r.run("build", ["git", "clone", "-q", "--branch", "results", str(r.origin), str(data)])
    r.tito("build", "leaderboard", "build", "--store", str(data / "leaderboard" / "results"), "--markdown",
           str(r.workdir / "LEADERBOARD.md"), "--site", str(r.workdir / "_site"))
    board = (r.workdir / "LEADERBOARD.md").read_text(encoding="utf-8")
    _check(STUDENT in board, "build", "LEADERBOARD.md does not list the submission")
    _check((r.workdir / "_site" / "index.html").is_file(), "build", "the site has no index.html")
    r.passed("build", "LEADERBOARD.md (from the results branch) lists the submission; _site/index.html written")


STAGES = (stage_init, stage_submission, stage_gate, stage_validate, stage_smoke, stage_comment, stage_rejections,
          stage_official, stage_merge, stage_register, stage_record, stage_build)


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
