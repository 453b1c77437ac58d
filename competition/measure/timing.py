"""The parent's clock. Every time in a result is perf_counter in the parent around requests: from sending "go" to
receiving the reply that carries the outputs. The worker times nothing. The clock's own cost is measured the same way
on an empty call of the same shape (protocols.clock_overhead) and reported.

Inputs placed before the clock: a round's inputs are stored in the worker by a separate request right before "go".
No submission code should run in it; if a submission's code hijacks it (to compute while its inputs arrive), the
store takes longer than the baseline's store of the same bytes in the same round, and `charged` adds every
second beyond that to the round's time. A thread that starts work when the inputs arrive gains only the gap between
the store's reply and "go" (a few microseconds: the parent sends "go" at once).

Slot order: a round is one or more sweeps; in each sweep the contenders run one after another in an order drawn from
the run's secret generator, balanced so that no contender is more often first (or right after another) than the
others. A sweep runs one request of each: an inference pass is cut into several requests, and a training round's
requests (import, store, train, each epoch, each evaluation) take turns with the other contenders' (`lockstep`), so
the contenders alternate every fraction of a second and a burst of the machine's own noise hits them alike.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def clocked(request: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, reply) of one request, on the parent's perf_counter."""
    start = time.perf_counter()
    reply = request(*args, **kwargs)
    return time.perf_counter() - start, reply


def charged(call_s: float, placed_s: float, honest_placed_s: float) -> float:
    """A timed call's seconds plus the seconds by which placing its inputs took longer than the quickest placement
    of the same inputs by a harness-owned (baseline) worker."""
    return call_s + max(0.0, placed_s - honest_placed_s)


def slot_orders(labels: list[str], rounds: int, rng: np.random.Generator) -> list[list[str]]:
    """The order of `labels` in each round: every permutation once per cycle, the cycles shuffled by `rng`. So each
    label holds each slot (first, second, right after a given other label...) equally often over every full cycle,
    and a position effect (a warm cache after a twin ran the same code) cancels instead of biasing a ratio."""
    perms = list(itertools.permutations(labels))
    orders: list[list[str]] = []
    while len(orders) < rounds:
        orders.extend(list(perms[i]) for i in rng.permutation(len(perms)))
    return orders[:rounds]


def interleaved_rounds(measure: Mapping[str, Callable[[int], float]], rounds: int, rng: np.random.Generator,
                       progress: Callable[[str], None] | None = None,
                       before_round: Callable[[int], None] | None = None, passes: int = 1,
                       until: Callable[[int, Mapping[str, list[float]]], bool] | None = None
                       ) -> dict[str, list[float]]:
    """Per-label values of at most `rounds` rounds. A round is `passes` sweeps; each sweep calls every
    `measure[label](round)` once, in its own slot order, so a contender's passes are spread over the round between
    the others' instead of run back to back (a burst of the machine's other load then hits every contender's passes
    alike, and each keeps an unhurt one). The round's value of a label is its fastest pass (NaN only if every pass
    is NaN). `before_round(r)` runs before each round (e.g. fresh workers); `progress` hears "round r/N" after it;
    `until(rounds_done, values)`, asked after each round, ends the rounds early when true (protocols.Sampler)."""
    values: dict[str, list[float]] = {label: [] for label in measure}
    orders = iter(slot_orders(list(measure), rounds * passes, rng))
    for r in range(rounds):
        if before_round is not None:
            before_round(r)
        seen: dict[str, list[float]] = {label: [] for label in measure}
        for _ in range(passes):
            for label in next(orders):
                seen[label].append(measure[label](r))
        for label, times in seen.items():
            values[label].append(float(np.nanmin(times)) if not all(np.isnan(times)) else math.nan)
        if progress is not None:
            progress(f"round {r + 1}/{rounds}")
        if until is not None and until(r + 1, values):
            break
    return values


def lockstep(steps: Mapping[str, Generator[None, None, T]], rng: np.random.Generator) -> dict[str, T]:
    """Run each label's generator (one timed request per step) to its return value, taking turns: every sweep
    advances each unfinished generator by one step, in the balanced secret slot order of slot_orders. So long runs
    made of many requests (a training round) alternate request by request, and a burst of the machine's other load
    hits the contenders' requests alike instead of one contender's whole run."""
    results: dict[str, T] = {}
    labels = list(steps)
    while len(results) < len(labels):
        for order in slot_orders(labels, math.factorial(len(labels)), rng):
            for label in (label for label in order if label not in results):
                try:
                    next(steps[label])
                except StopIteration as finished:
                    results[label] = finished.value
            if len(results) == len(labels):
                break
    return results
