"""Dataset, TensorDataset and DataLoader: batching, drop_last, seeded per-epoch shuffling, collate."""
import numpy as np
import pytest

from tinytorch.data import DataLoader, Dataset, TensorDataset, collate

Tensor = pytest.importorskip("tinytorch.tensor").Tensor


class Squares(Dataset):
    """A generic (non array-backed) dataset: item i = (i as a 2-vector, i squared)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        return np.array([index, -index], dtype=np.float32), index * index

    def __len__(self):
        return self.n


def arrays(n=10):
    return np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n, dtype=np.int64)


def labels_of(loader):
    return [batch[1].data.tolist() for batch in loader]


def test_batches_in_order_with_last_partial_batch():
    loader = DataLoader(TensorDataset(*arrays(10)), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(t, Tensor) for b in batches for t in b)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last_drops_only_the_partial_batch():
    loader = DataLoader(TensorDataset(*arrays(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2 and labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(TensorDataset(*arrays(8)), batch_size=4, drop_last=True)) == 2


def test_seeded_shuffle_is_deterministic_and_differs_per_epoch():
    first = DataLoader(TensorDataset(*arrays(50)), batch_size=8, shuffle=True, seed=3)
    second = DataLoader(TensorDataset(*arrays(50)), batch_size=8, shuffle=True, seed=3)
    epochs_first = [sum(labels_of(first), []) for _ in range(3)]
    epochs_second = [sum(labels_of(second), []) for _ in range(3)]
    assert epochs_first == epochs_second
    assert all(sorted(epoch) == list(range(50)) for epoch in epochs_first)  # each sample exactly once
    assert epochs_first[0] != epochs_first[1] != epochs_first[2]
    assert epochs_first[0] != list(range(50))
    other_seed = DataLoader(TensorDataset(*arrays(50)), batch_size=8, shuffle=True, seed=4)
    assert sum(labels_of(other_seed), []) != epochs_first[0]


def test_epoch_order_is_exposed_and_matches_iteration():
    loader = DataLoader(TensorDataset(*arrays(20)), batch_size=20, shuffle=True, seed=11)
    expected = [loader.epoch_order(0).tolist(), loader.epoch_order(1).tolist()]
    assert labels_of(loader) == [expected[0]] and labels_of(loader) == [expected[1]]


def test_unseeded_shuffle_follows_manual_seed():
    from tinytorch.random import manual_seed

    manual_seed(5)
    first = labels_of(DataLoader(TensorDataset(*arrays(30)), batch_size=30, shuffle=True))
    manual_seed(5)
    assert labels_of(DataLoader(TensorDataset(*arrays(30)), batch_size=30, shuffle=True)) == first


def test_fast_path_wraps_without_copy_and_matches_generic_path():
    x, y = arrays(9)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=1))

    class ItemOnly(Dataset):
        def __getitem__(self, index):
            return x[index], y[index]

        def __len__(self):
            return len(y)

    generic = list(DataLoader(ItemOnly(), batch_size=4, shuffle=True, seed=1))
    for (fx, fy), (gx, gy) in zip(fast, generic, strict=True):
        np.testing.assert_array_equal(fx.data, gx.data)
        np.testing.assert_array_equal(fy.data, gy.data)


def test_fast_path_indexes_whole_batches():
    calls = []

    class Recording(TensorDataset):
        def __getitem__(self, index):
            calls.append(index)
            return super().__getitem__(index)

    list(DataLoader(Recording(*arrays(10)), batch_size=5))
    assert calls == []


def test_generic_path_stacks_items_and_python_scalars():
    batches = list(DataLoader(Squares(5), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 2), (2, 2)]
    assert batches[0][1].data.tolist() == [0, 1, 4] and batches[1][1].data.tolist() == [9, 16]


def test_collate_handles_dicts_and_tensors():
    samples = [{"x": Tensor(np.ones(2, np.float32)), "y": 1}, {"x": Tensor(np.zeros(2, np.float32)), "y": 2}]
    batch = collate(samples)
    assert batch["x"].shape == (2, 2) and batch["y"].tolist() == [1, 2]


def test_tensor_dataset_accepts_tensors_and_checks_lengths():
    x, y = arrays(4)
    dataset = TensorDataset(Tensor(x), y)
    assert len(dataset) == 4 and dataset[2][1] == 2
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(x, y[:3])


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_bad_batch_size_is_rejected(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(TensorDataset(*arrays(4)), batch_size=batch_size)


def test_collate_fn_replaces_the_default_stacking():
    loader = DataLoader(TensorDataset(*arrays(6)), batch_size=4, collate_fn=lambda samples: np.array(len(samples)))
    assert [batch.item() for batch in loader] == [4, 2]


def test_pin_memory_is_accepted_with_torchs_warning_and_changes_nothing():
    plain = [b[1].data.tolist() for b in DataLoader(TensorDataset(*arrays(10)), batch_size=3)]
    with pytest.warns(UserWarning, match="no accelerator is found"):
        pinned = DataLoader(TensorDataset(*arrays(10)), batch_size=3, pin_memory=True)
    assert [b[1].data.tolist() for b in pinned] == plain


def test_worker_processes_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="num_workers=0"):
        DataLoader(TensorDataset(*arrays(4)), batch_size=2, num_workers=2)
