"""Shared pieces of the reference training scripts: progress bar, classifier loop, evaluation, model cards."""
from __future__ import annotations

import json
import os
import platform
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

import tinytorch as tt
from tinytorch import nn
from tinytorch.atomic import write_atomic
from tinytorch.data.hashing import dataset_sha256

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "models" / "weights"
console = Console(stderr=True)


def progress_bar(quiet: bool = False) -> Progress:
    """A rich progress bar: description, bar, done/total, free-form metrics, elapsed and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, disable=quiet, transient=False,
    )


@dataclass
class EpochLog:
    """What one epoch measured: mean training loss, running training accuracy, held-out accuracy."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float


@dataclass
class FitResult:
    """Per-epoch logs and the wall time spent training (evaluation excluded)."""

    epochs: list[EpochLog] = field(default_factory=list)
    train_seconds: float = 0.0


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> float:
    """Fraction of ``images`` whose argmax logit equals the label (eval mode, no autograd)."""
    was_training = model.training
    model.eval()
    correct = 0
    with tt.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(tt.from_numpy(images[start:start + batch_size])).data
            correct += int((logits.argmax(axis=1) == labels[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / len(images)


def fit_classifier(model: nn.Module, optimizer: Any, loader: Iterable, epochs: int,
                   evaluate: Callable[[], float], quiet: bool = False) -> FitResult:
    """Train with cross-entropy for ``epochs``; after each epoch log loss, train accuracy and ``evaluate()``."""
    loss_fn = nn.CrossEntropyLoss()
    result = FitResult()
    with progress_bar(quiet) as progress:
        overall = progress.add_task("epochs", total=epochs, metrics="")
        for epoch in range(1, epochs + 1):
            batches = progress.add_task(f"epoch {epoch}/{epochs}", total=len(loader), metrics="")
            model.train()
            started = time.perf_counter()
            loss_sum, correct, seen = 0.0, 0, 0
            for images, labels in loader:
                logits = model(images)
                loss = loss_fn(logits, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n = len(labels.data)
                loss_sum += float(loss.item()) * n
                correct += int((logits.data.argmax(axis=1) == labels.data).sum())
                seen += n
                progress.update(batches, advance=1,
                                metrics=f"loss {loss_sum / seen:.4f}  acc {correct / seen:.2%}")
            seconds = time.perf_counter() - started
            result.train_seconds += seconds
            test_accuracy = evaluate()
            log = EpochLog(epoch, loss_sum / seen, correct / seen, test_accuracy, seconds)
            result.epochs.append(log)
            progress.remove_task(batches)
            progress.update(overall, advance=1, metrics=f"loss {log.loss:.4f}  train {log.train_accuracy:.2%}  "
                                                        f"test {test_accuracy:.2%}")
            if not quiet:
                progress.console.print(f"epoch {epoch}: loss {log.loss:.4f}  train acc {log.train_accuracy:.2%}  "
                                       f"held-out acc {test_accuracy:.2%}  ({seconds:.1f} s)")
    return result


THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def reproduce_command(module: str, options: Mapping[str, Any]) -> str:
    """The exact command line (every option spelled out, BLAS thread pins kept) that reruns ``python -m module``."""
    pins = [f"{var}={os.environ[var]}" for var in THREAD_ENV_VARS if var in os.environ]
    parts = pins + ["python", "-m", module]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts += [flag] if value else []
        elif value is not None:
            parts += [flag, str(value)]
    return shlex.join(parts)


def environment() -> dict[str, str]:
    """Versions and machine the weights were trained with."""
    return {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "cpu_count": str(os.cpu_count())}


def with_provenance(card: Mapping[str, Any], model: nn.Module, module: str, options: Mapping[str, Any]) -> dict:
    """The card plus what every model card records: parameter count, the reproducing command, environment, time."""
    return {**card, "parameters": sum(p.data.size for p in model.parameters()),
            "command": reproduce_command(module, options), "environment": environment(),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def save_model_card(name: str, model: nn.Module, card: Mapping[str, Any], out_dir: Path = WEIGHTS_DIR) -> Path:
    """Write ``<name>.npz`` (float32 state dict) and ``<name>.json`` (the card), each atomically."""
    tt.save({k: v.data.astype(np.float32) for k, v in model.state_dict().items()}, out_dir / f"{name}.npz")
    meta = out_dir / f"{name}.json"
    write_atomic(meta, json.dumps(card, indent=2) + "\n")
    return meta


def announce(message: str) -> None:
    """Print a status line to stderr (kept apart from any machine-readable stdout)."""
    console.print(message)


IMAGE_DATASETS = ("bundled", "mnist", "cifar10")


def load_images(dataset: str, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(float32 images (N, C, H, W) in [0, 1], int64 labels, provenance) of an image data set split.

    ``bundled`` is the MNIST subset shipped in the package; ``mnist`` / ``cifar10`` are the full sets (downloaded
    once into the cache). ``limit`` keeps a fixed random subset of ``limit`` examples, in file order (short runs;
    the bundled subset is sorted by class, so a prefix would hold only the first classes).
    """
    from tinytorch import data  # noqa: PLC0415  (keeps `import tinytorch.train.loop` light)

    if dataset == "bundled":
        images, labels = data.bundled_mnist(split)
    elif dataset == "mnist":
        images, labels = data.load_mnist(split, download=True)
    elif dataset == "cifar10":
        images, labels = data.load_cifar10(split, download=True)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(IMAGE_DATASETS)}")
    if limit is not None and limit < len(labels):
        keep = np.sort(np.random.default_rng(0).permutation(len(labels))[:limit])
        images, labels = images[keep], labels[keep]
    provenance = {"dataset": dataset, "split": split, "examples": len(labels),
                  "sha256": dataset_sha256(images, labels)}
    return data.to_float_images(images), labels.astype(np.int64), provenance
