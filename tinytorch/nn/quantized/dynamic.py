"""Dynamically quantized Linear / Conv2d (``torch.ao.nn.quantized.dynamic``): weights stored as INT8 / INT4, the input
quantized on the fly per call to uint8 with the range of that batch, like PyTorch's fbgemm kernels
(``reduce_range=True``: codes 0..127); or weights stored as float16 with the input left in float32 (PyTorch's
``float16_dynamic_qconfig``). Same state dict as the static modules minus the input qparams.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .functional import dequantize, qparams, quantize
from .modules import _Conv2dOp, _LinearOp, _QuantizedLayer

__all__ = ["Linear", "Conv2d"]

DYNAMIC_INPUT_RANGE = (0, 127)  # uint8 with reduce_range, PyTorch's default for x86 (fbgemm)


class _DynamicInput:
    bits: int

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        if self.bits == 16:
            return x
        scale, zero_point = qparams(x.min(), x.max(), DYNAMIC_INPUT_RANGE, symmetric=False)
        return dequantize(quantize(x, scale, zero_point, DYNAMIC_INPUT_RANGE), scale, zero_point)


class Linear(_DynamicInput, _LinearOp, _QuantizedLayer):
    """Dynamically quantized Linear: int8/int4 per-channel weights, float32 bias, float in/out."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.int8,
                 qscheme: str = "per_channel_symmetric") -> None:
        super().__init__((out_features, in_features), bias, dtype, qscheme)
        self.in_features, self.out_features = in_features, out_features


class Conv2d(_DynamicInput, _Conv2dOp, _QuantizedLayer):
    """Dynamically quantized Conv2d (groups=1): int8/int4 per-channel weights, float32 bias, float in/out."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
                 stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), bias: bool = True,
                 dtype: Any = np.int8, qscheme: str = "per_channel_symmetric") -> None:
        kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        super().__init__((out_channels, in_channels) + kernel_size, bias, dtype, qscheme)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding
