"""The framework's single random number generator, used by init, dropout, randn/rand and shuffling helpers.

Like PyTorch, the default seed is a fixed constant, so a program is deterministic unless it reseeds.
"""
from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721  # torch.initial_seed() of a fresh process

_state = {"seed": DEFAULT_SEED, "rng": np.random.default_rng(DEFAULT_SEED)}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the framework generator (init, dropout, randn, rand all draw from it) and return it."""
    _state["seed"] = int(seed)
    _state["rng"] = np.random.default_rng(int(seed))
    return _state["rng"]


def initial_seed() -> int:
    """The seed last passed to `manual_seed` (or the default)."""
    return _state["seed"]


def generator() -> np.random.Generator:
    """The current framework generator."""
    return _state["rng"]
