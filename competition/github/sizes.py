"""The size of a PR's submission folder, read from the API's tree listing before anything of the PR is fetched.

`GET /repos/{repo}/git/trees/{sha}?recursive=1` is the server's `git ls-tree -r -l`: every blob with its size.
The resolve job of benchmark.yml refuses a folder over the overlay's caps here, so a self-hosted runner never
downloads an oversized PR (the overlay checks the same caps again from the local `git ls-tree -l`).
"""

from __future__ import annotations

from typing import Any

from competition.github.changes import SUBMISSIONS_DIR
from competition.github.overlay import MAX_BYTES, MAX_FILES


def touched_folders(pull: Any) -> list[str]:
    """The submissions/<name>/ folders a PR changes, from its file list (GET /pulls/{n}/files)."""
    names = set()
    for changed in pull.get_files():
        parts = changed.filename.split("/")
        if len(parts) >= 3 and parts[0] == SUBMISSIONS_DIR:
            names.add(parts[1])
    return sorted(names)


def _subtree(repo: Any, tree_sha: str, name: str) -> str | None:
    for element in repo.get_git_tree(tree_sha).tree:
        if element.path == name and element.type == "tree":
            return element.sha
    return None


def folder_size(repo: Any, sha: str, name: str) -> tuple[int, int, bool] | None:
    """(files, bytes, truncated) of submissions/<name>/ at commit `sha`; None if the folder does not exist there."""
    top = repo.get_git_commit(sha).tree.sha
    submissions = _subtree(repo, top, SUBMISSIONS_DIR)
    folder = _subtree(repo, submissions, name) if submissions else None
    if folder is None:
        return None
    listing = repo.get_git_tree(folder, recursive=True)
    blobs = [e for e in listing.tree if e.type == "blob"]
    return len(blobs), sum(e.size or 0 for e in blobs), bool(listing.raw_data.get("truncated"))


def size_problems(repo: Any, pull: Any, sha: str) -> list[str]:
    """Why the PR's folders at `sha` are too large to fetch (empty if within MAX_FILES and MAX_BYTES)."""
    problems = []
    for name in touched_folders(pull):
        size = folder_size(repo, sha, name)
        if size is None:
            continue
        files, total, truncated = size
        if truncated or files > MAX_FILES or total > MAX_BYTES:
            problems.append(f"{SUBMISSIONS_DIR}/{name}/ holds {files} file(s), {total} bytes"
                            f"{' (listing truncated)' if truncated else ''}: over the cap of {MAX_FILES} files or "
                            f"{MAX_BYTES} bytes; nothing of it was downloaded")
    return problems
