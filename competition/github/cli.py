"""`tito pr ...` and `tito rehearse`: the commands the GitHub workflows run (and anyone can run locally)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from competition.github import artifact, changes, comment, overlay, record

Result = dict[str, Any]
MAX_ARTIFACTS = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `pr` (check-changes, overlay, resolve, submissions, collect, metadata, comment) and `rehearse`."""
    pr = subparsers.add_parser("pr", help="pull-request checks, official runs and the bot comment (the workflows)")
    pr_sub = pr.add_subparsers(dest="pr_command", required=True)

    check = pr_sub.add_parser("check-changes", help="the PR gate: one submissions/<name>/ folder, the author's own")
    check.add_argument("--base", required=True, help="base revision (the PR's base SHA or branch)")
    check.add_argument("--head", required=True, help="head revision (the PR's head SHA)")
    check.add_argument("--author", help="the PR author's login: also check folder ownership (github_handle)")
    check.add_argument("--association", default="NONE",
                       help="the PR's author_association; OWNER/MEMBER/COLLABORATOR PRs are left to CI and review")
    check.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    check.add_argument("--github-output", metavar="FILE", help="append kind=... and submission=... to this file")
    check.set_defaults(func=cmd_check_changes)

    lay = pr_sub.add_parser("overlay", help="replace submissions/NAME/ by that folder at a commit (data only)")
    lay.add_argument("--rev", required=True, help="the PR head SHA (fetched, never checked out)")
    lay.add_argument("--submission", required=True, help="folder name under submissions/")
    lay.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    lay.set_defaults(func=cmd_overlay)

    resolve = pr_sub.add_parser("resolve", help="check a maintainer's PR number + SHA through the API")
    resolve.add_argument("--pr", type=int, required=True, help="pull request number")
    resolve.add_argument("--sha", required=True, help="the head SHA the maintainer reviewed")
    _api_arguments(resolve)
    resolve.add_argument("--github-output", metavar="FILE", help="append base_sha, author, association")
    resolve.set_defaults(func=cmd_resolve)

    listing = pr_sub.add_parser("submissions", help="JSON list of submission folders, or a chunked job matrix")
    listing.add_argument("--base", help="list only folders changed since this revision (needs --head)")
    listing.add_argument("--head", help="head revision")
    listing.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    listing.add_argument("--matrix", action="store_true", help="print a job matrix ({\"include\": [...]})")
    listing.add_argument("--runner-classes", default='["reference", "edge"]', help="JSON list (with --matrix)")
    listing.add_argument("--chunk-size", type=int, default=1, help="submissions per job (grows to stay <= 256 jobs)")
    listing.add_argument("--include-baseline", action="store_true", help="measure the baseline too (re-benchmark)")
    listing.set_defaults(func=cmd_submissions)

    collect = pr_sub.add_parser("collect", help="download and check the official artifacts before recording")
    collect.add_argument("--matrix", required=True, help="the measure jobs' matrix JSON")
    collect.add_argument("--harness-commit", required=True, help="the commit the measure jobs checked out")
    collect.add_argument("--out", required=True, help="folder for the accepted result files")
    source = collect.add_mutually_exclusive_group(required=True)
    source.add_argument("--run-id", type=int, help="download the artifacts of this workflow run")
    source.add_argument("--artifacts", help="a folder already holding <artifact>.zip files or <artifact>/ folders")
    _api_arguments(collect)
    collect.set_defaults(func=cmd_collect)

    meta = pr_sub.add_parser("metadata", help="write metadata.json next to results before uploading them")
    meta.add_argument("--out", required=True, help="the results folder")
    meta.add_argument("--pr", type=int, required=True, help="pull request number")
    meta.add_argument("--sha", required=True, help="the PR head SHA the results are for")
    meta.add_argument("--runner-class", required=True, choices=artifact.RUNNER_CLASSES)
    meta.set_defaults(func=cmd_metadata)

    post = pr_sub.add_parser("comment", help="check result artifacts and upsert the sticky PR comment")
    what = post.add_mutually_exclusive_group(required=True)
    what.add_argument("--run-id", type=int, help="the Validate/Benchmark run that finished (workflow_run.id)")
    what.add_argument("--results", nargs="+", metavar="DIR",
                      help="local artifact folders or zips (always shown as unverified)")
    post.add_argument("--sha", help="with --results: the PR head SHA the results must be for")
    post.add_argument("--pr", type=int, help="with --results: PR number (default: from the artifacts)")
    post.add_argument("--store", default="leaderboard/results", help="stored results, for projected ranks")
    post.add_argument("--run-url", help="with --results: link to the workflow run shown in the comment")
    post.add_argument("--download-dir", default=None, help="with --run-id: where artifacts are saved")
    post.add_argument("--status", action="store_true", help="also set a commit status per runner class")
    post.add_argument("--dry-run", action="store_true", help="print the comment body instead of posting it")
    _api_arguments(post)
    post.set_defaults(func=cmd_comment)

    rehearse = subparsers.add_parser("rehearse", help="run the whole PR -> leaderboard lifecycle in a temp repo")
    rehearse.add_argument("--keep", metavar="DIR", help="build the rehearsal repo in DIR and keep it")
    rehearse.set_defaults(func=cmd_rehearse)


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/NAME")
    parser.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))


