"""Which files a PR changes, and the rule: exactly one submissions/<name>/ folder, owned by the PR's author.

Everything here reads the PR as data (git diff, `git show` of submission.yaml parsed with yaml.safe_load); nothing
from the PR is executed, so the gate can run in a pull_request_target job with the default branch's code.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from competition.problems import Problem

SUBMISSIONS_DIR = "submissions"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_NAMES = frozenset({"baseline"})
_REGULAR_MODES = frozenset({"100644", "100755", "000000"})
MANIFEST = "submission.yaml"
MAX_MANIFEST_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileChange:
    """One changed path between two revisions. `status` is git's letter (A, M, D, T); modes are git's octal strings."""

    path: str
    status: str
    old_mode: str
    new_mode: str


@dataclass
class ChangeCheck:
    """Outcome of the PR rule: the submission touched (if any) and every problem found."""

    submission: str | None
    changes: list[FileChange]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout


def changed_files(base: str, head: str, repo: Path | str = ".") -> list[FileChange]:
    """Files changed on `head` since its merge base with `base` (what a PR shows), renames split into delete + add."""
    raw = _git(Path(repo), "diff", "--raw", "-z", "--no-renames", "--no-abbrev", f"{base}...{head}")
    fields = raw.split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        old_mode, new_mode, _old_sha, _new_sha, status = meta.lstrip(":").split()
        changes.append(FileChange(path=path, status=status[0], old_mode=old_mode, new_mode=new_mode))
    return changes


def _submission_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == SUBMISSIONS_DIR:
        return parts[1]
    return None


def check_changes(changes: list[FileChange]) -> ChangeCheck:
    """Apply the PR rule to a list of changes; every violation becomes one Problem with a fix."""
    problems: list[Problem] = []
    names = sorted({name for c in changes if (name := _submission_of(c.path)) is not None})
    if not changes:
        problems.append(Problem("(pull request)", "the pull request changes no files",
                                "add your folder submissions/<name>/ (see docs/students.md)"))
    for change in changes:
        if _submission_of(change.path) is None:
            problems.append(Problem(change.path, "is outside submissions/<name>/; a submission PR may change only "
                                    "its own folder", f"revert your change to {change.path} (maintainers change "
                                    "everything else in separate PRs)"))
        elif change.new_mode not in _REGULAR_MODES:
            problems.append(Problem(change.path, f"has git mode {change.new_mode} (symlink or submodule)",
                                    "commit a regular file instead"))
    if len(names) > 1:
        problems.append(Problem(SUBMISSIONS_DIR, f"the pull request touches {len(names)} submission folders: "
                                f"{', '.join(names)}", "open one pull request per submission folder"))
    for name in names:
        if not NAME_PATTERN.match(name):
            problems.append(Problem(f"{SUBMISSIONS_DIR}/{name}/", f"folder name {name!r} is not allowed",
                                    "use lowercase letters, digits, '-' and '_' (at most 64, starting with a "
                                    "letter or digit)"))
        elif name in RESERVED_NAMES:
            problems.append(Problem(f"{SUBMISSIONS_DIR}/{name}/", f"{name!r} is reserved for the maintainers",
                                    "copy it with `tito submission new <your-name>` and edit the copy"))
    return ChangeCheck(submission=names[0] if len(names) == 1 else None, changes=changes, problems=problems)


def check_pr(base: str, head: str, repo: Path | str = ".") -> ChangeCheck:
    """The PR rule for the revisions `base` and `head` of the git repository `repo`."""
    return check_changes(changed_files(base, head, repo))


def changed_submissions(base: str, head: str, repo: Path | str = ".") -> list[str]:
    """Submission folders changed between two revisions that still exist at `head` (for the publish workflow)."""
    names = {n for c in changed_files(base, head, repo) if (n := _submission_of(c.path)) is not None}
    present = subprocess.run(["git", "ls-tree", "--name-only", f"{head}:{SUBMISSIONS_DIR}/"], cwd=repo,
                             capture_output=True, text=True).stdout.split()
    return sorted(n for n in names if n in present and NAME_PATTERN.match(n) and n not in RESERVED_NAMES)


def all_submissions(repo: Path | str = ".") -> list[str]:
    """Every entrant's folder (one with submission.yaml), reserved names excluded, sorted."""
    root = Path(repo) / SUBMISSIONS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if (p / "submission.yaml").is_file() and NAME_PATTERN.match(p.name) and p.name not in RESERVED_NAMES)


