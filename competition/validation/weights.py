"""Every .npz of a submission, in every division (subfolders too): readable without pickle, no object arrays, no
zip bomb, and no NaN or infinite weights. The safe reader itself lives in competition.conformance.npz."""

from __future__ import annotations

from pathlib import Path

from competition.conformance.npz import SAFE_FIX, WeightsError, non_finite, npz_specs, read_arrays
from competition.problems import Problem
from competition.rules import Limits

__all__ = ["WeightsError", "check", "npz_specs"]


def check(folder: Path, limits: Limits) -> list[Problem]:
    """Problems of every weights file: unsafe or unreadable archives, NaN/inf values named by key."""
    problems = []
    for path in sorted(folder.rglob("*.npz")):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > limits.file_bytes_max:
            continue  # links and oversized files are reported by the folder checks, and never read
        try:
            arrays = read_arrays(path)
        except WeightsError as exc:
            problems.append(Problem(str(path), f"cannot read the weights safely: {exc}", SAFE_FIX))
            continue
        problems += [Problem(str(path), f"{count} NaN or infinite value(s)", "retrain or re-export the weights: a "
                             "finite model has finite weights (check the learning rate and the quantization scales)",
                             field=key) for key, count in non_finite(arrays).items()]
    return problems
