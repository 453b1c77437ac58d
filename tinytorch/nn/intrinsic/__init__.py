"""``tinytorch.nn.intrinsic``: fused inference modules (``torch.ao.nn.intrinsic`` names and state-dict layout: a
Sequential of the original layers, so keys stay ``<name>.0.weight`` / ``<name>.0.bias``).

The fusion is in ``forward``: without autograd the ReLU is applied while the output is still in cache (the conv runs
``spatial._conv_forward``, the same chunked patches x weights GEMM as ``conv2d``, rectifying each chunk right after its
GEMM; the linear rectifies its GEMM output in place), saving the allocation and the extra memory pass of a separate
activation. With autograd on, with hooks on the inner layer, or once the inner
layer is quantized, it runs the two ops.
Built by ``tinytorch.quantization.fuse_modules``.
"""
from __future__ import annotations

import numpy as np

from ...autograd import is_grad_enabled, no_grad
from ...tensor import Tensor, rectified
from .. import functional as F
from ..activation import ReLU
from ..container import Sequential
from ..conv import Conv2d
from ..linear import Linear
from ..spatial import _conv_forward

__all__ = ["ConvReLU2d", "LinearReLU"]


class _FusedReLU(Sequential):
    layer_type: type = type(None)

    def __init__(self, layer: Conv2d | Linear, relu: ReLU) -> None:
        if type(layer) is not self.layer_type or not isinstance(relu, ReLU):
            raise TypeError(f"{type(self).__name__} fuses {self.layer_type.__name__} + ReLU, got "
                            f"{type(layer).__name__} + {type(relu).__name__}")
        super().__init__(layer, relu)

    def fused_forward(self, layer: Conv2d | Linear, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        layer = self._modules["0"]
        needs_graph = is_grad_enabled() and (input.requires_grad or any(p.requires_grad for p in layer.parameters()))
        if needs_graph or type(layer) is not self.layer_type or layer._forward_pre_hooks or layer._forward_hooks:
            return layer(input).relu()  # autograd, a quantized layer, or hooks (observers, profilers) to honour
        return Tensor(self.fused_forward(layer, input.data))


class ConvReLU2d(_FusedReLU):
    """Conv2d followed by ReLU as one module (inference: conv2d's own forward, rectifying each chunk in cache)."""

    layer_type = Conv2d

    def fused_forward(self, layer: Conv2d, x: np.ndarray) -> np.ndarray:
        bias = None if layer.bias is None else layer.bias.data
        return _conv_forward(x, layer.weight.data, bias, layer.stride, layer.padding, relu=True)[0]


class LinearReLU(_FusedReLU):
    """Linear followed by ReLU as one module (inference: the ReLU runs in place on the GEMM output)."""

    layer_type = Linear

    def fused_forward(self, layer: Linear, x: np.ndarray) -> np.ndarray:
        with no_grad():
            out = F.linear(Tensor(x), layer.weight, layer.bias).data
        return rectified(out, out=out)
