"""Tensor factories (PyTorch names and defaults: float32 unless asked otherwise)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import random
from .tensor import Tensor, as_array

float32 = np.float32


def _shape(size: tuple) -> tuple[int, ...]:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """New tensor holding a copy of ``data`` (Python floats -> float32, ints -> int64)."""
    array = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(as_array(array, dtype), copy=True), requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Tensor sharing memory with ``array`` (dtype kept)."""
    return Tensor(np.asarray(array))


def zeros(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.empty(_shape(size), dtype=dtype), requires_grad=requires_grad)


def full(size: tuple[int, ...], fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    dtype = dtype or (float32 if isinstance(fill_value, float) else as_array(fill_value).dtype)
    return Tensor(np.full(tuple(size), fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the framework generator (`tinytorch.manual_seed`)."""
    data = random.generator().standard_normal(_shape(size), dtype=np.float32).astype(dtype, copy=False)
    return Tensor(data, requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples from the framework generator."""
    data = random.generator().random(_shape(size), dtype=np.float32).astype(dtype, copy=False)
    return Tensor(data, requires_grad=requires_grad)


def randint(low: int, high: int, size: tuple[int, ...], dtype: Any = np.int64) -> Tensor:
    """Integers in [low, high) from the framework generator."""
    return Tensor(random.generator().integers(low, high, size=tuple(size), dtype=dtype))


def randperm(n: int) -> Tensor:
    return Tensor(random.generator().permutation(n).astype(np.int64))


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Like ``torch.arange``: int64 for integer arguments, float32 otherwise."""
    start, end = (0, start) if end is None else (start, end)
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    return Tensor(np.arange(start, end, step, dtype=dtype or (np.int64 if integral else float32)))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two dims (the rest zeroed)."""
    return input * np.tri(*input.shape[-2:], k=diagonal, dtype=bool)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle of the last two dims (the rest zeroed)."""
    return input * ~np.tri(*input.shape[-2:], k=diagonal - 1, dtype=bool)
