"""Observers (``torch.ao.quantization.observer``): record the range of the tensors passing through and turn it into
quantization parameters with PyTorch's formulas (see ``tinytorch.nn.quantized.functional.qparams``)."""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..nn.module import Module
from ..nn.quantized.functional import qparams
from ..tensor import Tensor

per_tensor_affine = "per_tensor_affine"
per_tensor_symmetric = "per_tensor_symmetric"
per_channel_affine = "per_channel_affine"
per_channel_symmetric = "per_channel_symmetric"
_QSCHEMES = (per_tensor_affine, per_tensor_symmetric, per_channel_affine, per_channel_symmetric)

__all__ = ["MinMaxObserver", "PerChannelMinMaxObserver", "PlaceholderObserver", "per_tensor_affine",
           "per_tensor_symmetric",
           "per_channel_affine", "per_channel_symmetric"]


def quant_range(dtype: Any, reduce_range: bool, quant_min: int | None, quant_max: int | None) -> tuple[int, int]:
    """The integer range: uint8 0..255 / int8 -128..127, halved by ``reduce_range``, unless given explicitly."""
    if quant_min is not None and quant_max is not None:
        if not quant_min < quant_max:
            raise ValueError(f"quant_min={quant_min} must be smaller than quant_max={quant_max}")
        return quant_min, quant_max
    name = np.dtype(dtype).name
    if name not in ("uint8", "int8"):
        raise ValueError(f"observer dtype must be tt.uint8 or tt.int8, got {dtype!r}")
    low, high = (0, 255) if name == "uint8" else (-128, 127)
    return (low // 2, high // 2) if reduce_range else (low, high)


class _Observer(Module):
    @classmethod
    def with_args(cls, **kwargs: Any) -> Callable[[], Module]:
        """A constructor with some arguments fixed (PyTorch's ``Observer.with_args``, used in QConfigs)."""
        return functools.partial(cls, **kwargs)


class PlaceholderObserver(_Observer):
    """Observes nothing; carries the dtype (dynamic activations, float16 weights)."""

    def __init__(self, dtype: Any = np.float32, quant_min: int | None = None, quant_max: int | None = None,
                 is_dynamic: bool = False) -> None:
        super().__init__()
        self.dtype, self.quant_min, self.quant_max, self.is_dynamic = dtype, quant_min, quant_max, is_dynamic

    def forward(self, x: Any) -> Any:
        return x


class MinMaxObserver(_Observer):
    """Running min / max of everything observed (per tensor)."""

    def __init__(self, dtype: Any = np.uint8, qscheme: str = per_tensor_affine, reduce_range: bool = False,
                 quant_min: int | None = None, quant_max: int | None = None) -> None:
        super().__init__()
        if qscheme not in _QSCHEMES:
            raise ValueError(f"unknown qscheme {qscheme!r}; expected one of {', '.join(_QSCHEMES)}")
        self.dtype, self.qscheme = dtype, qscheme
        self.quant_min, self.quant_max = quant_range(dtype, reduce_range, quant_min, quant_max)
        self.register_buffer("min_val", Tensor(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", Tensor(np.array(-np.inf, np.float32)))

    def reduce(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x.min(), x.max()

    def forward(self, x: Tensor) -> Tensor:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.size:
            low, high = self.reduce(data.astype(np.float32, copy=False))
            self.min_val.data = np.minimum(self.min_val.data, low) if self.min_val.data.size else low
            self.max_val.data = np.maximum(self.max_val.data, high) if self.max_val.data.size else high
        return x

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scale float32, zero_point int64); refuses if nothing finite was observed."""
        if not self.min_val.data.size or not np.all(np.isfinite(self.min_val.data)):
            raise ValueError(f"{type(self).__name__}: no data observed yet; run calibration batches through the "
                             "model before computing quantization parameters")
        symmetric = self.qscheme.endswith("symmetric")
        scale, zero_point = qparams(self.min_val.data, self.max_val.data, (self.quant_min, self.quant_max),
                                    symmetric)
        return Tensor(scale), Tensor(zero_point)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val.data}, max_val={self.max_val.data}"


class PerChannelMinMaxObserver(MinMaxObserver):
    """Running min / max per slice along ``ch_axis`` (e.g. per output channel of a weight)."""

    def __init__(self, ch_axis: int = 0, dtype: Any = np.uint8, qscheme: str = per_channel_affine,
                 reduce_range: bool = False, quant_min: int | None = None, quant_max: int | None = None) -> None:
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max)
        self.ch_axis = ch_axis
        self.min_val.data = np.zeros(0, np.float32)
        self.max_val.data = np.zeros(0, np.float32)

    def reduce(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.moveaxis(x, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        return rows.min(axis=1), rows.max(axis=1)
