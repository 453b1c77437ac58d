"""Dataset protocol (like torch.utils.data.Dataset) and TensorDataset over equal-length arrays."""
from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.data.arrays import as_numpy


class Dataset:
    """A sized, indexable collection of samples; subclasses define __getitem__ and __len__."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each array (or Tensor); all share the first dimension.

    `get_batch(indices)` fancy-indexes every array at once, which DataLoader uses as its fast path.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(as_numpy(tensor) for tensor in tensors)
        lengths = {len(array) for array in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset arrays must have the same first dimension, got "
                             f"{[array.shape for array in self.arrays]}")

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(array[index] for array in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows `indices` of every array, in one fancy-indexing call per array."""
        return tuple(array[indices] for array in self.arrays)
