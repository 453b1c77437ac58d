"""The run's secret: a 128-bit seed from `secrets`, drawn in the parent after the workers are started, never sent
to them. It drives every random choice a submission could exploit if it knew it: which test images are held back
for the fresh-input audit (measure/audit.py), which images each timed round uses and in what order and batches,
their perturbation, the timed prompts, the slot order. The result records only its SHA-256 (`config.seed_sha256`),
so a run can later be tied to its seed without revealing it in advance.

Perturbation: each image is moved by its own random sub-pixel shift (up to SHIFT_PX along each axis, bilinear,
edges replicated) and gets independent uniform noise of up to NOISE (two 8-bit grey levels) per pixel, clipped to
[0, 1]. Every sight of an image is then new bytes that no rounding undoes: the noise alone moves most pixels off
their grey level by more than half a level, and the shift moves every edge pixel by a fraction of its contrast, so
a key made from rounded, thresholded or block-averaged pixels changes too. It cannot hide *which* test image an
input is (nothing that keeps the label can: a nearest-neighbour search over the images seen before finds it);
that is what the fresh-input audit is for. benchmarks/perturbation_accuracy.py measures what it costs in accuracy.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

SHIFT_PX = 0.5
NOISE = 2.0 / 255


def secret_seed() -> tuple[np.random.Generator, str]:
    """(generator from a fresh 128-bit secret, SHA-256 hex of the secret's 16 bytes)."""
    seed = secrets.randbits(128)
    return np.random.default_rng(seed), hashlib.sha256(seed.to_bytes(16, "big")).hexdigest()


class ImageDraws:
    """Consecutive slices of fresh random permutations of a pool of image indices: every image of the pool is used
    once before any repeats."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator) -> None:
        self.pool, self.rng = np.asarray(pool, dtype=np.int64), rng
        self.queue = np.empty(0, dtype=np.int64)

    def take(self, n: int) -> np.ndarray:
        """The next `n` image indices."""
        while self.queue.size < n:
            self.queue = np.concatenate([self.queue, self.rng.permutation(self.pool)])
        out, self.queue = self.queue[:n], self.queue[n:]
        return out


def perturbed(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`images` (float32 (N, ..., H, W) in [0, 1]), each shifted by its own (dy, dx) of at most SHIFT_PX pixels,
    plus independent noise in [-NOISE, NOISE], clipped to [0, 1] (a new float32 array)."""
    moved = np.array(images, dtype=np.float32)
    for axis in (-2, -1):
        _shift(moved, rng.uniform(-SHIFT_PX, SHIFT_PX, size=len(images)), axis)
    noise = rng.random(images.shape, dtype=np.float32)
    noise *= 2 * NOISE
    noise -= NOISE
    moved += noise
    return np.clip(moved, 0.0, 1.0, out=moved)


def _shift(x: np.ndarray, by: np.ndarray, axis: int) -> None:
    """Move image i of `x` by by[i] (|by| <= 1) pixels along `axis`, in place: linear interpolation between each
    pixel and its neighbour on the side the content comes from (the edge pixel stands in beyond the border)."""
    shape = (len(x),) + (1,) * (x.ndim - 1)
    forward = np.maximum(by, 0).astype(np.float32).reshape(shape)  # content moves toward higher indices
    backward = np.maximum(-by, 0).astype(np.float32).reshape(shape)
    step = np.diff(x, axis=axis)  # x[j + 1] - x[j]
    head, tail = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    head[axis], tail[axis] = slice(None, -1), slice(1, None)
    x[tuple(tail)] -= forward * step  # x[j] + by * (x[j - 1] - x[j])
    x[tuple(head)] += backward * step  # x[j] + |by| * (x[j + 1] - x[j])


def batches(x: np.ndarray, size: int) -> list[np.ndarray]:
    """`x` cut into consecutive batches of `size` (the last may be smaller)."""
    return [np.ascontiguousarray(x[i:i + size]) for i in range(0, len(x), size)]
