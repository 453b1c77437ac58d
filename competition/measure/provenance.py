"""Provenance recorded in every result: the submission tree hash and the harness git commit."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

SKIPPED_DIRS = frozenset({"__pycache__", ".git"})


def tree_sha256(folder: Path) -> str:
    """SHA-256 over the folder's files sorted by relative POSIX path: for each, the path, a NUL byte and the
    SHA-256 of its bytes. __pycache__/.git folders and symlinks are skipped (the sandbox never copies them)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink() and not SKIPPED_DIRS & set(p.relative_to(folder).parts))
    for rel, path in files:
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def git_commit(repo: Path | None = None) -> str | None:
    """`git rev-parse HEAD` of the harness checkout, or None when git or the repository is not available."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None
