"""What one forward call of a layer costs in arithmetic and traffic, from its type and the shapes it saw.

FLOPs count 2 per multiply-add for GEMM-like layers (anything with ``in_features`` like Linear, or ``in_channels``
and ``kernel_size`` like Conv2d, quantized variants included, and the attention core), one per output element for
elementwise layers, five per element for normalizations and one per window element for pools; Embedding and Flatten
do no arithmetic. Bytes moved are the least traffic the call needs: its inputs and outputs once each, plus its own
parameters. The attention core counts the in-projection, scores and weighted sum, not ``out_proj`` (a child layer).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Module

_ELEMENTWISE = {"ReLU", "GELU", "Sigmoid", "Tanh", "LeakyReLU", "SiLU", "Softmax", "LogSoftmax", "Dropout"}
_NORMALIZATION = {"LayerNorm", "BatchNorm1d", "BatchNorm2d"}
_POOLS = {"MaxPool2d", "AvgPool2d"}
_NO_ARITHMETIC = {"Embedding", "Flatten", "Identity"}


def arrays(value: Any) -> list[np.ndarray]:
    """The arrays inside a call's inputs or output (tensors, arrays, nested tuples/lists)."""
    if isinstance(value, np.ndarray):
        return [value]
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):
        return [data]
    if isinstance(value, (tuple, list)):
        return [array for item in value for array in arrays(item)]
    return []


def own_parameter_bytes(module: Module) -> int:
    return int(sum(p.data.nbytes for p in module.parameters(recurse=False)))


def layer_flops(module: Module, inputs: tuple, output: Any) -> int | None:
    """FLOPs of one call, or None for a layer type this model does not know."""
    kind = type(module).__name__
    out = arrays(output)
    out_numel = int(out[0].size) if out else 0
    if hasattr(module, "in_features"):  # Linear and its quantized / fused variants
        return 2 * out_numel * int(module.in_features)
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size"):  # Conv2d and variants
        return 2 * out_numel * int(module.in_channels) // int(getattr(module, "groups", 1)) * _window(module)
    if kind == "MultiheadAttention":
        return _attention_flops(module, inputs)
    if kind in _ELEMENTWISE:
        return out_numel
    if kind in _NORMALIZATION:
        return 5 * out_numel
    if kind in _POOLS:
        return out_numel * _window(module)
    if kind in _NO_ARITHMETIC:
        return 0
    return None


def _window(module: Module) -> int:
    """Elements under one kernel window (``kernel_size`` an int or a pair)."""
    kernel = module.kernel_size
    return kernel * kernel if isinstance(kernel, int) else int(np.prod(kernel))


def _attention_flops(module: Module, inputs: tuple) -> int:
    query, key = (arrays(x)[0] for x in inputs[:2])
    embed = module.embed_dim
    if query.ndim == 2:  # unbatched (L, E)
        batch, queries, keys = 1, query.shape[0], key.shape[0]
    elif module.batch_first:
        batch, queries, keys = query.shape[0], query.shape[1], key.shape[1]
    else:
        batch, queries, keys = query.shape[1], query.shape[0], key.shape[0]
    projections = 2 * batch * (queries + 2 * keys) * embed * embed
    return projections + 2 * (2 * batch * queries * keys * embed)


def bytes_moved(module: Module, inputs: tuple, output: Any) -> int:
    """Inputs + outputs + own parameters, each read or written once."""
    traffic = sum(a.nbytes for a in arrays(inputs)) + sum(a.nbytes for a in arrays(output))
    return int(traffic + own_parameter_bytes(module))
