"""Fused self-attention in groups of samples (the L2-sized blocks of scores): every grouping, including a partial last
group and per-sample masks, gives PyTorch's values and gradients and the same bits as one sample at a time."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.nn import attention


def _run(monkeypatch, group_bytes, x_data, padding, g):
    monkeypatch.setattr(attention, "_GROUP_BYTES", group_bytes)
    tt.manual_seed(0)
    module = tt.nn.MultiheadAttention(8, 2, batch_first=True)
    x = tt.tensor(x_data, requires_grad=True)
    out = module(x, x, x, key_padding_mask=tt.from_numpy(padding), need_weights=False, is_causal=True,
                 attn_mask=tt.from_numpy(np.triu(np.ones((70, 70), bool), 1)))[0]
    (out * tt.tensor(g)).sum().backward()
    return module, out, x


@pytest.mark.parametrize("group_bytes", [1, 2 * 2 * 18 * 70 * 4, 1 << 30])  # 1, 2 (last group partial), 3 samples
def test_groups_of_samples_with_per_sample_masks(group_bytes, oracle, monkeypatch, rng):
    torch = oracle.torch
    x_data = rng.standard_normal((3, 70, 8)).astype(np.float32)
    g = rng.standard_normal((3, 70, 8)).astype(np.float32)
    padding = np.zeros((3, 70), bool)
    padding[1, 60:] = padding[2, 35:] = True  # later keys only: every query keeps a key
    mine, out, x = _run(monkeypatch, group_bytes, x_data, padding, g)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    oracle.copy_weights(mine, theirs)
    tx = torch.tensor(x_data, requires_grad=True)
    tout = theirs(tx, tx, tx, key_padding_mask=torch.from_numpy(padding), need_weights=False, is_causal=True,
                  attn_mask=torch.from_numpy(np.triu(np.ones((70, 70), bool), 1)))[0]
    (tout * torch.tensor(g)).sum().backward()
    oracle.close(out, tout)
    oracle.close(x.grad, tx.grad)
    oracle.grads_close(mine, theirs)
    _, one_out, one_x = _run(monkeypatch, 1, x_data, padding, g)
    np.testing.assert_array_equal(out.data, one_out.data)
    np.testing.assert_array_equal(x.grad.data, one_x.grad.data)
