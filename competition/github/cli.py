"""`tito pr ...` and `tito rehearse`: the commands the GitHub workflows run (and anyone can run locally)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from competition.github import artifact, changes, comment, maintainers, overlay, plan, record

Result = dict[str, Any]
MAX_ARTIFACTS = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `pr` (check-changes, role, overlay, resolve, submissions, plan, chunk, collect, verify, missing, metadata,
    comment, check-settings) and `rehearse`."""
    pr = subparsers.add_parser("pr", help="pull-request checks, official runs and the bot comment (the workflows)")
    pr_sub = pr.add_subparsers(dest="pr_command", required=True)

    check = pr_sub.add_parser("check-changes", help="the PR gate: one submissions/<name>/ folder, the author's own")
    check.add_argument("--base", required=True, help="base revision (the PR's base SHA or branch)")
    check.add_argument("--head", required=True, help="head revision (the PR's head SHA)")
    check.add_argument("--author", help="the PR author's login: also check folder ownership (github_handle)")
    check.add_argument("--maintainer", choices=("true", "false"), default="false",
                       help="whether the repository gives the author a maintainer role (`tito pr role`)")
    check.add_argument("--maintainers-config", default=str(maintainers.CONFIG), help="role, logins, bots (YAML)")
    check.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    check.add_argument("--github-output", metavar="FILE", help="append kind=... and submission=... to this file")
    check.set_defaults(func=cmd_check_changes)

    role = pr_sub.add_parser("role", help="is this login a maintainer? (the API's permission endpoint)")
    role.add_argument("--login", required=True, help="the PR author's login")
    role.add_argument("--maintainers-config", default=str(maintainers.CONFIG), help="role, logins, bots (YAML)")
    _api_arguments(role)
    role.add_argument("--github-output", metavar="FILE", help="append maintainer=true|false")
    role.set_defaults(func=cmd_role)

    lay = pr_sub.add_parser("overlay", help="replace submissions/NAME/ by that folder at a commit (data only)")
    lay.add_argument("--rev", required=True, help="the PR head SHA (fetched, never checked out)")
    lay.add_argument("--submission", required=True, help="folder name under submissions/")
    lay.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    lay.set_defaults(func=cmd_overlay)

    resolve = pr_sub.add_parser("resolve", help="check a maintainer's PR number + SHA through the API")
    resolve.add_argument("--pr", type=int, required=True, help="pull request number")
    resolve.add_argument("--sha", required=True, help="the head SHA the maintainer reviewed")
    _api_arguments(resolve)
    resolve.add_argument("--maintainers-config", default=str(maintainers.CONFIG), help="role, logins, bots")
    resolve.add_argument("--github-output", metavar="FILE", help="append base_sha, author, maintainer")
    resolve.set_defaults(func=cmd_resolve)

    listing = pr_sub.add_parser("submissions", help="JSON list of submission folders (all, or changed)")
    listing.add_argument("--base", help="list only folders changed since this revision (needs --head)")
    listing.add_argument("--head", help="head revision")
    listing.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    listing.set_defaults(func=cmd_submissions)

    planning = pr_sub.add_parser("plan", help="write the plan file of an official measurement (chunks per class)")
    planning.add_argument("--out", required=True, help="the plan file to write")
    planning.add_argument("--harness-commit", required=True, help="the commit every job checks out")
    planning.add_argument("--changed-since", default="", help="only folders changed since this revision (a merge)")
    planning.add_argument("--repo-dir", default=".", help="git repository (default: current directory)")
    planning.add_argument("--runner-classes", default="both", choices=("both", *plan.OFFICIAL_CLASSES))
    planning.add_argument("--chunk-size", type=int, default=1, help="entries per job (grows to stay <= 256 jobs)")
    planning.add_argument("--include-baseline", action="store_true", help="measure the baseline too")
    planning.add_argument("--only", default="", help="space-separated folder names: measure only these")
    planning.add_argument("--shard", default="", help="K/N: measure the K-th of N parts of the entries")
    planning.add_argument("--resume-store", help="skip entries this store already holds for the harness commit")
    planning.add_argument("--config", default="leaderboard/config.yaml", help="registered runners (max-parallel)")
    planning.add_argument("--github-output", metavar="FILE", help="append the matrix, parallel and job count per class")
    planning.set_defaults(func=cmd_plan)

    chunk = pr_sub.add_parser("chunk", help="write one chunk's entries, one per line (what a measure job runs)")
    _chunk_arguments(chunk)
    chunk.add_argument("--out", required=True, help="file for the names")
    chunk.set_defaults(func=cmd_chunk)

    collect = pr_sub.add_parser("collect", help="download and check one chunk's artifact before recording")
    _chunk_arguments(collect)
    collect.add_argument("--out", required=True, help="folder for the accepted result files")
    collect.add_argument("--github-output", metavar="FILE", help="append accepted=<count>")
    source = collect.add_mutually_exclusive_group(required=True)
    source.add_argument("--run-id", type=int, help="download the artifact of this workflow run")
    source.add_argument("--artifacts", help="a folder already holding <artifact>.zip files or <artifact>/ folders")
    _api_arguments(collect)
    collect.set_defaults(func=cmd_collect)

    verify = pr_sub.add_parser("verify", help="keep only results whose artifact attestation verifies (gh)")
    verify.add_argument("--results", required=True, help="folder of checked result files")
    verify.add_argument("--out", required=True, help="folder for the verified files (only those)")
    verify.add_argument("--harness-commit", required=True, help="the commit the attestation must name")
    verify.add_argument("--gh", default="gh", help="the GitHub CLI executable")
    _api_arguments(verify)
    verify.set_defaults(func=cmd_verify)

    gaps = pr_sub.add_parser("missing", help="which planned entries the results branch lacks (red if any)")
    gaps.add_argument("--plan", required=True, help="the run's plan file")
    gaps.add_argument("--store", required=True, help="leaderboard/results of a checkout of the results branch")
    gaps.add_argument("--summary", metavar="FILE", help="append the markdown table to this file (job summary)")
    gaps.set_defaults(func=cmd_missing)

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

    settings = pr_sub.add_parser("check-settings", help="read the GitHub settings the safety relies on")
    _api_arguments(settings)
    settings.set_defaults(func=cmd_check_settings)

    rehearse = subparsers.add_parser("rehearse", help="run the whole PR -> leaderboard lifecycle in a temp repo")
    rehearse.add_argument("--keep", metavar="DIR", help="build the rehearsal repo in DIR and keep it")
    rehearse.set_defaults(func=cmd_rehearse)