def _client(args: argparse.Namespace) -> tuple[Any, str] | None:
    from competition.github import sticky

    token = os.environ.get("GITHUB_TOKEN")
    if not token or not args.repo:
        print("error: this needs GITHUB_TOKEN in the environment and --repo (or GITHUB_REPOSITORY)", file=sys.stderr)
        return None
    return sticky.client(token, args.api_url), token


def _write_outputs(path: str | None, **values: object) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _print_problems(header: str, problems: list) -> None:
    print(header, file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def cmd_check_changes(args: argparse.Namespace) -> int:
    try:
        if args.author:
            decided = changes.gate(args.base, args.head, args.author, args.association, args.repo_dir)
        else:
            decided = changes.Gate("submission", changes.check_pr(args.base, args.head, args.repo_dir))
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    outcome = decided.check
    if decided.kind != "submission":
        why = ("changes nothing under submissions/" if decided.kind == "code"
               else f"is a maintainer's ({args.association})")
        print(f"ok: this pull request {why}: no submission rule; CI and code review cover it")
        _write_outputs(args.github_output, kind=decided.kind, submission="")
        return 0
    if not outcome.ok:
        _print_problems(f"This pull request must add or change exactly one submissions/<name>/ folder, its "
                        f"author's own, and nothing else; {len(outcome.problems)} problem(s):", outcome.problems)
        return 1
    owner = f", owned by @{args.author}" if args.author else ""
    print(f"ok: the pull request changes only submissions/{outcome.submission}/{owner} "
          f"({len(outcome.changes)} file(s))")
    _write_outputs(args.github_output, kind="submission", submission=outcome.submission)
    return 0


def cmd_overlay(args: argparse.Namespace) -> int:
    try:
        written = overlay.overlay(args.rev, args.submission, args.repo_dir)
    except overlay.OverlayError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"submissions/{args.submission}/: {len(written)} file(s) taken from {args.rev} as data")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    connected = _client(args)
    if connected is None:
        return 2
    gh, _ = connected
    repo = gh.get_repo(args.repo)
    pull = repo.get_pull(args.pr)
    raw = pull.raw_data
    problems = []
    if raw.get("state") != "open":
        problems.append(f"PR #{args.pr} is {raw.get('state')}, not open")
    if pull.head.sha != args.sha:
        problems.append(f"PR #{args.pr} head is {pull.head.sha}, not the {args.sha} you reviewed: review the new "
                        "commits and dispatch again with the new SHA")
    if pull.base.ref != repo.default_branch:
        problems.append(f"PR #{args.pr} targets {pull.base.ref}, not {repo.default_branch}")
    if problems:
        _print_problems("error: not benchmarked:", problems)
        return 1
    author, association = pull.user.login, raw.get("author_association", "NONE")
    print(f"PR #{args.pr} by @{author} ({association}) at {args.sha}, base {pull.base.sha}")
    _write_outputs(args.github_output, base_sha=pull.base.sha, author=author, association=association)
    return 0


def cmd_submissions(args: argparse.Namespace) -> int:
    if (args.base is None) != (args.head is None):
        print("error: --base and --head go together", file=sys.stderr)
        return 2
    try:
        names = (changes.all_submissions(args.repo_dir) if args.base is None
                 else changes.changed_submissions(args.base, args.head, args.repo_dir))
        if not args.matrix:
            print(json.dumps(names))
            return 0
        jobs = record.matrix(names, json.loads(args.runner_classes), args.chunk_size, args.include_baseline)
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"include": jobs}, separators=(",", ":")))
    return 0


