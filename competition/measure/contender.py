"""One contender of a run (candidate, baseline, A/A twin, import-only reference) driving its sandboxed worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from competition.measure.energy import Rapl
from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError


REQUEST_TIMEOUT_S = 120.0  # any single request (a timed value, an accuracy pass, ...); training epochs set their own


class Contender:
    """A labelled worker plus the energy it used in timed requests (when RAPL is readable)."""

    def __init__(self, label: str, folder: Path | None, limits: Limits, blas_threads: int,
                 rapl: Rapl | None = None) -> None:
        self.label = label
        self.worker = Worker(folder, limits=limits, blas_threads=blas_threads, label=label)
        self.rapl = rapl
        self.info: dict = {}
        self.joules = 0.0
        self.energy_units = 0

    def start(self, event_id: str | None, load: bool) -> "Contender":
        """Start the worker; import model.py (unless import-only) and call load(event) if `load`."""
        self.worker.start()
        if event_id is not None:
            header, _ = self.worker.request("import", timeout=120)
            self.info["entry_points"] = header["entry_points"]
            if load:
                self.info.update(self.worker.request("load", event=event_id, timeout=300)[0])
        return self

    def store(self, **arrays: np.ndarray) -> None:
        """Send named arrays once; later requests refer to them by name."""
        self.worker.request("store", list(arrays.values()), names=list(arrays))

    def request(self, op: str, timeout: float | None = None, **params: object) -> tuple[dict, list[np.ndarray]]:
        """One worker request; a submission that hangs is killed after `timeout` (default REQUEST_TIMEOUT_S)."""
        return self.worker.request(op, timeout=timeout or REQUEST_TIMEOUT_S, **params)

    def time_once(self, call: dict, loops: int, units_per_call: int, repeats: int = 1) -> float:
        """One timed value of `call` (fn, args, kwargs[, batch_size]): the fastest of `repeats` back-to-back
        measurements of seconds per call over `loops` calls (preemption only ever adds time). Energy is accumulated
        per unit of work (`units_per_call`: images or tokens) over all of them."""
        before = self.rapl.read() if self.rapl else None
        start = time.perf_counter()
        header, _ = self.request("time", loops=loops, repeats=repeats, **call)
        wall = time.perf_counter() - start
        if self.rapl and before is not None:
            self.joules += self.rapl.joules(before, self.rapl.read())
            self.energy_units += loops * repeats * units_per_call
        values = [float(v) for v in header["values"]]
        if len(values) != repeats:
            raise WorkerError(f"{self.label}: the worker returned {len(values)} timed values, expected {repeats}")
        check_reported_time(self.label, sum(values) * loops, wall)
        return min(values)

    def close(self) -> None:
        self.worker.close()


def check_reported_time(label: str, reported: float, wall: float) -> None:
    """The worker's perf_counter total must fit inside the parent's wall time of the same request, and fill most of
    it: a worker that misreports its own timing (a tampered timer) is caught here."""
    if not np.isfinite(reported) or reported <= 0:
        raise WorkerError(f"{label}: the worker reported an invalid time {reported!r}")
    if reported > wall * 1.001 + 1e-4 or reported < 0.5 * wall - 0.05:
        raise WorkerError(f"{label}: the worker reported {reported:.4f} s for a request that took {wall:.4f} s "
                          "(timings inconsistent; result discarded)")


def start_all(contenders: list[Contender], event_id: str | None, load: bool,
              progress: Callable[[str], None]) -> None:
    """Start every contender in turn (sequentially: they must not compete for the cores)."""
    for contender in contenders:
        progress(f"starting {contender.label} worker")
        contender.start(event_id, load)
