"""Quantized Linear / Conv2d: INT8 or packed INT4 weights with scales, or float16 weights.

State dict (what ships): ``weight`` — int8 codes in the float weight's shape, or for INT4 uint8 ``(out,
ceil(K / 2))`` with two codes per byte (``K`` = inputs per output channel; an odd ``K`` gets one zero code of
padding per row), or float16 in the float weight's shape; ``weight_scale`` — float32 ``(out,)`` per channel or ``()``
per tensor (none for float16); ``weight_zero_point`` — int64, same shape, only for an affine ``qscheme``; ``bias`` —
float32 ``(out,)`` if present. Static modules add ``input_scale`` (float32) and ``input_zero_point`` (int64), the
calibrated uint8 qparams of their input. INT8 weights may use any of the four qschemes (``per_channel_symmetric``,
the default, ``per_tensor_symmetric``, ``per_tensor_affine``, ``per_channel_affine``); INT4 is per channel symmetric.

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
_BITS = {"int8": 8, "qint8": 8, "int4": 4, "qint4": 4, "quint4x2": 4, "float16": 16}
QSCHEMES = ("per_channel_symmetric", "per_tensor_symmetric", "per_tensor_affine", "per_channel_affine")


def weight_bits(dtype: Any) -> int:
    """8 for int8 (tt.qint8 / tt.int8 / "int8"), 4 for "int4", 16 for tt.float16; anything else is refused."""
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name if _is_numpy_dtype(dtype) else repr(dtype)
    if name not in _BITS:
        raise ValueError(f"quantized weights support dtype tt.qint8 (tt.int8), tt.float16 or 'int4', got {dtype!r}")
    return _BITS[name]


def check_qscheme(bits: int, qscheme: str) -> None:
    """Refuse a weight qscheme the dtype cannot store (INT4 and float16 have one layout each)."""
    if qscheme not in QSCHEMES:
        raise ValueError(f"unknown weight qscheme {qscheme!r}; expected one of {', '.join(QSCHEMES)}")
    if bits == 4 and qscheme != "per_channel_symmetric":
        raise ValueError(f"INT4 weights are per_channel_symmetric only, got {qscheme}")


def _is_numpy_dtype(dtype: Any) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


class _QuantizedLayer(Module):
    """Weight codes + per-channel scales + float bias; subclasses define the float op and the input treatment."""

    def __init__(self, weight_shape: tuple[int, ...], bias: bool, dtype: Any,
                 qscheme: str = "per_channel_symmetric") -> None:
        super().__init__()
        self.bits = weight_bits(dtype)
        check_qscheme(self.bits, qscheme)
        self.qscheme = qscheme
        self.weight_shape = tuple(weight_shape)
        out, row = weight_shape[0], math.prod(weight_shape[1:])
        codes = {8: lambda: np.zeros(weight_shape, np.int8), 16: lambda: np.zeros(weight_shape, np.float16),
                 4: lambda: np.zeros((out, (row + 1) // 2), np.uint8)}[self.bits]()
        self.register_buffer("weight", Tensor(codes))
        if self.bits != 16:
            per_channel = (out,) if self.per_channel else ()
            self.register_buffer("weight_scale", Tensor(np.ones(per_channel, np.float32)))
            if qscheme.endswith("affine"):
                self.register_buffer("weight_zero_point", Tensor(np.zeros(per_channel, np.int64)))
        self.register_buffer("bias", Tensor(np.zeros(out, np.float32)) if bias else None)

    def adapt_to_state_dict(self, state_dict: dict, prefix: str) -> None:
        """Take the qscheme of the INT8 weights about to be loaded (as a PyTorch quantized weight carries its own):
        a ``weight_scale`` of shape () is per tensor, (rows,) per channel; a ``weight_zero_point`` makes it affine."""
        scale = state_dict.get(prefix + "weight_scale")
        if self.bits != 8 or scale is None or np.ndim(getattr(scale, "data", scale)) not in (0, 1):
            return
        affine = prefix + "weight_zero_point" in state_dict
        qscheme = ("per_channel_" if np.ndim(getattr(scale, "data", scale)) else "per_tensor_") + \
            ("affine" if affine else "symmetric")
        if qscheme == self.qscheme:
            return
        self.qscheme = qscheme
        shape = (self.weight_shape[0],) if self.per_channel else ()
        self.register_buffer("weight_scale", Tensor(np.ones(shape, np.float32)))
        self._buffers.pop("weight_zero_point", None)
        self.__dict__.pop("weight_zero_point", None)
        if affine:
            self.register_buffer("weight_zero_point", Tensor(np.zeros(shape, np.int64)))

    @property
    def per_channel(self) -> bool:
        return self.qscheme.startswith("per_channel")

    def set_weight(self, float_weight: np.ndarray) -> None:
        """Quantize a float weight (per output channel or per tensor, symmetric or affine; or round it to float16)
        into this module's buffers."""
        if float_weight.shape != self.weight_shape:
            raise ValueError(f"{type(self).__name__}: weight shape {float_weight.shape} != {self.weight_shape}")
        if self.bits == 16:
            self.weight.data = float_weight.astype(np.float16)
            return
        rows = float_weight.reshape(self.weight_shape[0], -1)
        qrange = INT8_RANGE if self.bits == 8 else INT4_RANGE
        low, high = (rows.min(axis=1), rows.max(axis=1)) if self.per_channel else (rows.min(), rows.max())
        scale, zero_point = qparams(low, high, qrange, symmetric=self.qscheme.endswith("symmetric"))
        axis = 0 if self.per_channel else None
        codes = quantize(rows, scale, zero_point, qrange, axis=axis)
        if self.bits == 4:
            codes = pack_int4(np.pad(codes, ((0, 0), (0, codes.shape[1] % 2))))
        self.weight.data = codes.reshape(self.weight.shape)
        self.weight_scale.data = scale
        if "weight_zero_point" in self._buffers:
            self.weight_zero_point.data = zero_point

    def dequantized_weight(self) -> np.ndarray:
        """The float32 weight the codes stand for, in the float layer's shape."""
        codes = self.weight.data
        if self.bits == 16:
            return codes.astype(np.float32)
        if self.bits == 4:
            codes = unpack_int4(codes)[:, :math.prod(self.weight_shape[1:])]
        zero_point = self.weight_zero_point.data if "weight_zero_point" in self._buffers else 0
        rows = dequantize(codes.reshape(self.weight_shape[0], -1), self.weight_scale.data, zero_point,
                          axis=0 if self.per_channel else None)
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
        if self.bits == 16:
            return f"weight={self.weight_shape}, dtype=float16"
        return f"weight={self.weight_shape}, dtype={'int8' if self.bits == 8 else 'int4'}, qscheme={self.qscheme}"


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
                 input_scale: float = 1.0, input_zero_point: int = 0, qscheme: str = "per_channel_symmetric") -> None:
        super().__init__((out_features, in_features), bias, dtype, qscheme)
        self.in_features, self.out_features = in_features, out_features
        self._register_input_qparams(input_scale, input_zero_point)


class Conv2d(_StaticInput, _Conv2dOp, _QuantizedLayer):
    """Statically quantized Conv2d (groups=1): calibrated uint8 input, int8/int4 per-channel weights."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
                 stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), bias: bool = True,
                 dtype: Any = np.int8, input_scale: float = 1.0, input_zero_point: int = 0,
                 qscheme: str = "per_channel_symmetric") -> None:
        kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        super().__init__((out_channels, in_channels) + kernel_size, bias, dtype, qscheme)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding
        self._register_input_qparams(input_scale, input_zero_point)
