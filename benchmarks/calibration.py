"""Calibration: is a verdict ever false? N runs per event of the baseline against a byte-identical copy of itself
(never a timed test; competition/runner_check.py holds the method, which `tito runner check` shares).

Prints, per event, with the load average beside it:
  1. false verdicts ("faster"/"slower" for the baseline against its own copy)       target 0 in 40 per event
     and how many the A/A floor rule caught (interval excluding 1, verdict a tie)     (quiet or loaded)
  2. coverage: how often the 95 % interval contains 1                                target >= 90 %
     beside the coverage the old interval (rounds resampled as if independent) would have had, same ratios
  3. median achieved half-width at the budget, and how many runs stopped at the     target <= 2 % inference and
     target against the budget                                                        MLP Sprint, <= 3 % generation
  4. one run over every event: the sum of the mean seconds per event                 target <= 180 s (quiet)

    python benchmarks/calibration.py 40                       # 40 comparisons per offline event (hours)
    python benchmarks/calibration.py 2 --events mlp_sprint_offline memory_master_offline
    python benchmarks/calibration.py 5 --budget-scale 0.5      # half the default budget
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from competition import runner_check

RUN_TARGET_S = 180.0
COMPARISONS_TARGET = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help=f"comparisons per event (the target is stated for {COMPARISONS_TARGET})")
    parser.add_argument("--events", nargs="*", default=None, help="default: every event on bundled (offline) data")
    parser.add_argument("--baseline", type=Path, default=runner_check.BASELINE_DIR)
    parser.add_argument("--budget-scale", type=float, default=1.0, help="X times the default budget")
    parser.add_argument("--quick", action="store_true", help="the --quick protocol (too few units for a verdict)")
    args = parser.parse_args()
    events = args.events or runner_check.offline_events()
    print(f"calibration: {args.n} x baseline vs its own copy on {', '.join(events)}; budget x{args.budget_scale:g}"
          f"{' (quick)' if args.quick else ''}; load average before {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    comparisons = runner_check.calibrate(events, args.n, args.baseline, budget_scale=args.budget_scale,
                                         quick=args.quick,
                                         heard=lambda c, i: print(runner_check.comparison_line(c, i), flush=True))
    summaries = runner_check.summarize(comparisons)
    print(f"\n{len(comparisons)} runs in {time.perf_counter() - start:.0f} s; load average after "
          f"{os.getloadavg()[0]:.2f} (other processes on the machine add noise: compare with the load column)")
    print("\n".join(runner_check.summary_lines(summaries)))
    false = sum(s.false_verdicts for s in summaries)
    caught = sum(s.caught_by_floor for s in summaries)
    print(f"\n1. false verdicts: {false} in {len(comparisons)} runs (target 0 in {COMPARISONS_TARGET} per event) -> "
          f"{'OK' if false == 0 else 'MISSED'}; the A/A floor rule caught {caught} more")
    for s in summaries:
        coverage = "-" if s.coverage is None else f"{100 * s.coverage:.0f} %"
        old = "-" if s.round_coverage is None else f"{100 * s.round_coverage:.0f} %"
        width = "-" if s.halfwidth is None else f"{100 * s.halfwidth:.2f} %"
        print(f"2./3. {s.event_id:<24} coverage {coverage:>5} (target >= 90 %; rounds as units: {old:>5})   "
              f"half-width {width:>7} (target <= {100 * s.target:.0f} %)   load {s.load:.2f}")
    total = sum(s.seconds for s in summaries)
    print(f"4. one run over {len(summaries)} events: {total:.0f} s (target <= {RUN_TARGET_S:.0f} s on a quiet "
          f"machine) -> {'OK' if total <= RUN_TARGET_S else 'ABOVE TARGET'}")
    print(f"   {runner_check.__name__}.problems: " + ("; ".join(runner_check.problems(summaries)) or "none"))


if __name__ == "__main__":
    main()
