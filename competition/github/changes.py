"""Which files a PR changes, and the rule: exactly one submissions/<name>/ folder added or changed, nothing else."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from competition.problems import Problem

SUBMISSIONS_DIR = "submissions"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_NAMES = frozenset({"baseline"})
_REGULAR_MODES = frozenset({"100644", "100755", "000000"})


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
