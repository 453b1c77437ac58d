"""`tito benchmark submit --event E --team T`: get an entry ready for its pull request (entries are submitted by PR).

Checks the folder and that it enters the event, runs the full validation, then (inside a git repository) puts the
folder on its own branch in one commit, and returns the exact pull-request steps.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from competition.problems import Problem

UPSTREAM = "tinymlperf/tinymlperf"
MAIN_BRANCHES = ("main", "master")


class PrepareError(RuntimeError):
    """The entry cannot be prepared; the message says what to do."""


@dataclass
class Prepared:
    """What was done and what the student does next."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    branch: str | None = None
    commit: str | None = None
    steps: list[str] = field(default_factory=list)


def slug(team: str) -> str:
    """The folder name a team name maps to: lowercase letters, digits, '-' and '_'."""
    return re.sub(r"[^a-z0-9_-]+", "-", team.strip().lower()).strip("-_") or "my-entry"


def prepare_entry(event_id: str, team: str, folder: Path | None = None, use_git: bool = True) -> Prepared:
    """Validate submissions/<team>/ for `event_id`; commit it on a branch when in a git repository."""
    from competition.baseline import baseline_status
    from competition.rules import load_rules
    from competition.validation import validate_path

    rules = load_rules()
    if event_id not in rules.events:
        raise PrepareError(f"unknown event {event_id!r}; events: {', '.join(sorted(rules.events))}")
    name = slug(team)
    folder = Path(folder) if folder is not None else Path("submissions") / name
    if not folder.is_dir():
        raise PrepareError(f"no entry folder {folder}: create it with `tito submission new {name} --event {event_id}`")
    prepared = Prepared(folder)
    if event_id not in _events(folder):
        prepared.problems.append(Problem(str(folder / "submission.yaml"), f"the entry does not enter {event_id}",
                                         f"add {event_id} to the events list", field="events"))
    prepared.problems += validate_path(folder, run_entry=True)
    if prepared.problems:
        return prepared
    ok, message = baseline_status(event_id)
    if not ok:
        prepared.notes.append(f"{message}; your entry can be reviewed but not scored on this event until then")
    repo = _git_root(folder) if use_git else None
    if repo is None:
        prepared.steps = [f"copy {folder} into submissions/ of your fork of {UPSTREAM} (git clone it first)",
                          f"run `tito benchmark submit --event {event_id} --team {team}` there"]
        return prepared
    prepared.branch, prepared.commit = _commit(repo, folder, name, event_id)
    prepared.steps = pr_steps(repo, prepared.branch, folder.resolve().relative_to(repo).as_posix())
    return prepared


def _events(folder: Path) -> list[str]:
    try:
        doc = yaml.safe_load((folder / "submission.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    events = doc.get("events") if isinstance(doc, dict) else None
    return [str(e) for e in events] if isinstance(events, list) else []


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise PrepareError(f"`git {' '.join(args)}` failed: {last}")
    return done.stdout.strip()


def _git_root(folder: Path) -> Path | None:
    try:
        return Path(_git(folder, "rev-parse", "--show-toplevel"))
    except (PrepareError, FileNotFoundError):  # not a repository, or git not installed
        return None


def _commit(repo: Path, folder: Path, name: str, event_id: str) -> tuple[str, str | None]:
    """Switch to entry/<name> when on the main branch, then commit the folder alone. Returns (branch, commit)."""
    branch = _git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    if branch in MAIN_BRANCHES:
        branch = f"entry/{name}"
        if _git(repo, "branch", "--list", branch):
            raise PrepareError(f"branch {branch} already exists: `git switch {branch}` and run this again")
        _git(repo, "switch", "-c", branch)
    path = folder.resolve().relative_to(repo).as_posix()
    _git(repo, "add", "--", path)
    if not _git(repo, "status", "--porcelain", "--", path):
        return branch, None  # already committed
    try:
        _git(repo, "commit", "-m", f"Add {name} ({event_id})", "--", path)
    except PrepareError as exc:
        raise PrepareError(f"{exc}; if git asks who you are: git config user.name 'Your Name' && "
                           f"git config user.email you@example.com") from exc
    return branch, _git(repo, "rev-parse", "--short", "HEAD")


def pr_steps(repo: Path, branch: str, path: str) -> list[str]:
    """The exact pull-request steps for `branch`, with the GitHub compare link when origin is on GitHub."""
    try:
        origin = _git(repo, "remote", "get-url", "origin")
    except PrepareError:
        origin = ""
    match = re.search(r"github\.com[:/](?P<owner>[^/]+)/(?P<name>[^/]+?)(\.git)?$", origin)
    fork = f"{match['owner']}/{match['name']}" if match else "<you>/tinymlperf"
    return [
        f"git push -u origin {branch}",
        f"open https://github.com/{fork}/pull/new/{branch} and target {UPSTREAM}, branch main",
        f"the pull request must add or change only {path}/; tick the honor-code box in its template",
        "the bot comments your scores on the pull request; push again to update them; a maintainer merges",
    ]
