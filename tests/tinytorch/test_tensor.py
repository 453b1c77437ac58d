"""Tensor basics: construction, dtypes, factories, shape ops, no-copy wrapping, determinism."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt


def test_wraps_ndarray_without_copy():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tt.Tensor(array)
    array[0, 0] = 42
    assert t.data is array and t[0, 0].item() == 42
    assert tt.from_numpy(array).data is array


def test_python_floats_default_to_float32_and_ints_to_int64():
    assert tt.tensor([1.0, 2.0]).dtype == np.float32
    assert tt.tensor([1, 2]).dtype == np.int64
    assert tt.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64  # like torch.tensor(ndarray)


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int32, np.float32])
def test_storage_dtype_is_kept(dtype):
    t = tt.tensor(np.ones((2, 3)), dtype=dtype)
    assert t.dtype == dtype
    assert t.reshape(3, 2).dtype == dtype and t[0].dtype == dtype and t.T.dtype == dtype
    assert (t * 2).dtype == dtype and (t + t).dtype == dtype


def test_float32_never_upcasts():
    x = tt.randn(3, 4)
    results = [x * 2.5, x / 3, 1.0 - x, x ** 2, x.exp(), x.sigmoid(), x.tanh(), x.mean(), x.softmax(-1),
               x.log_softmax(-1), x.var(0), 2 ** x, x @ x.T]
    assert all(r.dtype == np.float32 for r in results)


def test_integer_true_division_gives_float32():
    assert (tt.tensor([1, 2]) / 2).dtype == np.float32
    assert (tt.tensor([1, 2], dtype=tt.int8) * 0.5).dtype == np.float32


def test_factories_shapes_and_dtypes():
    assert tt.zeros(2, 3).shape == (2, 3) and tt.zeros(2, 3).dtype == np.float32
    assert tt.ones((4,)).data.sum() == 4
    assert tt.arange(5).dtype == np.int64 and tt.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tt.zeros_like(tt.ones(2, dtype=tt.float16)).dtype == np.float16
    assert tt.full((2,), 7).dtype == np.int64 and tt.full((2,), 7.0).dtype == np.float32
    np.testing.assert_array_equal(tt.tril(tt.ones(3, 3)).data, np.tril(np.ones((3, 3))))
    np.testing.assert_array_equal(tt.triu(tt.ones(3, 3), 1).data, np.triu(np.ones((3, 3)), 1))


def test_manual_seed_makes_everything_deterministic():
    def draw():
        tt.manual_seed(123)
        layer = tt.nn.Linear(3, 2)
        dropped = tt.nn.functional.dropout(tt.ones(20), 0.5)
        return np.concatenate([tt.randn(4).data, tt.rand(4).data, layer.weight.data.ravel(), dropped.data])
    np.testing.assert_array_equal(draw(), draw())
    tt.manual_seed(124)
    assert not np.array_equal(tt.randn(4).data, (tt.manual_seed(123), tt.randn(4))[1].data)


def test_shape_ops_match_numpy():
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = tt.Tensor(array)
    np.testing.assert_array_equal(t.permute(2, 0, 1).data, array.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.transpose(0, 2).data, array.swapaxes(0, 2))
    assert t.flatten(1).shape == (2, 12) and t.view(-1).shape == (24,)
    assert t.unsqueeze(1).shape == (2, 1, 3, 4) and t.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert [c.shape for c in t.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [c.shape for c in t.chunk(3, dim=1)] == [(2, 1, 4)] * 3
    assert t.expand(5, 2, 3, 4).shape == (5, 2, 3, 4)
    assert tt.cat([t, t], dim=1).shape == (2, 6, 4) and tt.stack([t, t], dim=0).shape == (2, 2, 3, 4)
    values, indices = t.max(dim=2)
    np.testing.assert_array_equal(values.data, array.max(2))
    np.testing.assert_array_equal(indices.data, array.argmax(2))


def test_comparisons_and_masked_fill():
    t = tt.tensor([1.0, -2.0, 3.0])
    assert (t > 0).dtype == np.bool_
    np.testing.assert_array_equal(t.masked_fill(t < 0, 0.0).data, [1, 0, 3])
    np.testing.assert_array_equal(tt.where(t > 0, t, tt.zeros(3)).data, [1, 0, 3])


def test_tensors_stay_hashable_and_repr():
    t = tt.ones(2)
    assert {t: 1}[t] == 1
    assert "tensor(" in repr(t) and "requires_grad" in repr(tt.ones(1, requires_grad=True))
    assert np.asarray(t).dtype == np.float32


def test_setitem_under_no_grad_and_refused_on_grad_leaf():
    t = tt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        t[0] = 1.0
    with tt.no_grad():
        t[0] = 1.0
    assert t.data[0] == 1.0


def test_to_accepts_device_strings_like_torch():
    t = tt.ones(2)
    assert t.to("cpu") is t and t.to(device="cpu") is t
    assert t.to("cpu", tt.float16).dtype == np.float16 and t.to(dtype=tt.int8).dtype == np.int8
    layer = tt.nn.Linear(2, 2).to("cpu", tt.float16)
    assert layer.weight.dtype == np.float16
