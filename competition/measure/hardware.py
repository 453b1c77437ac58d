"""Hardware fingerprint of this runner (the result's runner.hardware object)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


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


BLAS_PROBE = """
import json, numpy, threadpoolctl
info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
print(json.dumps(info[0] if info else {}))
"""


def blas_info(blas_threads: int) -> dict:
    """The BLAS that the workers run, as threadpoolctl sees it in a trusted child process started with the workers'
    environment (BLAS thread variables only: an OPENBLAS_CORETYPE of the harness is not passed on, so the
    kernel is the one OpenBLAS detects):
    library, version, kernel architecture, threads, and OPENBLAS_CORETYPE if set."""
    env = {"PATH": "/usr/bin:/bin", **{v: str(blas_threads) for v in BLAS_THREAD_VARIABLES}}
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    try:
        out = subprocess.run([sys.executable, "-I", "-c", BLAS_PROBE], env=env, capture_output=True, text=True,
                             timeout=60, check=True).stdout
        info = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        info = {}
    return {"library": _short(info.get("internal_api")), "version": _short(info.get("version")),
            "architecture": _short(info.get("architecture")), "threads": info.get("num_threads"),
            "library_file": _short(os.path.basename(info.get("filepath") or "")) or None,
            "openblas_coretype": coretype}


def _short(value: object) -> str | None:
    return str(value)[:200] if value is not None else None


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
        "blas_info": blas_info(blas_threads or 1),
    }
