"""``tinytorch.nn.intrinsic``: fused inference modules (``torch.ao.nn.intrinsic`` names and state-dict layout: a
Sequential of the original layers, so keys stay ``<name>.0.weight`` / ``<name>.0.bias``).

The fusion is in ``forward``: without autograd the ReLU is applied while the output is still in cache (the conv runs a
chunked im2col + GEMM + bias + ReLU kernel; the linear rectifies its GEMM output in place), saving the allocation and
the extra memory pass of a separate activation. With autograd on, with hooks on the inner layer, or once the inner
layer is quantized, it runs the two ops.
Built by ``tinytorch.quantization.fuse_modules``.
"""
from __future__ import annotations

import numpy as np

from ...autograd import is_grad_enabled, no_grad
from ...tensor import Tensor
from .. import functional as F
from ..activation import ReLU
from ..container import Sequential
from ..conv import Conv2d
from ..linear import Linear
from ..spatial import windows

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


# Elements of patch matrix + output per chunk: 2 MB of float32 stays in L2; best of 2^17..2^20 measured on the 2-core
# box (the unfused conv uses 32 MB chunks: its activation is a separate pass anyway).
_CHUNK_ELEMENTS = 1 << 19


def conv2d_relu(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: tuple[int, int],
                padding: tuple[int, int]) -> np.ndarray:
    """relu(conv2d(x)) for inference, a few images at a time: pad, im2col, GEMM, bias and ReLU all run on a
    cache-sized chunk before the next one is touched."""
    n, c, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    (ph, pw), (sh, sw) = padding, stride
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    w2 = weight.reshape(out_channels, -1)
    out = np.empty((n, out_channels, oh, ow), dtype=np.result_type(x, weight))
    step = max(1, _CHUNK_ELEMENTS // ((out_channels + w2.shape[1]) * oh * ow))
    padded = np.zeros((min(step, n), c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    for start in range(0, n, step):
        count = min(step, n - start)
        chunk = padded[:count]
        chunk[:, :, ph:ph + h, pw:pw + w] = x[start:start + count]
        cols = windows(chunk, (kh, kw), stride).transpose(1, 4, 5, 0, 2, 3).reshape(w2.shape[1], -1)
        product = (w2 @ cols).reshape(out_channels, count, oh * ow).transpose(1, 0, 2)
        target = out[start:start + count].reshape(count, out_channels, -1)
        if bias is None:
            target[...] = product
        else:
            np.add(product, bias[:, None], out=target)
        np.maximum(target, 0, out=target)
    return out


class ConvReLU2d(_FusedReLU):
    """Conv2d followed by ReLU as one module (inference: one chunked kernel, ``conv2d_relu``)."""

    layer_type = Conv2d

    def fused_forward(self, layer: Conv2d, x: np.ndarray) -> np.ndarray:
        return conv2d_relu(x, layer.weight.data, None if layer.bias is None else layer.bias.data, layer.stride,
                           layer.padding)


class LinearReLU(_FusedReLU):
    """Linear followed by ReLU as one module (inference: the ReLU runs in place on the GEMM output)."""

    layer_type = Linear

    def fused_forward(self, layer: Linear, x: np.ndarray) -> np.ndarray:
        with no_grad():
            out = F.linear(Tensor(x), layer.weight, layer.bias).data
        return np.maximum(out, 0, out=out)
