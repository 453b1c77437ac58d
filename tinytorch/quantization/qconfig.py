"""QConfigs (``torch.ao.quantization.qconfig``): which observer makes a layer's activation and weight qparams.

``quantize_dynamic`` reads the weight observer of a QConfig: its dtype (``tt.qint8`` or ``tt.float16``) and qscheme
decide how the weight is stored.

- ``default_dynamic_qconfig``: INT8 weights, one symmetric scale per tensor (PyTorch's default for ``dtype=qint8``).
- ``per_channel_dynamic_qconfig``: INT8 weights, one symmetric scale per output channel (more accurate for the same
  bytes plus one float per channel; tinytorch's default when only a dtype is given).
- ``float16_dynamic_qconfig``: float16 weights (half the bytes, ~3 significant digits), float32 activations.

Any ``QConfig(activation=..., weight=MinMaxObserver.with_args(dtype=tt.qint8, qscheme=per_tensor_affine))`` works
the same way (per-tensor or per-channel, symmetric or affine).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from ..nn.module import Module
from ..nn.quantized.modules import QSCHEMES, check_qscheme, weight_bits
from .observer import (MinMaxObserver, PerChannelMinMaxObserver, PlaceholderObserver, per_channel_symmetric,
                       per_tensor_symmetric)

__all__ = ["QConfig", "default_dynamic_quant_observer", "default_weight_observer",
           "default_per_channel_weight_observer", "default_dynamic_qconfig", "per_channel_dynamic_qconfig",
           "float16_dynamic_qconfig", "weight_spec"]


class QConfig(NamedTuple):
    """Observer constructors (classes or ``Observer.with_args(...)``) for a layer's input and its weight."""

    activation: Callable[[], Module]
    weight: Callable[[], Module]


default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=np.uint8, quant_min=0, quant_max=255,
                                                               is_dynamic=True)
default_weight_observer = MinMaxObserver.with_args(dtype=np.int8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=np.int8, qscheme=per_channel_symmetric)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float16_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=np.float16, is_dynamic=True),
                                  weight=PlaceholderObserver.with_args(dtype=np.float16))


def weight_spec(value: Any) -> tuple[Any, str]:
    """(weight dtype, qscheme) of a qconfig_spec value: a QConfig, or a bare dtype (per-channel symmetric)."""
    if isinstance(value, QConfig):
        observer = value.weight()
        qscheme = getattr(observer, "qscheme", per_channel_symmetric)
        dtype = observer.dtype
    else:
        dtype, qscheme = value, per_channel_symmetric
    bits = weight_bits(dtype)
    if bits != 16:
        check_qscheme(bits, qscheme)
    return dtype, qscheme if bits != 16 else QSCHEMES[0]
