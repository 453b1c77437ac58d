"""tt.save / tt.load: .npz round trip, atomic writes, and refusal of anything unsafe."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn


def test_state_dict_round_trip_keeps_values_and_dtypes(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "weights.npz"
    tt.save(model.state_dict(), path)
    loaded = tt.load(path)
    assert list(loaded) == list(model.state_dict())
    assert all(isinstance(v, tt.Tensor) for v in loaded.values())
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    tt.manual_seed(99)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other[0].weight.data, model[0].weight.data)


def test_int8_and_float16_stay_small(tmp_path):
    path = tmp_path / "q.npz"
    tt.save({"w": tt.tensor(np.ones((64, 64)), dtype=tt.int8), "s": np.ones(3, dtype=np.float16)}, path)
    loaded = tt.load(path)
    assert loaded["w"].dtype == np.int8 and loaded["s"].dtype == np.float16
    assert path.stat().st_size < 64 * 64 * 2


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "w.npz"
    tt.save({"a": np.zeros(2)}, path)
    with pytest.raises(TypeError, match="w.npz"):
        tt.save({"a": np.zeros(3), "bad": np.array([object()], dtype=object)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]
    assert tt.load(path)["a"].shape == (2,)  # the old file is untouched


def test_refuses_non_npz_path(tmp_path):
    with pytest.raises(ValueError, match=r"model\.pt.*\.npz"):
        tt.save({"a": np.zeros(2)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match=r"model\.pkl.*\.npz"):
        tt.load(tmp_path / "model.pkl")


def test_refuses_pickle_disguised_as_npz(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"a": np.zeros(2)}))
    with pytest.raises(ValueError, match="evil.npz.*no pickles"):
        tt.load(path)


def test_refuses_object_arrays_inside_npz(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="objects.npz"):
        tt.load(path)


def test_refuses_single_npy_and_missing_file(tmp_path):
    path = tmp_path / "single.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(ValueError, match="single.npz"):
        tt.load(path)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        tt.load(tmp_path / "missing.npz")


def test_save_refuses_non_mapping(tmp_path):
    with pytest.raises(TypeError, match="mapping"):
        tt.save([np.zeros(2)], tmp_path / "w.npz")
