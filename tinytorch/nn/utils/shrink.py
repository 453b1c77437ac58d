"""``shrink``: physically remove the output channels / neurons that structured pruning zeroed, so pruning buys speed.

A channel of a Conv2d (or a neuron of a Linear) is dead when its weight row and its bias are all zero: it outputs 0
everywhere. ``shrink`` deletes it and the matching input slice of the layer that consumes it (the next Conv2d's
in-channels, or the Linear after a Flatten: ``H*W`` features per channel), slicing any BatchNorm in between. The
outputs stay equal to the pruned model's (up to float rounding).

To kill a channel, prune its bias with the weight: ``prune.channels(conv, 0.5)`` (``ln_structured`` on dim 0 plus the
same mask on the bias).

The data flow is traced with one forward pass on ``example_input``; it must be a chain (each layer consumes the
previous layer's output, as in ``nn.Sequential`` and the baseline CNN/MLP). Build optimizers after shrinking.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor
from ..activation import GELU, ReLU, Tanh
from ..conv import Conv2d
from ..dropout import Dropout
from ..linear import Flatten, Identity, Linear
from ..module import Module
from ..normalization import _BatchNorm
from ..pooling import AvgPool2d, MaxPool2d

# Layers that map an all-zero channel to an all-zero channel and act on each channel separately.
_ZERO_PRESERVING = (ReLU, GELU, Tanh, MaxPool2d, AvgPool2d, Dropout, Identity)


def shrink(model: Module, example_input: Tensor | np.ndarray) -> Module:
    """Remove dead output channels / neurons of every Conv2d and Linear in ``model`` (in place); return ``model``.
    Pruning reparametrizations are made permanent first (``prune.remove``)."""
    from .prune import BasePruningMethod, remove  # noqa: PLC0415  (prune re-exports shrink)

    for module in model.modules():
        for hook in [h for h in module._forward_pre_hooks.values() if isinstance(h, BasePruningMethod)]:
            remove(module, hook._tensor_name)
    chain = _trace(model, example_input if isinstance(example_input, Tensor) else Tensor(example_input))
    for position, (producer, _) in enumerate(chain):
        if isinstance(producer, (Conv2d, Linear)):
            keep = _live_units(producer)
            if not keep.all():
                _shrink_from(chain, position, keep)
    return model


def _trace(model: Module, example_input: Tensor) -> list[tuple[Module, tuple[int, ...]]]:
    """The leaf modules in call order with their input shapes, checked to form one chain."""
    calls: list[tuple[Module, Tensor, Tensor]] = []
    leaves = [m for m in model.modules() if not m._modules]
    handles = [m.register_forward_hook(lambda m, args, out: calls.append((m, args[0], out))) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with no_grad():
            model(example_input)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    for (previous, _, output), (module, given, _) in zip(calls, calls[1:]):
        if given is not output:
            raise ValueError(f"shrink: {type(module).__name__} does not consume the output of "
                             f"{type(previous).__name__}; shrink supports chains of layers (like nn.Sequential)")
    if len({id(m) for m, _, _ in calls}) != len(calls):
        raise ValueError("shrink: a module is called more than once per forward; shrink supports plain chains")
    return [(module, given.shape) for module, given, _ in calls]


def _live_units(layer: Conv2d | Linear) -> np.ndarray:
    """Per output unit: does any weight or the bias differ from zero?"""
    live = layer.weight.data.reshape(layer.weight.shape[0], -1).any(axis=1)
    return live | (layer.bias.data != 0) if layer.bias is not None else live


def _shrink_from(chain: list[tuple[Module, tuple[int, ...]]], position: int, keep: np.ndarray) -> None:
    """Cut the dead units of ``chain[position]`` and the inputs that read them; leave all as is if no consumer."""
    features = keep
    edits = []
    for module, input_shape in chain[position + 1:]:
        if isinstance(module, _ZERO_PRESERVING):
            continue
        if isinstance(module, _BatchNorm):
            _check_zero_preserving(module, ~keep)
            edits.append(lambda m=module: _slice_batch_norm(m, keep))
        elif isinstance(module, Flatten):
            if (module.start_dim, module.end_dim) != (1, -1):
                raise ValueError("shrink: only Flatten(1, -1) between a conv and a linear layer is supported")
            features = np.repeat(keep, math.prod(input_shape[2:]))
        elif isinstance(module, Conv2d):
            edits.append(lambda m=module: _set(m, "weight", m.weight.data[:, keep]))
            edits.append(lambda m=module: setattr(m, "in_channels", int(keep.sum())))
            break
        elif isinstance(module, Linear):
            edits.append(lambda m=module, f=features: _set(m, "weight", m.weight.data[:, f]))
            edits.append(lambda m=module, f=features: setattr(m, "in_features", int(f.sum())))
            break
        else:
            raise ValueError(f"shrink: cannot see through {type(module).__name__} after a pruned layer; "
                             "supported in between: activations with f(0)=0, pooling, dropout, BatchNorm, Flatten")
    else:
        return  # the last layer: its outputs are the model's outputs
    producer = chain[position][0]
    _set(producer, "weight", producer.weight.data[keep])
    if producer.bias is not None:
        _set(producer, "bias", producer.bias.data[keep])
    attribute = "out_channels" if isinstance(producer, Conv2d) else "out_features"
    setattr(producer, attribute, int(keep.sum()))
    for edit in edits:
        edit()


def _check_zero_preserving(norm: _BatchNorm, dead: np.ndarray) -> None:
    if norm.running_mean is None:
        raise ValueError("shrink: BatchNorm without running statistics after a pruned layer is not supported")
    shift = -norm.running_mean.data / np.sqrt(norm.running_var.data + norm.eps)
    if norm.weight is not None:
        shift = shift * norm.weight.data + norm.bias.data
    if np.any(shift[dead] != 0):
        raise ValueError("shrink: the BatchNorm after a pruned layer maps its dead channels to nonzero constants; "
                         "fold it into the conv first (tinytorch.quantization.fuse_modules) and prune after")


def _slice_batch_norm(norm: _BatchNorm, keep: np.ndarray) -> None:
    for name in ("weight", "bias"):
        if getattr(norm, name) is not None:
            _set(norm, name, getattr(norm, name).data[keep])
    for name in ("running_mean", "running_var"):
        _set(norm, name, getattr(norm, name).data[keep])
    norm.num_features = int(keep.sum())


def _set(module: Module, name: str, data: np.ndarray) -> None:
    """Replace a parameter's / buffer's array (same object, so state_dict order and names stay)."""
    getattr(module, name).data = np.ascontiguousarray(data)
