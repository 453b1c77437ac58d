"""This machine's measured float32 GEMM rate and memory bandwidth: the two roofs of the roofline model."""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class MachineRates:
    """Peak rates a layer is compared with; ``balance`` is the FLOP/byte at which the two roofs meet."""

    gemm_flops_per_s: float
    bandwidth_bytes_per_s: float

    @property
    def balance(self) -> float:
        return self.gemm_flops_per_s / self.bandwidth_bytes_per_s


def _best_seconds(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def probe_machine(gemm_size: int = 512, copy_megabytes: int = 32) -> MachineRates:
    """One short measurement of both roofs (one GEMM, one copy; ~15 ms), to interleave with the passes it is
    compared with, so load that slows one slows the other."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((gemm_size, gemm_size), dtype=np.float32) for _ in range(2))
    product = np.empty_like(a)
    gemm = 2 * gemm_size ** 3 / _best_seconds(lambda: np.matmul(a, b, out=product), 1)
    source = np.ones(copy_megabytes * 250_000, dtype=np.float32)
    target = np.empty_like(source)
    return MachineRates(gemm, 2 * source.nbytes / _best_seconds(lambda: np.copyto(target, source), 1))


@lru_cache(maxsize=4)
def measure_machine(gemm_size: int = 512, copy_megabytes: int = 64, repeats: int = 5,
                    threads: int | None = None) -> MachineRates:
    """Best of ``repeats``: a ``gemm_size``^3 float32 matmul and a copy of ``copy_megabytes`` (read + write).

    About 0.2 s; cached for the process. ``threads`` limits NumPy's BLAS for the measurement (threadpoolctl);
    None uses the current setting.
    """
    if threads is not None:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415  (only when asked)

        with threadpool_limits(threads):
            return measure_machine(gemm_size, copy_megabytes, repeats)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((gemm_size, gemm_size), dtype=np.float32) for _ in range(2))
    product = np.empty_like(a)
    gemm = 2 * gemm_size ** 3 / _best_seconds(lambda: np.matmul(a, b, out=product), repeats)
    source = np.ones(copy_megabytes * 250_000, dtype=np.float32)
    target = np.empty_like(source)
    bandwidth = 2 * source.nbytes / _best_seconds(lambda: np.copyto(target, source), repeats)
    return MachineRates(gemm, bandwidth)
