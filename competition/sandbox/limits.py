"""Resource limits of one worker: rlimits (set in the worker before any submission code runs) and the cgroup sizes."""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import asdict, dataclass

from competition.sandbox.libc import LIBC

PR_SET_THP_DISABLE = 41  # linux/prctl.h


@dataclass(frozen=True)
class Limits:
    """OS limits of one worker. Sizes in bytes, times in seconds.

    memory_bytes binds through the worker's cgroup (all its processes and its /tmp files) where one can be made;
    address_space_bytes (RLIMIT_AS) binds always and turns a large allocation into a MemoryError first.
    """

    address_space_bytes: int = 4 << 30
    memory_bytes: int = 4 << 30
    cpu_seconds: int = 600
    processes: int = 64
    file_size_bytes: int = 64 << 20
    tmpfs_bytes: int = 256 << 20
    open_files: int = 64
    wall_seconds: float = 900.0

    def as_record(self) -> dict[str, float]:
        """The result's sandbox.limits object."""
        return {key: float(value) for key, value in asdict(self).items()}


def rlimits(limits: Limits) -> dict[str, tuple[int, int]]:
    """resource.RLIMIT_* name -> (soft, hard). CPU: SIGXCPU at the soft limit (a clear message), SIGKILL 5 s later."""
    return {
        "RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + 5),
        "RLIMIT_AS": (limits.address_space_bytes, limits.address_space_bytes),
        "RLIMIT_NPROC": (limits.processes, limits.processes),
        "RLIMIT_FSIZE": (limits.file_size_bytes, limits.file_size_bytes),
        "RLIMIT_NOFILE": (limits.open_files, limits.open_files),
        "RLIMIT_CORE": (0, 0),
    }


def apply(limits: Limits) -> None:
    """setrlimit every limit on the calling process (call in the child, e.g. from preexec_fn)."""
    for name, pair in rlimits(limits).items():
        resource.setrlimit(getattr(resource, name), pair)


def worker_cpu() -> int:
    """The one CPU every worker of this harness runs on: the last one this process may use. Candidate, baseline and
    A/A twin then get the same core, so a submission's own threads cannot outnumber the baseline's one BLAS thread."""
    return max(os.sched_getaffinity(0))


def pin_to_worker_cpu() -> None:
    """Bind the calling process (and so everything it starts) to worker_cpu(); call in the child's preexec. Code that
    later widens its own affinity is bound by the cgroup cpuset where there is one (docs/architecture.md)."""
    if hasattr(os, "sched_setaffinity"):  # Linux; macOS has no CPU affinity to set
        os.sched_setaffinity(0, {worker_cpu()})


def place_worker() -> None:
    """The same machine for every contender; call in the child's preexec. Pins it to worker_cpu() and turns off
    transparent huge pages for it and everything it starts (kept across exec; a process cannot turn them back on
    without calling prctl itself). NumPy asks for huge pages for every array of 4 MiB or more, and whether a buffer
    got them was luck of the moment that stayed with a process for its life: two identical workers differed by
    5.8 % (sd over pairs) with them and 2.4 % without, at a cost of 20 % in absolute speed for every contender
    alike (benchmarks/process_luck.py)."""
    pin_to_worker_cpu()
    if sys.platform == "linux":
        LIBC.prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)


def huge_pages_disabled(pid: int | str = "self") -> bool | None:
    """Whether process `pid` runs with transparent huge pages off (THP_enabled: 0 in /proc), None if unknown."""
    try:
        for line in open(f"/proc/{pid}/status", encoding="ascii"):
            if line.startswith("THP_enabled:"):
                return line.split()[1] == "0"
    except OSError:
        return None
    return None
