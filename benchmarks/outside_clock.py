"""The outside clock's own cost against a 1 000-image CNN round, measured side by side in one worker (never a test).

A timed call is: the inputs placed in the worker (a store request, before the clock), then "go" on the parent's
perf_counter until the reply with the outputs arrives. A pass is cut into requests as the harness cuts it
(protocols.request_batches: about 50 ms each), so its overhead is that many empty calls of the same shape (the same
inputs placed, zeros of the outputs' shapes returned), which is what every result reports as noise.clock_overhead_s.
Interleaved with real passes of the baseline CNN, medians printed.

    python benchmarks/outside_clock.py              # 15 interleaved rounds
    python benchmarks/outside_clock.py --rounds 5   # smoke run
Target: overhead <= 0.5 % of the round.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from competition.datasets import load_event_data
from competition.measure.contender import Contender
from competition.measure.draws import batches, perturbed
from competition.measure.protocols import clock_overhead, request_batches
from competition.sandbox.limits import Limits

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.005


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=REPO / "submissions" / "baseline")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    data = load_event_data("mnist_bundled", "test", "inference")
    rng = np.random.default_rng()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    contender = Contender("clock", args.submission, Limits(), blas_threads=1).start("cnn_marathon_offline", load=True)
    rounds, empties, placements = [], [], []
    per_request = 10
    try:
        for r in range(args.rounds + 1):
            xs = batches(perturbed(data.inputs[rng.permutation(1000)], rng), 100)
            requests = [xs[k:k + per_request] for k in range(0, len(xs), per_request)]
            placed = seconds = 0.0
            for part in requests:  # each request placed right before its "go", as the harness does
                place_s, names = contender.place(part)
                placed, seconds = placed + place_s, seconds + contender.go("predict", names)[0]
            empties.append(sum(clock_overhead(contender, part, [(100, 10)] * len(part), 1, placed=True)
                               for part in requests))
            if r:  # the first round is the warm-up
                rounds.append(seconds)
                placements.append(placed)
            else:
                per_request = request_batches({"baseline": seconds}, len(xs))
    finally:
        contender.close()
    call, empty, place = (float(np.median(v)) for v in (rounds, empties[1:], placements))
    print(f"one 1 000-image CNN round (batches of 100), parent clock:   {1e3 * call:9.3f} ms  (median of {len(rounds)})")
    print(f"the empty calls of the same shape ({len(requests)} requests, clock overhead): "
          f"{1e3 * empty:6.3f} ms  = {100 * empty / call:.3f} %")
    print(f"placing the inputs before the clock (not in the round):   {1e3 * place:9.3f} ms  = {100 * place / call:.3f} %")
    print(f"target: overhead <= {100 * TARGET:.1f} % of the round -> {'OK' if empty <= TARGET * call else 'ABOVE TARGET'}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine add noise)")


if __name__ == "__main__":
    main()
