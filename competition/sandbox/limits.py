"""Resource limits for a worker process (applied with setrlimit in the child before it runs any Python)."""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """OS limits of one worker. Sizes in bytes, times in seconds."""

    address_space_bytes: int = 4 << 30
    cpu_seconds: int = 600
    processes: int = 64
    file_size_bytes: int = 64 << 20
    open_files: int = 64
    wall_seconds: float = 900.0

    def as_record(self) -> dict[str, float]:
        """The result's sandbox.limits object."""
        return {key: float(value) for key, value in asdict(self).items()}


def apply(limits: Limits) -> None:
    """setrlimit every limit on the calling process (call in the child, e.g. from preexec_fn)."""
    # CPU: SIGXCPU at the soft limit (a clear message), SIGKILL 5 s later at the hard limit.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    for which, value in (
        (resource.RLIMIT_AS, limits.address_space_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))