def _local_artifacts(folder: Path, jobs: list[dict]) -> dict[str, Path]:
    found = {}
    for job in jobs:
        for candidate in (folder / f"{job['artifact']}.zip", folder / job["artifact"]):
            if candidate.exists():
                found[job["artifact"]] = candidate
                break
    return found


def cmd_collect(args: argparse.Namespace) -> int:
    jobs = json.loads(args.matrix)["include"]
    if args.artifacts:
        artifacts = _local_artifacts(Path(args.artifacts), jobs)
    else:
        from competition.github import download

        connected = _client(args)
        if connected is None:
            return 2
        gh, token = connected
        folder = Path(args.out).with_name(Path(args.out).name + "-artifacts")
        artifacts = download.download_artifacts(gh, token, args.repo, args.run_id,
                                                [job["artifact"] for job in jobs], folder)
    collected = record.collect(artifacts, jobs, args.harness_commit, args.out)
    if collected.problems:
        _print_problems(f"::warning::{len(collected.problems)} problem(s); these results are not recorded:",
                        collected.problems)
    print(f"{len(collected.accepted)} result(s) accepted for recording in {args.out}")
    return 0 if collected.accepted or not collected.problems else 1


def cmd_metadata(args: argparse.Namespace) -> int:
    try:
        path = artifact.write_metadata(args.out, args.pr, args.sha, args.runner_class)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _load_artifacts(paths: list[Path], sha: str | None, pr: int | None, runner_classes: frozenset[str] | None = None,
                    harness_commit: str | None = None) -> tuple[list[artifact.Artifact], bool]:
    accepted, rejected = [], False
    if len(paths) > MAX_ARTIFACTS:
        print(f"error: {len(paths)} artifacts given, at most {MAX_ARTIFACTS} are read", file=sys.stderr)
        return [], True
    for path in paths:
        if not path.exists():
            print(f"note: {path} does not exist (no artifact of that name); skipped", file=sys.stderr)
            continue
        try:
            accepted.append(artifact.check_artifact(path, expected_sha=sha, expected_pr=pr,
                                                    runner_classes=runner_classes, harness_commit=harness_commit))
        except artifact.ArtifactRejected as err:
            print(str(err), file=sys.stderr)
            rejected = True
    return accepted, rejected


def _store(path: str) -> list[Result]:
    """The stored results that count, checked like `tito leaderboard build` does (config and disqualification list
    beside the store): projected ranks never compare against a result the leaderboard would not rank."""
    store = Path(path)
    if not store.is_dir():
        return []
    from competition.leaderboard.admission import Policy
    from competition.leaderboard.config import load_config
    from competition.leaderboard.disqualified import load_disqualified
    from competition.leaderboard.model import admit
    from competition.leaderboard.store import load_store
    policy = Policy(load_config(store.parent / "config.yaml"), load_disqualified(store.parent / "disqualified.yaml"))
    return admit(load_store(store), policy)[0]


def _ranks(store: list[Result], results: list[Result]) -> dict | None:
    if not results:
        return None
    try:
        return comment.projected(store, results)
    except Exception as err:  # ranks are optional: a leaderboard error must not keep the scores off the PR
        print(f"::warning::no projected ranks ({type(err).__name__}: {err})", file=sys.stderr)
        return None


def _sections(accepted: list[artifact.Artifact], sha: str, store_path: str, run_url: str | None,
              official: bool) -> dict[str, str]:
    store = _store(store_path)
    return {a.runner_class: comment.render_section(a.runner_class, a.results, sha, _ranks(store, a.results), run_url,
                                                   official=official) for a in accepted}


