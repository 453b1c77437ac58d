"""The image-classifier training run shared by the MLP and CNN scripts: data, seed, loop, final held-out accuracy."""
from __future__ import annotations

import argparse
from typing import Any, Callable, Sequence

import tinytorch as tt
from tinytorch import nn

from .loop import WEIGHTS_DIR, accuracy, announce, fit_classifier, load_images, save_model_card, with_provenance

ModelBuilder = Callable[[tuple[int, ...]], tuple[nn.Module, dict[str, Any]]]


def classifier_parser(description: str, datasets: Sequence[str], name: str, epochs: int, batch_size: int,
                      lr: float) -> argparse.ArgumentParser:
    """Command-line options every classifier script takes (defaults differ per model)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", choices=datasets, default=datasets[0],
                        help="bundled = MNIST subset shipped with tinytorch (offline); others download once")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N examples only (smoke runs)")
    parser.add_argument("--name", default=name, help="weights file stem (<name>.npz / <name>.json)")
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="directory for the weights and model card")
    parser.add_argument("--no-save", action="store_true", help="train and report, write nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def train_classifier(module: str, args: argparse.Namespace, build: ModelBuilder) -> tuple[nn.Module, dict]:
    """Train ``build(image_shape)`` with SGD+momentum and cross-entropy; return the model and its model card."""
    from pathlib import Path  # noqa: PLC0415
    from tinytorch.data import DataLoader, TensorDataset  # noqa: PLC0415

    train_x, train_y, train_data = load_images(args.dataset, "train", args.limit)
    test_x, test_y, test_data = load_images(args.dataset, "test")
    tt.manual_seed(args.seed)
    model, config = build(train_x.shape[1:])
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch_size, shuffle=True, seed=args.seed)
    optimizer = tt.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    announce(f"{module}: {type(model).__name__} {config} on {args.dataset} "
             f"({len(train_y)} train / {len(test_y)} held-out), seed {args.seed}")
    fit = fit_classifier(model, optimizer, loader, args.epochs, lambda: accuracy(model, test_x, test_y), args.quiet)
    model.eval()
    test_accuracy = accuracy(model, test_x, test_y)
    announce(f"held-out accuracy {test_accuracy:.2%} after {args.epochs} epochs "
             f"({fit.train_seconds:.1f} s training)")
    options = {k: v for k, v in vars(args).items() if k not in ("out", "no_save", "quiet")}
    card = {
        "name": args.name,
        "model": type(model).__name__,
        "config": config,
        "seed": args.seed,
        "data": {"train": train_data, "held_out": test_data},
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": "SGD",
                     "lr": args.lr, "momentum": args.momentum, "loss": "CrossEntropyLoss",
                     "wall_seconds": round(fit.train_seconds, 3),
                     "history": [{"epoch": e.epoch, "loss": round(e.loss, 5), "train_accuracy": e.train_accuracy,
                                  "held_out_accuracy": e.test_accuracy} for e in fit.epochs]},
        "metrics": {"accuracy": test_accuracy, "split": "test", "examples": len(test_y)},
    }
    card = with_provenance(card, model, module, options)
    if not args.no_save:
        announce(f"wrote {save_model_card(args.name, model, card, Path(args.out))}")
    return model, card
