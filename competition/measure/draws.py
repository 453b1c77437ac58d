"""The run's secret: a 128-bit seed from `secrets`, drawn in the parent after the workers are started, never sent
to them. It drives every random choice a submission could exploit if it knew it: which test images each timed round
uses and in what order and batches, their perturbation, the timed prompts, the slot order. The result records only
its SHA-256 (`config.seed_sha256`), so a run can later be tied to its seed without revealing it in advance.

Perturbation: each timed image gets independent uniform noise of at most PERTURBATION (about a quarter of one 8-bit
grey level) before clipping to [0, 1]. It makes every round's bytes new, so memoising on the bytes of a batch or an
image misses. It does not stop a cache keyed on a rounded image (the noise is small by design); that is why the
timed outputs are checked against each other and, in the closed division, against the shipped weights.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

PERTURBATION = 1.0 / 1024


def secret_seed() -> tuple[np.random.Generator, str]:
    """(generator from a fresh 128-bit secret, SHA-256 hex of the secret's 16 bytes)."""
    seed = secrets.randbits(128)
    return np.random.default_rng(seed), hashlib.sha256(seed.to_bytes(16, "big")).hexdigest()


class ImageDraws:
    """Consecutive slices of fresh random permutations of a pool: every image is used once before any repeats."""

    def __init__(self, pool_size: int, rng: np.random.Generator) -> None:
        self.pool_size, self.rng = pool_size, rng
        self.queue = np.empty(0, dtype=np.int64)

    def take(self, n: int) -> np.ndarray:
        """The next `n` image indices."""
        while self.queue.size < n:
            self.queue = np.concatenate([self.queue, self.rng.permutation(self.pool_size)])
        out, self.queue = self.queue[:n], self.queue[n:]
        return out


def perturbed(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`images` (float32 in [0, 1]) plus independent noise in [-PERTURBATION, PERTURBATION], clipped to [0, 1]."""
    noise = rng.uniform(-PERTURBATION, PERTURBATION, size=images.shape).astype(np.float32)
    return np.clip(images + noise, 0.0, 1.0, dtype=np.float32)


def batches(x: np.ndarray, size: int) -> list[np.ndarray]:
    """`x` cut into consecutive batches of `size` (the last may be smaller)."""
    return [np.ascontiguousarray(x[i:i + size]) for i in range(0, len(x), size)]
