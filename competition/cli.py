"""`tito`: the TinyMLPerf command line. Owns the parser; the leaderboard and github packages add their commands.

Harness modules are imported inside the command functions so `tito --help` works on its own. Expected failures
(missing data, bad rules, a worker error, ...) end in one line saying what to do next, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import traceback
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import competition

# 0 ok; 1 invalid, failed or disqualified; 2 could not run; 3 measured, but outside the jail (never ranked)
EXIT_OK, EXIT_INVALID, EXIT_ERROR, EXIT_UNJAILED = 0, 1, 2, 3
RUNNER_CLASSES = ("local", "reference", "edge")
DOWNLOADABLE = ("mnist", "cifar10")
NARROW_WIDTH, WIDE_WIDTH = 80, 250


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default sys.argv[1:]), run the command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        _stderr().print("interrupted")
        return 130
    except Exception as exc:  # a crash is "could not run" (2), never "invalid" (1), Python's default exit code
        if isinstance(exc, _expected_errors()):
            _report_expected(exc)
        else:
            _stderr().print("[red]tito crashed: this is a bug; please report it with the output below[/red]")
            traceback.print_exc()
        return EXIT_ERROR


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Exception types that describe a condition the user can fix (each module only if it exists)."""
    names = [("tinytorch.data.errors", "DataError"), ("competition.rules", "RulesError"),
             ("competition.validation.base", "CannotValidate"), ("competition.sandbox.process", "WorkerError"),
             ("competition.sandbox.jail", "JailUnavailable"), ("competition.baseline", "BaselineError"),
             ("competition.prepare_entry", "PrepareError"), ("competition.profile", "ProfileError"),
             ("competition.scaffold", "ScaffoldError"), ("competition.api", "ReportError")]
    found: list[type[BaseException]] = [OSError]
    for module_name, class_name in names:
        try:
            found.append(getattr(importlib.import_module(module_name), class_name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _report_expected(exc: BaseException) -> None:
    """First line in red (what happened and the fix), further lines (which files go where) as they are."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
    first, *rest = text.splitlines()
    console = _stderr()
    console.print(f"[red]error:[/red] {escape(first)}")
    for line in rest:
        console.print(escape(line))


def build_parser() -> argparse.ArgumentParser:
    """The full `tito` parser, including the leaderboard and github commands when those packages import."""
    parser = argparse.ArgumentParser(prog="tito", description="TinyMLPerf: benchmark, validate and submit entries.")
    parser.add_argument("--version", action="version", version=f"tito (tinymlperf) {competition.__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_setup(sub)
    _add_data(sub)
    _add_benchmark(sub)
    _add_baseline(sub)
    _add_submit(sub)
    _add_submission(sub)
    for module in ("competition.leaderboard.cli", "competition.github.cli", "competition.runner_check"):
        _register(module, sub)
    return parser


def _add_setup(sub: Any) -> None:
    setup = sub.add_parser("setup", help="check this machine: install, BLAS, the jail, data, baselines")
    setup.add_argument("--validate", action="store_true", help="only check (the install itself is `pip install -e .`)")
    setup.add_argument("--wide", action="store_true", help="one line per check, however long (default: 80 columns)")
    setup.set_defaults(func=cmd_setup)


def _add_data(sub: Any) -> None:
    data = sub.add_parser("data", help="download the data sets the online events use").add_subparsers(metavar="ACTION")
    download = data.add_parser("download", help="download and verify (SHA-256) MNIST or CIFAR-10")
    download.add_argument("name", choices=DOWNLOADABLE)
    download.add_argument("--root", type=Path, default=None, help="folder for the files (default: $TINYTORCH_DATA/NAME)")
    download.set_defaults(func=cmd_data_download)


def _positive_float(text: str) -> float:
    """argparse type: a number > 0 (a clear usage error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _add_benchmark(sub: Any) -> None:
    bench = sub.add_parser("benchmark", help="measure a submission against the baseline").add_subparsers(metavar="ACTION")
    run = bench.add_parser("run", help="run events and write result JSON files",
                           epilog="exit codes: 0 ok; 1 invalid, failed or disqualified; 2 could not run; "
                                  "3 measured outside the OS jail (never ranked)")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument("--event", action="append", help="event id (repeatable)")
    which.add_argument("--all-events", action="store_true", help="every event the submission enters")
    run.add_argument("--submission", type=Path, default=None, help="submission folder (default: submissions/baseline)")
    run.add_argument("--runner-class", choices=RUNNER_CLASSES, default="local")
    run.add_argument("--out", type=Path, default=None,
                     help="directory for result JSON files (default: .tito/results, smoke runs .tito/smoke; never "
                          "inside the entry folder)")
    run.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not for the leaderboard")
    run.add_argument("--budget-scale", type=_positive_float, default=1.0, metavar="X",
                     help="X times the rounds and timing budget (e.g. 4 on a noisy machine, for a tighter A/A interval)")
    run.add_argument("--wide", action="store_true", help="every column (the default table fits 80 columns)")
    run.add_argument("--json", action="store_true", help="print the results as JSON")
    run.set_defaults(func=cmd_benchmark_run)

    prof = bench.add_parser("profile", help="per-layer time and memory of a submission's model")
    prof.add_argument("--event", required=True)
    prof.add_argument("--submission", type=Path, default=None)
    prof.add_argument("--json", action="store_true")
    prof.set_defaults(func=cmd_benchmark_profile)

    submit = bench.add_parser("submit", help="prepare an entry for its pull request (validate, branch, commit)")
    submit.add_argument("--event", required=True)
    submit.add_argument("--team", required=True, help="your entry's name (its folder is submissions/TEAM)")
    submit.add_argument("--submission", type=Path, default=None, help="the entry folder (default: submissions/TEAM)")
    submit.add_argument("--no-git", action="store_true", help="validate only; do not create a branch or commit")
    submit.set_defaults(func=cmd_benchmark_submit)


def _add_baseline(sub: Any) -> None:
    base = sub.add_parser("baseline", help="the baseline entrant: measure it, train it, or show which events have one")
    base.add_argument("--event", default="cnn_marathon_offline")
    base.add_argument("--out", type=Path, default=Path("."))
    base.add_argument("--quick", action="store_true")
    base.set_defaults(func=cmd_baseline)
    actions = base.add_subparsers(metavar="ACTION")
    train = actions.add_parser("train", help="maintainers: train a baseline that needs downloaded data (cnn_marathon)")
    train.add_argument("--event", required=True)
    train.add_argument("--epochs", type=int, default=None, help="default: the training script's")
    train.add_argument("--limit", type=int, default=None, help="train on N examples only (a smoke run)")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=cmd_baseline_train)
    status = actions.add_parser("status", help="which events have a baseline")
    status.set_defaults(func=cmd_baseline_status)


def _add_submit(sub: Any) -> None:
    submit = sub.add_parser("submit", help="check a submission folder or submission.json (entries are sent by PR)")
    submit.add_argument("path", nargs="?", type=Path, default=None, help="a submissions/<name>/ folder or a submission.json")
    submit.add_argument("--file", type=Path, default=None, help="a submission.json (or folder) to check")
    submit.add_argument("--validate-only", nargs="?", const=True, default=None, metavar="PATH",
                        help="check only (PATH may be given here too)")
    submit.add_argument("--static", action="store_true",
                        help="only the static checks (by default a folder that passes them must also load and "
                             "answer one request per event, in the jail)")
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(func=cmd_validate)


def _add_submission(sub: Any) -> None:
    entry = sub.add_parser("submission", help="manage submission folders").add_subparsers(metavar="ACTION")
    new = entry.add_parser("new", help="create submissions/NAME from the baseline")
    new.add_argument("name")
    new.add_argument("--root", type=Path, default=Path("submissions"))
    new.add_argument("--athlete", default=None, help="your name (default: NAME)")
    new.add_argument("--github", default=None, help="your GitHub handle (default: NAME)")
    new.add_argument("--division", choices=("closed", "open"), default="closed")
    new.add_argument("--event", action="append", dest="events", help="event id (repeatable; default: the baseline's)")
    new.set_defaults(func=cmd_submission_new)


def _register(module_name: str, subparsers: Any) -> None:
    """Let another package add its commands; skip it while it does not exist, and say so if it is broken
    (one broken package must not take every other command down with it)."""
    try:
        importlib.import_module(module_name).register(subparsers)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return
        _stderr().print(f"[yellow]tito: the commands of {module_name} are unavailable[/yellow] "
                        f"({type(exc).__name__}: {escape(str(exc))}); this is a bug, please report it")
    except Exception as exc:  # noqa: BLE001  (reported, not hidden)
        _stderr().print(f"[yellow]tito: the commands of {module_name} are unavailable[/yellow] "
                        f"({type(exc).__name__}: {escape(str(exc))}); this is a bug, please report it")


def _console(wide: bool = False) -> Console:
    """stdout console: the terminal's width; logs and pipes get 80 columns (250 with --wide)."""
    width = None if sys.stdout.isatty() else (WIDE_WIDTH if wide else NARROW_WIDTH)
    return Console(highlight=False, soft_wrap=True, width=width)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


# -- setup / data --------------------------------------------------------------------------------------------------

STATUS_STYLE = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def cmd_setup(args: argparse.Namespace) -> int:
    """One line per check; exit 1 if anything fails (warnings still allow local runs)."""
    from competition.setup_check import run_checks

    console = _console()
    if not args.validate:
        console.print("tito setup: installing is `pip install -e .` (done, since tito runs); checking this machine:")
    checks = run_checks()
    for check in checks:
        _print_check(console, check, args.wide)
    failed = [c for c in checks if c.status == "fail"]
    warned = [c for c in checks if c.status == "warn"]
    verdict = "not ready" if failed else "ready" + (f" ({len(warned)} warning(s))" if warned else "")
    console.print(f"[bold]{verdict}[/bold]")
    return EXIT_INVALID if failed else EXIT_OK


def _print_check(console: Console, check: Any, wide: bool) -> None:
    """'ok   name: detail' and its fix: within 80 columns (continuation lines indented), one line each with --wide."""
    import textwrap

    status = STATUS_STYLE[check.status]
    if wide:
        fix = f"  -> {escape(check.fix)}" if check.fix else ""
        console.print(f"{status} {escape(check.name)}: {escape(check.detail)}{fix}")
        return
    first, *rest = textwrap.wrap(f"{check.name}: {check.detail}", NARROW_WIDTH - 5, subsequent_indent="  ")
    console.print(f"{status} {escape(first)}")
    for line in rest:
        console.print(f"     {escape(line)}")
    for line in textwrap.wrap(f"-> {check.fix}", NARROW_WIDTH - 5, subsequent_indent="   ") if check.fix else []:
        console.print(f"     {escape(line)}")


def _downloads(name: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """{file: SHA-256} and mirrors of a downloadable data set (read at call time)."""
    from tinytorch.data import cifar10, mnist

    if name == "mnist":
        return dict(mnist.MNIST_SHA256), tuple(mnist.MNIST_MIRRORS)
    return {cifar10.CIFAR10_ARCHIVE: cifar10.CIFAR10_SHA256}, tuple(cifar10.CIFAR10_MIRRORS)


def cmd_data_download(args: argparse.Namespace) -> int:
    """Fetch missing files with a progress bar, verify every file's SHA-256; offline: one line naming files and folder."""
    from tinytorch.data import cache
    from tinytorch.data.errors import ChecksumMismatchError, DataUnavailableError

    from competition.console.download import DownloadBar

    checksums, mirrors = _downloads(args.name)
    directory = args.root if args.root is not None else cache.cache_dir() / args.name
    try:
        with DownloadBar(_stderr()) as bar:
            cache.ensure_files(args.name, checksums, mirrors, args.root, download=True, progress=bar)
    except DataUnavailableError:
        files = ", ".join(f for f in checksums if not (Path(directory) / f).is_file())
        _stderr().print(f"[red]could not download {args.name}[/red] (offline?): put {files} into {directory} "
                        f"(from {mirrors[0]}) and run `tito data download {args.name}` again to verify them",
                        markup=True)
        return EXIT_ERROR
    except ChecksumMismatchError as err:
        _stderr().print(f"[red]checksum mismatch:[/red] {escape(str(err).splitlines()[0])}")
        return EXIT_ERROR
    _console().print(f"[green]{args.name}[/green]: {len(checksums)} file(s) verified (SHA-256) in {directory}")
    return EXIT_OK


# -- submit --validate-only ----------------------------------------------------------------------------------------

def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 valid, 1 invalid (every problem listed), 2 could not run."""
    from competition.rules import RulesError
    from competition.validation import CannotValidate, validate_path

    given = [p for p in (args.file, args.validate_only if isinstance(args.validate_only, str) else None, args.path) if p]
    if not given:
        _stderr().print("[red]error:[/red] name what to check: `tito submit --validate-only submissions/NAME` "
                        "or `tito submit --file submission.json --validate-only`")
        return EXIT_ERROR
    path = Path(given[0])
    try:
        problems = validate_path(path, run_entry=not args.static)
    except (CannotValidate, RulesError) as exc:
        if args.json:
            _print_json({"path": str(path), "valid": None, "error": str(exc), "problems": []})
        else:
            _console().print(f"[red]could not validate[/red] {escape(str(path))}: {escape(str(exc))}")
        return EXIT_ERROR
    not_run = _entry_not_run(path, args.static)
    if args.json:
        _print_json({"path": str(path), "valid": not problems, "error": None, "entry_not_run": not_run,
                     "problems": [p.__dict__ for p in problems]})
    else:
        _print_problems(path, problems)
        if not_run and not problems:
            _console().print(f"[yellow]note:[/yellow] checked statically only: {escape(not_run)}; "
                             "`tito benchmark run` loads it")
        if args.validate_only is None:
            _console().print("entries are submitted by pull request: `tito benchmark submit --event EVENT --team NAME` "
                             "prepares yours and prints the steps")
    return EXIT_INVALID if problems else EXIT_OK


def _entry_not_run(path: Path, static: bool) -> str | None:
    """Why a folder's entry was not loaded and asked a question (None when it was, or for a report file)."""
    from competition.validation import loads

    return None if static or not path.is_dir() else loads.not_run_reason()


def _print_problems(path: Path, problems: list) -> None:
    console = _console()
    if not problems:
        console.print(f"[green]valid[/green] {escape(str(path))}")
        return
    if not console.is_terminal:  # logs and pipes: one grep-able line per problem
        for p in problems:
            console.print(str(p), markup=False, soft_wrap=True)
        console.print(f"{len(problems)} problem(s) in {path}", markup=False)
        return
    table = Table(title=f"{len(problems)} problem(s) in {path}", show_lines=True)
    for column in ("file", "field / line", "problem", "fix"):
        table.add_column(column, overflow="fold")
    for p in problems:
        where = " ".join(x for x in (p.field or "", f"line {p.line}" if p.line else "") if x)
        table.add_row(p.file, where, p.message, p.hint)
    console.print(table)


# -- submission new / benchmark submit -----------------------------------------------------------------------------

def cmd_submission_new(args: argparse.Namespace) -> int:
    from competition.scaffold import ScaffoldError, new_submission

    try:
        folder = new_submission(args.name, args.root, athlete_name=args.athlete, github_handle=args.github,
                                division=args.division, events=args.events)
    except ScaffoldError as exc:
        _console().print(f"[red]error:[/red] {escape(str(exc))}")
        return EXIT_ERROR
    _console().print(f"created {folder}\nnext: edit it, then `tito submit --validate-only {folder}`")
    return EXIT_OK


def cmd_benchmark_submit(args: argparse.Namespace) -> int:
    """Validate the entry, commit it on its own branch, print the pull-request steps. Exit 1 if invalid."""
    from competition.prepare_entry import prepare_entry

    prepared = prepare_entry(args.event, args.team, args.submission, use_git=not args.no_git)
    console = _console()
    if prepared.problems:
        _print_problems(prepared.folder, prepared.problems)
        console.print(f"fix these, then run `tito benchmark submit --event {args.event} --team {args.team}` again")
        return EXIT_INVALID
    console.print(f"[green]valid[/green] {escape(str(prepared.folder))} for {args.event}")
    for note in prepared.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if prepared.branch:
        done = f"committed as {prepared.commit}" if prepared.commit else "already committed"
        console.print(f"branch {prepared.branch}: {done}")
    console.print("[bold]entries are submitted by pull request:[/bold]")
    for number, step in enumerate(prepared.steps, 1):
        console.print(f"  {number}. {escape(step)}")
    return EXIT_OK


# -- benchmark run / profile / baseline ----------------------------------------------------------------------------

def _submission_dir(path: Path | None) -> Path:
    from competition.validation import BASELINE_DIR

    return path or BASELINE_DIR


def _events_of(submission: Path) -> list[str]:
    """The events listed in the folder's submission.yaml (every rules event if it cannot be read)."""
    import yaml

    from competition.rules import load_rules

    rules = load_rules()
    try:
        events = yaml.safe_load((submission / "submission.yaml").read_text(encoding="utf-8"))["events"]
        return [e for e in events if e in rules.events]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return sorted(rules.events)


def cmd_benchmark_run(args: argparse.Namespace) -> int:
    """Check the folder and its manifest, run each event, write one result JSON per event, print a summary table and
    one verdict per event (or JSON). Exit 0 ok, 1 invalid or failed, 2 could not run, 3 measured outside the jail."""
    from competition.console import ProgressDisplay
    from competition.rules import load_rules
    from competition.validation import BASELINE_DIR, validate_for_run

    submission = _submission_dir(args.submission)
    rules = load_rules()
    if not submission.is_dir():
        _console().print(f"[red]no submission folder[/red] {submission}: create one with `tito submission new NAME`")
        return EXIT_ERROR
    problems = validate_for_run(submission, rules)
    if problems:
        _print_problems(submission, problems)
        _console().print(f"fix these (`tito submit --validate-only {submission}` checks everything), then run again")
        return EXIT_INVALID
    events = _events_of(submission) if args.all_events else args.event
    unknown = [e for e in events if e not in rules.events]
    if unknown:
        _console().print(f"[red]unknown event(s):[/red] {', '.join(unknown)}; valid: {', '.join(sorted(rules.events))}")
        return EXIT_ERROR
    runnable = _available(events, rules)
    if not runnable:
        return EXIT_ERROR
    from competition.results import write_result
    from competition.run import run_event

    out = _results_dir(args.out, submission, args.quick)
    rows = []
    with ProgressDisplay(len(runnable), enabled=not args.json) as show:
        for index, event_id in enumerate(runnable, 1):
            show.event(index, event_id)
            result = run_event(event_id, submission, BASELINE_DIR, runner_class=args.runner_class, quick=args.quick,
                               progress=show, budget_scale=args.budget_scale)
            rows.append((result, write_result(result, out)))
            show.event_done(index)
    results = [r for r, _ in rows]
    if args.json:
        _print_json([{"path": str(path), "result": result} for result, path in rows])
    else:
        _print_run(rows, args.wide)
    if not args.all_events and len(runnable) < len(events):
        return EXIT_ERROR
    if not all(r["status"] == "ok" for r in results):
        return EXIT_INVALID
    return EXIT_UNJAILED if _unjailed(results) else EXIT_OK


def _print_run(rows: list[tuple[dict, Path]], wide: bool) -> None:
    """The table, each event's verdict, errors and file, and a last line that stays if the jail was missing."""
    from competition.console import results_table, verdict_line

    console = _console(wide)
    console.print(results_table([r for r, _ in rows], wide=wide))
    for result, path in rows:
        console.print(verdict_line(result, wide=wide))
        for error in result.get("errors", []):
            text = f"  {error['stage']}: {str(error['message']).splitlines()[0]}"
            console.print(text if wide or len(text) <= NARROW_WIDTH else text[:NARROW_WIDTH - 1] + "…",
                          style="red", markup=False)
        console.print(f"  wrote {path}", style="dim")
    if _unjailed([r for r, _ in rows]):
        console.print("[bold red]NOT RANKABLE:[/bold red] measured outside the OS jail; `tito leaderboard add` "
                      "refuses these results. Fix: run where `tito setup --validate` finds the jail (exit code 3)")


def _unjailed(results: list[dict]) -> bool:
    """Whether any result's worker ran in the process sandbox instead of the jail."""
    return any((r.get("sandbox") or {}).get("isolation") == "process" for r in results)


def _results_dir(out: Path | None, submission: Path, quick: bool) -> Path:
    """--out, by default .tito/results (.tito/smoke for --quick: a smoke run never lands where the board reads);
    never inside the entry folder (its pull request must not carry results): then beside the submissions folder."""
    chosen = out or Path(".tito/smoke" if quick else ".tito/results")
    folder = submission.resolve()
    if chosen.resolve() == folder or folder in chosen.resolve().parents:
        base = folder.parent.parent if folder.parent.name == "submissions" else folder.parent
        moved = base / ".tito" / chosen.name
        _stderr().print(f"[yellow]note:[/yellow] {escape(str(chosen))} is inside the entry folder; writing to {moved}")
        return moved
    return chosen


def _available(events: list[str], rules: Any) -> list[str]:
    """The events this machine can run: data present and a baseline to compare with; the others say why."""
    from competition.baseline import baseline_status
    from competition.datasets import unavailable_reason

    runnable = []
    for event_id in events:
        reason = unavailable_reason(rules.event(event_id).dataset)
        has_baseline, baseline_message = baseline_status(event_id)
        if reason is not None:
            _stderr().print(f"[yellow]skipped {event_id}[/yellow]: its data is not on this machine.\n{escape(reason)}")
        elif not has_baseline:
            _stderr().print(f"[yellow]skipped {event_id}[/yellow]: {escape(baseline_message)}")
        else:
            runnable.append(event_id)
    return runnable


def cmd_benchmark_profile(args: argparse.Namespace) -> int:
    """Per-layer table in human units (ms, MB, GFLOP/s), slowest first, narrow enough for 80 columns."""
    from competition.profile import profile_event, render_profile

    rows = profile_event(args.event, _submission_dir(args.submission))
    if args.json:
        _print_json(rows)
        return EXIT_OK
    _console().print(render_profile(rows, args.event))
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from competition.api import generate_baseline
    from competition.baseline import baseline_status

    ok, message = baseline_status(args.event)
    if not ok:
        _stderr().print(f"[red]error:[/red] {escape(message)}")
        return EXIT_ERROR
    path = generate_baseline(event=args.event, out_dir=args.out, quick=args.quick)
    _console().print(f"wrote {path}")
    return EXIT_OK


def cmd_baseline_train(args: argparse.Namespace) -> int:
    """Train the baseline of an event that needs downloaded data; record weights + model card; enter the event."""
    from competition.baseline import RECIPES, train_baseline
    from competition.rules import load_rules

    card = train_baseline(args.event, epochs=args.epochs, limit=args.limit, seed=args.seed)
    event = load_rules().event(args.event)
    accuracy, floor = card["metrics"]["accuracy"], event.accuracy_floor
    console = _console()
    line = f"held-out accuracy {100 * accuracy:.1f} %"
    if floor is not None:
        line += f" (the event's floor: {100 * floor:.0f} %)"
        if accuracy < floor:
            line += " [red]below the floor: train longer (--epochs) before committing[/red]"
    console.print(line)
    name = RECIPES[args.event].weights
    console.print(f"next: commit tinytorch/models/weights/{name}.npz, {name}.json, submissions/baseline/{name}.npz "
                  f"and submissions/baseline/submission.yaml; then `tito benchmark run --event {args.event}`")
    return EXIT_OK


def cmd_baseline_status(args: argparse.Namespace) -> int:
    from competition.baseline import baseline_status
    from competition.rules import load_rules

    for event_id in sorted(load_rules().events):
        ok, message = baseline_status(event_id)
        _console().print(f"{'[green]ok  [/green]' if ok else '[yellow]none[/yellow]'} {event_id}: {escape(message)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
