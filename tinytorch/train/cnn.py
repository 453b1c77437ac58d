"""Train the baseline CNN: ``python -m tinytorch.train.cnn [--dataset bundled|cifar10|mnist] [--epochs N]``.

``--dataset cifar10`` trains ``BaselineCNN(3, 10, 32)`` on CIFAR-10 (downloaded once); the default ``bundled`` trains
the same family, ``BaselineCNN(1, 10, 28)``, on the bundled MNIST subset so the CNN event runs offline. Writes
``tinytorch/models/weights/<name>.{npz,json}`` unless ``--no-save``.
"""
from __future__ import annotations

from typing import Any, Sequence

from tinytorch import nn
from tinytorch.models import BaselineCNN

from .classifier import classifier_parser, train_classifier

MODULE = "tinytorch.train.cnn"


def build(image_shape: tuple[int, ...]) -> tuple[BaselineCNN, dict[str, Any]]:
    """The baseline CNN for (C, S, S) images."""
    channels, side, _ = image_shape
    config = {"in_channels": channels, "num_classes": 10, "image_size": side}
    return BaselineCNN(**config), config


def run(argv: Sequence[str] | None = None) -> tuple[nn.Module, dict]:
    """Parse ``argv`` like the command line, train, return (model, model card)."""
    parser = classifier_parser(__doc__.splitlines()[0], ("bundled", "cifar10", "mnist"), "mnist_cnn",
                               epochs=8, batch_size=64, lr=0.05)
    args = parser.parse_args(argv)
    if args.dataset == "cifar10" and args.name == "mnist_cnn":
        args.name = "cifar10_cnn"
    return train_classifier(MODULE, args, build)


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
