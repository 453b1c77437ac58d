"""Train the MNIST MLP: ``python -m tinytorch.train.mlp [--dataset bundled|mnist] [--epochs N] [--seed S]``.

Writes ``tinytorch/models/weights/mnist_mlp.{npz,json}`` (weights + model card with the held-out accuracy measured
at the end) unless ``--no-save``.
"""
from __future__ import annotations

from typing import Any, Sequence

from tinytorch import nn
from tinytorch.models import MLP

from .classifier import classifier_parser, train_classifier

MODULE = "tinytorch.train.mlp"


def build(image_shape: tuple[int, ...]) -> tuple[MLP, dict[str, Any]]:
    """The competition MLP for flattened images of ``image_shape``."""
    in_features = 1
    for side in image_shape:
        in_features *= side
    config = {"in_features": in_features, "hidden": [128, 64], "num_classes": 10}
    return MLP(**config), config


def run(argv: Sequence[str] | None = None) -> tuple[nn.Module, dict]:
    """Parse ``argv`` like the command line, train, return (model, model card)."""
    parser = classifier_parser(__doc__.splitlines()[0], ("bundled", "mnist"), "mnist_mlp",
                               epochs=20, batch_size=64, lr=0.05)
    return train_classifier(MODULE, parser.parse_args(argv), build)


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
