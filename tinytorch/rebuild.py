"""Rebuild a model the optimization kit produced from its saved state_dict alone.

    model = load_model("mnist_cnn.npz")     # in a submission's load(event): any kit form of the baseline CNN

`tt.save(model.state_dict(), "mnist_cnn.npz")` (or `save_sparse`) after pruning, `prune.shrink`, `fuse_modules`,
`quantize_dynamic` (int8 or packed int4), static quantization, or distillation into a narrower student of the same
family writes keys that name the architecture: shrunk widths are the arrays' shapes, `P.0.weight` is a fused layer,
`K_scale` marks quantized codes (int8, or uint8 for packed int4), `K_orig` + `K_mask` a pruning still attached.
`rebuild_recipe` reads that structure against the reference model's card (the file name's stem names it:
`mnist_cnn`, `shakespeare_gpt`, `mnist_mlp`, ...) and `load_entry` builds the module tree and loads the weights.
Decoding settings (the sliding KV cache's `reencode_every`) are not weights: model.py passes them to `generate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from tinytorch import nn
from tinytorch.models import GPT, MLP, BaselineCNN, model_card
from tinytorch.tensor import Tensor

CLASSES = {"BaselineCNN": BaselineCNN, "GPT": GPT, "MLP": MLP}
# Keys a kit form adds that the rebuilt float model does not hold (static activation qparams: see load_model).
DROPPED_SUFFIXES = (".input_scale", ".input_zero_point")


def load_model(path: str | Path, reference: str | None = None, dequantize: bool = True) -> nn.Module:
    """The model saved at `path` (tinytorch.save or save_sparse of a kit model's state_dict), in eval mode.

    `reference` is the committed model it derives from (default: the file name's stem, e.g. "mnist_cnn").
    `dequantize=True` turns quantized layers into float layers holding exactly the values the codes stand for
    (NumPy has no integer GEMM: this runs at float speed); statically quantized activations are then computed in
    float32 too (within the closed division's tolerance of the reference).
    """
    from tinytorch.nn.utils.sparse import load_sparse

    path = Path(path)
    state = {key: value.data for key, value in load_sparse(path).items()}
    recipe, state = rebuild_recipe(state, reference or path.stem)
    return load_entry(recipe, state, dequantize)


def rebuild_recipe(state: Mapping[str, np.ndarray], reference: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(recipe for load_entry, the state with pruning masks applied) of a kit model derived from `reference`."""
    base = build(reference)
    card = model_card(reference)
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in card["config"].items()}
    state = _apply_masks(state)
    layers = [name for name, m in base.named_modules() if type(m) in (nn.Conv2d, nn.Linear)]
    fused = [group for group in fusable_pairs(base) if f"{group[0]}.0.weight" in state]
    fused_layers = {group[0] for group in fused}
    shapes, quantize, previous = {}, {}, None
    for name in layers:
        key = f"{name}.0" if name in fused_layers else name
        if f"{key}.weight" not in state:
            raise ValueError(f"{reference}: the weights have no {key}.weight (nor its kit forms); save the whole "
                             "state_dict() of a model derived from the reference")
        weight, ref_shape = state[f"{key}.weight"], dict(base.named_modules())[name].weight.shape
        if f"{key}.weight_scale" in state:
            quantize[key] = "int8" if weight.dtype == np.int8 else "int4"
        shape = _float_shape(weight, ref_shape, previous, quantize.get(key))
        shapes[key] = list(shape)
        previous = (shape[0], ref_shape[0])
    recipe = {"model": card["model"], "config": config, "fuse": fused, "shapes": shapes, "quantize": quantize,
              "techniques": [], "reencode_every": None}
    return recipe, state


def build(reference: str) -> nn.Module:
    """A freshly initialised model with the architecture of the committed model `reference` (from its card)."""
    card = model_card(reference)
    if card.get("model") not in CLASSES:
        raise ValueError(f"{reference}: model {card.get('model')!r} has no rebuild (known: {', '.join(CLASSES)})")
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in card["config"].items()}
    return CLASSES[card["model"]](**config)


def _apply_masks(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`K_orig` + `K_mask` -> `K`; `K` + `K_mask` -> `K` * mask; static activation qparams dropped."""
    out = {}
    for key, value in state.items():
        if key.endswith("_mask") or key.endswith(DROPPED_SUFFIXES):
            continue
        if key.endswith("_orig") and key[:-5] + "_mask" in state:
            out[key[:-5]] = np.asarray(value) * state[key[:-5] + "_mask"]
        elif key + "_mask" in state:
            out[key] = np.asarray(value) * state[key + "_mask"]
        else:
            out[key] = np.asarray(value)
    return out


def _float_shape(weight: np.ndarray, ref_shape: tuple[int, ...], previous: tuple[int, int] | None,
                 quantized: str | None) -> tuple[int, ...]:
    """A layer's float weight shape: the array's own, or for packed int4 (rows, ceil(R / 2)) the reference's
    kernel with the input width the previous layer's (possibly shrunk) output implies."""
    if quantized != "int4":
        return tuple(weight.shape)
    fan_in = ref_shape[1]
    if previous is not None:
        fan_in = ref_shape[1] * previous[0] // previous[1]
    shape = (int(weight.shape[0]), fan_in, *ref_shape[2:])
    if (int(np.prod(shape[1:])) + 1) // 2 != weight.shape[1]:
        raise ValueError(f"packed int4 weight of shape {tuple(weight.shape)} does not fit {shape}")
    return shape


def fusable_pairs(model: nn.Module) -> list[list[str]]:
    """[[layer, relu], ...] for every Conv2d/Linear directly followed by a ReLU in a Sequential (fusable pairs)."""
    groups = []
    for prefix, module in model.named_modules():
        if isinstance(module, nn.Sequential):
            children = list(module._modules.items())
            for (name, layer), (next_name, after) in zip(children, children[1:]):
                if type(layer) in (nn.Conv2d, nn.Linear) and isinstance(after, nn.ReLU):
                    groups.append([f"{prefix}.{name}".lstrip("."), f"{prefix}.{next_name}".lstrip(".")])
    return groups


def load_entry(recipe: Mapping[str, Any], weights: str | Path | Mapping[str, Any],
               dequantize: bool = True) -> nn.Module:
    """Rebuild a model from its recipe and weights (a tinytorch.save / save_sparse file, or a state dict), eval.

    `dequantize=True` turns quantized layers back into float layers holding exactly the values the shipped codes
    stand for (weight-only quantization): NumPy has no integer GEMM, so this runs at float speed.
    """
    from tinytorch.nn.utils.sparse import load_sparse
    from tinytorch.quantization import fuse_modules, quantize_dynamic

    model = CLASSES[recipe["model"]](**recipe["config"]).eval()
    if recipe["fuse"]:
        model = fuse_modules(model, recipe["fuse"], inplace=True)
    modules = dict(model.named_modules())
    for name, shape in recipe["shapes"].items():
        _resize(modules[name], tuple(shape))
    if recipe["quantize"]:
        spec = {name: (np.int8 if d == "int8" else "int4") for name, d in recipe["quantize"].items()}
        model = quantize_dynamic(model, spec, inplace=True)
    state = load_sparse(weights) if isinstance(weights, (str, Path)) else weights
    model.load_state_dict({k: v if isinstance(v, Tensor) else Tensor(np.asarray(v)) for k, v in state.items()},
                          strict=True)
    if dequantize and recipe["quantize"]:
        _dequantize(model, recipe["quantize"])
    return model.eval()


def _resize(layer: nn.Module, shape: tuple[int, ...]) -> None:
    """Give a float Conv2d/Linear the weight shape `shape` (a shrunk width); values come from the weights file."""
    layer.weight = nn.Parameter(np.zeros(shape, np.float32))
    if layer.bias is not None:
        layer.bias = nn.Parameter(np.zeros(shape[0], np.float32))
    if isinstance(layer, nn.Conv2d):
        layer.out_channels, layer.in_channels = shape[0], shape[1]
    else:
        layer.out_features, layer.in_features = shape[0], shape[1]


def _dequantize(model: nn.Module, names: Iterable[str]) -> None:
    modules = dict(model.named_modules())
    for name in names:
        quantized = modules[name]
        shape = quantized.weight_shape
        if len(shape) == 4:
            layer = nn.Conv2d(shape[1], shape[0], shape[2:], stride=quantized.stride, padding=quantized.padding,
                              bias=quantized.bias is not None)
        else:
            layer = nn.Linear(shape[1], shape[0], bias=quantized.bias is not None)
        layer.weight = nn.Parameter(quantized.dequantized_weight())
        if quantized.bias is not None:
            layer.bias = nn.Parameter(quantized.bias.data.astype(np.float32))
        parent, _, child = name.rpartition(".")
        _replace(modules[parent] if parent else model, child, layer.eval())


def _replace(parent: nn.Module, child: str, layer: nn.Module) -> None:
    """parent.<child> = layer, keeping the order of parent's children (a Sequential runs them in that order)."""
    order = list(parent._modules)
    setattr(parent, child, layer)
    parent._modules = {name: parent._modules[name] for name in order}


__all__ = ["build", "fusable_pairs", "load_entry", "load_model", "rebuild_recipe"]
