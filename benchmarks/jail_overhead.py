"""Start-up overhead of the OS jail per worker, measured side by side with the plain process worker in one run.

Each round starts (until `ready`: interpreter, numpy and tinytorch imported, guard armed) and closes one jailed and
one process-sandbox worker, in random order, and records both wall times. Prints the medians, the per-worker
overhead of the jail (median of the paired differences, with a bootstrap 95 % CI) and the target (<= 150 ms).

    python benchmarks/jail_overhead.py              # 20 rounds
    python benchmarks/jail_overhead.py --rounds 40
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

from competition.sandbox import jail
from competition.sandbox.process import Worker

TARGET_S = 0.150


def start_and_close(isolation: str) -> tuple[float, float]:
    """(seconds from start() to ready, seconds of close()) of one empty worker."""
    worker = Worker(None, label=f"bench-{isolation}", isolation=isolation)
    start = time.perf_counter()
    worker.start()
    started = time.perf_counter()
    worker.close()
    return started - start, time.perf_counter() - started


def bootstrap_ci(values: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the median of `values`."""
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(values, size=(reps, len(values))), axis=1)
    return float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    state = jail.status()
    if not state.available:
        print(f"the jail cannot run here: {state.reason}")
        return 1
    start_and_close("jail"), start_and_close("process")  # warm the page cache for both
    times: dict[str, list[tuple[float, float]]] = {"jail": [], "process": []}
    order = ["jail", "process"]
    for _ in range(args.rounds):
        random.shuffle(order)
        for isolation in order:
            times[isolation].append(start_and_close(isolation))
    start = {k: np.array([t[0] for t in v]) for k, v in times.items()}
    close = {k: np.array([t[1] for t in v]) for k, v in times.items()}
    diff = start["jail"] - start["process"]
    low, high = bootstrap_ci(diff)
    print(f"rounds: {args.rounds} (paired, random order); cgroup: {state.cgroup}")
    print(f"{'':<10}{'start (median)':>16}{'close (median)':>16}")
    for name in ("process", "jail"):
        print(f"{name:<10}{np.median(start[name]) * 1e3:>13.1f} ms{np.median(close[name]) * 1e3:>13.1f} ms")
    overhead = float(np.median(diff))
    verdict = "meets" if high <= TARGET_S else ("misses" if low > TARGET_S else "is within noise of")
    print(f"jail start-up overhead per worker: {overhead * 1e3:.1f} ms (95 % CI {low * 1e3:.1f} .. {high * 1e3:.1f}) "
          f"— {verdict} the target of {TARGET_S * 1e3:.0f} ms; ratio jail/process start "
          f"{np.median(start['jail']) / np.median(start['process']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
