"""Hardware fingerprint of this runner (the result's runner.hardware object)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform.processor(), else 'unknown'."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()[:200]
    except OSError:
        pass
    return (platform.processor() or "unknown")[:200]


def ram_bytes() -> int | None:
    """Physical memory in bytes, or None where sysconf does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def blas_name() -> str:
    """BLAS library name and version from numpy.show_config(mode='dicts')."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()[:200]
    except (KeyError, TypeError):
        return "unknown"


def fingerprint(blas_threads: int | None) -> dict:
    """CPU model, machine, cores, RAM, OS, Python, NumPy, BLAS and the BLAS threads the workers use."""
    return {
        "cpu_model": cpu_model(),
        "machine": platform.machine()[:32],
        "cores": os.cpu_count() or 1,
        "ram_bytes": ram_bytes(),
        "os": platform.platform()[:200],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_name(),
        "blas_threads": blas_threads,
    }
