"""This runner's float32 GEMM throughput (GFLOP/s), timed by the parent on the import-only worker.

The worker runs `loops` products of n x n by n x n float32 matrices on request (same BLAS thread setting as the
submissions); the parent's clock around the request gives the time. One product costs 2 n^3 FLOPs. The loop count is
doubled until one request lasts >= MIN_SECONDS, so the request's own overhead is negligible.
"""

from __future__ import annotations

import numpy as np


MIN_SECONDS = 0.2


def gemm_gflops(contender, n: int = 512, repeats: int = 3) -> float:
    """Median GFLOP/s of `repeats` parent-timed requests of float32 `a @ b` (n x n) in `contender`'s worker."""
    def run(loops: int) -> float:
        return contender.clocked_request("matmul", n=n, loops=loops)[0]

    loops = 1
    run(loops)  # warm-up: BLAS start-up, page faults
    while (seconds := run(loops)) < MIN_SECONDS and loops < 1 << 16:
        loops *= 2
    seconds = float(np.median([seconds] + [run(loops) for _ in range(repeats - 1)]))
    return 2.0 * n**3 * loops / seconds / 1e9
