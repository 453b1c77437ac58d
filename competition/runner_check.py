"""Runner qualification and calibration (issue 17): is a verdict on this machine ever false?

The candidate is a byte-identical copy of the baseline, so the truth is known: every speedup is 1. Each comparison
is a whole `run_event` of the copy against the baseline at the default (or a scaled) budget; over many of them a
runner whose intervals are honest gives no "faster" or "slower" verdict, and its 95 % intervals contain 1 in about
95 % of the runs. The A/A floor rule stays as a second guard; a comparison whose interval alone excluded 1 but whose
verdict the floor turned into a tie is counted as caught by it. The old interval (a bootstrap over rounds, as if
they were independent) is recomputed from the same ratios beside the new one (over independent units).

`tito runner check` runs a few comparisons per offline event and says whether this machine can be registered as a
reference runner; `benchmarks/calibration.py` runs many and prints the rates.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from competition.leaderboard.fingerprint import registration_snippet
from competition.measure.provenance import tree_sha256
from competition.measure.stats import TARGET_HALFWIDTH, halfwidth, median_ci
from competition.sandbox.jail import JailUnavailable

REPO = Path(__file__).resolve().parents[1]
BASELINE_DIR = REPO / "submissions" / "baseline"
MIN_COVERAGE = 0.90  # of the 95 % interval, over a runner's comparisons


@dataclass(frozen=True)
class Comparison:
    """One run of the baseline's copy against the baseline."""

    event_id: str
    kind: str
    status: str
    verdict: str | None
    reason: str | None
    ci95: tuple[float, float] | None
    value: float | None
    round_ci95: tuple[float, float] | None  # the same ratios, resampled round by round (the old interval)
    aa_ci95: tuple[float, float] | None
    sampling: dict | None
    seconds: float
    load: float  # the 1-minute load average when the run started
    runner: dict  # the result's runner block (class, hardware): what a registration names
    error: str | None = None

    @property
    def false_verdict(self) -> bool:
        return self.verdict in ("faster", "slower")

    @property
    def covers(self) -> bool | None:
        return None if self.ci95 is None else self.ci95[0] <= 1.0 <= self.ci95[1]

    @property
    def round_covers(self) -> bool | None:
        return None if self.round_ci95 is None else self.round_ci95[0] <= 1.0 <= self.round_ci95[1]

    @property
    def caught_by_floor(self) -> bool:
        return self.reason == "within_aa_floor"

    @property
    def halfwidth(self) -> float | None:
        return None if self.ci95 is None or not self.value else halfwidth(self.value, *self.ci95)


def identical_copy(baseline: Path, parent: Path) -> Path:
    """A byte-identical copy of `baseline` under `parent` (its tree hash is checked equal)."""
    copy = Path(parent) / baseline.resolve().name
    shutil.copytree(baseline, copy, ignore=shutil.ignore_patterns("__pycache__"))
    if tree_sha256(copy) != tree_sha256(baseline):
        raise RuntimeError(f"the copy of {baseline} differs from it")
    return copy


def compare(event_id: str, candidate: Path, baseline: Path, runner_class: str = "local",
            budget_scale: float = 1.0, quick: bool = False) -> Comparison:
    """Run `candidate` (a copy of the baseline) against `baseline` on `event_id` and keep what calibration needs."""
    from competition.run import run_event  # the whole harness: imported only when a comparison runs

    load, start = os.getloadavg()[0], time.perf_counter()
    result = run_event(event_id, candidate, baseline, runner_class=runner_class, quick=quick,
                       budget_scale=budget_scale)
    seconds = time.perf_counter() - start
    speed, aa = result["scores"]["speedup"], result["noise"]["aa_speedup"]
    error = "; ".join(f"[{e['stage']}] {e['message'][:200]}" for e in result["errors"]) or None
    round_ci = median_ci(speed["ratios"])[1:] if speed and speed.get("ratios") else None
    return Comparison(event_id, result["event"]["kind"], result["status"], speed and speed["verdict"],
                      speed and speed.get("reason"), speed and tuple(speed["ci95"]), speed and speed["value"],
                      round_ci, aa and tuple(aa["ci95"]), result["noise"].get("sampling"), seconds, load,
                      result["runner"], error)


