"""torch.nn.init schemes: deterministic ones equal PyTorch's values, random ones match its distribution."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn

init = nn.init


def _pair(torch, shape):
    return tt.zeros(*shape), torch.zeros(*shape)


@pytest.mark.parametrize("name,param", [(n, None) for n in
                                        ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid",
                                         "tanh", "relu", "selu", "leaky_relu")] + [("leaky_relu", 0.2)])
def test_calculate_gain_matches_torch(name, param, torch):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softplus"):
        init.calculate_gain("softplus")


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (6, 4)])
def test_eye_matches_torch(shape, torch):
    mine, theirs = _pair(torch, shape)
    np.testing.assert_array_equal(init.eye_(mine).data, torch.nn.init.eye_(theirs).numpy())


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 3), 1), ((4, 2, 1, 3, 3), 2)])
def test_dirac_matches_torch(shape, groups, torch):
    mine, theirs = _pair(torch, shape)
    np.testing.assert_array_equal(init.dirac_(mine, groups).data, torch.nn.init.dirac_(theirs, groups).numpy())


def test_dirac_identity_convolution_passes_input_through(rng):
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(conv(tt.tensor(x)).data, x, atol=1e-6)


@pytest.mark.parametrize("shape", [(8, 8), (4, 10), (12, 3), (6, 2, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape):
    w = init.orthogonal_(tt.zeros(*shape), gain=2.0).data.reshape(shape[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, 0.0, 1.0), (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_matches_torch_distribution(mean, std, a, b, torch):
    mine, theirs = _pair(torch, (200, 500))
    tt.manual_seed(0)
    ours, ref = init.trunc_normal_(mine, mean, std, a, b).data, torch.nn.init.trunc_normal_(theirs, mean, std, a, b)
    ref = ref.numpy()
    assert ours.min() >= a and ours.max() <= b
    assert ours.mean() == pytest.approx(ref.mean(), abs=0.01 * (b - a))
    assert ours.std() == pytest.approx(ref.std(), rel=0.02)
    np.testing.assert_allclose(np.histogram(ours, 10, (a, b))[0] / ours.size,
                               np.histogram(ref, 10, (a, b))[0] / ref.size, atol=0.005)


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.75])
def test_sparse_zeroes_the_same_count_per_column_as_torch(sparsity, torch):
    mine, theirs = _pair(torch, (40, 30))
    ours, ref = init.sparse_(mine, sparsity, std=0.5).data, torch.nn.init.sparse_(theirs, sparsity, std=0.5).numpy()
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (ref == 0).sum(axis=0))
    assert (ours == 0).sum(axis=0)[0] == math.ceil(sparsity * 40)
    assert ours[ours != 0].std() == pytest.approx(0.5, rel=0.15)


@pytest.mark.parametrize("fn,shape", [(init.eye_, (2, 2, 2)), (init.dirac_, (3, 3)), (init.orthogonal_, (4,)),
                                      (init.sparse_, (2, 2, 2))])
def test_wrong_rank_is_refused_like_torch(fn, shape):
    args = (0.5,) if fn is init.sparse_ else ()
    with pytest.raises(ValueError, match="dimensions are supported"):
        fn(tt.zeros(*shape), *args)
