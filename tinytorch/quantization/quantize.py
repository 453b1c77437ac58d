"""Whole-model quantization with ``torch.ao.quantization``'s entry points.

- ``quantize_dynamic(model, qconfig_spec, dtype)``: weights to INT8 / INT4 now, inputs quantized per call; or weights
  to float16 (``dtype=tt.float16``), inputs left in float32. The default ``qconfig_spec`` quantizes every
  ``nn.Linear`` (PyTorch's default); pass ``{nn.Linear, nn.Conv2d}`` for convs too.
- static: ``prepare(model)`` attaches an input observer (``MinMaxObserver``, uint8 affine) to each layer,
  ``calibrate(model, batches)`` runs data through, ``convert(model)`` swaps in ``nn.quantized.Linear / Conv2d`` with
  the calibrated input qparams.

``qconfig_spec``: a set of layer types and/or dotted module names, or a dict mapping them to a ``QConfig``
(``default_dynamic_qconfig``: per-tensor INT8, ``per_channel_dynamic_qconfig``, ``float16_dynamic_qconfig``, see
``tinytorch.quantization.qconfig``) or to a weight dtype (``tt.qint8``, ``tt.float16`` or ``"int4"``, e.g.
``{"classifier.1": "int4", nn.Conv2d: tt.qint8}``). A bare dtype means per-channel symmetric INT8 weights — unlike
PyTorch, whose ``dtype=qint8`` default is per tensor (pass ``default_dynamic_qconfig`` for that): per channel is
as small and more accurate. Naming a module that has no quantized version is an error, not a silent skip.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

import numpy as np

from ..autograd import no_grad
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.quantized import dynamic as nnqd
from ..nn.quantized import modules as nnq
from ..nn.quantized.modules import weight_bits
from ..tensor import Tensor
from ._tree import set_submodule
from .observer import MinMaxObserver
from .qconfig import weight_spec

__all__ = ["quantize_dynamic", "prepare", "calibrate", "convert"]

DYNAMIC_MAPPING: dict[type, type] = {Linear: nnqd.Linear, Conv2d: nnqd.Conv2d}
STATIC_MAPPING: dict[type, type] = {Linear: nnq.Linear, Conv2d: nnq.Conv2d}


def _targets(model: Module, qconfig_spec: Any, default_types: tuple[type, ...], dtype: Any,
             mapping: dict[type, type]) -> dict[str, Any]:
    """Dotted name -> (weight dtype, qscheme) for every module to quantize; clear errors for what cannot be."""
    spec = dict.fromkeys(default_types, dtype) if qconfig_spec is None else (
        dict(qconfig_spec) if isinstance(qconfig_spec, dict) else dict.fromkeys(qconfig_spec, dtype))
    modules = dict(model.named_modules())
    supported = ", ".join(t.__name__ for t in mapping)
    targets: dict[str, Any] = {}
    for key, key_dtype in spec.items():
        key_dtype = weight_spec(dtype if key_dtype is None else key_dtype)
        if isinstance(key, str):
            if key not in modules:
                raise ValueError(f"qconfig_spec names {key!r}, but {type(model).__name__} has no such submodule")
            if type(modules[key]) not in mapping:
                raise ValueError(f"cannot quantize {key!r}: {type(modules[key]).__name__} has no quantized version "
                                 f"(supported: {supported})")
            targets[key] = key_dtype
        elif isinstance(key, type):
            if key not in mapping:
                raise ValueError(f"cannot quantize {key.__name__} layers: no quantized version (supported: "
                                 f"{supported})")
            targets.update({name: targets.get(name, key_dtype) for name, module in modules.items()
                            if type(module) is key and name})
        else:
            raise TypeError(f"qconfig_spec entries are layer types or dotted module names, got {key!r}")
    return targets


def quantize_dynamic(model: Module, qconfig_spec: Any = None, dtype: Any = np.int8, mapping: dict | None = None,
                     inplace: bool = False) -> Module:
    """Replace Linear (and, if asked, Conv2d) layers by dynamically quantized ones; returns the model (a quantized
    copy unless ``inplace``)."""
    mapping = DYNAMIC_MAPPING if mapping is None else mapping
    targets = _targets(model, qconfig_spec, (Linear,), dtype, mapping)
    model = model if inplace else copy.deepcopy(model)
    modules = dict(model.named_modules())
    for name, (target_dtype, qscheme) in targets.items():
        set_submodule(model, name, mapping[type(modules[name])].from_float(modules[name], target_dtype,
                                                                          qscheme=qscheme))
    return model


def _observe_input(module: Module, args: tuple) -> None:
    module.input_observer(args[0])


def prepare(model: Module, qconfig_spec: Any = None, dtype: Any = np.int8, inplace: bool = False) -> Module:
    """Attach a uint8 ``MinMaxObserver`` (child ``input_observer``) to the input of every Linear and Conv2d (or
    those in ``qconfig_spec``); the chosen weight dtype is kept for ``convert``."""
    targets = _targets(model, qconfig_spec, (Linear, Conv2d), dtype, STATIC_MAPPING)
    if any(weight_bits(target_dtype) == 16 for target_dtype, _ in targets.values()):
        raise ValueError("prepare: float16 weights are a dynamic-quantization choice (quantize_dynamic with "
                         "tt.float16 or float16_dynamic_qconfig); static quantization needs tt.qint8 or 'int4'")
    model = model if inplace else copy.deepcopy(model)
    modules = dict(model.named_modules())
    for name, (target_dtype, qscheme) in targets.items():
        observer = MinMaxObserver(dtype=np.uint8)
        observer.weight_dtype, observer.weight_qscheme = target_dtype, qscheme
        modules[name].input_observer = observer
        modules[name].register_forward_pre_hook(_observe_input)
    return model


def calibrate(model: Module, batches: Iterable[Any], num_batches: int | None = None) -> Module:
    """Run ``batches`` (arrays, Tensors or (input, target) pairs, e.g. a DataLoader) through ``model`` in eval mode
    without autograd, so its observers see representative data."""
    model.eval()
    with no_grad():
        for index, batch in enumerate(batches):
            if num_batches is not None and index >= num_batches:
                break
            inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs)))
    return model


def convert(model: Module, inplace: bool = False) -> Module:
    """Replace every observed layer by its statically quantized version (``nn.quantized.Linear / Conv2d``)."""
    observed = {name: module for name, module in model.named_modules()
                if isinstance(module._modules.get("input_observer"), MinMaxObserver)}
    if not observed:
        raise ValueError("convert: no observed layers; call prepare(model), then calibrate(model, batches)")
    model = model if inplace else copy.deepcopy(model)
    modules = dict(model.named_modules())
    for name in observed:
        module = modules[name]
        observer = module.input_observer
        try:
            scale, zero_point = observer.calculate_qparams()
        except ValueError:
            raise ValueError(f"convert: {name!r} saw no data; run calibrate(model, batches) between prepare and "
                             "convert") from None
        quantized = STATIC_MAPPING[type(module)].from_float(
            module, observer.weight_dtype, input_scale=float(scale.data), input_zero_point=int(zero_point.data),
            qscheme=observer.weight_qscheme)
        set_submodule(model, name, quantized)
    return model