def cmd_comment(args: argparse.Namespace) -> int:
    if args.run_id is not None:
        from github import GithubException

        from competition.github.download import DownloadError

        try:
            return _comment_for_run(args)
        except (GithubException, DownloadError, OSError) as err:
            print(f"error: the GitHub API call failed ({type(err).__name__}: {err}); nothing posted; re-run the job",
                  file=sys.stderr)
            return 1
    if not args.sha:
        print("error: --results needs --sha (the PR head SHA the results are for)", file=sys.stderr)
        return 2
    accepted, rejected = _load_artifacts([Path(p) for p in args.results], args.sha, args.pr)
    prs = {a.pr_number for a in accepted}
    if args.pr is None and len(prs) > 1:
        print(f"error: the artifacts name different PRs {sorted(prs)}; nothing posted", file=sys.stderr)
        return 1
    pr_number = args.pr if args.pr is not None else next(iter(prs), None)
    if not accepted:
        print("error: no acceptable results artifact; nothing posted", file=sys.stderr)
        return 1
    sections = _sections(accepted, args.sha, args.store, args.run_url, official=False)
    if args.dry_run:
        print(comment.render_comment(sections, args.sha, pr_number))
        return 1 if rejected else 0
    connected = _client(args)
    if connected is None or pr_number is None:
        return 2
    return _post(connected[0], args, pr_number, args.sha, sections, accepted, args.run_url) or (1 if rejected else 0)


def _comment_for_run(args: argparse.Namespace) -> int:
    """The comment job: GitHub's record of the run decides what its artifacts may claim (provenance.classify)."""
    from competition.github import download, provenance

    connected = _client(args)
    if connected is None:
        return 2
    gh, token = connected
    run = download.run_info(gh, args.repo, args.run_id)
    origin = provenance.classify(run, args.repo, gh.get_repo(args.repo).default_branch)
    print(f"run {run.id} ({run.path}, {run.event}, {run.head_branch}): {origin.kind}: {origin.reason}")
    if origin.kind == "untrusted":
        print(f"::warning::nothing from run {run.id} is shown: {origin.reason}")
        return 0
    folder = Path(args.download_dir or tempfile.mkdtemp(prefix="tinymlperf-artifacts-"))
    files = download.download_artifacts(gh, token, args.repo, run.id, origin.artifact_names, folder)
    if origin.kind == "smoke":
        pr_number, sha = download.find_pull_request(gh, args.repo, run), run.head_sha
        if pr_number is None:
            print(f"no open pull request has head {sha}; nothing posted (the PR moved on or was closed)")
            return 0
        if not files and run.conclusion == "success":
            print("the run succeeded without results (a code PR: CI covers it); nothing to comment")
            return 0
        accepted, rejected = _load_artifacts(list(files.values()), sha, pr_number, origin.runner_classes)
        sections = _sections(accepted, sha, args.store, run.html_url, official=False)
        if not files:  # the run failed before it could upload: say so, with the link to its log
            sections = {"local": comment.render_section("local", [], sha, run_url=run.html_url)}
    else:
        accepted, rejected = _load_artifacts(list(files.values()), None, None, origin.runner_classes,
                                             harness_commit=run.head_sha)
        targets = {(a.pr_number, a.head_sha) for a in accepted}
        if len(targets) != 1:
            print(f"error: official artifacts name {len(targets)} PR/SHA pairs {sorted(targets)}; nothing posted",
                  file=sys.stderr)
            return 1
        pr_number, sha = targets.pop()
        sections = _sections(accepted, sha, args.store, run.html_url, official=True)
    if not sections:
        print("error: no acceptable results artifact; nothing posted", file=sys.stderr)
        return 1
    if args.dry_run:
        print(comment.render_comment(sections, sha, pr_number))
        return 1 if rejected else 0
    return _post(gh, args, pr_number, sha, sections, accepted, run.html_url) or (1 if rejected else 0)


def _post(gh: Any, args: argparse.Namespace, pr_number: int, sha: str, sections: dict[str, str],
          accepted: list[artifact.Artifact], run_url: str | None) -> int:
    from competition.github import sticky

    try:
        posted = sticky.upsert_comment(gh, args.repo, pr_number, sha,
                                       lambda previous: comment.render_comment(sections, sha, pr_number, previous))
    except PermissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{posted.action} comment {posted.comment_id} on PR #{pr_number}: {posted.url}")
    if args.status:
        for item in accepted:
            good = bool(item.results) and all(r["status"] == "ok" and r["scores"]["qualified"] for r in item.results)
            sticky.set_status(gh, args.repo, sha, "success" if good else "failure",
                              "all events qualified" if good else "see the TinyMLPerf comment",
                              f"{sticky.STATUS_CONTEXT}/{item.runner_class}", run_url)
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    from competition.github import rehearsal

    return rehearsal.main(args.keep)
