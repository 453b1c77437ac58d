"""The fused attention op of MultiheadAttention: F.attention's forward up to float rounding, PyTorch's gradients."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.nn import functional as F
from tinytorch.nn.attention import fused_attention


@pytest.mark.parametrize("masked", [False, True])
def test_fused_attention_equals_the_unfused_op_and_torch(masked, torch, rng):
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    mask = F.causal_mask(5, 5) if masked else None
    tq, tk, tv = (tt.tensor(a, requires_grad=True) for a in (q, k, v))
    out = fused_attention(tq, tk, tv, mask)
    np.testing.assert_allclose(out.data, F.attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), mask)[0].data,
                               rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    rq, rk, rv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(rq, rk, rv, is_causal=masked)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in ((tq, rq), (tk, rk), (tv, rv)):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_multihead_attention_picks_the_fused_ops_only_without_weights_or_dropout(monkeypatch, rng):
    import tinytorch.nn.attention as attention_module

    calls = []
    for name in ("fused_attention", "fused_self_attention"):
        original = getattr(attention_module, name)
        monkeypatch.setattr(attention_module, name,
                            lambda *args, _name=name, _fn=original: calls.append(_name) or _fn(*args))
    attention = tt.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = tt.from_numpy(rng.standard_normal((2, 3, 8)).astype(np.float32))
    other = tt.from_numpy(rng.standard_normal((2, 4, 8)).astype(np.float32))
    attention(x, x, x, need_weights=False)  # training with dropout: the unfused path
    weighted = attention.eval()(x, x, x, need_weights=True, is_causal=True)[0]
    assert calls == []
    fused = attention(x, x, x, need_weights=False, is_causal=True)[0]
    attention(x, other, other, need_weights=False)
    assert calls == ["fused_self_attention", "fused_attention"]
    np.testing.assert_allclose(fused.data, weighted.data, rtol=1e-6, atol=1e-6)  # equal up to float rounding


@pytest.mark.parametrize("length", [5, 70])  # 70: causal query blocks ending at 17, 35, 52, 70
def test_fused_self_attention_gradients_equal_torch(length, oracle, rng):
    mine, theirs = tt.nn.MultiheadAttention(8, 2, batch_first=True), oracle.torch.nn.MultiheadAttention(
        8, 2, batch_first=True)
    oracle.copy_weights(mine, theirs)
    x, tx = oracle.pair(rng.standard_normal((2, length, 8)).astype(np.float32))
    mask = F.causal_mask(length, length)
    out = mine(x, x, x, need_weights=False, is_causal=True, attn_mask=tt.from_numpy(mask))[0]
    tout = theirs(tx, tx, tx, need_weights=False, is_causal=True,
                  attn_mask=oracle.torch.nn.Transformer.generate_square_subsequent_mask(length))[0]
    oracle.close(out, tout)
    g = rng.standard_normal(out.shape).astype(np.float32)
    (out * tt.tensor(g)).sum().backward()
    (tout * oracle.torch.tensor(g)).sum().backward()
    oracle.close(x.grad, tx.grad)
    oracle.grads_close(mine, theirs)


def test_causal_blocks_only_where_the_mask_blocks_every_later_key():
    from tinytorch.nn.attention import _causal_stops

    causal = F.causal_mask(70, 70)
    assert _causal_stops(causal, 70) == [17, 35, 52, 70]
    assert _causal_stops(causal[None, None], 70) == [17, 35, 52, 70]
    leaky = causal.copy()
    leaky[10, 60] = 0.0  # query 10 may see key 60: no block may stop before key 61
    assert _causal_stops(leaky, 70) == [70]
    assert _causal_stops(np.zeros((70, 70), np.float32), 70) == [70]
    assert _causal_stops(np.full((2, 1, 1, 70), -np.inf, np.float32), 70) == [70]  # a padding mask broadcasts rows
    assert _causal_stops(None, 70) == [70]
    assert _causal_stops(F.causal_mask(8, 8), 8) == [8]  # too short to pay