def calibrate(event_ids: Sequence[str], n: int, baseline: Path = BASELINE_DIR, runner_class: str = "local",
              budget_scale: float = 1.0, quick: bool = False,
              heard: Callable[[Comparison, int], None] | None = None) -> list[Comparison]:
    """n comparisons per event, the events taking turns (so the machine's load of the moment hits them alike);
    `heard(comparison, i)` after each."""
    comparisons = []
    with tempfile.TemporaryDirectory(prefix="tinymlperf-aa-") as parent:
        copy = identical_copy(baseline, Path(parent))
        for i in range(n):
            for event_id in event_ids:
                comparisons.append(compare(event_id, copy, baseline, runner_class, budget_scale, quick))
                if heard is not None:
                    heard(comparisons[-1], i)
    return comparisons


@dataclass(frozen=True)
class Summary:
    """One event's calibration."""

    event_id: str
    kind: str
    n: int
    failed: int
    false_verdicts: int
    caught_by_floor: int
    coverage: float | None  # how often the 95 % interval contains 1
    round_coverage: float | None  # the same for the old, round-by-round interval
    halfwidth: float | None  # median relative half-width
    stops: dict[str, int]
    load: float  # mean load average at the start of its runs
    seconds: float  # mean seconds per run

    @property
    def target(self) -> float:
        return TARGET_HALFWIDTH[self.kind]


def summarize(comparisons: Iterable[Comparison]) -> list[Summary]:
    """Per event, in first-seen order."""
    by_event: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_event.setdefault(c.event_id, []).append(c)
    return [_summary(runs) for runs in by_event.values()]


def _summary(runs: list[Comparison]) -> Summary:
    def rate(flags: list[bool | None]) -> float | None:
        known = [f for f in flags if f is not None]
        return sum(known) / len(known) if known else None

    widths = [c.halfwidth for c in runs if c.halfwidth is not None]
    stops = Counter(c.sampling["stop"] for c in runs if c.sampling)
    return Summary(runs[0].event_id, runs[0].kind, len(runs), sum(c.status != "ok" for c in runs),
                   sum(c.false_verdict for c in runs), sum(c.caught_by_floor for c in runs),
                   rate([c.covers for c in runs]), rate([c.round_covers for c in runs]),
                   statistics.median(widths) if widths else None, dict(stops),
                   statistics.fmean(c.load for c in runs), statistics.fmean(c.seconds for c in runs))


def problems(summaries: Sequence[Summary]) -> list[str]:
    """Why these comparisons do not qualify the runner (empty: it qualifies): a failed run, any false verdict, a
    coverage below MIN_COVERAGE, a median half-width above the event's target."""
    found = []
    for s in summaries:
        if s.failed:
            found.append(f"{s.event_id}: {s.failed} of {s.n} runs did not finish")
        if s.false_verdicts:
            found.append(f"{s.event_id}: {s.false_verdicts} false verdicts in {s.n} baseline-vs-copy runs")
        if s.coverage is not None and s.coverage < MIN_COVERAGE:
            found.append(f"{s.event_id}: the 95 % interval contained 1 in {100 * s.coverage:.0f} % of the runs "
                         f"(needs {100 * MIN_COVERAGE:.0f} %)")
        if s.halfwidth is None or s.halfwidth > s.target:
            width = "not measured" if s.halfwidth is None else f"{100 * s.halfwidth:.1f} %"
            found.append(f"{s.event_id}: median half-width {width} (target {100 * s.target:.0f} %): too noisy for "
                         "the default budget; quiet the machine (docs/maintainers.md) or raise --budget-scale")
    return found


