"""Harness noise floor and run time, measured side by side in one run (never a timed test).

Prints two targets:
  1. A/A speedup 95 % CI half-width on every offline event (baseline vs baseline,    target: the event's
     two separate workers) and why the rounds stopped; whether that CI contains 1     (2 % inference and
                                                                                     training, 3 % generation),
                                                                                     CI contains 1
  2. wall time of a full run of one submission over all offline events              target <= 180 s
     (offline: the events on data bundled with tinytorch, which need no download)
The outside clock's own overhead is printed by benchmarks/outside_clock.py.

    python benchmarks/harness_noise.py                  # full protocol, baseline vs itself
    python benchmarks/harness_noise.py --quick          # the --quick protocol (what CI runs)
    python benchmarks/harness_noise.py --budget-scale 4 # 4x the rounds and budgets (a noisy machine)
    python benchmarks/harness_noise.py --submission DIR --baseline DIR --events cnn_marathon_offline
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from competition.datasets import BUNDLED_DATASETS
from competition.measure.stats import TARGET_HALFWIDTH
from competition.rules import load_rules
from competition.run import run_event

REPO = Path(__file__).resolve().parents[1]
RUN_TARGET_S = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--baseline", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--events", nargs="*", default=None, help="default: every event on bundled (offline) data")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="X times the rounds and timing budgets")
    args = parser.parse_args()
    rules = load_rules()
    events = args.events or sorted(e.id for e in rules.events.values() if e.dataset in BUNDLED_DATASETS)
    print(f"events: {', '.join(events)}   protocol: {'quick' if args.quick else 'full'} x{args.budget_scale:g}   "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'event':<24} {'status':<8} {'rounds':>6} {'A/A median':>10} {'A/A CI':>19} {'half-width':>10} "
          f"{'target':>6} {'contains 1':>10} {'stop':>14} {'speedup':>8} {'seconds':>8}")
    total_start = time.perf_counter()
    rows = []
    for event_id in events:
        start = time.perf_counter()
        result = run_event(event_id, args.submission, args.baseline, quick=args.quick, budget_scale=args.budget_scale)
        seconds = time.perf_counter() - start
        aa, speed = result["noise"]["aa_speedup"], result["scores"]["speedup"]
        target = TARGET_HALFWIDTH[rules.events[event_id].kind]
        stop = (result["noise"].get("sampling") or {}).get("stop", "-")
        if aa:
            lo, hi = aa["ci95"]
            half, unbiased = (hi - lo) / 2 / aa["median"], lo <= 1.0 <= hi
            rows.append((half <= target, unbiased))
            aa_text = (f"{aa['median']:>10.4f} [{lo:.4f}, {hi:.4f}] {100 * half:>9.2f}% {100 * target:>5.0f}% "
                       f"{str(unbiased):>10} {stop:>14}")
        else:
            aa_text = f"{'-':>10} {'-':>19} {'-':>10} {100 * target:>5.0f}% {'-':>10} {stop:>14}"
        print(f"{event_id:<24} {result['status']:<8} {result['noise']['rounds']:>6} {aa_text} "
              f"{(speed or {}).get('value', float('nan')):>8.3f} {seconds:>8.1f}")
        for error in result["errors"]:
            print(f"    error [{error['stage']}]: {error['message'][:300]}")
    total = time.perf_counter() - total_start
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (other processes on the machine add noise)")
    if rows:
        within = sum(w for w, _ in rows)
        print(f"1. A/A CI half-width within its event's target on {within} of {len(rows)} events -> "
              f"{'OK' if within == len(rows) else 'ABOVE TARGET (the budget ran out first: see stop)'};   "
              f"A/A CI contains 1 on {sum(u for _, u in rows)} of {len(rows)} events (target: all)")
    print(f"2. full run over {len(events)} events: {total:.1f} s   (target <= {RUN_TARGET_S:.0f} s) -> "
          f"{'OK' if total <= RUN_TARGET_S else 'ABOVE TARGET'}")


if __name__ == "__main__":
    main()
