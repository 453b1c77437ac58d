"""The reference architectures of the closed division: which model serves which event, which widths may shrink,
and the trusted tinytorch model that runs shipped weights.

Widths that may shrink (structured pruning + shrink) are the outputs of every layer of a *chain* except the last:
for the CNN and the MLP the chain is every weight-bearing layer in order (conv channels, hidden features; a
flattening layer's input follows the previous channels times the baseline's spatial factor); for the GPT it is each
block's feed-forward pair ``linear1 -> linear2``. A per-channel layer inside a chain (a batch norm) takes the width
of the layer before it. Every other shape is the baseline's. A batch norm directly after a layer of the chain may be
folded into that layer: all its keys disappear and the layer ships a bias (a new key if it had none).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.models import GPT, MLP, BaselineCNN, model_card

Spec = tuple[tuple[int, ...], np.dtype]
Issue = tuple[str, str, str]  # (key, message, fix)

CLASSES = {"MLP": MLP, "BaselineCNN": BaselineCNN, "GPT": GPT}
# Models without a committed card (no pretrained weights in the repository): their architecture only.
CARDLESS = {"cifar10_cnn": ("BaselineCNN", {"in_channels": 3, "num_classes": 10, "image_size": 32})}
# The model file (submissions/<name>/**/<stem>.npz) that serves each event; training events build it at run time.
EVENT_MODELS = {
    "cnn_marathon": "cifar10_cnn",
    "cnn_marathon_offline": "mnist_cnn",
    "memory_master": "mnist_cnn",
    "memory_master_offline": "mnist_cnn",
    "transformer_decathlon": "shakespeare_gpt",
    "mlp_sprint": "mnist_mlp",
    "mlp_sprint_offline": "mnist_mlp",
}
TRAINED_AT_RUN_TIME = ("mnist_mlp",)
SHRINK_FIX = "shrink a width only together with the layers that consume it (see docs/students.md#closed-division)"


def reference(stem: str) -> tuple[str, dict]:
    """(model class name, constructor config) of reference model `stem`."""
    if stem in CARDLESS:
        return CARDLESS[stem]
    card = model_card(stem)
    return card["model"], {k: tuple(v) if isinstance(v, list) else v for k, v in card["config"].items()}


def build(stem: str) -> nn.Module:
    """A fresh reference model `stem` (random weights) in eval mode."""
    class_name, config = reference(stem)
    return CLASSES[class_name](**config).eval()


def fresh_specs(stem: str) -> dict[str, Spec]:
    """{key: (shape, dtype)} of the reference model's state_dict (used when the baseline ships no weights for it)."""
    return {key: (tuple(value.shape), value.data.dtype) for key, value in build(stem).state_dict().items()}


def prefix_of(key: str) -> str:
    return key.rsplit(".", 1)[0] if "." in key else ""


def chains(specs: Mapping[str, Spec], class_name: str) -> list[list[str]]:
    """The layer prefixes whose widths flow into each other, in order."""
    if class_name == "GPT":
        blocks = sorted({k[: -len(".linear1.weight")] for k in specs if k.endswith(".linear1.weight")})
        return [[f"{b}.linear1", f"{b}.linear2"] for b in blocks if f"{b}.linear2.weight" in specs]
    prefixes: list[str] = []
    for key in specs:
        if key.endswith(".weight") and prefix_of(key) not in prefixes:
            prefixes.append(prefix_of(key))
    return [prefixes]


def foldable_norms(specs: Mapping[str, Spec], class_name: str) -> dict[str, str]:
    """{batch-norm prefix: prefix of the layer it may be folded into} (a norm right after a layer in a chain)."""
    folds = {}
    for chain in chains(specs, class_name):
        for before, after in zip(chain, chain[1:]):
            if f"{after}.running_mean" in specs and len(specs[f"{before}.weight"][0]) > 1:
                folds[after] = before
    return folds


