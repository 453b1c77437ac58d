"""Peak memory, read by the parent from outside the worker through the Worker's meter (competition.sandbox.process).

external_bytes: the worker's resident high-water mark over the measured phase (reset after load, read after the
last measured request; training: the whole training rounds), including the weights it keeps resident — so a model
that upcasts its int8 weights to float32 at load shows it here.
rss_delta_bytes: external_bytes minus the high-water mark of an import-only worker started the same way (the
interpreter, NumPy and tinytorch).
meter: how it was read (`Worker.memory_meter`: cgroup memory peak or /proc VmHWM); where there is no meter both
numbers are null. Nothing is read from inside the worker.
"""

from __future__ import annotations

from typing import Protocol


class Metered(Protocol):
    memory_meter: str

    def reset_peak_memory(self) -> None: ...

    def peak_memory_bytes(self) -> int: ...


def peak_bytes(worker: Metered) -> int | None:
    """The worker's resident peak since start or the last reset; None where this machine has no meter."""
    if worker.memory_meter in ("none", "", None):
        return None
    return int(worker.peak_memory_bytes())


def peak_record(peak: int | None, floor: int | None, meter: str) -> dict:
    """The result's peak_memory object (tracemalloc_bytes stays null: nothing is measured inside the worker)."""
    delta = peak - floor if peak is not None and floor is not None else None
    return {"tracemalloc_bytes": None, "external_bytes": peak, "rss_delta_bytes": delta,
            "meter": meter if peak is not None else "none"}
