"""Embedding, LayerNorm, MultiheadAttention, TransformerEncoderLayer and SDPA against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F


def _backprop(oracle, out, tout, seed=3):
    cotangent = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    (out * tt.tensor(cotangent)).sum().backward()
    (tout * oracle.torch.tensor(cotangent)).sum().backward()


def test_embedding_matches_torch(oracle, rng):
    mine, theirs = nn.Embedding(10, 4, padding_idx=0), oracle.torch.nn.Embedding(10, 4, padding_idx=0)
    assert np.all(mine.weight.data[0] == 0) and mine.weight.data[1:].std() > 0.5  # N(0, 1) init
    oracle.copy_weights(mine, theirs)
    idx = rng.integers(0, 10, size=(3, 5))
    idx[0, :2] = 3  # repeated indices accumulate
    out, tout = mine(tt.tensor(idx)), theirs(oracle.torch.tensor(idx))
    oracle.close(out, tout)
    _backprop(oracle, out, tout)
    oracle.grads_close(mine, theirs)


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 6), (3, 6))])
def test_layer_norm_matches_torch(shape, normalized, oracle, rng):
    mine, theirs = nn.LayerNorm(normalized), oracle.torch.nn.LayerNorm(normalized)
    with tt.no_grad():
        mine.weight.data[...] = rng.random(mine.weight.shape) + 0.5
        mine.bias.data[...] = rng.standard_normal(mine.bias.shape)
    oracle.copy_weights(mine, theirs)
    x, tx = oracle.pair((rng.standard_normal(shape) * 3 + 2).astype(np.float32))
    out, tout = mine(x), theirs(tx)
    oracle.close(out, tout, atol=1e-5)
    _backprop(oracle, out, tout)
    oracle.close(x.grad, tx.grad, atol=1e-4)
    oracle.grads_close(mine, theirs, atol=1e-4)


def _mha_pair(oracle, embed_dim=8, num_heads=2, **kwargs):
    mine = nn.MultiheadAttention(embed_dim, num_heads, **kwargs)
    theirs = oracle.torch.nn.MultiheadAttention(embed_dim, num_heads, **kwargs)
    with tt.no_grad():  # non-zero biases so their gradients are exercised
        mine.in_proj_bias.data[:] = np.random.default_rng(7).standard_normal(3 * embed_dim) * 0.1
        mine.out_proj.bias.data[:] = 0.1
    oracle.copy_weights(mine, theirs)
    return mine, theirs


def test_mha_state_dict_layout_matches_torch(oracle):
    mine, theirs = _mha_pair(oracle)
    assert {k: v.shape for k, v in mine.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(mine.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention_with_masks(batch_first, average, oracle, rng):
    torch = oracle.torch
    mine, theirs = _mha_pair(oracle, batch_first=batch_first)
    x, tx = oracle.pair(rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8)).astype(np.float32))
    attn_mask = np.triu(np.ones((5, 5), dtype=bool), 1)
    padding = np.zeros((3, 5), dtype=bool)
    padding[1, -2:] = True
    out, weights = mine(x, x, x, key_padding_mask=tt.tensor(padding), attn_mask=tt.tensor(attn_mask),
                        average_attn_weights=average)
    tout, tweights = theirs(tx, tx, tx, key_padding_mask=torch.tensor(padding), attn_mask=torch.tensor(attn_mask),
                            average_attn_weights=average)
    oracle.close(out, tout)
    oracle.close(weights, tweights)
    _backprop(oracle, out, tout)
    oracle.close(x.grad, tx.grad, atol=1e-4)
    oracle.grads_close(mine, theirs, atol=1e-4)


def test_mha_cross_attention_float_mask_and_unbatched(oracle, rng):
    torch = oracle.torch
    mine, theirs = _mha_pair(oracle, embed_dim=6, num_heads=3)
    (q, tq), (k, tk), (v, tv) = (oracle.pair(rng.standard_normal(s).astype(np.float32))
                                 for s in [(4, 2, 6), (7, 2, 6), (7, 2, 6)])
    float_mask = rng.standard_normal((4, 7)).astype(np.float32)
    out, weights = mine(q, k, v, attn_mask=tt.tensor(float_mask))
    tout, tweights = theirs(tq, tk, tv, attn_mask=torch.tensor(float_mask))
    oracle.close(out, tout)
    oracle.close(weights, tweights)
    _backprop(oracle, out, tout)
    for mine_grad, theirs_grad in [(q.grad, tq.grad), (k.grad, tk.grad), (v.grad, tv.grad)]:
        oracle.close(mine_grad, theirs_grad, atol=1e-4)
    oracle.grads_close(mine, theirs, atol=1e-4)
    single, tsingle = oracle.pair(rng.standard_normal((4, 6)).astype(np.float32))
    out, weights = mine(single, single, single, need_weights=False)
    oracle.close(out, theirs(tsingle, tsingle, tsingle)[0])
    assert weights is None


def test_mha_is_causal_equals_explicit_mask(oracle, rng):
    mine, _ = _mha_pair(oracle, batch_first=True)
    x = tt.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32))
    causal = tt.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
    np.testing.assert_allclose(mine(x, x, x, is_causal=True, need_weights=False)[0].data,
                               mine(x, x, x, attn_mask=causal, need_weights=False)[0].data, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first, activation, batch_first, oracle, rng):
    torch = oracle.torch
    kwargs = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
                  norm_first=norm_first)
    mine, theirs = nn.TransformerEncoderLayer(8, 2, **kwargs), torch.nn.TransformerEncoderLayer(8, 2, **kwargs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    oracle.copy_weights(mine, theirs)
    x, tx = oracle.pair(rng.standard_normal((2, 6, 8) if batch_first else (6, 2, 8)).astype(np.float32))
    mask = np.where(np.triu(np.ones((6, 6), dtype=bool), 1), -np.inf, 0).astype(np.float32)
    out = mine(x, src_mask=tt.tensor(mask), is_causal=True)
    tout = theirs(tx, src_mask=torch.tensor(mask), is_causal=True)
    oracle.close(out, tout, atol=1e-4)
    _backprop(oracle, out, tout)
    oracle.close(x.grad, tx.grad, atol=1e-4)
    oracle.grads_close(mine, theirs, atol=1e-4)


def test_transformer_eval_mode_matches_torch_fast_path(oracle, rng):
    torch = oracle.torch
    kwargs = dict(dim_feedforward=16, activation="gelu", batch_first=True, norm_first=True)
    mine, theirs = nn.TransformerEncoderLayer(8, 2, **kwargs).eval(), torch.nn.TransformerEncoderLayer(8, 2, **kwargs)
    oracle.copy_weights(mine, theirs)
    theirs.eval()
    x = rng.standard_normal((2, 6, 8)).astype(np.float32)
    with tt.no_grad(), torch.no_grad():
        oracle.close(mine(tt.tensor(x)), theirs(torch.tensor(x)), atol=1e-4)


def test_transformer_dropout_is_active_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5, batch_first=True)
    x = tt.randn(2, 4, 8)
    tt.manual_seed(0)
    first = layer(x).data
    tt.manual_seed(1)
    assert not np.allclose(first, layer(x).data)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_transformer_encoder_stacks_independent_copies(oracle):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8))
    theirs = oracle.torch.nn.TransformerEncoder(oracle.torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16),
                                                num_layers=2, norm=oracle.torch.nn.LayerNorm(8),
                                                enable_nested_tensor=False)
    assert list(encoder.state_dict()) == list(theirs.state_dict())
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight


@pytest.mark.parametrize("mask_kind", [None, "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(mask_kind, oracle, rng):
    torch = oracle.torch
    (q, tq), (k, tk), (v, tv) = (oracle.pair(rng.standard_normal(s).astype(np.float32))
                                 for s in [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8)])
    mask = tmask = None
    if mask_kind == "bool":
        allowed = rng.random((4, 6)) > 0.3
        allowed[:, 0] = True
        mask, tmask = tt.tensor(allowed), torch.tensor(allowed)
    elif mask_kind == "float":
        values = rng.standard_normal((4, 6)).astype(np.float32)
        mask, tmask = tt.tensor(values), torch.tensor(values)
    causal = mask_kind == "causal"
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, is_causal=causal)
    oracle.close(out, tout)
    _backprop(oracle, out, tout)
    for mine_grad, theirs_grad in [(q.grad, tq.grad), (k.grad, tk.grad), (v.grad, tv.grad)]:
        oracle.close(mine_grad, theirs_grad, atol=1e-4)
