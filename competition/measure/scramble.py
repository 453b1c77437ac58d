"""A training round's secret task: the images' pixels and the class numbers in an order drawn from the run's secret.

Why: a training entry is timed until its model first reaches the target, and the parent cannot tell a fast learner
from a model that was trained before the run and smuggled in (weights written as literals in a .py file, say). With
the pixels and classes scrambled, knowing the answer in advance is worth nothing: the smuggled model scores chance.
An MLP treats its inputs as an unordered vector and its classes as unordered outputs, so it learns the scrambled
task exactly as fast as the plain one (its initialisation and every update are permuted along, and the permuted
initialisation is as likely as the original). A model that relies on neighbouring pixels (a convolution) loses that
advantage, by design of the event: MLP Sprint is "permuted MNIST" (docs/measurement.md, "Training events").

Every contender of a round gets the same scramble; the next round draws a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scramble:
    """pixels[i]: the original pixel shown at flattened position i; classes[c]: the number the worker sees for
    original class c."""

    pixels: np.ndarray
    classes: np.ndarray

    def images(self, x: np.ndarray) -> np.ndarray:
        """(N, ...) images with their flattened pixels reordered, same shape and dtype."""
        flat = x.reshape(len(x), -1)
        return np.ascontiguousarray(flat[:, self.pixels]).reshape(x.shape)

    def labels(self, y: np.ndarray) -> np.ndarray:
        """Original class numbers -> the numbers the worker sees."""
        return self.classes[y]

    def scores(self, worker_scores: np.ndarray) -> np.ndarray:
        """(N, classes) scores in the worker's class numbers -> columns in the original class order."""
        return worker_scores[:, self.classes]


def draw(rng: np.random.Generator, pixel_count: int, class_count: int) -> Scramble:
    """A fresh scramble from the run's secret generator."""
    return Scramble(pixels=rng.permutation(pixel_count), classes=rng.permutation(class_count))
