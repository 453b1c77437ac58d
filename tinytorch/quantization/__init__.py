"""``tinytorch.quantization``: PyTorch's ``torch.ao.quantization`` workflow on NumPy.

    qmodel = quantize_dynamic(model, {nn.Linear, nn.Conv2d}, dtype=tt.qint8)     # or "int4", tt.float16
    qmodel = quantize_dynamic(model, {nn.Linear: default_dynamic_qconfig})      # per-tensor INT8 (PyTorch's default)
    tt.save(qmodel.state_dict(), "int8.npz")                                   # int8 codes + float32 scales
    fused = fuse_modules(model.eval(), [["features.0", "features.1"]])         # Conv2d+ReLU -> ConvReLU2d
    observed = prepare(model); calibrate(observed, batches); static = convert(observed)

INT8 here buys bytes (weights ~25 % of float32), not speed: NumPy has no integer GEMM, so quantized layers dequantize
their weights and run the float kernels. See ``tinytorch.nn.quantized`` for the state-dict layout.
"""
import numpy as np

from ..nn.quantized.functional import dequantize, pack_int4, qparams, quantize, unpack_int4
from ..nn.quantized.modules import INT4
from .fuse import fuse_conv_bn_eval, fuse_linear_bn_eval, fuse_modules
from .observer import (MinMaxObserver, PerChannelMinMaxObserver, PlaceholderObserver, per_channel_affine,
                       per_channel_symmetric, per_tensor_affine, per_tensor_symmetric)
from .qconfig import (QConfig, default_dynamic_qconfig, default_dynamic_quant_observer,
                      default_per_channel_weight_observer, default_weight_observer, float16_dynamic_qconfig,
                      per_channel_dynamic_qconfig)
from .quantize import calibrate, convert, prepare, quantize_dynamic

int8 = qint8 = np.int8
quint8 = np.uint8
float16 = np.float16
int4 = qint4 = INT4

__all__ = ["quantize_dynamic", "prepare", "calibrate", "convert", "fuse_modules", "fuse_conv_bn_eval",
           "fuse_linear_bn_eval", "MinMaxObserver", "PerChannelMinMaxObserver", "per_tensor_affine",
           "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric", "qparams", "quantize",
           "dequantize", "pack_int4", "unpack_int4", "int8", "qint8", "quint8", "float16", "int4", "qint4",
           "PlaceholderObserver", "QConfig", "default_dynamic_qconfig", "per_channel_dynamic_qconfig",
           "float16_dynamic_qconfig", "default_dynamic_quant_observer", "default_weight_observer",
           "default_per_channel_weight_observer"]
