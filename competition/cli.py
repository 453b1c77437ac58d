"""`tito`: the TinyMLPerf command line. Owns the parser; the leaderboard and github packages add their commands.

Harness modules are imported inside the command functions so `tito --help` works on its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
RUNNER_CLASSES = ("local", "reference", "edge")


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
        return 130
    except Exception:  # a crash is "could not run" (2), never "invalid" (1), Python's default exit code
        traceback.print_exc()
        return EXIT_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The full `tito` parser, including the leaderboard and github commands when those packages import."""
    parser = argparse.ArgumentParser(prog="tito", description="TinyMLPerf: benchmark, validate and submit entries.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    bench = sub.add_parser("benchmark", help="measure a submission against the baseline").add_subparsers(metavar="ACTION")
    run = bench.add_parser("run", help="run events and write result JSON files")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument("--event", action="append", help="event id (repeatable)")
    which.add_argument("--all-events", action="store_true", help="every event the submission enters")
    run.add_argument("--submission", type=Path, default=None, help="submission folder (default: submissions/baseline)")
    run.add_argument("--runner-class", choices=RUNNER_CLASSES, default="local")
    run.add_argument("--out", type=Path, default=Path(".tito/results"), help="directory for result JSON files")
    run.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not for the leaderboard")
    run.add_argument("--json", action="store_true", help="print the results as JSON")
    run.set_defaults(func=cmd_benchmark_run)

    prof = bench.add_parser("profile", help="per-layer time and memory of a submission's model")
    prof.add_argument("--event", required=True)
    prof.add_argument("--submission", type=Path, default=None)
    prof.add_argument("--json", action="store_true")
    prof.set_defaults(func=cmd_benchmark_profile)

    base = sub.add_parser("baseline", help="measure the baseline and write baseline_submission.json")
    base.add_argument("--event", default="cnn_marathon_offline")
    base.add_argument("--out", type=Path, default=Path("."))
    base.add_argument("--quick", action="store_true")
    base.set_defaults(func=cmd_baseline)

    submit = sub.add_parser("submit", help="check a submission folder or submission.json")
    submit.add_argument("--validate-only", dest="path", type=Path, required=True, metavar="PATH",
                        help="a submissions/<name>/ folder or a submission.json")
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(func=cmd_validate)

    entry = sub.add_parser("submission", help="manage submission folders").add_subparsers(metavar="ACTION")
    new = entry.add_parser("new", help="create submissions/NAME from the baseline")
    new.add_argument("name")
    new.add_argument("--root", type=Path, default=Path("submissions"))
    new.add_argument("--athlete", default=None, help="your name (default: NAME)")
    new.add_argument("--github", default=None, help="your GitHub handle (default: NAME)")
    new.add_argument("--division", choices=("closed", "open"), default="closed")
    new.add_argument("--event", action="append", dest="events", help="event id (repeatable; default: the baseline's)")
    new.set_defaults(func=cmd_submission_new)

    for module in ("competition.leaderboard.cli", "competition.github.cli"):
        _register(module, sub)
    return parser


def _register(module_name: str, subparsers: Any) -> None:
    """Let another package add its commands; skip it only while it does not exist yet."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return
        raise
    module.register(subparsers)


def _console() -> Console:
    """stdout console; logs and pipes get long lines instead of wrapping at 80 columns."""
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


# -- submit --validate-only --------------------------------------------------------------------------------------

def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 valid, 1 invalid (every problem listed), 2 could not run."""
    from competition.rules import RulesError
    from competition.validation import CannotValidate, validate_path

    try:
        problems = validate_path(args.path)
    except (CannotValidate, RulesError) as exc:
        if args.json:
            _print_json({"path": str(args.path), "valid": None, "error": str(exc), "problems": []})
        else:
            _console().print(f"[red]could not validate[/red] {args.path}: {exc}")
        return EXIT_ERROR
    if args.json:
        _print_json({"path": str(args.path), "valid": not problems, "error": None,
                     "problems": [p.__dict__ for p in problems]})
    else:
        _print_problems(args.path, problems)
    return EXIT_INVALID if problems else EXIT_OK


def _print_problems(path: Path, problems: list) -> None:
    console = _console()
    if not problems:
        console.print(f"[green]valid[/green] {path}")
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


# -- submission new ----------------------------------------------------------------------------------------------

def cmd_submission_new(args: argparse.Namespace) -> int:
    from competition.scaffold import ScaffoldError, new_submission

    try:
        folder = new_submission(args.name, args.root, athlete_name=args.athlete, github_handle=args.github,
                                division=args.division, events=args.events)
    except ScaffoldError as exc:
        _console().print(f"[red]error:[/red] {exc}")
        return EXIT_ERROR
    _console().print(f"created {folder}\nnext: edit it, then `tito submit --validate-only {folder}`")
    return EXIT_OK


# -- benchmark run / profile / baseline --------------------------------------------------------------------------

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
    """Run each event, write one result JSON per event, print a summary table (or JSON)."""
    from competition.rules import load_rules
    from competition.validation import BASELINE_DIR

    submission = _submission_dir(args.submission)
    events = _events_of(submission) if args.all_events else args.event
    rules = load_rules()
    unknown = [e for e in events if e not in rules.events]
    if unknown:
        _console().print(f"[red]unknown event(s):[/red] {', '.join(unknown)}; valid: {', '.join(sorted(rules.events))}")
        return EXIT_ERROR
    if not submission.is_dir():
        _console().print(f"[red]no submission folder[/red] {submission}")
        return EXIT_ERROR
    from competition.results import write_result
    from competition.run import run_event

    if args.all_events:
        events = _available(events, rules)
    rows = []
    with _Spinner(quiet=args.json) as update:
        for event_id in events:
            update(f"{event_id}: starting")
            result = run_event(event_id, submission, BASELINE_DIR, runner_class=args.runner_class, quick=args.quick,
                               progress=lambda message, *_, e=event_id, **__: update(f"{e}: {message}"))
            rows.append((result, write_result(result, args.out)))
    if args.json:
        _print_json([{"path": str(path), "result": result} for result, path in rows])
    else:
        console = _console()
        console.print(results_table([r for r, _ in rows]))
        for result, path in rows:
            for error in result.get("errors", []):
                console.print(f"[red]{result['event']['id']}[/red] {error['stage']}: {error['message']}")
            console.print(f"wrote {path}")
    return EXIT_OK if all(r["status"] == "ok" for r, _ in rows) else EXIT_INVALID


def _available(events: list[str], rules: Any) -> list[str]:
    """The events whose data is on this machine; the others are named with where their files go."""
    from competition.datasets import unavailable_reason

    runnable = []
    for event_id in events:
        reason = unavailable_reason(rules.event(event_id).dataset)
        if reason is None:
            runnable.append(event_id)
        else:
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"[yellow]skipped {event_id}[/yellow]: its data is not on this machine.\n{reason}")
    return runnable


