"""Upsert the one sticky bot comment on a PR with PyGithub (edit the marked comment, else create it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from github import Auth, Github

from competition.github.comment import MARKER

DEFAULT_API = "https://api.github.com"
BOT_LOGIN = "github-actions[bot]"
STATUS_CONTEXT = "tinymlperf/results"


@dataclass(frozen=True)
class Posted:
    """What upsert_comment did: the comment id, its URL, and whether it was created or updated."""

    comment_id: int
    url: str
    action: str


def client(token: str, base_url: str = DEFAULT_API) -> Github:
    """A PyGithub client; `base_url` lets tests point it at a local server."""
    return Github(auth=Auth.Token(token), base_url=base_url, retry=None, seconds_between_requests=None,
                  seconds_between_writes=None)


def upsert_comment(gh: Github, repo_name: str, pr_number: int, sha: str, body_for: Callable[[str | None], str],
                   bot_login: str = BOT_LOGIN) -> Posted:
    """Edit the bot's marked comment on PR `pr_number`, or create it; refuse if the PR head is no longer `sha`.

    `body_for(previous_body)` renders the new body (None when there is no earlier comment). Only comments written by
    `bot_login` count, so a student quoting the marker cannot hijack the sticky comment.
    """
    repo = gh.get_repo(repo_name)
    pull = repo.get_pull(pr_number)
    if pull.head.sha != sha:
        raise PermissionError(f"PR #{pr_number} head is {pull.head.sha}, not {sha}: these results are for another "
                              "commit (or another PR) and are not posted")
    issue = repo.get_issue(pr_number)
    for existing in issue.get_comments():
        if existing.user.login == bot_login and MARKER in (existing.body or ""):
            existing.edit(_checked(body_for(existing.body)))
            return Posted(existing.id, existing.html_url, "updated")
    created = issue.create_comment(_checked(body_for(None)))
    return Posted(created.id, created.html_url, "created")


def _checked(body: str) -> str:
    if MARKER not in body:
        raise ValueError("comment body lacks the marker; render it with competition.github.comment.render_comment")
    return body


def set_status(gh: Github, repo_name: str, sha: str, state: str, description: str,
               context: str = STATUS_CONTEXT, target_url: str | None = None) -> None:
    """A commit status on `sha` (state: success, failure, error or pending)."""
    commit = gh.get_repo(repo_name).get_commit(sha)
    kwargs = {"target_url": target_url} if target_url else {}
    commit.create_status(state=state, description=description[:140], context=context, **kwargs)
