"""Fetch a workflow run's record, its artifacts (each by name, into its own file) and the PR it tested.

`actions/download-artifact` changes its layout with the number of artifacts (one artifact lands directly in the
target folder, several in sub-folders), so the workflows call this module instead: every expected artifact name is
looked up in the run's artifact list and saved as `<dest>/<name>.zip`, which `artifact.check_artifact` reads without
extracting. The token is sent to the GitHub API only, never to the storage host the download redirects to.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from github import Github

from competition.github.provenance import RunInfo
from tinytorch.atomic import write_atomic

MAX_ZIP_BYTES = 64 * 1024 * 1024  # a re-benchmark chunk of many submissions; entries are bounded again on reading


class DownloadError(RuntimeError):
    """An artifact could not be fetched; the message names it."""


def run_info(gh: Github, repository: str, run_id: int) -> RunInfo:
    """The run as the API describes it (path, event, head branch and SHA, repository, linked PRs)."""
    return RunInfo.from_api(gh.get_repo(repository).get_workflow_run(run_id).raw_data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=60) as response:
            return response.status, response.read(MAX_ZIP_BYTES + 1), None
    except urllib.error.HTTPError as err:
        return err.code, b"", err.headers.get("Location")


def _fetch_zip(url: str, token: str) -> bytes:
    status, body, location = _get(url, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"})
    if status in (301, 302, 303, 307, 308) and location:
        status, body, _ = _get(location, {})  # the signed storage URL: no token
    if status != 200:
        raise DownloadError(f"download of {url} answered HTTP {status}")
    if len(body) > MAX_ZIP_BYTES:
        raise DownloadError(f"{url} is larger than {MAX_ZIP_BYTES} bytes")
    return body


def download_artifacts(gh: Github, token: str, repository: str, run_id: int, names: list[str] | tuple[str, ...],
                       dest: Path | str) -> dict[str, Path]:
    """Save each artifact of run `run_id` whose name is in `names` as `dest/<name>.zip`; absent names are skipped."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    available = {}
    for item in gh.get_repo(repository).get_workflow_run(run_id).get_artifacts():
        if item.name in names and not item.expired:
            available[item.name] = item.archive_download_url
    saved = {}
    for name in names:
        if name in available:
            target = dest / f"{name}.zip"
            write_atomic(target, _fetch_zip(available[name], token))
            saved[name] = target
    return saved


def find_pull_request(gh: Github, repository: str, run: RunInfo) -> int | None:
    """The open PR whose head is the run's head SHA: from the run's pull_requests, else looked up through the API
    (fork PRs leave workflow_run.pull_requests empty): open PRs of the run's head branch, then all open PRs.
    None unless exactly one open PR has that head."""
    repo = gh.get_repo(repository)
    if run.pull_requests:
        pulls = [repo.get_pull(number) for number in run.pull_requests]
    else:
        pulls = []
        if run.head_repository and run.head_branch:
            owner = run.head_repository.split("/", 1)[0]
            pulls = list(repo.get_pulls(state="open", head=f"{owner}:{run.head_branch}"))
        if not pulls:
            pulls = list(repo.get_pulls(state="open"))
    matches = sorted({p.number for p in pulls if p.state == "open" and p.head.sha == run.head_sha})
    return matches[0] if len(matches) == 1 else None


def file_blob(gh: Github, repository: str, path: str, ref: str) -> str | None:
    """The git blob SHA of `path` at `ref` (GET /repos/{repo}/contents/{path}?ref=...): two files are byte-identical
    exactly when their blob SHAs are equal. None if the file does not exist there."""
    from github import GithubException

    try:
        contents = gh.get_repo(repository).get_contents(path, ref=ref)
    except GithubException as err:
        if err.status == 404:
            return None
        raise
    return None if isinstance(contents, list) else contents.sha


def failed_jobs(gh: Github, repository: str, run_id: int) -> list[tuple[str, str | None]]:
    """(job name, name of its first failed step) of every job of the run that did not succeed or get skipped."""
    repo = gh.get_repo(repository)
    _, data = repo._requester.requestJsonAndCheck("GET", f"{repo.url}/actions/runs/{run_id}/jobs")
    failed = []
    for job in data.get("jobs") or []:
        if job.get("conclusion") in ("success", "skipped"):
            continue
        step = next((s.get("name") for s in job.get("steps") or [] if s.get("conclusion") == "failure"), None)
        failed.append((str(job.get("name") or "a job"), step))
    return failed
