"""Timing protocol: warm-up runs discarded, loop counts calibrated so one timed value lasts >= 100 ms,
and interleaved rounds so candidate, baseline and the A/A twin see the same machine state.

`warm_up`, `calibrate`, `timed_values` and `single_call_times` run inside the worker (perf_counter);
`interleaved_rounds` runs in the parent and only orders the requests.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping

MIN_TIMED_SECONDS = 0.1
WARMUP_CALLS = 1


def warm_up(fn: Callable[[], object], calls: int = WARMUP_CALLS) -> None:
    """Run `fn` a few times and discard the results (caches, lazy allocations, BLAS start-up)."""
    for _ in range(calls):
        fn()


def calibrate(fn: Callable[[], object], min_seconds: float = MIN_TIMED_SECONDS,
              max_loops: int = 1_000_000) -> tuple[int, float]:
    """(loops, seconds): the smallest loop count (doubling from a first estimate) whose back-to-back calls last at
    least `min_seconds`, and how long those calls took."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    if once >= min_seconds:
        return 1, once
    loops = min(max_loops, max(1, math.ceil(min_seconds / once)))
    while (seconds := _run(fn, loops)) < min_seconds and loops < max_loops:
        loops = min(max_loops, loops * 2)
    return loops, seconds


def timed_values(fn: Callable[[], object], loops: int, repeats: int = 1) -> list[float]:
    """`repeats` timed values, each the mean seconds per call over `loops` back-to-back calls."""
    return [_run(fn, loops) / loops for _ in range(repeats)]


def single_call_times(fns: list[Callable[[], object]]) -> list[float]:
    """Seconds of each call timed on its own (single-sample latency)."""
    out = []
    for fn in fns:
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _run(fn: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - start


def interleaved_rounds(measure: Mapping[str, Callable[[], float]], rounds: int,
                       seed: int = 0) -> dict[str, list[float]]:
    """Call each `measure[label]()` once per round, in a seeded shuffled order per round; per-label value lists.

    Interleaving puts every contender in every machine state (thermal, other load) equally often, so per-round
    ratios cancel slow drifts.
    """
    rng = random.Random(seed)
    labels = list(measure)
    values: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(rounds):
        rng.shuffle(labels)
        for label in labels:
            values[label].append(measure[label]())
    return values
