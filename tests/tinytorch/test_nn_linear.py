"""Linear, activations, Sequential and losses against PyTorch (forward and all gradients)."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 8), lib.nn.Tanh(),
                             lib.nn.Linear(8, 4, bias=False), lib.nn.Sigmoid())


def test_linear_init_layout_and_bounds():
    layer = nn.Linear(100, 7)
    assert layer.weight.shape == (7, 100) and layer.bias.shape == (7,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    bound = 1 / np.sqrt(100)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.8 * bound
    assert np.abs(layer.bias.data).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None
    assert list(nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]


def test_mlp_forward_and_gradients_match_torch(oracle, rng):
    torch = oracle.torch
    mine, theirs = _mlp(tt), _mlp(torch)
    oracle.copy_weights(mine, theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    x, tx = oracle.pair(rng.standard_normal((5, 6)).astype(np.float32))
    out, tout = mine(x), theirs(tx)
    oracle.close(out, tout)
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    oracle.grads_close(mine, theirs)
    oracle.close(x.grad, tx.grad)


def test_linear_on_3d_input(oracle, rng):
    mine, theirs = nn.Linear(4, 3), oracle.torch.nn.Linear(4, 3)
    oracle.copy_weights(mine, theirs)
    x, tx = oracle.pair(rng.standard_normal((2, 5, 4)).astype(np.float32))
    F.linear(x, mine.weight, mine.bias).sum().backward()
    theirs(tx).sum().backward()
    oracle.grads_close(mine, theirs)
    oracle.close(x.grad, tx.grad)


@pytest.mark.parametrize("module", ["ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax"])
def test_activation_modules(module, oracle, rng):
    kwargs = {"dim": 1} if "Softmax" in module else {}
    x, tx = oracle.pair(rng.standard_normal((4, 5)).astype(np.float32) * 3)
    out, tout = getattr(nn, module)(**kwargs)(x), getattr(oracle.torch.nn, module)(**kwargs)(tx)
    oracle.close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    oracle.close(x.grad, tx.grad)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_is_accurate_over_a_wide_range(approximate, oracle):
    grid = np.linspace(-10, 10, 20001, dtype=np.float32)
    x, tx = oracle.pair(grid)
    out = F.gelu(x, approximate=approximate)
    tout = oracle.torch.nn.functional.gelu(tx, approximate=approximate)
    error = np.abs(out.data - tout.detach().numpy()) / np.maximum(np.abs(grid), 1)  # float32 ulp grows with |x|
    assert error.max() < 1e-6
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), atol=2e-6)


def test_erf_error_below_1e_minus_6():
    import math
    grid = np.linspace(-6, 6, 4001)
    expected = np.array([math.erf(v) for v in grid])
    assert np.abs(F.erf(grid) - expected).max() < 1e-6


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_matches_torch(reduction, label_smoothing, oracle, rng):
    torch = oracle.torch
    logits, tlogits = oracle.pair(rng.standard_normal((6, 5)).astype(np.float32) * 4)
    target = rng.integers(0, 5, size=6)
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    loss = nn.CrossEntropyLoss(**kwargs)(logits, tt.tensor(target))
    tloss = torch.nn.CrossEntropyLoss(**kwargs)(tlogits, torch.tensor(target))
    oracle.close(loss, tloss)
    assert loss.dtype == np.float32
    (loss * loss).sum().backward()
    (tloss * tloss).sum().backward()
    oracle.close(logits.grad, tlogits.grad)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])  # 0.0 takes the sparse path, 0.2 the dense one
def test_cross_entropy_ignore_index_weight_and_spatial(reduction, label_smoothing, oracle, rng):
    torch = oracle.torch
    logits, tlogits = oracle.pair(rng.standard_normal((3, 4, 2, 5)).astype(np.float32))
    target = rng.integers(0, 4, size=(3, 2, 5))
    target[0, 0, :3] = -100
    target[1, 1, :] = 2  # a class of weight 0: no loss, but smoothing still spreads over the other classes
    weight = rng.random(4).astype(np.float32) + 0.5
    weight[2] = 0.0
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    loss = F.cross_entropy(logits, tt.tensor(target), weight=tt.tensor(weight), **kwargs)
    tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(target), weight=torch.tensor(weight), **kwargs)
    oracle.close(loss, tloss)
    (loss * loss).sum().backward()
    (tloss * tloss).sum().backward()
    oracle.close(logits.grad, tlogits.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_one_unbatched_sample(reduction, oracle, rng):
    torch = oracle.torch
    logits, tlogits = oracle.pair(rng.standard_normal(5).astype(np.float32))
    loss = F.cross_entropy(logits, tt.tensor(np.array(3)), reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(3), reduction=reduction)
    oracle.close(loss, tloss)
    (loss * 2.5).backward()
    (tloss * 2.5).backward()
    oracle.close(logits.grad, tlogits.grad)


def test_cross_entropy_probability_targets(oracle, rng):
    torch = oracle.torch
    logits, tlogits = oracle.pair(rng.standard_normal((4, 3)).astype(np.float32))
    probs = rng.dirichlet(np.ones(3), size=4).astype(np.float32)
    loss = F.cross_entropy(logits, tt.tensor(probs))
    tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(probs))
    oracle.close(loss, tloss)
    loss.backward()
    tloss.backward()
    oracle.close(logits.grad, tlogits.grad)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = tt.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, tt.tensor([2]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2e4)
    assert np.all(np.isfinite(logits.grad.data))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss(reduction, oracle, rng):
    x, tx = oracle.pair(rng.standard_normal((3, 4)).astype(np.float32))
    y = rng.standard_normal((3, 4)).astype(np.float32)
    loss = nn.MSELoss(reduction)(x, tt.tensor(y))
    tloss = oracle.torch.nn.MSELoss(reduction=reduction)(tx, oracle.torch.tensor(y))
    oracle.close(loss, tloss)
    loss.backward()
    tloss.backward()
    oracle.close(x.grad, tx.grad)


def test_cross_entropy_rejects_mismatched_or_float_index_targets():
    logits = tt.randn(4, 3)
    with pytest.raises(ValueError, match="4 rows of logits but 3 targets"):
        F.cross_entropy(logits, tt.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(logits, tt.tensor([True, False, True, True]))


def test_cross_entropy_weight_is_a_buffer_like_torch(torch):
    weight = np.ones(3, dtype=np.float32)
    assert list(nn.CrossEntropyLoss(weight=tt.tensor(weight)).state_dict()) == \
        list(torch.nn.CrossEntropyLoss(weight=torch.tensor(weight)).state_dict())
    assert list(nn.CrossEntropyLoss().state_dict()) == []
