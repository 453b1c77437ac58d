"""One contender of a run (candidate, baseline, A/A twin, import-only reference): its worker, driven and timed
from the parent. The worker only computes; every second and byte here is read by the parent.

Between its requests a contender's worker is frozen (Worker.pause: its freezer cgroup, else SIGSTOP of every task in
its jail, checked task by task), outside the clock: a submission's background thread or child cannot burn the cores
while another contender is timed (which slowed the baseline's rounds and inflated the speedup), nor compute between
the store of its inputs and "go". CPU its tasks use while frozen disqualifies. CPU around a request (while being
thawed and frozen) beyond what an idle worker uses there (OFF_TURN_ALLOWANCE_S: a thread that keeps running after
the reply) is added to the request's seconds, and disqualifies once it exceeds OFF_TURN_LIMIT_S and OFF_TURN_SHARE
of its time awake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from competition.measure import memory
from competition.measure.energy import Rapl
from competition.measure.timing import clocked
from competition.measure.verify import Disqualified
from competition.sandbox.limits import Limits
from competition.sandbox.process import OffTurnError, Turn, Worker, WorkerError

REQUEST_TIMEOUT_S = 120.0  # any single request; training steps set their own
# CPU an idle worker's tasks use while being thawed and frozen around one request (leaving and re-entering the
# freezer or the stop; 40 us median, 130 us at most over 50 turns on the loaded 2-core VM), not charged. A thread that
# keeps running after the reply uses the whole time until the freeze reaches it: milliseconds on a loaded machine.
OFF_TURN_ALLOWANCE_S = 250e-6
# CPU beyond that allowance a contender may use outside its turns in all, and as a share of its seconds awake.
OFF_TURN_LIMIT_S = 0.05
OFF_TURN_SHARE = 0.02


class Contender:
    """A labelled worker plus the energy its timed requests used (when RAPL is readable)."""

    def __init__(self, label: str, folder: Path | None, limits: Limits, blas_threads: int,
                 rapl: Rapl | None = None) -> None:
        self.label = label
        self.folder = folder
        self.limits, self.blas_threads = limits, blas_threads
        self.worker = Worker(folder, limits=limits, blas_threads=blas_threads, label=label)
        self.rapl = rapl
        self.entry_points: list[str] = []
        self.joules = 0.0
        self.energy_units = 0
        self.off_turn_s = 0.0  # CPU its tasks used outside its turns beyond the allowance (charged to its requests)
        self.awake_s = 0.0

    def start(self, event_id: str | None, load: bool) -> "Contender":
        """Start the worker; import model.py (unless import-only) and call load(event) if `load`."""
        self.worker.start()
        self.worker.pause()
        if event_id is not None:
            self.entry_points = self.request("import")[0]["entry_points"]
            if load:
                self.request("load", event=event_id, timeout=300)
        return self

    def restart(self, event_id: str | None, load: bool) -> "Contender":
        """A fresh worker process (nothing survives from the previous one; its off-turn CPU stays counted)."""
        self.close()
        self.worker = Worker(self.folder, limits=self.limits, blas_threads=self.blas_threads, label=self.label)
        return self.start(event_id, load)

    def store(self, **arrays: np.ndarray) -> None:
        """Send named arrays; later requests refer to them by name."""
        self.request("store", list(arrays.values()), names=list(arrays))

    def request(self, op: str, arrays: list[np.ndarray] | tuple = (), timeout: float | None = None,
                **params: object) -> tuple[dict, list[np.ndarray]]:
        """One worker request; a submission that hangs is killed after `timeout` (default REQUEST_TIMEOUT_S)."""
        with self.awake():
            return self._send(op, arrays, timeout, **params)

    @contextmanager
    def awake(self) -> Iterator[Turn]:
        """The worker runs only inside this block (thawed before, frozen after: neither is on a clock). Disqualified
        when its tasks used CPU while frozen, or too much around its requests (OFF_TURN_LIMIT_S, OFF_TURN_SHARE)."""
        try:
            with self.worker.turn() as turn:
                yield turn
        except OffTurnError as err:
            raise Disqualified(str(err)) from None
        self.off_turn_s += charge(turn)
        self.awake_s += turn.seconds
        if self.off_turn_s > max(OFF_TURN_LIMIT_S, OFF_TURN_SHARE * self.awake_s):
            raise Disqualified(f"{self.label}: its tasks used {self.off_turn_s * 1e3:.0f} ms of CPU outside its "
                               f"turns ({self.off_turn_s / max(self.awake_s, 1e-9):.1%} of its {self.awake_s:.2f} s "
                               "awake), between its replies and being frozen: a thread or process that keeps running "
                               "after a request is over is not allowed")

    def _send(self, op: str, arrays: list[np.ndarray] | tuple = (), timeout: float | None = None,
              **params: object) -> tuple[dict, list[np.ndarray]]:
        return self.worker.request(op, arrays, timeout=timeout or REQUEST_TIMEOUT_S, **params)

    def clocked_request(self, op: str, arrays: list[np.ndarray] | tuple = (), timeout: float | None = None,
                        **params: object) -> tuple[float, tuple[dict, list[np.ndarray]]]:
        """(seconds on the parent's clock plus the CPU its tasks used around the request while being thawed and
        frozen beyond an idle worker's (`charge`), reply) of one request; thawing and freezing are not timed."""
        with self.awake() as turn:
            seconds, reply = clocked(self._send, op, arrays, timeout, **params)
        return seconds + charge(turn), reply

    def timed(self, op: str, arrays: list[np.ndarray] | tuple = (), units: int = 0, timeout: float | None = None,
              **params: object) -> tuple[float, list[np.ndarray]]:
        """(seconds on the parent's clock, output arrays) of one request; its energy is added when it does `units`
        of the measured work (images or generated tokens; 0 for anything else, e.g. perplexity windows)."""
        before = self.rapl.read() if self.rapl and units else None
        seconds, (_, out) = self.clocked_request(op, arrays, timeout, **params)
        if self.rapl and before is not None:
            self.joules += self.rapl.joules(before, self.rapl.read())
            self.energy_units += units
        return seconds, out

    def call(self, fn: str, batches: list[np.ndarray], units: int = 0, **kwargs: object) -> tuple[float, list]:
        """Timed fn(model, batch, **kwargs) over `batches` (the inputs travel with the request)."""
        seconds, out = self.timed("call", batches, units=units, fn=fn, kwargs=kwargs)
        if len(out) != len(batches):
            raise WorkerError(f"{self.label}: {len(out)} outputs for {len(batches)} inputs")
        return seconds, out

    def place(self, batches: list[np.ndarray]) -> tuple[float, list[str]]:
        """Store a round's inputs before its clock starts: (seconds of the store request, names to `take`)."""
        names = [f"round_input_{i}" for i in range(len(batches))]
        return self.clocked_request("store", batches, names=names)[0], names

    def go(self, fn: str, names: list[str], units: int = 0, **kwargs: object) -> tuple[float, list]:
        """Timed fn(model, x, **kwargs) over placed inputs (the worker forgets them after this call)."""
        seconds, out = self.timed("call", units=units, fn=fn, kwargs=kwargs, take=names)
        if len(out) != len(names):
            raise WorkerError(f"{self.label}: {len(out)} outputs for {len(names)} inputs")
        return seconds, out

    def reset_peak_memory(self) -> None:
        self.worker.reset_peak_memory()

    def peak_memory(self) -> int | None:
        return memory.peak_bytes(self.worker)

    def close(self) -> None:
        self.worker.close()


def charge(turn: Turn) -> float:
    """Seconds of CPU the worker's tasks used outside `turn`'s request beyond an idle worker's allowance."""
    return max(0.0, turn.off_turn_s - OFF_TURN_ALLOWANCE_S)


def start_all(contenders: list[Contender], event_id: str | None, load: bool, progress) -> None:
    """Start every contender in turn (sequentially: they must not compete for the cores)."""
    for contender in contenders:
        progress(f"starting {contender.label} worker")
        contender.start(event_id, load)
