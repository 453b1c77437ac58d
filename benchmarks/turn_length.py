"""How long should a contender's turn be? Two identical CNN workers take turns, side by side in one run (never a test).

Two fresh workers placed as the harness places its workers (one CPU, no transparent huge pages) alternate timed
passes of the same work, in a random order per pair; each turn length gets the same seconds, in interleaved one-second
blocks so the machine's drift hits every length alike. Per turn length it prints: how many pairs fit, the sd of a
pair's log-ratio, how much the twins' times move together (correlation), and the A/A interval the harness would
report (median of the pair ratios with its bootstrap 95 % CI). The harness cuts a pass into requests of about
protocols.REQUEST_S for this reason (docs/measurement.md, "Requests per pass").

    python benchmarks/turn_length.py                         # turns of 100, 500 and 1 000 images, 20 s each
    python benchmarks/turn_length.py --images 100 1000 --seconds 10
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from process_luck import Worker

from competition.measure.stats import median_ci


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, nargs="+", default=[100, 500, 1000], help="multiples of 100")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of turns per length")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.seconds:g} s of alternating turns per length")
    twins = Worker("off"), Worker("off")
    rng = np.random.default_rng()
    times: dict[int, list[tuple[float, float]]] = {n: [] for n in args.images}
    spent = dict.fromkeys(args.images, 0.0)
    try:
        while min(spent.values()) < args.seconds:
            for n in rng.permutation(args.images):
                start = time.perf_counter()
                while time.perf_counter() - start < 1.0:
                    order = rng.permutation(2)
                    seconds = {int(k): twins[k].time_pass(int(n)) for k in order}
                    times[int(n)].append((seconds[0], seconds[1]))
                spent[int(n)] += time.perf_counter() - start
    finally:
        for twin in twins:
            twin.close()
    print(f"{'images':>7} {'pairs':>6} {'sd log-ratio':>12} {'correlation':>11} {'A/A median':>10} {'95 % CI':>17} "
          f"{'half-width':>10}")
    for n, pairs in times.items():
        a, b = np.asarray(pairs).T
        median, lo, hi = median_ci(a / b)
        print(f"{n:>7} {len(pairs):>6} {100 * np.log(a / b).std():>11.2f}% {np.corrcoef(a, b)[0, 1]:>11.2f} "
              f"{median:>10.4f} [{lo:.4f}, {hi:.4f}] {100 * (hi - lo) / 2 / median:>9.2f}%")
    print("Shorter turns: more pairs in the same time, and twins timed closer together share the machine's jumps.")


if __name__ == "__main__":
    main()
