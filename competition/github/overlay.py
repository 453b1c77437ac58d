"""Copy one submission folder out of a PR's commit into the default branch's checkout, as data.

The trusted workflows check out the default branch (its harness, scripts and workflows), fetch the PR's head
commit and then take only `submissions/<name>/` from it: regular files read with `git cat-file`, never a checkout of
the PR, never a symlink or submodule, never a path outside that folder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from competition.github.changes import NAME_PATTERN, SUBMISSIONS_DIR

_REGULAR = {"100644": 0o644, "100755": 0o755}
MAX_FILES = 2000
MAX_BYTES = 256 * 1024 * 1024


class OverlayError(RuntimeError):
    """The folder cannot be taken from that commit; the message says why."""


def _git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True)
    if done.returncode != 0:
        raise OverlayError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def overlay(revision: str, name: str, repo: Path | str = ".") -> list[str]:
    """Replace `repo`/submissions/<name>/ by that folder at `revision`; return the files written (relative paths)."""
    repo = Path(repo)
    if not NAME_PATTERN.match(name):
        raise OverlayError(f"{name!r} is not a submission folder name")
    prefix = f"{SUBMISSIONS_DIR}/{name}/"
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", "-l", revision, "--", prefix).split(b"\0")
    entries = []
    for line in filter(None, listing):
        try:
            meta, path = line.decode("utf-8").split("\t", 1)
        except UnicodeDecodeError:
            raise OverlayError(f"a file name under {prefix} is not UTF-8: rename it") from None
        mode, kind, sha, size = meta.split()
        if kind != "blob" or mode not in _REGULAR:
            raise OverlayError(f"{path} has git mode {mode} ({kind}): only regular files are taken")
        if not path.startswith(prefix) or ".." in path.split("/"):
            raise OverlayError(f"{path} is outside {prefix}")
        entries.append((path, mode, sha, int(size)))
    if not entries:
        raise OverlayError(f"{prefix} does not exist at {revision}")
    if len(entries) > MAX_FILES or sum(e[3] for e in entries) > MAX_BYTES:
        raise OverlayError(f"{prefix} holds more than {MAX_FILES} files or {MAX_BYTES} bytes")
    target = repo / SUBMISSIONS_DIR / name
    if target.is_symlink() or target.is_file():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    for path, mode, sha, _ in entries:
        destination = repo / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(_git(repo, "cat-file", "blob", sha))
        destination.chmod(_REGULAR[mode])
    return [path for path, *_ in entries]