def _api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/NAME")
    parser.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))


def _chunk_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", required=True, help="the run's plan file")
    parser.add_argument("--runner-class", required=True, choices=plan.OFFICIAL_CLASSES)
    parser.add_argument("--chunk", type=int, required=True, help="chunk number (the matrix value)")


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


def _maintainers(path: str) -> maintainers.Maintainers | None:
    try:
        return maintainers.load(path)
    except maintainers.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def cmd_check_changes(args: argparse.Namespace) -> int:
    config = _maintainers(args.maintainers_config)
    if config is None:
        return 2
    try:
        if args.author:
            decided = changes.gate(args.base, args.head, args.author, args.maintainer == "true", args.repo_dir,
                                   config.bots)
        else:  # the folder's shape only (Validate); ownership is the gate's
            shape = changes.check_pr(args.base, args.head, args.repo_dir)
            decided = changes.Gate("submission" if changes.touches_submissions(shape.changes) else "code", shape)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    outcome = decided.check
    if decided.kind != "submission":
        why = ("changes nothing under submissions/" if decided.kind == "code"
               else f"is by @{args.author}, a maintainer by the repository's own settings")
        print(f"ok: this pull request {why}: no submission rule; CI and code review cover it")
        _write_outputs(args.github_output, kind=decided.kind, submission="")
        return 0
    if not outcome.ok:
        _print_problems(f"This pull request must add or change exactly one submissions/<name>/ folder, its "
                        f"author's own, and nothing else (only maintainers change anything else); "
                        f"{len(outcome.problems)} problem(s):", outcome.problems)
        return 1
    owner = f", owned by @{args.author}" if args.author else ""
    print(f"ok: the pull request changes only submissions/{outcome.submission}/{owner} "
          f"({len(outcome.changes)} file(s))")
    _write_outputs(args.github_output, kind="submission", submission=outcome.submission)
    return 0


