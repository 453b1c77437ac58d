"""This runner's float32 GEMM throughput (GFLOP/s): the machine peak each result's achieved GFLOP/s is compared to.

Measured in a fresh import-only worker (same BLAS thread setting as the submissions), so it reflects exactly the
NumPy/BLAS configuration the models run on. One GEMM of n x n by n x n costs 2 n^3 FLOPs.
"""

from __future__ import annotations

import numpy as np

from competition.measure.timing import calibrate, timed_values, warm_up


def gemm_gflops(n: int = 512, repeats: int = 5, seed: int = 0) -> float:
    """Median GFLOP/s of float32 `a @ b` (n x n), each timed value lasting >= 100 ms."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)

    def fn() -> None:
        np.matmul(a, b, out=out)

    warm_up(fn)
    loops, _ = calibrate(fn)
    seconds = float(np.median(timed_values(fn, loops, repeats)))
    return 2.0 * n**3 / seconds / 1e9
