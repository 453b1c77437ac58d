"""Interleaved timing shared by the side-by-side benchmark scripts: every round runs every timer, rotating the order,
so slow drifts of a shared machine hit each timer equally."""

from __future__ import annotations

import time
from typing import Callable

Timer = Callable[[], object]


def interleaved(timers: dict[str, Timer], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds of each timer over ``repeats`` rounds, after ``warmup`` untimed rounds."""
    names = list(timers)
    for _ in range(warmup):
        for name in names:
            timers[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            timers[name]()
            samples[name].append(time.perf_counter() - started)
    return samples
