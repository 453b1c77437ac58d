"""Does a contender's slot in a round change its time? Three identical baseline CNN workers, timed in balanced
random slot orders on the same fresh draw per round; prints the mean time by slot position and by start order
(never a timed test). A position effect is why a fixed, unbalanced slot order biased the A/A floor (see
docs/measurement.md) and why the harness balances slot orders and keeps the fastest of several passes.

    python benchmarks/slot_position.py              # 36 rounds (6 full cycles of the 6 orders)
    python benchmarks/slot_position.py --rounds 12  # smoke run
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from competition.datasets import load_event_data
from competition.measure.contender import Contender
from competition.measure.draws import batches, perturbed
from competition.measure.timing import slot_orders
from competition.sandbox.limits import Limits

REPO = Path(__file__).resolve().parents[1]
LABELS = ["first started", "second started", "third started"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--rounds", type=int, default=36)
    args = parser.parse_args()
    data = load_event_data("mnist_bundled", "test", "inference")
    rng = np.random.default_rng()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    workers = {label: Contender(label, args.submission, Limits(), 1) for label in LABELS}
    rows = []
    try:
        for worker in workers.values():
            worker.start("cnn_marathon_offline", load=True)
            worker.go("predict", worker.place(batches(perturbed(data.inputs, rng), 100))[1])  # warm-up
        for order in slot_orders(LABELS, args.rounds, rng):
            xs = batches(perturbed(data.inputs[rng.permutation(len(data.inputs))], rng), 100)
            times = {}
            for label in order:
                times[label] = workers[label].go("predict", workers[label].place(xs)[1])[0]
            rows.append((order, times))
    finally:
        for worker in workers.values():
            worker.close()
    by_slot: dict[int, list[float]] = {0: [], 1: [], 2: []}
    by_worker: dict[str, list[float]] = {label: [] for label in LABELS}
    for order, times in rows:
        mean = float(np.exp(np.mean(np.log(list(times.values())))))  # the round's geometric mean
        for slot, label in enumerate(order):
            by_slot[slot].append(np.log(times[label] / mean))
            by_worker[label].append(np.log(times[label] / mean))
    print(f"{len(rows)} rounds of 1 000 CNN predictions; time relative to the round's mean (%, +- 2 s.e.):")
    for name, groups in (("slot", {f"slot {k + 1}": v for k, v in by_slot.items()}), ("worker", by_worker)):
        for key, values in groups.items():
            v = 100 * np.asarray(values)
            print(f"  {key:<16} {v.mean():+6.2f} +- {2 * v.std(ddof=1) / np.sqrt(v.size):.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine add noise)")


if __name__ == "__main__":
    main()
