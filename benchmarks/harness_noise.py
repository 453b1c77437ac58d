"""Harness noise floor, run time and per-call overhead, measured side by side in one run (never a timed test).

Prints three targets:
  1. A/A speedup CI half-width (baseline vs baseline, two separate workers)    target <= 2 %
  2. wall time of a full run of one submission over all offline events        target <= 300 s
     (offline: the events on data bundled with tinytorch, which need no download)
  3. harness overhead per timed call vs one 1 000-image CNN batch             target: negligible (< 1 %)

    python benchmarks/harness_noise.py                  # full protocol, baseline vs itself
    python benchmarks/harness_noise.py --quick          # the --quick protocol (what CI runs)
    python benchmarks/harness_noise.py --submission DIR --baseline DIR --events cnn_marathon_offline
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from competition.datasets import BUNDLED_DATASETS, load_event_data
from competition.measure.stats import median_ci
from competition.measure.timing import timed_values
from competition.rules import load_rules
from competition.run import run_event
from competition.sandbox.process import Worker

REPO = Path(__file__).resolve().parents[1]


def overhead(folder: Path, event_id: str, images: int = 1000, requests: int = 20) -> tuple[float, float]:
    """(median harness overhead per timed request, median seconds of one `images`-image predict call).

    Overhead = the parent's wall time of a `time` request minus the worker's own perf_counter total for it:
    framing, pipe round trip, dispatch. One timed value = one request, so this is the overhead per timed value."""
    data = load_event_data("mnist_bundled", "test", "inference")
    with Worker(folder, label="overhead") as worker:
        worker.request("import")
        worker.request("load", event=event_id)
        worker.request("store", [data.inputs[:images]], names=["batch"])
        worker.request("calibrate", fn="predict", args=["batch"])
        gaps, calls = [], []
        for _ in range(requests):
            start = time.perf_counter()
            (value,) = worker.request("time", fn="predict", args=["batch"], loops=1)[0]["values"]
            gaps.append(time.perf_counter() - start - value)
            calls.append(value)
    return float(np.median(gaps)), float(np.median(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--baseline", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--events", nargs="*", default=None, help="default: every event on bundled (offline) data")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rules = load_rules()
    events = args.events or sorted(e.id for e in rules.events.values() if e.dataset in BUNDLED_DATASETS)
    print(f"events: {', '.join(events)}   protocol: {'quick' if args.quick else 'full'}   "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'event':<24} {'status':<8} {'rounds':>6} {'A/A median':>10} {'A/A CI':>19} {'half-width':>10} "
          f"{'speedup':>8} {'seconds':>8}")
    total_start = time.perf_counter()
    halfwidths = []
    for event_id in events:
        start = time.perf_counter()
        result = run_event(event_id, args.submission, args.baseline, quick=args.quick)
        seconds = time.perf_counter() - start
        aa = result["noise"]["aa_speedup"]
        speed = result["scores"]["speedup"]
        if aa:
            lo, hi = aa["ci95"]
            half = (hi - lo) / 2 / aa["median"]
            halfwidths.append(half)
            aa_text = f"{aa['median']:>10.4f} [{lo:.4f}, {hi:.4f}] {100 * half:>9.2f}%"
        else:
            aa_text = f"{'-':>10} {'-':>19} {'-':>10}"
        print(f"{event_id:<24} {result['status']:<8} {result['noise']['rounds']:>6} {aa_text} "
              f"{(speed or {}).get('value', float('nan')):>8.3f} {seconds:>8.1f}")
        for error in result["errors"]:
            print(f"    error [{error['stage']}]: {error['message'][:300]}")
    total = time.perf_counter() - total_start
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (other processes on the machine add noise)")
    if halfwidths:
        worst, typical = 100 * max(halfwidths), 100 * median_ci(halfwidths)[0]
        print(f"1. A/A CI half-width: worst {worst:.2f} %, median {typical:.2f} %"
              f"   (target <= 2 %)  -> {'OK' if max(halfwidths) <= 0.02 else 'ABOVE TARGET'}")
    print(f"2. full run over {len(events)} events: {total:.1f} s   (target <= 300 s) -> "
          f"{'OK' if total <= 300 else 'ABOVE TARGET'}")
    cnn_event = "cnn_marathon_offline"
    if cnn_event in rules.events:
        gap, call = overhead(args.baseline, cnn_event)
        loop = min(timed_values(lambda: None, 1_000_000, 5))
        print(f"3. one 1 000-image CNN batch: {1e3 * call:.2f} ms\n"
              f"   inside the timed region, the timing loop adds {1e9 * loop:.0f} ns per call = "
              f"{100 * loop / call:.5f} %   (target: negligible, < 1 %) -> {'OK' if loop < 0.01 * call else 'HIGH'}\n"
              f"   outside it (not in any timed value), each request costs {1e3 * gap:.3f} ms of IPC = "
              f"{100 * gap / call:.2f} % of a batch (wall time of the run only)")


if __name__ == "__main__":
    main()
