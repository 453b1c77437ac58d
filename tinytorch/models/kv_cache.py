"""Key/value cache for autoregressive decoding: one preallocated buffer per layer, filled left to right.

Kept deliberately small and explicit. What happens when it is full is the caller's policy: `GPT.generate` either
re-encodes the whole window for every token (exact) or, with ``reencode_every=k``, re-encodes the newest
``capacity - k`` tokens once and appends ``k`` more (the sliding window; see its docstring for what that changes).
"""
from __future__ import annotations

import numpy as np


class KVCache:
    """Keys and values of every layer for positions ``[0, length)``, shape (layers, B, heads, capacity, head_dim).

    A decoding step calls :meth:`append` once per layer with the new positions' keys/values (all layers write the
    same positions), then :meth:`advance` once to commit them.
    """

    def __init__(self, n_layers: int, batch: int, n_heads: int, capacity: int, head_dim: int,
                 dtype: np.dtype = np.float32) -> None:
        shape = (n_layers, batch, n_heads, capacity, head_dim)
        self.keys = np.zeros(shape, dtype=dtype)
        self.values = np.zeros(shape, dtype=dtype)
        self.capacity = capacity
        self.length = 0

    def fits(self, new_positions: int) -> bool:
        """Whether ``new_positions`` more positions fit."""
        return self.length + new_positions <= self.capacity

    def append(self, layer: int, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store (B, heads, T, head_dim) keys/values after the committed positions; return all of them (views)."""
        end = self.length + keys.shape[2]
        if end > self.capacity:
            raise ValueError(f"KVCache: {end} positions exceed the capacity {self.capacity}")
        self.keys[layer, :, :, self.length:end] = keys
        self.values[layer, :, :, self.length:end] = values
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, new_positions: int) -> None:
        """Commit the positions every layer has just appended."""
        self.length += new_positions

    def reset(self) -> None:
        """Forget every position (the buffers are reused)."""
        self.length = 0

    @property
    def nbytes(self) -> int:
        """Memory held by the buffers."""
        return self.keys.nbytes + self.values.nbytes
