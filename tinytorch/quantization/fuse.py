"""Module fusion (``torch.ao.quantization.fuse_modules``) and BatchNorm folding (``torch.nn.utils.fuse_conv_bn_eval``).

Patterns (eval mode for anything with BatchNorm): Conv2d+BatchNorm2d -> Conv2d with the BN folded into its weight and
bias; Conv2d+BatchNorm2d+ReLU and Conv2d+ReLU -> ``nn.intrinsic.ConvReLU2d``; Linear+BatchNorm1d -> Linear;
Linear+ReLU -> ``nn.intrinsic.LinearReLU``. The first named module becomes the fused one, the others ``nn.Identity``.
"""
from __future__ import annotations

import copy

import numpy as np

from ..nn.activation import ReLU
from ..nn.conv import Conv2d
from ..nn.intrinsic import ConvReLU2d, LinearReLU
from ..nn.linear import Identity, Linear
from ..nn.module import Module, Parameter
from ..nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ._tree import get_submodule, set_submodule

__all__ = ["fuse_modules", "fuse_conv_bn_eval", "fuse_linear_bn_eval"]


def _folded(layer: Conv2d | Linear, norm: _BatchNorm) -> Conv2d | Linear:
    """A copy of ``layer`` computing ``norm(layer(x))`` with BatchNorm's running statistics folded in."""
    if layer.training or norm.training:
        raise ValueError("BatchNorm folding needs eval mode: call model.eval() before fuse_modules (folding uses "
                         "the running statistics; quantization-aware training fusion is not supported)")
    if norm.running_mean is None:
        raise ValueError("BatchNorm folding needs running statistics (track_running_stats=True)")
    if norm.num_features != layer.weight.shape[0]:
        raise ValueError(f"cannot fold BatchNorm({norm.num_features}) into a layer with {layer.weight.shape[0]} "
                         "outputs")
    fused = copy.deepcopy(layer)
    dtype = layer.weight.dtype
    gamma = norm.weight.data if norm.weight is not None else np.ones(norm.num_features, dtype)
    beta = norm.bias.data if norm.bias is not None else np.zeros(norm.num_features, dtype)
    scale = gamma / np.sqrt(norm.running_var.data + norm.eps)
    bias = layer.bias.data if layer.bias is not None else np.zeros(norm.num_features, dtype)
    fused.weight.data = (layer.weight.data * scale.reshape((-1,) + (1,) * (layer.weight.ndim - 1))).astype(dtype)
    new_bias = ((bias - norm.running_mean.data) * scale + beta).astype(dtype)
    if fused.bias is None:
        fused.register_parameter("bias", Parameter(new_bias))
    else:
        fused.bias.data = new_bias
    return fused


def fuse_conv_bn_eval(conv: Conv2d, bn: BatchNorm2d) -> Conv2d:
    """A new Conv2d equal to ``bn(conv(x))`` in eval mode."""
    return _folded(conv, bn)


def fuse_linear_bn_eval(linear: Linear, bn: BatchNorm1d) -> Linear:
    """A new Linear equal to ``bn(linear(x))`` in eval mode."""
    return _folded(linear, bn)


def _fuse(modules: list[Module]) -> Module:
    """The fused replacement for a known pattern of modules."""
    kinds = tuple(type(m) for m in modules)
    if kinds == (Conv2d, BatchNorm2d):
        return fuse_conv_bn_eval(*modules)
    if kinds == (Conv2d, BatchNorm2d, ReLU):
        return ConvReLU2d(fuse_conv_bn_eval(modules[0], modules[1]), modules[2])
    if kinds == (Conv2d, ReLU):
        return ConvReLU2d(*modules)
    if kinds == (Linear, BatchNorm1d):
        return fuse_linear_bn_eval(*modules)
    if kinds == (Linear, ReLU):
        return LinearReLU(*modules)
    raise ValueError(f"fuse_modules: cannot fuse {' + '.join(k.__name__ for k in kinds)}; supported: "
                     "Conv2d+BatchNorm2d(+ReLU), Conv2d+ReLU, Linear+BatchNorm1d, Linear+ReLU")


def fuse_modules(model: Module, modules_to_fuse: list[str] | list[list[str]], inplace: bool = False) -> Module:
    """Fuse each list of dotted module names in ``modules_to_fuse`` (one list, or a list of lists), e.g.
    ``fuse_modules(cnn, [["features.0", "features.1"], ["classifier.1", "classifier.2"]])``; returns the model
    (a fused copy unless ``inplace``)."""
    model = model if inplace else copy.deepcopy(model)
    groups = [modules_to_fuse] if modules_to_fuse and isinstance(modules_to_fuse[0], str) else modules_to_fuse
    for names in groups:
        fused = _fuse([get_submodule(model, name) for name in names])
        set_submodule(model, names[0], fused)
        for name in names[1:]:
            set_submodule(model, name, Identity())
    return model
