"""The fused attention op of MultiheadAttention: the forward of F.attention bit for bit, PyTorch's gradients."""
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
    np.testing.assert_array_equal(out.data, F.attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), mask)[0].data)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    rq, rk, rv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(rq, rk, rv, is_causal=masked)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in ((tq, rq), (tk, rk), (tv, rv)):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_multihead_attention_uses_the_fused_op_only_without_weights_or_dropout(monkeypatch):
    calls = []
    monkeypatch.setattr("tinytorch.nn.attention.fused_attention",
                        lambda *args: calls.append(1) or F.attention(*args)[0])
    attention = tt.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = tt.from_numpy(np.ones((1, 3, 8), np.float32))
    attention(x, x, x, need_weights=True)
    attention(x, x, x, need_weights=False)  # training with dropout: the unfused path
    assert calls == []
    attention.eval()(x, x, x, need_weights=False)
    assert calls == [1]
