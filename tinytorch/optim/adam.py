"""Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), PyTorch's update rules."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False, maximize: bool = False) -> None:
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"invalid beta parameters: {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        grad = -grad if group["maximize"] else grad
        if decay and self.decoupled_weight_decay:
            param.data *= np.asarray(1 - lr * decay, dtype=param.data.dtype)
        elif decay:
            grad = grad + decay * param.data
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param.data), exp_avg_sq=np.zeros_like(param.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        dtype = param.data.dtype
        # one temporary, reused for the second moment and the step
        scratch = np.multiply(grad, np.asarray(1 - beta1, dtype=dtype))
        exp_avg *= beta1
        exp_avg += scratch
        np.multiply(grad, grad, out=scratch)
        scratch *= np.asarray(1 - beta2, dtype=dtype)
        exp_avg_sq *= beta2
        exp_avg_sq += scratch
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1 ** state["step"]
        root_correction2 = math.sqrt(1 - beta2 ** state["step"])
        # lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), as (lr sqrt(bc2) / bc1) * m / (sqrt(v) + eps sqrt(bc2)): the
        # same value, one pass and one temporary fewer
        step = np.sqrt(exp_avg_sq, out=scratch)
        step += np.asarray(group["eps"] * root_correction2, dtype=dtype)
        np.divide(exp_avg, step, out=step)
        step *= np.asarray(lr * root_correction2 / bias_correction1, dtype=dtype)
        param.data -= step


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p * (1 - lr * weight_decay) before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
