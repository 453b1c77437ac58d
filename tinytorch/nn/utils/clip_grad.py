"""Gradient utilities."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ...tensor import Tensor


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients in place so their joint ``norm_type`` norm is at most ``max_norm``; return the norm
    before clipping (as a 0-d Tensor, like PyTorch)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad.data for p in params if p.grad is not None]
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    elif norm_type == 2.0:
        total = sum(float(np.vdot(g, g)) for g in grads) ** 0.5
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1 / norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is non-finite: {total}")
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g *= np.asarray(clip_coef, dtype=g.dtype)
    return Tensor(np.array(total, dtype=grads[0].dtype))
