"""Quantized Linear / Conv2d: INT8 or packed INT4 weights with per-output-channel symmetric scales.

State dict (what ships): ``weight`` — int8 codes in the float weight's shape, or for INT4 uint8 ``(out,
ceil(K / 2))`` with two codes per byte (``K`` = inputs per output channel; an odd ``K`` gets one zero code of
padding per row); ``weight_scale`` — float32 ``(out,)``; ``bias`` — float32 ``(out,)`` if present. Symmetric, so no
weight zero point. Static modules add ``input_scale`` (float32) and ``input_zero_point`` (int64), the calibrated
uint8 qparams of their input.

NumPy has no fast integer GEMM, so a forward dequantizes the weight (one pass over ``out * K`` bytes) and runs the
float kernel on the dequantized input: the numerics of quantized inference, at float speed. INT8 buys bytes, not
speed, here.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor
from .. import functional as F
from ..conv import Conv2d as FloatConv2d
from ..linear import Linear as FloatLinear
from ..module import Module
from .functional import INT4_RANGE, INT8_RANGE, UINT8_RANGE, dequantize, pack_int4, qparams, quantize, unpack_int4

INT4 = "int4"
_BITS = {"int8": 8, "qint8": 8, "int4": 4, "qint4": 4, "quint4x2": 4}


def weight_bits(dtype: Any) -> int:
    """8 for int8 (np.int8 / tt.int8 / "int8"), 4 for "int4"; anything else is refused."""
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name if _is_numpy_dtype(dtype) else repr(dtype)
    if name not in _BITS:
        raise ValueError(f"quantized weights support dtype tt.int8 or 'int4', got {dtype!r}")
    return _BITS[name]


def _is_numpy_dtype(dtype: Any) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


class _QuantizedLayer(Module):
    """Weight codes + per-channel scales + float bias; subclasses define the float op and the input treatment."""

    def __init__(self, weight_shape: tuple[int, ...], bias: bool, dtype: Any) -> None:
        super().__init__()
        self.bits = weight_bits(dtype)
        self.weight_shape = tuple(weight_shape)
        out, row = weight_shape[0], math.prod(weight_shape[1:])
        codes = np.zeros(weight_shape, np.int8) if self.bits == 8 else np.zeros((out, (row + 1) // 2), np.uint8)
        self.register_buffer("weight", Tensor(codes))
        self.register_buffer("weight_scale", Tensor(np.ones(out, np.float32)))
        self.register_buffer("bias", Tensor(np.zeros(out, np.float32)) if bias else None)

    def set_weight(self, float_weight: np.ndarray) -> None:
        """Quantize a float weight (per output channel, symmetric) into this module's buffers."""
        if float_weight.shape != self.weight_shape:
            raise ValueError(f"{type(self).__name__}: weight shape {float_weight.shape} != {self.weight_shape}")
        rows = float_weight.reshape(self.weight_shape[0], -1)
        qrange = INT8_RANGE if self.bits == 8 else INT4_RANGE
        scale, _ = qparams(rows.min(axis=1), rows.max(axis=1), qrange, symmetric=True)
        codes = quantize(rows, scale, 0, qrange, axis=0)
        if self.bits == 4:
            codes = pack_int4(np.pad(codes, ((0, 0), (0, codes.shape[1] % 2))))
        self.weight.data = codes.reshape(self.weight.shape)
        self.weight_scale.data = scale

    def dequantized_weight(self) -> np.ndarray:
        """The float32 weight the codes stand for, in the float layer's shape."""
        codes = self.weight.data
        if self.bits == 4:
            codes = unpack_int4(codes)[:, :math.prod(self.weight_shape[1:])]
        rows = dequantize(codes.reshape(self.weight_shape[0], -1), self.weight_scale.data, axis=0)
        return rows.reshape(self.weight_shape)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """The input as the integer kernel would see it (dequantized back to float32)."""
        return x

    def float_op(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        with no_grad():
            return self.float_op(Tensor(self.quantize_input(input.data)), Tensor(self.dequantized_weight()), self.bias)

    @classmethod
    def from_float(cls, module: Module, dtype: Any = np.int8, **kwargs: Any) -> _QuantizedLayer:
        raise NotImplementedError

    def _copy_float(self, module: Module) -> _QuantizedLayer:
        self.set_weight(module.weight.data)
        if module.bias is not None:
            self.bias.data = module.bias.data.astype(np.float32).copy()
        return self

    def extra_repr(self) -> str:
        return f"weight={self.weight_shape}, dtype={'int8' if self.bits == 8 else 'int4'}, per-channel symmetric"


class _LinearOp:
    weight_shape: tuple[int, ...]

    def float_op(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.linear(x, weight, bias)

    @classmethod
    def from_float(cls, module: Module, dtype: Any = np.int8, **kwargs: Any) -> _QuantizedLayer:
        if not isinstance(module, FloatLinear):
            raise TypeError(f"{cls.__module__}.{cls.__name__}.from_float expects nn.Linear, got "
                            f"{type(module).__name__}")
        layer = cls(module.in_features, module.out_features, module.bias is not None, dtype, **kwargs)
        return layer._copy_float(module)


class _Conv2dOp:
    def float_op(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.conv2d(x, weight, bias, self.stride, self.padding)

    @classmethod
    def from_float(cls, module: Module, dtype: Any = np.int8, **kwargs: Any) -> _QuantizedLayer:
        if not isinstance(module, FloatConv2d):
            raise TypeError(f"{cls.__module__}.{cls.__name__}.from_float expects nn.Conv2d, got "
                            f"{type(module).__name__}")
        layer = cls(module.in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                    module.bias is not None, dtype, **kwargs)
        return layer._copy_float(module)


class _StaticInput:
    """Calibrated input qparams (uint8, affine): ``input_scale``, ``input_zero_point`` buffers."""

    def _register_input_qparams(self, scale: float, zero_point: int) -> None:
        self.register_buffer("input_scale", Tensor(np.array(scale, np.float32)))
        self.register_buffer("input_zero_point", Tensor(np.array(zero_point, np.int64)))

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        scale, zero_point = self.input_scale.data, self.input_zero_point.data
        return dequantize(quantize(x, scale, zero_point, UINT8_RANGE), scale, zero_point)


class Linear(_StaticInput, _LinearOp, _QuantizedLayer):
    """Statically quantized Linear: calibrated uint8 input, int8/int4 per-channel weights, float32 bias."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.int8,
                 input_scale: float = 1.0, input_zero_point: int = 0) -> None:
        super().__init__((out_features, in_features), bias, dtype)
        self.in_features, self.out_features = in_features, out_features
        self._register_input_qparams(input_scale, input_zero_point)


class Conv2d(_StaticInput, _Conv2dOp, _QuantizedLayer):
    """Statically quantized Conv2d (groups=1): calibrated uint8 input, int8/int4 per-channel weights."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
                 stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), bias: bool = True,
                 dtype: Any = np.int8, input_scale: float = 1.0, input_zero_point: int = 0) -> None:
        kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        super().__init__((out_channels, in_channels) + kernel_size, bias, dtype)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding
        self._register_input_qparams(input_scale, input_zero_point)