def expected_shapes(specs: Mapping[str, Spec], rows: Mapping[str, int], class_name: str,
                    folded: set[str]) -> tuple[dict[str, tuple[int, ...]], list[Issue]]:
    """({key: expected shape}, width issues) given the shipped output widths `rows` (axis 0 of each weight).

    Chained layers may have fewer outputs than the baseline (never the chain's last); their consumers' inputs follow.
    Every other key keeps the baseline's shape; a bias that appeared by folding has its layer's width.
    """
    expected = {key: spec[0] for key, spec in specs.items()}
    issues: list[Issue] = []
    for chain in chains(specs, class_name):
        expected.update(_chain_shapes(specs, rows, [p for p in chain if p not in folded], issues))
    for norm, layer in foldable_norms(specs, class_name).items():
        if norm in folded:
            expected.setdefault(f"{layer}.bias", expected[f"{layer}.weight"][:1])
    return expected, issues


def _chain_shapes(specs, rows, chain: list[str], issues: list[Issue]) -> dict[str, tuple[int, ...]]:
    """Expected shapes along one chain given the shipped output widths."""
    expected: dict[str, tuple[int, ...]] = {}
    width = base_width = None
    for position, prefix in enumerate(chain):
        base = specs[f"{prefix}.weight"][0]
        if len(base) == 1:  # per-channel layer: follows the previous width
            out = width if width is not None else base[0]
            expected[f"{prefix}.weight"] = (out,)
        else:
            last = position == len(chain) - 1
            out = base[0] if last else rows.get(f"{prefix}.weight", base[0])
            if not 1 <= out <= base[0]:
                issues.append((f"{prefix}.weight", f"output width {out} is outside 1..{base[0]} (the baseline's)",
                               "a closed entry may only remove channels or neurons, never add them"))
                out = base[0]
            inputs = base[1]
            if width is not None and base_width and base[1] % base_width == 0:
                inputs = width * (base[1] // base_width)
            expected[f"{prefix}.weight"] = (out, inputs) + tuple(base[2:])
        for key, (shape, _) in specs.items():
            if prefix_of(key) == prefix and key != f"{prefix}.weight" and shape == (base[0],):
                expected[key] = (out,)
        width, base_width = out, base[0]
    return expected


def shape_fix(specs: Mapping[str, Spec], key: str, want: tuple[int, ...]) -> str:
    """How to fix a shipped shape that is not `want`."""
    base = specs[key][0] if key in specs else None
    if base is not None and want != base:
        return f"make it {want} to match the shrunk layer before it, or keep the baseline's {base}; {SHRINK_FIX}"
    return f"keep the baseline's shape {want} (only chained widths may shrink: {SHRINK_FIX})"


def load_into(model: nn.Module, state: Mapping[str, np.ndarray]) -> nn.Module:
    """Put decoded float32 weights (possibly shrunk, folded) into a fresh reference model, then eval().

    Shapes were checked statically; tensors are replaced, not copied, so shrunk widths load. A folded batch norm
    (its keys absent) becomes the identity.
    """
    modules = dict(model.named_modules())
    for key, value in state.items():
        module, name = modules[prefix_of(key)], key.rsplit(".", 1)[-1]
        if name in module._buffers:
            module.register_buffer(name, tt.Tensor(value.astype(module._buffers[name].data.dtype)))
        else:
            module.register_parameter(name, nn.Parameter(np.ascontiguousarray(value, dtype=np.float32)))
    for key in model.state_dict():
        if key not in state and key.endswith(".running_mean"):
            _identity_norm(modules[prefix_of(key)])
    return model.eval()


def _identity_norm(norm: nn.Module) -> None:
    channels = norm.running_mean.shape[0]
    norm.register_buffer("running_mean", tt.Tensor(np.zeros(channels, np.float32)))
    norm.register_buffer("running_var", tt.Tensor(np.full(channels, 1.0 - norm.eps, np.float32)))
    norm.register_parameter("weight", nn.Parameter(np.ones(channels, np.float32)))
    norm.register_parameter("bias", nn.Parameter(np.zeros(channels, np.float32)))
