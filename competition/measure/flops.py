"""FLOPs of a timed pass, counted by the parent (never by the worker): tinytorch's reference model is built from the
weights a closed-division entry ships (competition.conformance decodes them, no submission code runs) and its
forward pass on the timed inputs is costed per layer from shapes (tinytorch.profiler: 2 FLOPs per multiply-add).

So `achieved_gflops` is effective throughput: the reference model's dense FLOPs over the measured time (a faster
kernel, int8 or a sparse one, shows as more GFLOP/s). Open-division entries, training and generation events have no
count the parent can make: null.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from competition.conformance import architecture as arch
from competition.conformance.static import ClosedSpec, check_file
from competition.validation.base import BASELINE_DIR
from tinytorch.profiler import PerformanceProfiler


def pass_flops(event_id: str, kind: str, division: str, folder: Path, inputs: np.ndarray | None) -> int | None:
    """FLOPs of the reference model's forward over `inputs` with the entry's shipped weights; None if not countable."""
    stem = arch.EVENT_MODELS.get(event_id)
    if kind != "inference" or division != "closed" or stem is None or inputs is None:
        return None
    path = Path(folder) / f"{stem}.npz"
    if not path.is_file():
        return None
    state, problems = check_file(path, ClosedSpec(stem, BASELINE_DIR))
    if problems:
        return None
    flops = PerformanceProfiler.count_flops(arch.load_into(arch.build(stem), state), inputs)
    return int(flops) or None


def throughput(flops: int, seconds: float, gemm_gflops: float | None) -> dict:
    """achieved_gflops and percent_of_peak of a measurements object: `flops` done in `seconds`."""
    achieved = flops / seconds / 1e9
    return {"achieved_gflops": achieved, "percent_of_peak": 100.0 * achieved / gemm_gflops if gemm_gflops else None}