def comparison_line(c: Comparison, i: int) -> str:
    """One run, for the progress of a calibration."""
    if c.ci95 is None:
        return f"{c.event_id:<24} #{i + 1:<3} {c.status}: {c.error or 'no speedup'}"
    s = c.sampling or {}
    aa = f"[{c.aa_ci95[0]:.3f}, {c.aa_ci95[1]:.3f}]" if c.aa_ci95 else "-"
    return (f"{c.event_id:<24} #{i + 1:<3} {c.verdict:<6} {c.reason or '-':<27} {c.value:.3f} "
            f"[{c.ci95[0]:.3f}, {c.ci95[1]:.3f}] {100 * (c.halfwidth or 0):5.2f}%  A/A {aa}  "
            f"{s.get('units', '?')} units {s.get('stop', '?')}  {c.seconds:5.1f} s  load {c.load:.2f}")


def summary_lines(summaries: Sequence[Summary]) -> list[str]:
    """The rates per event: false verdicts, the A/A floor's catches, coverage (new and old interval), half-width."""
    lines = [f"{'event':<24} {'runs':>4} {'false':>5} {'floor':>5} {'coverage':>8} {'rounds-cov':>10} "
             f"{'half-width':>10} {'target':>6} {'stops (target/budget)':>21} {'load':>5} {'s/run':>6}"]
    for s in summaries:
        pct = (lambda v: "-" if v is None else f"{100 * v:.0f}%")
        lines.append(f"{s.event_id:<24} {s.n:>4} {s.false_verdicts:>5} {s.caught_by_floor:>5} {pct(s.coverage):>8} "
                     f"{pct(s.round_coverage):>10} {'-' if s.halfwidth is None else f'{100 * s.halfwidth:.2f}%':>10} "
                     f"{100 * s.target:>5.0f}% {s.stops.get('target_reached', 0):>10}/"
                     f"{s.stops.get('budget_spent', 0):<10} "
                     f"{s.load:>5.2f} {s.seconds:>6.1f}")
    return lines


def offline_events() -> list[str]:
    """The events on data bundled with tinytorch (no download)."""
    from competition.datasets import BUNDLED_DATASETS
    from competition.rules import load_rules

    return sorted(e.id for e in load_rules().events.values() if e.dataset in BUNDLED_DATASETS)


def register(subparsers: argparse._SubParsersAction) -> None:
    """`tito runner check`."""
    runner = subparsers.add_parser("runner", help="maintainers: qualify this machine as a reference runner")
    actions = runner.add_subparsers(metavar="ACTION")
    check = actions.add_parser("check", help="measure this machine's noise: baseline against its own copy",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--n", type=int, default=3, help="comparisons per event (default 3; calibration uses 40)")
    check.add_argument("--events", nargs="*", default=None, help="default: every offline event")
    check.add_argument("--class", dest="runner_class", choices=("reference", "edge"), default="reference")
    check.add_argument("--budget-scale", type=float, default=1.0, help="X times the default budget")
    check.set_defaults(func=cmd_check)
    runner.set_defaults(func=lambda args: (runner.print_help(), 2)[1])


def cmd_check(args: argparse.Namespace) -> int:
    """0 if this machine qualifies as a reference (or edge) runner, 1 if not, 2 if it cannot run the check."""
    if args.n < 1:
        print("tito runner check: --n must be at least 1")
        return 2
    events = args.events or offline_events()
    print(f"runner check: {args.n} runs of the baseline against its own copy on {', '.join(events)} "
          f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    try:
        comparisons = calibrate(events, args.n, runner_class=args.runner_class, budget_scale=args.budget_scale,
                                heard=lambda c, i: print(comparison_line(c, i), flush=True))
    except JailUnavailable as err:
        print(f"does not qualify: {err}")
        return 2
    summaries = summarize(comparisons)
    print("\n".join(summary_lines(summaries)))
    found = problems(summaries)
    if found:
        print(f"this machine does NOT qualify as a {args.runner_class} runner:")
        print("\n".join(f"  - {p}" for p in found))
        return 1
    print(f"this machine qualifies as a {args.runner_class} runner: no false verdict, coverage >= "
          f"{100 * MIN_COVERAGE:.0f} %, every half-width within its target. To register it, add under `runners:` "
          "in leaderboard/config.yaml (in a reviewed PR):")
    print(registration_snippet({"runner": comparisons[-1].runner}), end="")
    return 0
