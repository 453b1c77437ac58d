"""DataLoader: batches of a Dataset as tinytorch Tensors, with seeded per-epoch shuffling."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from tinytorch.data.arrays import as_numpy
from tinytorch.data.dataset import Dataset
from tinytorch.random import generator


class DataLoader:
    """Iterate over `dataset` in batches, like torch.utils.data.DataLoader (single process).

    With `shuffle=True`, epoch k (the k-th iteration over the loader, from 0) visits the samples in
    the order np.random.default_rng([seed, k]).permutation(len(dataset)): the same seed gives the same
    sequence of epochs, and each epoch differs. with seed=None it draws the seed once from the framework generator
    (tinytorch.random, set by tt.manual_seed), like torch's DataLoader draws from torch's global generator.
    Datasets with `get_batch(indices)` (TensorDataset) are batched by fancy indexing; others item by item through
    `collate_fn` (default `collate`, which stacks samples). Each batch is a Tensor or a list of Tensors.

    `num_workers` must be 0: batches are made in the calling process (a TensorDataset batch is one fancy index,
    ~30 us for 64 MNIST images, so worker processes would cost more than they save). `pin_memory` is accepted and
    does nothing, with PyTorch's warning when no accelerator is present: pinned pages only speed host-to-GPU copies,
    and tinytorch computes on the CPU.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, *, num_workers: int = 0,
                 collate_fn: Callable[[Sequence[Any]], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, seed: int | None = None) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if num_workers != 0:
            raise ValueError(f"DataLoader(num_workers={num_workers!r}): tinytorch loads in the calling process only; "
                             "use num_workers=0 (a TensorDataset batch is a single fancy index)")
        if pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=2)
        self.collate_fn = collate if collate_fn is None else collate_fn
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = int(generator().integers(2**63)) if seed is None and shuffle else seed
        self.epoch = 0

    def __len__(self) -> int:
        full, remainder = divmod(len(self.dataset), self.batch_size)
        return full + (1 if remainder and not self.drop_last else 0)

    def __iter__(self) -> Iterator[Any]:
        order = self.epoch_order(self.epoch)
        self.epoch += 1
        fetch_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if fetch_batch is not None and self.collate_fn is collate:
                yield _to_tensors(list(fetch_batch(indices)))
            else:
                yield _to_tensors(self.collate_fn([self.dataset[int(index)] for index in indices]))

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Sample indices in the order epoch `epoch` visits them."""
        if not self.shuffle:
            return np.arange(len(self.dataset))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))


def collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples along a new first axis; tuples/lists and dicts are collated per field."""
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return [collate(list(field)) for field in zip(*samples, strict=True)]
    return np.stack([as_numpy(sample) for sample in samples])


def _to_tensors(batch: Any) -> Any:
    """Wrap every ndarray of a collated batch in a tinytorch Tensor (without copying)."""
    from tinytorch.tensor import Tensor

    if isinstance(batch, dict):
        return {key: _to_tensors(value) for key, value in batch.items()}
    if isinstance(batch, list):
        return [_to_tensors(value) for value in batch]
    return Tensor(batch)
