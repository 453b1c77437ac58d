"""nn.functional entry points called directly (PyTorch signatures), incl. argument variants modules don't use."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.nn import functional as F


def _compare(oracle, fn_mine, fn_theirs, *arrays, atol=1e-5):
    pairs = [oracle.pair(a.astype(np.float32)) for a in arrays]
    out = fn_mine(*(p[0] for p in pairs))
    tout = fn_theirs(*(p[1] for p in pairs))
    oracle.close(out, tout, atol=atol)
    assert out.dtype == np.float32
    cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * tt.tensor(cotangent)).sum().backward()
    (tout * oracle.torch.tensor(cotangent)).sum().backward()
    for mine, theirs in pairs:
        oracle.close(mine.grad, theirs.grad, atol=atol)


def test_linear_without_bias_and_1d_input(oracle, rng):
    tf = oracle.torch.nn.functional
    _compare(oracle, F.linear, tf.linear, rng.standard_normal(4), rng.standard_normal((3, 4)))
    _compare(oracle, F.linear, tf.linear, rng.standard_normal((2, 4)), rng.standard_normal((3, 4)),
             rng.standard_normal(3))


def test_conv2d_functional(oracle, rng):
    tf = oracle.torch.nn.functional
    _compare(oracle, lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
             lambda x, w, b: tf.conv2d(x, w, b, stride=2, padding=1),
             rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5),
             atol=1e-4)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_dims(dim, oracle, rng):
    tf = oracle.torch.nn.functional
    x = rng.standard_normal((3, 4, 5)) * 5
    _compare(oracle, lambda t: F.softmax(t, dim), lambda t: tf.softmax(t, dim), x)
    _compare(oracle, lambda t: F.log_softmax(t, dim), lambda t: tf.log_softmax(t, dim), x)


def test_softmax_is_stable_for_huge_inputs():
    out = F.softmax(tt.tensor([[1e4, 0.0, -1e4]]), dim=-1)
    np.testing.assert_allclose(out.data, [[1.0, 0.0, 0.0]])
    assert np.isfinite(F.log_softmax(tt.tensor([[1e4, 0.0]]), dim=-1).data).all()


def test_batch_norm_functional_updates_running_stats(oracle, rng):
    torch = oracle.torch
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    mean, var = tt.zeros(3), tt.ones(3)
    tmean, tvar = torch.zeros(3), torch.ones(3)
    out = F.batch_norm(tt.tensor(x), mean, var, training=True, momentum=0.3)
    tout = torch.nn.functional.batch_norm(torch.tensor(x), tmean, tvar, training=True, momentum=0.3)
    oracle.close(out, tout)
    oracle.close(mean, tmean)
    oracle.close(var, tvar)


def test_layer_norm_without_affine(oracle, rng):
    tf = oracle.torch.nn.functional
    _compare(oracle, lambda t: F.layer_norm(t, (4,)), lambda t: tf.layer_norm(t, (4,)), rng.standard_normal((3, 4)),
             atol=1e-4)


def test_embedding_functional_with_padding_idx(oracle, rng):
    torch = oracle.torch
    weight, tweight = oracle.pair(rng.standard_normal((6, 3)).astype(np.float32))
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    out = F.embedding(tt.tensor(idx), weight, padding_idx=0)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tweight, padding_idx=0)
    oracle.close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    oracle.close(weight.grad, tweight.grad)


def test_mse_and_cross_entropy_variants(oracle, rng):
    tf = oracle.torch.nn.functional
    _compare(oracle, lambda a, b: F.mse_loss(a, b, reduction="none"),
             lambda a, b: tf.mse_loss(a, b, reduction="none"), rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))
    logits, tlogits = oracle.pair(rng.standard_normal(5).astype(np.float32))
    loss = F.cross_entropy(logits, tt.tensor(np.array(3)))
    tloss = tf.cross_entropy(tlogits, oracle.torch.tensor(3))
    oracle.close(loss, tloss)
    loss.backward()
    tloss.backward()
    oracle.close(logits.grad, tlogits.grad)


def test_dropout_is_deterministic_under_seed():
    x = tt.ones(100)
    tt.manual_seed(5)
    first = F.dropout(x, 0.3).data
    tt.manual_seed(5)
    np.testing.assert_array_equal(first, F.dropout(x, 0.3).data)
    assert F.dropout(x, 0.3, training=False) is x


def test_half_precision_stays_half_through_layers():
    x = tt.randn(2, 3, 8, 8).half()
    w, b = tt.randn(4, 3, 3, 3).half(), tt.zeros(4).half()
    out = F.max_pool2d(F.gelu(F.conv2d(x, w, b, padding=1)), 2)
    assert out.dtype == np.float16
    assert F.layer_norm(out, (4,)).dtype == np.float16
    assert F.softmax(out, -1).dtype == np.float16


def test_gelu_gradient_across_chunk_boundaries(oracle, rng, monkeypatch):
    """The erf GELU works chunk by chunk: a partial last chunk must get the same values and gradients."""
    tf = oracle.torch.nn.functional
    monkeypatch.setattr(F, "_CHUNK", 64)
    _compare(oracle, F.gelu, tf.gelu, rng.standard_normal((3, 70)) * 4)


def test_layer_norm_over_two_dims_with_affine(oracle, rng):
    tf = oracle.torch.nn.functional
    _compare(oracle, lambda x, w, b: F.layer_norm(x, (3, 4), w, b), lambda x, w, b: tf.layer_norm(x, (3, 4), w, b),
             rng.standard_normal((2, 5, 3, 4)) * 3 + 1, rng.standard_normal((3, 4)), rng.standard_normal((3, 4)),
             atol=1e-4)


def test_embedding_gradient_sums_repeated_and_negative_indices(oracle, rng):
    torch = oracle.torch
    table = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[4, 0, 4, -1], [2, 2, 2, 0]])
    weight, tweight = tt.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    cotangent = rng.standard_normal((2, 4, 3)).astype(np.float32)
    (F.embedding(tt.tensor(idx), weight) * tt.tensor(cotangent)).sum().backward()
    (torch.nn.functional.embedding(torch.tensor(idx % 5), tweight) * torch.tensor(cotangent)).sum().backward()
    oracle.close(weight.grad, tweight.grad)
    assert F.embedding(tt.tensor(np.zeros((0,), np.int64)), weight).shape == (0, 3)


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool_in_sample_chunks_equals_torch(kernel, stride, padding, oracle, rng, monkeypatch):
    """The pool runs a few samples at a time: one sample per chunk here, so every chunk boundary is crossed."""
    from tinytorch.nn import spatial

    monkeypatch.setattr(spatial, "_POOL_CHUNK_ELEMENTS", 1)
    tf = oracle.torch.nn.functional
    x = np.maximum(rng.standard_normal((3, 2, 6, 8)), 0)  # ReLU-like: ties at zero pick the first maximum
    _compare(oracle, lambda t: F.max_pool2d(t, kernel, stride, padding),
             lambda t: tf.max_pool2d(t, kernel, stride, padding), x)


def test_inplace_relu_without_graph_rectifies_its_input_like_torch(oracle, rng):
    torch = oracle.torch
    x = rng.standard_normal((3, 4)).astype(np.float32)
    mine, theirs = tt.tensor(x), torch.tensor(x)
    assert F.relu(mine, inplace=True) is mine and torch.nn.functional.relu(theirs, inplace=True) is theirs
    oracle.close(mine, theirs)
    leaf, tleaf = oracle.pair(x)
    with tt.no_grad(), torch.no_grad():  # a leaf that requires grad is allowed outside the graph
        F.relu(leaf, inplace=True), torch.nn.functional.relu(tleaf, inplace=True)
    oracle.close(leaf, tleaf)


def test_inplace_relu_refuses_a_leaf_requiring_grad_like_torch(oracle, rng):
    mine, theirs = oracle.pair(rng.standard_normal(5).astype(np.float32))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        oracle.torch.nn.functional.relu(theirs, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(mine, inplace=True)
    assert not np.array_equal(mine.data, np.maximum(mine.data, 0))  # untouched


def test_inplace_relu_in_a_graph_matches_torch(oracle, rng):
    """The input's array is rectified in place; gradients reach the weights through the ReLU and through an
    earlier use of the pre-activation."""
    torch = oracle.torch
    w_array = rng.standard_normal((4, 6)).astype(np.float32)
    (x, tx), (w, tw) = oracle.pair(rng.standard_normal((3, 6)).astype(np.float32)), oracle.pair(w_array)
    h, th = F.linear(x, w), torch.nn.functional.linear(tx, tw)
    side, tside = h * 3.0, th * 3.0  # a use before the in-place op (saves nothing)
    out, tout = F.relu(h, inplace=True), torch.nn.functional.relu(th, inplace=True)
    assert np.shares_memory(out.data, h.data)
    oracle.close(h, th)
    ((out * out).sum() + side.sum()).backward()
    ((tout * tout).sum() + tside.sum()).backward()
    oracle.close(w.grad, tw.grad)
    oracle.close(x.grad, tx.grad)


def test_relu_module_inplace_in_a_cnn_matches_torch(oracle, rng):
    torch = oracle.torch

    def build(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(3, 4, 3, padding=1), n.ReLU(inplace=True), n.MaxPool2d(2), n.Flatten(),
                            n.Linear(4 * 4 * 4, 5), n.ReLU(inplace=True), n.Linear(5, 2))
    mine, theirs = build(tt), build(torch)
    oracle.copy_weights(mine, theirs)
    assert repr(mine[1]) == repr(theirs[1]) == "ReLU(inplace=True)" and repr(tt.nn.ReLU()) == "ReLU()"
    x, tx = oracle.pair(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    out, tout = mine(x), theirs(tx)
    oracle.close(out, tout, atol=1e-4)
    out.sum().backward()
    tout.sum().backward()
    oracle.grads_close(mine, theirs, atol=1e-4)
    oracle.close(x.grad, tx.grad, atol=1e-4)