class _Spinner:
    """A rich spinner with a changing description; silent when quiet (JSON output)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __enter__(self) -> Callable[[str], None]:
        if self.quiet:
            return lambda message: None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("starting")
        return lambda message: self._bar.update(task, description=str(message))

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self._bar.__exit__(*exc)


def _estimate(value: dict | None, scale: float = 1.0, unit: str = "s") -> str:
    if not value:
        return "-"
    lo, hi = value["ci95"]
    return f"{value['median'] * scale:.4g} {unit} [{lo * scale:.4g}, {hi * scale:.4g}]"


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.2f} %"


def _quality(measured: dict) -> str:
    """Accuracy in percent for image events; perplexity and BLEU for text events."""
    if measured.get("accuracy") is not None:
        return _percent(measured["accuracy"])
    parts = [f"ppl {measured['perplexity']:.3f}" if measured.get("perplexity") is not None else "",
             f"BLEU {measured['bleu']:.3f}" if measured.get("bleu") is not None else ""]
    return ", ".join(p for p in parts if p) or "-"


def results_table(results: list[dict]) -> Table:
    """One row per result: times with 95 % CIs, speedup with CI and verdict, compression, quality, qualification."""
    table = Table(title="TinyMLPerf results (median [95 % CI])")
    for column in ("event", "status", "submission time", "baseline time", "speedup", "verdict", "compression",
                   "throughput", "quality", "qualified"):
        table.add_column(column, overflow="fold")
    for r in results:
        cand, base, scores = r.get("candidate") or {}, r.get("baseline") or {}, r["scores"]
        speed = scores.get("speedup")
        quality = _quality(cand)
        failed = [c["rule"] for c in scores["qualification"] if not c["passed"]]
        table.add_row(
            r["event"]["id"], r["status"], _estimate(cand.get("time_s")), _estimate(base.get("time_s")),
            f"{speed['value']:.3f}x [{speed['ci95'][0]:.3f}, {speed['ci95'][1]:.3f}]" if speed else "-",
            speed["verdict"] if speed else "-",
            f"{scores['compression']:.2f}x" if scores.get("compression") is not None else "-",
            f"{cand['throughput_per_s']:.4g}/s" if cand.get("throughput_per_s") is not None else "-",
            quality, "yes" if scores["qualified"] else "no: " + ", ".join(failed),
        )
    return table


def cmd_benchmark_profile(args: argparse.Namespace) -> int:
    from competition.profile import ProfileError, profile_event
    from competition.sandbox.process import WorkerError

    try:
        rows = profile_event(args.event, _submission_dir(args.submission))
    except (ProfileError, WorkerError) as err:
        _console().print(f"[red]could not profile {args.event}:[/red] {err}")
        return EXIT_ERROR
    if args.json:
        _print_json(rows)
        return EXIT_OK
    table = Table(title=f"profile of {args.event}")
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in columns))
    _console().print(table)
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from competition.api import generate_baseline

    with _Spinner(quiet=False) as update:
        update(f"measuring the baseline on {args.event}")
        path = generate_baseline(event=args.event, out_dir=args.out, quick=args.quick)
    _console().print(f"wrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
