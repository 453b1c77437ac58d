"""OptimizationComparer: optimized variants of a model side by side: time, size and accuracy.

    comparer = OptimizationComparer(inputs, labels)
    rows = comparer.compare(baseline=model, quantized=qmodel, pruned=pmodel)
    print(comparer.report())

The first model (or the one named ``baseline``) is the reference for speedup, compression and accuracy change.
Timing interleaves the models round by round (rotating who goes first) and reports medians; size is the bytes of
the ``state_dict`` arrays, what a saved model ships (int8 weights count one byte each).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .units import format_bytes, format_seconds


@dataclass(frozen=True)
class Comparison:
    name: str
    time_s: float  # median seconds to run all inputs
    speedup: float  # reference time / this time
    size_bytes: int
    compression: float  # reference size / this size
    accuracy: float | None  # fraction correct, when labels were given
    accuracy_change_points: float | None  # percentage points vs the reference


def model_size_bytes(model: Module) -> int:
    """Bytes of every array in the model's state_dict."""
    return int(sum(np.asarray(getattr(value, "data", value)).nbytes for value in model.state_dict().values()))


class OptimizationComparer:
    def __init__(self, inputs: np.ndarray, labels: np.ndarray | None = None, repeats: int = 5,
                 batch_size: int | None = None) -> None:
        if labels is not None and len(labels) != len(inputs):
            raise ValueError(f"OptimizationComparer: {len(inputs)} inputs but {len(labels)} labels")
        if repeats < 1:
            raise ValueError(f"OptimizationComparer: repeats must be >= 1, got {repeats}")
        self.inputs = np.asarray(inputs)
        self.labels = None if labels is None else np.asarray(labels)
        self.repeats = repeats
        self.batch_size = batch_size or len(self.inputs)
        self.results: list[Comparison] = []

    def _predict(self, model: Module) -> np.ndarray:
        with no_grad():
            return np.concatenate([np.asarray(model(Tensor(self.inputs[i:i + self.batch_size])).data)
                                   for i in range(0, len(self.inputs), self.batch_size)])

    def compare(self, **models: Module) -> list[Comparison]:
        """Time, size and accuracy of each named model; ``baseline`` (else the first) is the reference."""
        if not models:
            raise ValueError("OptimizationComparer.compare: pass models by name, e.g. baseline=m, quantized=q")
        for name, model in models.items():
            if not isinstance(model, Module):
                raise TypeError(f"OptimizationComparer.compare: {name} is a {type(model).__name__}, not an nn.Module")
            model.eval()
        names = list(models)
        reference = "baseline" if "baseline" in models else names[0]
        outputs = {name: self._predict(models[name]) for name in names}  # warm-up, and the accuracy run
        samples: dict[str, list[float]] = {name: [] for name in names}
        for round_index in range(self.repeats):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                started = time.perf_counter()
                self._predict(models[name])
                samples[name].append(time.perf_counter() - started)
        times = {name: statistics.median(values) for name, values in samples.items()}
        sizes = {name: model_size_bytes(models[name]) for name in names}
        accuracy = {name: self._accuracy(outputs[name]) for name in names}
        self.results = [
            Comparison(name, times[name], times[reference] / times[name], sizes[name],
                       sizes[reference] / sizes[name] if sizes[name] else float("inf"), accuracy[name],
                       None if accuracy[name] is None else 100 * (accuracy[name] - accuracy[reference]))
            for name in names]
        return self.results

    def _accuracy(self, logits: np.ndarray) -> float | None:
        if self.labels is None:
            return None
        return float(np.mean(logits.argmax(axis=-1) == self.labels))

    def report(self) -> str:
        lines = [f"{'model':<16}{'time':>10}{'speedup':>9}{'size':>11}{'smaller':>9}{'accuracy':>10}{'change':>10}",
                 ]
        for r in self.results:
            accuracy = "-" if r.accuracy is None else f"{100 * r.accuracy:.1f} %"
            change = "-" if r.accuracy_change_points is None else f"{r.accuracy_change_points:+.1f} pt"
            lines.append(f"{r.name[:15]:<16}{format_seconds(r.time_s):>10}{r.speedup:>8.2f}x"
                         f"{format_bytes(r.size_bytes):>11}{r.compression:>8.2f}x{accuracy:>10}{change:>10}")
        lines.append(f"times: medians of {self.repeats} interleaved rounds over {len(self.inputs)} inputs")
        return "\n".join(lines)