def _is_maintainer(gh: Any, args: argparse.Namespace, login: str) -> bool | None:
    config = _maintainers(args.maintainers_config)
    if config is None:
        return None
    role = maintainers.role_of(gh, args.repo, login)
    decided = config.decides(login, role)
    print(f"@{login}: repository role {role or 'none'}; maintainer: {'yes' if decided else 'no'} "
          f"(needs {config.role} or above" + (", and a listed login)" if config.logins else ")"))
    return decided


def cmd_role(args: argparse.Namespace) -> int:
    connected = _client(args)
    if connected is None:
        return 2
    from github import GithubException

    try:
        decided = _is_maintainer(connected[0], args, args.login)
    except GithubException as err:
        print(f"error: the permission endpoint failed ({err.status}); re-run the job", file=sys.stderr)
        return 1
    if decided is None:
        return 2
    _write_outputs(args.github_output, maintainer="true" if decided else "false")
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
    if not problems:
        from competition.github import sizes

        problems += sizes.size_problems(repo, pull, args.sha)
    if problems:
        _print_problems("error: not benchmarked:", problems)
        return 1
    author = pull.user.login
    decided = _is_maintainer(gh, args, author)
    if decided is None:
        return 2
    print(f"PR #{args.pr} by @{author} at {args.sha}, base {pull.base.sha}")
    _write_outputs(args.github_output, base_sha=pull.base.sha, author=author,
                   maintainer="true" if decided else "false")
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


