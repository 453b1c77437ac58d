"""The outside clock's own cost against a 1 000-image CNN round, measured side by side in one worker (never a test).

A timed call is: the round's inputs placed in the worker (a store request, before the clock), then "go" on the
parent's perf_counter until the reply with the outputs arrives. Its overhead is the same "go" with nothing to do: the
empty call of the same shape (the same inputs placed, zeros of the outputs' shapes returned), which is what every
result reports as noise.clock_overhead_s. Interleaved with real rounds of the baseline CNN, medians printed.

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
from competition.measure.protocols import clock_overhead
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
    try:
        for r in range(args.rounds + 1):
            xs = batches(perturbed(data.inputs[rng.permutation(1000)], rng), 100)
            placed, names = contender.place(xs)
            seconds, _ = contender.go("predict", names)
            empties.append(clock_overhead(contender, xs, [(100, 10)] * len(xs), 1, placed=True))
            if r:  # the first round is the warm-up
                rounds.append(seconds)
                placements.append(placed)
    finally:
        contender.close()
    call, empty, place = (float(np.median(v)) for v in (rounds, empties[1:], placements))
    print(f"one 1 000-image CNN round (batches of 100), parent clock:   {1e3 * call:9.3f} ms  (median of {len(rounds)})")
    print(f"the empty call of the same shape (clock overhead):         {1e3 * empty:9.3f} ms  = {100 * empty / call:.3f} %")
    print(f"placing the inputs before the clock (not in the round):   {1e3 * place:9.3f} ms  = {100 * place / call:.3f} %")
    print(f"target: overhead <= {100 * TARGET:.1f} % of the round -> {'OK' if empty <= TARGET * call else 'ABOVE TARGET'}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine add noise)")


if __name__ == "__main__":
    main()
