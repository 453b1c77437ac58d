"""Committed reference models: ``weights/<name>.npz`` (state dict) + ``weights/<name>.json`` (model card).

The model card is written by the training script (``python -m tinytorch.train.<model>``): config, seed, data
provenance, training time, the metrics it measured on the held-out split, and the command that reproduces it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tinytorch as tt
from tinytorch import nn

from .cnn import BaselineCNN
from .gpt import GPT
from .mlp import MLP

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
PRETRAINED = ("mnist_mlp", "mnist_cnn", "shakespeare_gpt")
_MODEL_CLASSES: dict[str, type[nn.Module]] = {"MLP": MLP, "BaselineCNN": BaselineCNN, "GPT": GPT}


def model_card(name: str, weights_dir: Path = WEIGHTS_DIR) -> dict[str, Any]:
    """The JSON model card of a committed model (config, data, metrics, reproduce command)."""
    path = weights_dir / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in weights_dir.glob("*.json"))) or "none"
        raise FileNotFoundError(f"{path}: no model card for {name!r} (available: {known}); "
                                f"train it with python -m tinytorch.train.<model>")
    return json.loads(path.read_text())


def pretrained(name: str, weights_dir: Path = WEIGHTS_DIR) -> nn.Module:
    """Build ``name`` ("mnist_mlp", "mnist_cnn", "shakespeare_gpt", ...) from its card, load its weights, eval()."""
    card = model_card(name, weights_dir)
    model_class = _MODEL_CLASSES.get(card.get("model", ""))
    if model_class is None:
        raise ValueError(f"{weights_dir / (name + '.json')}: field 'model' is {card.get('model')!r}; "
                         f"expected one of {', '.join(_MODEL_CLASSES)}")
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in card["config"].items()}
    model = model_class(**config)
    model.load_state_dict(tt.load(weights_dir / f"{name}.npz"), strict=True)
    return model.eval()


def pretrained_tokenizer(name: str = "shakespeare_gpt", weights_dir: Path = WEIGHTS_DIR) -> Any:
    """The CharTokenizer a committed language model was trained with (its vocab is stored in the card)."""
    from tinytorch.data import CharTokenizer  # noqa: PLC0415

    card = model_card(name, weights_dir)
    if "tokenizer" not in card:
        raise ValueError(f"{weights_dir / (name + '.json')}: no 'tokenizer' field; {name!r} is not a language model")
    return CharTokenizer.from_dict(card["tokenizer"])