def cmd_plan(args: argparse.Namespace) -> int:
    classes = list(plan.OFFICIAL_CLASSES) if args.runner_classes == "both" else [args.runner_classes]
    try:
        names = (changes.changed_submissions(args.changed_since, args.harness_commit, args.repo_dir)
                 if args.changed_since else changes.all_submissions(args.repo_dir))
        chosen = plan.select(names + ([plan.BASELINE] if args.include_baseline else []), args.only.split(),
                             args.shard or None)
        done = (plan.recorded(args.resume_store, args.harness_commit, chosen) if args.resume_store else set())
        made = plan.make([n for n in chosen if n != plan.BASELINE], classes, args.harness_commit, args.chunk_size,
                         plan.BASELINE in chosen, done, plan.registered_runners(args.config))
    except (RuntimeError, plan.PlanError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    plan.write(made, args.out)
    for rc in plan.OFFICIAL_CLASSES:
        chunks = made.of_class(rc)
        print(f"{rc}: {sum(len(c.names) for c in chunks)} entries in {len(chunks)} job(s), "
              f"{made.parallel.get(rc, 0)} at once")
        _write_outputs(args.github_output, **{f"{rc}-matrix": json.dumps(made.matrix(rc), separators=(",", ":")),
                                              f"{rc}-parallel": made.parallel.get(rc, 1), f"{rc}-jobs": len(chunks)})
    if made.skipped:
        print(f"resume: {made.skipped} (entry, runner class) pair(s) already recorded for {args.harness_commit}")
    return 0


def _load_chunk(args: argparse.Namespace) -> tuple[plan.Plan, plan.Chunk] | None:
    try:
        made = plan.load(args.plan)
        return made, made.chunk(args.runner_class, args.chunk)
    except plan.PlanError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def cmd_chunk(args: argparse.Namespace) -> int:
    loaded = _load_chunk(args)
    if loaded is None:
        return 2
    from tinytorch.atomic import write_atomic

    write_atomic(Path(args.out), "".join(f"{name}\n" for name in loaded[1].names))
    print(f"chunk {args.chunk} ({args.runner_class}): {len(loaded[1].names)} entries written to {args.out}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    loaded = _load_chunk(args)
    if loaded is None:
        return 2
    made, chunk = loaded
    if args.artifacts:
        artifacts = _local_artifacts(Path(args.artifacts), [chunk.artifact])
    else:
        from competition.github import download

        connected = _client(args)
        if connected is None:
            return 2
        gh, token = connected
        folder = Path(args.out).with_name(Path(args.out).name + "-artifacts")
        artifacts = download.download_artifacts(gh, token, args.repo, args.run_id, [chunk.artifact], folder)
    collected = record.collect(artifacts, [chunk], made.harness_commit, args.out)
    if collected.problems:
        _print_problems(f"::error::{len(collected.problems)} problem(s); these results are not recorded:",
                        collected.problems)
    print(f"{len(collected.accepted)} result(s) accepted for recording in {args.out}")
    _write_outputs(args.github_output, accepted=len(collected.accepted))
    return 1 if collected.problems else 0


def cmd_verify(args: argparse.Namespace) -> int:
    from competition.github import attest

    if not args.repo:
        print("error: --repo (or GITHUB_REPOSITORY) names the repository the attestations belong to", file=sys.stderr)
        return 2
    outcome = attest.verify_folder(args.results, args.out, args.repo, args.harness_commit, args.gh)
    if outcome.refused:
        _print_problems(f"::error::{len(outcome.refused)} result(s) refused:", outcome.refused)
    print(f"{len(outcome.verified)} result(s) carry an official attestation; only they are recorded")
    return 1 if outcome.refused else 0


def cmd_missing(args: argparse.Namespace) -> int:
    try:
        made = plan.load(args.plan)
    except plan.PlanError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    gaps = plan.missing(made, args.store)
    total = len(made.entries())
    if not gaps:
        print(f"complete: all {total} planned (entry, runner class) pairs are on the results branch")
        return 0
    from tabulate import tabulate

    rows = [[rc, index, name] for rc, index, name in gaps]
    text = "\n".join([
        f"### {len(gaps)} of {total} planned results are missing", "",
        tabulate(rows[:500], headers=["runner class", "chunk", "entry"], tablefmt="github"),
        *([f"... and {len(rows) - 500} more"] if len(rows) > 500 else []), "",
        "Resume: everything recorded for this harness commit is kept and only the rest is measured again:", "",
        "```bash", "gh workflow run rebenchmark.yml --ref main -f resume=true   # same inputs as this run", "```", "",
        f"(Resume works while main is still at {made.harness_commit}; after a new commit, every entry is measured "
        "again with the new harness.)", ""])
    print(f"::error::{len(gaps)} of {total} planned results were not recorded")
    print(text)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 1


def _local_artifacts(folder: Path, names: list[str]) -> dict[str, Path]:
    found = {}
    for name in names:
        for candidate in (folder / f"{name}.zip", folder / name):
            if candidate.exists():
                found[name] = candidate
                break
    return found


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
    default_branch = gh.get_repo(args.repo).default_branch
    origin = provenance.classify(run, args.repo, default_branch)
    print(f"run {run.id} ({run.path}, {run.event}, {run.head_branch}): {origin.kind}: {origin.reason}")
    if origin.kind == "untrusted":
        print(f"::warning::nothing from run {run.id} is shown: {origin.reason}")
        return 0
    folder = Path(args.download_dir or tempfile.mkdtemp(prefix="tinymlperf-artifacts-"))
    if origin.kind == "smoke":
        return _comment_smoke(gh, token, args, run, default_branch, folder)
    return _comment_official(gh, token, args, run, origin, folder)


def _comment_smoke(gh: Any, token: str, args: argparse.Namespace, run: Any, default_branch: str,
                   folder: Path) -> int:
    """A Validate run's numbers are shown (as unverified) only if the workflow file it ran is main's, byte for byte."""
    from competition.github import download, provenance

    pr_number, sha = download.find_pull_request(gh, args.repo, run), run.head_sha
    if pr_number is None:
        print(f"no open pull request has head {sha}; nothing posted (the PR moved on or was closed)")
        return 0
    theirs = download.file_blob(gh, args.repo, provenance.VALIDATE_PATH, sha)
    ours = download.file_blob(gh, args.repo, provenance.VALIDATE_PATH, default_branch)
    if theirs is None or theirs != ours:
        print(f"::warning::{provenance.VALIDATE_PATH} at {sha} is not {default_branch}'s; its artifact is not read")
        text = (f"Not shown: this run's `{provenance.VALIDATE_PATH}` differs from {default_branch}'s (blob "
                f"{(theirs or 'absent')[:12]} vs {(ours or 'absent')[:12]}), so its numbers could be anything. "
                "A submission pull request changes only `submissions/<name>/`.")
        sections = {"local": comment.render_notice("local", sha, "Smoke run: not shown", text, run.html_url)}
        return _finish(gh, args, pr_number, sha, sections, [], run.html_url, rejected=False)
    files = download.download_artifacts(gh, token, args.repo, run.id, provenance.ARTIFACTS["smoke"], folder)
    if not files and run.conclusion == "success":
        print("the run succeeded without results (a code PR: CI covers it); nothing to comment")
        return 0
    accepted, rejected = _load_artifacts(list(files.values()), sha, pr_number, provenance.RUNNER_CLASSES["smoke"])
    sections = _sections(accepted, sha, args.store, run.html_url, official=False)
    if not files:  # the run failed before it could upload: say so, with the link to its log
        sections = {"local": comment.render_section("local", [], sha, run_url=run.html_url)}
    if not sections:
        print("error: no acceptable results artifact; nothing posted", file=sys.stderr)
        return 1
    return _finish(gh, args, pr_number, sha, sections, accepted, run.html_url, rejected)


_DISPATCH_TITLE = re.compile(r"PR #(\d+) at ([0-9a-f]{40}) \((both|reference|edge)\)")


def _failure_reason(gh: Any, repo: str, run: Any) -> str:
    from competition.github import download

    failed = download.failed_jobs(gh, repo, run.id)
    if not failed:
        return f"the run ended {run.conclusion}"
    return "; ".join(f"job '{comment.escape(job)}' failed" + (f" at step '{comment.escape(step)}'" if step else "")
                     for job, step in failed[:3])


def _comment_official(gh: Any, token: str, args: argparse.Namespace, run: Any, origin: Any, folder: Path) -> int:
    """Official sections from a Benchmark run of main; a class that brought no results gets the failure sentence."""
    from competition.github import download

    files = download.download_artifacts(gh, token, args.repo, run.id, origin.artifact_names, folder)
    accepted, rejected = _load_artifacts(list(files.values()), None, None, origin.runner_classes,
                                         harness_commit=run.head_sha)
    titled = _DISPATCH_TITLE.search(run.display_title)  # run-name, from the maintainer's dispatch inputs
    targets = {(a.pr_number, a.head_sha) for a in accepted} or (
        {(int(titled.group(1)), titled.group(2))} if titled else set())
    if len(targets) != 1:
        print(f"error: official artifacts name {len(targets)} PR/SHA pairs {sorted(targets)}; nothing posted",
              file=sys.stderr)
        return 1
    pr_number, sha = targets.pop()
    sections = _sections(accepted, sha, args.store, run.html_url, official=True)
    requested = ("reference", "edge") if not titled or titled.group(3) == "both" else (titled.group(3),)
    if run.conclusion in ("failure", "timed_out", "startup_failure"):
        reason = _failure_reason(gh, args.repo, run)
        for runner_class in (rc for rc in requested if rc not in sections):
            title = f"Official rerun: {comment.RUNNER_NAMES[runner_class]}"
            sections[runner_class] = comment.render_notice(runner_class, sha, title,
                                                           comment.failed_official_text(reason), run.html_url)
    if not sections and run.conclusion == "cancelled":
        print(f"run {run.id} was cancelled (a newer dispatch of the same PR and class supersedes it); nothing posted")
        return 0
    if not sections:
        print("error: no acceptable results artifact; nothing posted", file=sys.stderr)
        return 1
    return _finish(gh, args, pr_number, sha, sections, accepted, run.html_url, rejected)


def _finish(gh: Any, args: argparse.Namespace, pr_number: int, sha: str, sections: dict[str, str],
            accepted: list[artifact.Artifact], run_url: str | None, rejected: bool) -> int:
    if args.dry_run:
        print(comment.render_comment(sections, sha, pr_number))
        return 1 if rejected else 0
    return _post(gh, args, pr_number, sha, sections, accepted, run_url) or (1 if rejected else 0)


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


def cmd_check_settings(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from competition.github import settings

    connected = _client(args)
    if connected is None:
        return 2
    findings = settings.check(connected[0], args.api_url, args.repo)
    print(tabulate([[f.setting, f.status, f.found] for f in findings], headers=["setting", "status", "found"],
                   tablefmt="github"))
    bad = [f for f in findings if f.status != "ok"]
    for finding in bad:
        print(f"fix ({finding.setting}): {finding.fix}", file=sys.stderr)
    print(f"{len(findings) - len(bad)} of {len(findings)} settings as required" + (
        "" if not bad else f"; {len(bad)} missing or unreadable (see docs/maintainers.md)"))
    return 1 if bad else 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    from competition.github import rehearsal

    return rehearsal.main(args.keep)