def touches_submissions(changes: list[FileChange]) -> bool:
    """True if any change is under submissions/ (a submission PR); False for code-only PRs, which CI covers."""
    return any(c.path.split("/", 1)[0] == SUBMISSIONS_DIR for c in changes)


def handle_at(revision: str, name: str, repo: Path | str = ".") -> str | None:
    """`github_handle` of submissions/<name>/submission.yaml at `revision`, read as data; None if absent or unreadable."""
    done = subprocess.run(["git", "cat-file", "blob", f"{revision}:{SUBMISSIONS_DIR}/{name}/{MANIFEST}"], cwd=repo,
                          capture_output=True)
    if done.returncode != 0 or len(done.stdout) > MAX_MANIFEST_BYTES:
        return None
    try:
        manifest = yaml.safe_load(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    handle = manifest.get("github_handle") if isinstance(manifest, dict) else None
    return handle if isinstance(handle, str) else None


def ownership_problems(name: str, author: str, base: str, head: str, repo: Path | str = ".") -> list[Problem]:
    """A PR may change only the folder whose github_handle is its author's login (a new folder: the author's own).

    GitHub logins are case-insensitive. The base's handle decides who owns an existing folder; the head's must
    still name the author, so a PR cannot hand a folder to someone else either.
    """
    where = f"{SUBMISSIONS_DIR}/{name}/{MANIFEST}"
    owner, claimed = handle_at(base, name, repo), handle_at(head, name, repo)
    problems = []
    if owner is not None and owner.lower() != author.lower():
        problems.append(Problem(where, f"submissions/{name}/ belongs to @{owner}; @{author} may not change it",
                                "change only your own folder, or ask its owner to open the pull request",
                                field="github_handle"))
    elif claimed is None:
        problems.append(Problem(where, "is missing or has no github_handle at the pull request's head",
                                f"add submission.yaml with github_handle: {author}", field="github_handle"))
    elif claimed.lower() != author.lower():
        problems.append(Problem(where, f"github_handle is {claimed!r} but the pull request was opened by "
                                f"@{author}", f"set github_handle: {author} (your own GitHub login)",
                                field="github_handle"))
    return problems


@dataclass
class Gate:
    """What the PR gate decided: `kind` is "submission" (the rule applied), "code" (a configured bot's PR that
    touches no submissions/**: CI covers it) or "maintainer" (the repository gives the author a maintainer role:
    CI and code review cover it)."""

    kind: str
    check: ChangeCheck

    @property
    def ok(self) -> bool:
        return self.kind != "submission" or self.check.ok


def gate(base: str, head: str, author: str, maintainer: bool = False, repo: Path | str = ".",
         bots: tuple[str, ...] = ()) -> Gate:
    """The PR rule as the default branch's code applies it. `maintainer` comes from the repository (the API's
    permission endpoint, competition.github.maintainers), never from the PR; every other PR gets the rule, except
    a listed bot's PR that changes nothing under submissions/."""
    changes = changed_files(base, head, repo)
    outcome = check_changes(changes)
    if maintainer:
        return Gate("maintainer", outcome)
    if not touches_submissions(changes) and author.lower() in {b.lower() for b in bots}:
        return Gate("code", outcome)
    if outcome.submission is not None and not outcome.problems:
        outcome.problems.extend(ownership_problems(outcome.submission, author, base, head, repo))
    return Gate("submission", outcome)
