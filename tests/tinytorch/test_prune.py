"""tinytorch.nn.utils.prune against torch.nn.utils.prune (same weights -> same masks), shrink, sparse checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn.utils import load_sparse, prune, save_sparse


@pytest.fixture
def tprune(torch):
    import torch.nn.utils.prune as tprune  # noqa: PLC0415
    return tprune


def twins(oracle, make_tt, make_torch):
    mine, theirs = make_tt(), make_torch()
    oracle.copy_weights(mine, theirs)
    return mine, theirs


def conv_twins(oracle):
    return twins(oracle, lambda: nn.Conv2d(4, 8, 3), lambda: oracle.torch.nn.Conv2d(4, 8, 3))


def linear_twins(oracle):
    return twins(oracle, lambda: nn.Linear(12, 7), lambda: oracle.torch.nn.Linear(12, 7))


def assert_same_mask(mine, theirs, name="weight"):
    np.testing.assert_array_equal(getattr(mine, name + "_mask").data, getattr(theirs, name + "_mask").numpy())


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 1.0, 5, 0])
def test_l1_unstructured_mask_matches_torch(amount, oracle, tprune):
    mine, theirs = linear_twins(oracle)
    prune.l1_unstructured(mine, "weight", amount)
    tprune.l1_unstructured(theirs, "weight", amount)
    assert_same_mask(mine, theirs)
    assert [k for k, _ in mine.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(mine.weight.data, theirs.weight.detach().numpy())


def test_iterative_pruning_counts_only_remaining_entries_like_torch(oracle, tprune):
    mine, theirs = conv_twins(oracle)
    for module, api in ((mine, prune), (theirs, tprune)):
        api.l1_unstructured(module, "weight", 0.3)
        api.ln_structured(module, "weight", 0.25, n=2, dim=0)
        api.l1_unstructured(module, "weight", 0.5)
        api.ln_structured(module, "weight", 2, n=1, dim=1)
    assert_same_mask(mine, theirs)


@pytest.mark.parametrize("n", [1, 2, 3, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_mask_matches_torch(n, dim, oracle, tprune):
    mine, theirs = conv_twins(oracle)
    prune.ln_structured(mine, "weight", 0.5, n=n, dim=dim)
    tprune.ln_structured(theirs, "weight", 0.5, n=n, dim=dim)
    assert_same_mask(mine, theirs)


def test_importance_scores_and_custom_mask_match_torch(oracle, tprune, rng):
    mine, theirs = linear_twins(oracle)
    scores = rng.random((7, 12)).astype(np.float32)
    prune.l1_unstructured(mine, "weight", 0.4, importance_scores=tt.tensor(scores))
    tprune.l1_unstructured(theirs, "weight", 0.4, importance_scores=oracle.torch.tensor(scores))
    mask = (rng.random(7) > 0.5).astype(np.float32)
    prune.custom_from_mask(mine, "bias", mask)
    tprune.custom_from_mask(theirs, "bias", oracle.torch.tensor(mask))
    assert_same_mask(mine, theirs)
    assert_same_mask(mine, theirs, "bias")


def test_global_unstructured_matches_torch(oracle, tprune):
    (conv, tconv), (fc, tfc) = conv_twins(oracle), linear_twins(oracle)
    prune.l1_unstructured(fc, "weight", 0.2)  # an already pruned member takes part with its mask
    tprune.l1_unstructured(tfc, "weight", 0.2)
    prune.global_unstructured([(conv, "weight"), (fc, "weight")], prune.L1Unstructured, amount=0.6)
    tprune.global_unstructured([(tconv, "weight"), (tfc, "weight")], tprune.L1Unstructured, amount=0.6)
    assert_same_mask(conv, tconv)
    assert_same_mask(fc, tfc)


def test_pruned_forward_backward_match_torch_and_remove_makes_it_permanent(oracle, tprune, rng):
    mine, theirs = conv_twins(oracle)
    prune.ln_structured(mine, "weight", 0.5, n=2, dim=0)
    tprune.ln_structured(theirs, "weight", 0.5, n=2, dim=0)
    x, tx = oracle.pair(rng.standard_normal((2, 4, 6, 6)).astype(np.float32))
    mine(x).sum().backward()
    theirs(tx).sum().backward()
    oracle.grads_close(mine, theirs)
    dead = mine.weight_mask.data == 0
    assert np.all(mine.weight_orig.grad.data[dead] == 0)  # masked entries get no gradient: fine-tuning keeps them 0
    prune.remove(mine, "weight")
    tprune.remove(theirs, "weight")
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(mine)
    oracle.close(mine(x), theirs(tx))


def test_random_pruning_amount_shape_and_seed():
    layer = nn.Conv2d(3, 10, 3)
    tt.manual_seed(7)
    prune.random_unstructured(layer, "weight", 0.3)
    first = layer.weight_mask.data.copy()
    assert first.shape == layer.weight.shape and first.dtype == np.float32
    assert (first == 0).sum() == round(0.3 * 270)
    prune.random_structured(layer, "weight", 4, dim=0)
    rows = layer.weight_mask.data.reshape(10, -1)
    dead = rows.sum(1) == 0
    assert dead.sum() == 4
    np.testing.assert_array_equal(rows[~dead], first.reshape(10, -1)[~dead])  # live channels keep the old mask
    again = nn.Conv2d(3, 10, 3)
    tt.manual_seed(7)
    prune.random_unstructured(again, "weight", 0.3)
    np.testing.assert_array_equal(again.weight_mask.data, first)


@pytest.mark.parametrize("amount, error, message", [
    (-0.1, ValueError, "float in the range"), (1.5, ValueError, "float in the range"), (-2, ValueError, "non-negative"),
    (100, ValueError, "smaller than the number of parameters"), ("half", TypeError, "Invalid type for amount"),
])
def test_bad_amounts_get_torch_errors_and_leave_the_module_untouched(amount, error, message):
    layer = nn.Linear(4, 3)
    with pytest.raises(error, match=message):
        prune.l1_unstructured(layer, "weight", amount)
    assert not prune.is_pruned(layer) and [k for k in layer.state_dict()] == ["weight", "bias"]


def test_other_bad_input_gets_clear_errors():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(layer, "weight")
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(layer, "bias", 1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index 2"):
        prune.ln_structured(layer, "weight", 1, n=2, dim=2)
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured([(layer, "weight")], prune.LnStructured, amount=0.5, n=2)
    prune.l1_unstructured(layer, "weight", 2)
    with pytest.raises(ValueError, match="smaller than the number"):
        prune.ln_structured(layer, "weight", 5, n=2, dim=0)  # a failed second pruning keeps the first intact
    assert (layer.weight_mask.data == 0).sum() == 2 and len(layer._forward_pre_hooks) == 1


def test_channels_prunes_weight_rows_and_their_biases_like_torch(oracle, tprune):
    mine, theirs = conv_twins(oracle)
    prune.channels(mine, 3)
    tprune.ln_structured(theirs, "weight", 3, n=2, dim=0)
    assert_same_mask(mine, theirs)
    dead = mine.weight_mask.data.reshape(8, -1).sum(1) == 0
    assert dead.sum() == 3 and np.all(mine.bias.data[dead] == 0) and np.all(mine.bias_mask.data[~dead] == 1)


def test_shrink_removes_dead_channels_and_keeps_outputs(rng):
    tt.manual_seed(0)
    model = tt.models.BaselineCNN(1, 10, 12)
    for layer in (model.features[0], model.features[3], model.classifier[1]):
        prune.channels(layer, 0.5)
    x = tt.tensor(rng.random((5, 1, 12, 12)).astype(np.float32))
    with tt.no_grad():
        expected = model(x).data
    prune.shrink(model, x)
    assert not prune.is_pruned(model)
    conv1, conv2, fc1, fc2 = model.features[0], model.features[3], model.classifier[1], model.classifier[3]
    assert conv1.weight.shape == (16, 1, 3, 3) and conv2.weight.shape == (32, 16, 3, 3)
    assert fc1.weight.shape == (64, 32 * 9) and fc2.weight.shape == (10, 64) and fc1.in_features == 288
    with tt.no_grad():
        np.testing.assert_allclose(model(x).data, expected, rtol=1e-5, atol=1e-6)
    assert list(model.state_dict()) == list(tt.models.BaselineCNN(1, 10, 12).state_dict())


def test_shrink_slices_batch_norm_and_refuses_what_it_cannot_keep_exact(rng):
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).eval()
    model[1].running_mean.data[:] = rng.random(8).astype(np.float32)
    prune.channels(model[0], 4)
    x = tt.tensor(rng.random((3, 6)).astype(np.float32))
    with pytest.raises(ValueError, match="fold it into the conv first"):
        prune.shrink(model, x)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).eval()
    prune.channels(model[0], 4)
    with tt.no_grad():
        expected = model(x).data
    prune.shrink(model, x)
    assert model[1].running_mean.shape == (4,) and model[3].weight.shape == (2, 4)
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-5, atol=1e-6)

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

        def forward(self, x):
            return self.b(x) + self.a(x)

    with pytest.raises(ValueError, match="chains of layers"):
        prune.shrink(Residual(), tt.ones(1, 4))


def test_sparse_checkpoint_round_trip_is_exact_and_smaller(tmp_path):
    layer = nn.Linear(64, 32)
    prune.l1_unstructured(layer, "weight", 0.9)
    prune.remove(layer, "weight")
    state = layer.state_dict()
    state["int8"] = tt.tensor(np.where(np.arange(100) % 10 == 0, -3, 0).astype(np.int8))
    state["negative_zero"] = tt.tensor(np.array([-0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], np.float32))
    sizes = save_sparse(state, tmp_path / "sparse.npz")
    loaded = load_sparse(tmp_path / "sparse.npz")
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key].data, value.data)
    assert not np.signbit(loaded["negative_zero"].data).any()  # -0.0 is stored as the equal 0.0
    assert sizes["stored_bytes"] < 0.2 * sizes["dense_bytes"]
    fresh = nn.Linear(64, 32)
    fresh.load_state_dict({k: loaded[k] for k in ("weight", "bias")})
    np.testing.assert_array_equal(fresh.weight.data, layer.weight.data)
    with pytest.raises(ValueError, match="reserves"):
        save_sparse({"a::values": np.zeros(3)}, tmp_path / "bad.npz")
