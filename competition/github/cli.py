"""`tito pr ...` and `tito rehearse`: the commands the GitHub workflows run (and anyone can run locally)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from competition.github import artifact, changes, comment

Result = dict[str, Any]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `pr` (check-changes, submissions, metadata, comment) and `rehearse` to the tito parser."""
    pr = subparsers.add_parser("pr", help="pull-request checks and the bot comment (used by the workflows)")
    pr_sub = pr.add_subparsers(dest="pr_command", required=True)

    check = pr_sub.add_parser("check-changes", help="exactly one submissions/<name>/ folder changed, nothing else")
    check.add_argument("--base", required=True, help="base revision (the PR's base SHA or branch)")
    check.add_argument("--head", required=True, help="head revision (the PR's head SHA)")
    check.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    check.add_argument("--github-output", metavar="FILE", help="append submission=<name> to this file")
    check.set_defaults(func=cmd_check_changes)

    listing = pr_sub.add_parser("submissions", help="JSON list of submission folders (all, or changed in a range)")
    listing.add_argument("--base", help="list only folders changed since this revision (needs --head)")
    listing.add_argument("--head", help="head revision")
    listing.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    listing.set_defaults(func=cmd_submissions)

    meta = pr_sub.add_parser("metadata", help="write metadata.json next to results before uploading them")
    meta.add_argument("--out", required=True, help="the results folder")
    meta.add_argument("--pr", type=int, required=True, help="pull request number")
    meta.add_argument("--sha", required=True, help="the PR head SHA the results are for")
    meta.add_argument("--runner-class", required=True, choices=artifact.RUNNER_CLASSES)
    meta.set_defaults(func=cmd_metadata)

    post = pr_sub.add_parser("comment", help="check result artifacts and upsert the sticky PR comment")
    post.add_argument("--results", nargs="+", required=True, metavar="DIR",
                      help="artifact folders or zips (each holds result JSON files and metadata.json)")
    post.add_argument("--sha", required=True, help="the PR head SHA (from the trusted workflow_run event)")
    post.add_argument("--pr", type=int, help="PR number (default: from the artifacts; verified against the API)")
    post.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/NAME")
    post.add_argument("--store", default="leaderboard/results", help="stored results, for projected ranks")
    post.add_argument("--run-url", help="link to the workflow run shown in the comment")
    post.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    post.add_argument("--status", action="store_true", help="also set a commit status per runner class")
    post.add_argument("--dry-run", action="store_true", help="print the comment body instead of posting it")
    post.set_defaults(func=cmd_comment)

    rehearse = subparsers.add_parser("rehearse", help="run the whole PR -> leaderboard lifecycle in a temp repo")
    rehearse.add_argument("--keep", metavar="DIR", help="build the rehearsal repo in DIR and keep it")
    rehearse.set_defaults(func=cmd_rehearse)


def cmd_check_changes(args: argparse.Namespace) -> int:
    try:
        outcome = changes.check_pr(args.base, args.head, args.repo_dir)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not outcome.ok:
        print(f"This pull request must add or change exactly one submissions/<name>/ folder and nothing else; "
              f"{len(outcome.problems)} problem(s):", file=sys.stderr)
        for problem in outcome.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"ok: the pull request changes only submissions/{outcome.submission}/ ({len(outcome.changes)} file(s))")
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as handle:
            handle.write(f"submission={outcome.submission}\n")
    return 0


def cmd_submissions(args: argparse.Namespace) -> int:
    if (args.base is None) != (args.head is None):
        print("error: --base and --head go together", file=sys.stderr)
        return 2
    try:
        names = (changes.all_submissions(args.repo_dir) if args.base is None
                 else changes.changed_submissions(args.base, args.head, args.repo_dir))
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(names))
    return 0


def cmd_metadata(args: argparse.Namespace) -> int:
    try:
        path = artifact.write_metadata(args.out, args.pr, args.sha, args.runner_class)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


MAX_ARTIFACTS = 4


def _load_artifacts(paths: list[str], sha: str, pr: int | None) -> tuple[list[artifact.Artifact], bool]:
    accepted, rejected = [], False
    if len(paths) > MAX_ARTIFACTS:
        print(f"error: {len(paths)} artifacts given, at most {MAX_ARTIFACTS} are read", file=sys.stderr)
        return [], True
    for path in paths:
        if not Path(path).exists():
            print(f"note: {path} does not exist (no artifact of that name); skipped", file=sys.stderr)
            continue
        try:
            accepted.append(artifact.check_artifact(path, expected_sha=sha, expected_pr=pr))
        except artifact.ArtifactRejected as err:
            print(str(err), file=sys.stderr)
            rejected = True
    return accepted, rejected


def _store(path: str) -> list[Result]:
    if not Path(path).is_dir():
        return []
    from competition.leaderboard.store import load_store
    return load_store(path)


def _ranks(store: list[Result], results: list[Result]) -> dict | None:
    if not results:
        return None
    try:
        return comment.projected(store, results)
    except ValueError as err:
        print(f"note: no projected ranks ({err})", file=sys.stderr)
        return None


def cmd_comment(args: argparse.Namespace) -> int:
    accepted, rejected = _load_artifacts(args.results, args.sha, args.pr)
    prs = {a.pr_number for a in accepted}
    if args.pr is None and len(prs) > 1:
        print(f"error: the artifacts name different PRs {sorted(prs)}; nothing posted", file=sys.stderr)
        return 1
    pr_number = args.pr if args.pr is not None else next(iter(prs), None)
    if not accepted:
        print("error: no acceptable results artifact; nothing posted", file=sys.stderr)
        return 1
    store = _store(args.store)
    sections = {a.runner_class: comment.render_section(a.runner_class, a.results, args.sha,
                                                       _ranks(store, a.results), args.run_url) for a in accepted}
    if args.dry_run:
        print(comment.render_comment(sections, args.sha, pr_number))
        return 1 if rejected else 0
    return _post(args, pr_number, sections, accepted) or (1 if rejected else 0)


def _post(args: argparse.Namespace, pr_number: int | None, sections: dict[str, str],
          accepted: list[artifact.Artifact]) -> int:
    from competition.github import sticky

    token = os.environ.get("GITHUB_TOKEN")
    if not token or not args.repo or pr_number is None:
        print("error: posting needs GITHUB_TOKEN in the environment, --repo (or GITHUB_REPOSITORY) and a PR number; "
              "use --dry-run to see the comment locally", file=sys.stderr)
        return 2
    gh = sticky.client(token, args.api_url)
    try:
        posted = sticky.upsert_comment(gh, args.repo, pr_number, args.sha,
                                       lambda previous: comment.render_comment(sections, args.sha, pr_number,
                                                                               previous))
    except PermissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{posted.action} comment {posted.comment_id} on PR #{pr_number}: {posted.url}")
    if args.status:
        for item in accepted:
            good = bool(item.results) and all(r["status"] == "ok" and r["scores"]["qualified"] for r in item.results)
            sticky.set_status(gh, args.repo, args.sha, "success" if good else "failure",
                              "all events qualified" if good else "see the TinyMLPerf comment",
                              f"{sticky.STATUS_CONTEXT}/{item.runner_class}", args.run_url)
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    from competition.github import rehearsal

    return rehearsal.main(args.keep)
