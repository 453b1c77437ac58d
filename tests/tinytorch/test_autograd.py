"""Autograd: gradients of every Tensor op against PyTorch, broadcasting, graph recording and freeing."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt

UNARY = {
    "exp": lambda t: t.exp(),
    "log": lambda t: (t.abs() + 0.5).log(),
    "sqrt": lambda t: (t * t + 1).sqrt(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "neg_pow": lambda t: -(t ** 3),
    "reciprocal": lambda t: (t * t + 1).reciprocal(),
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "softmax": lambda t: t.softmax(-1),
    "log_softmax": lambda t: t.log_softmax(1),
    "sum_dim": lambda t: t.sum(1, keepdim=True),
    "mean_dims": lambda t: t.mean((0, 2)),
    "var": lambda t: t.var(1),
    "max_dim": lambda t: t.max(2)[0],
    "amax": lambda t: t.amax(-1),
    "max_all": lambda t: t.max(),
    "reshape": lambda t: t.reshape(4, -1),
    "permute": lambda t: t.permute(2, 0, 1),
    "transpose": lambda t: t.transpose(0, 2),
    "getitem_basic": lambda t: t[1:, ::2, 0],
    "getitem_fancy": lambda t: t[[0, 0, 1]],
    "expand": lambda t: t[:, :1].expand(3, 2, 5, 4),
    "split": lambda t: t.split(2, dim=2)[1],
    "to_half_and_back": lambda t: t.half().float(),
    "rpow": lambda t: 2 ** t,
    "rsub_rdiv": lambda t: 1 - 2 / (t * t + 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_gradients_match_torch(name, oracle, rng):
    op = UNARY[name]
    mine, theirs = oracle.pair(rng.standard_normal((2, 3, 4)).astype(np.float32))
    out_mine, out_theirs = op(mine), op(theirs)
    oracle.close(out_mine, out_theirs)
    assert out_mine.dtype == np.float32
    weights = rng.standard_normal(out_mine.shape).astype(np.float32)
    (out_mine * tt.tensor(weights)).sum().backward()
    (out_theirs * oracle.torch.tensor(weights)).sum().backward()
    oracle.close(mine.grad, theirs.grad)
    assert mine.grad.dtype == np.float32


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1))])
def test_broadcasting_binary_gradients(name, shapes, oracle, rng):
    (a_mine, a_theirs), (b_mine, b_theirs) = (oracle.pair(rng.standard_normal(s).astype(np.float32)) for s in shapes)
    op = BINARY[name]
    op(a_mine, b_mine).sum().backward()
    op(a_theirs, b_theirs).sum().backward()
    oracle.close(a_mine.grad, a_theirs.grad)
    oracle.close(b_mine.grad, b_theirs.grad)
    assert a_mine.grad.shape == shapes[0] and b_mine.grad.shape == shapes[1]


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 5)),
                                    ((3, 4), (4,)), ((4,), (4,))])
def test_matmul_gradients(shapes, oracle, rng):
    (a_mine, a_theirs), (b_mine, b_theirs) = (oracle.pair(rng.standard_normal(s).astype(np.float32)) for s in shapes)
    out_mine, out_theirs = a_mine @ b_mine, a_theirs @ b_theirs
    oracle.close(out_mine, out_theirs)
    (out_mine * out_mine).sum().backward()
    (out_theirs * out_theirs).sum().backward()
    oracle.close(a_mine.grad, a_theirs.grad, atol=1e-4)
    oracle.close(b_mine.grad, b_theirs.grad, atol=1e-4)


def test_cat_stack_where_masked_fill_gradients(oracle, rng):
    (a, ta), (b, tb) = (oracle.pair(rng.standard_normal((2, 3)).astype(np.float32)) for _ in range(2))
    cond = rng.random((2, 3)) > 0.5
    def f(lib, x, y, c):
        return (lib.cat([x, y * 2], dim=1).sum() + (lib.stack([x, y], dim=1) ** 2).sum()
                + lib.where(c, x, y * 3).sum() + (x.masked_fill(c, 0.0) * y).sum())
    f(tt, a, b, tt.tensor(cond)).backward()
    f(oracle.torch, ta, tb, oracle.torch.tensor(cond)).backward()
    oracle.close(a.grad, ta.grad)
    oracle.close(b.grad, tb.grad)


def test_gradients_accumulate_across_backward_calls():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 7.0])


def test_shared_subexpression_gets_summed_gradient():
    x = tt.tensor(3.0, requires_grad=True)
    y = x * x
    (y + y * x).backward()  # d/dx (x^2 + x^3) = 2x + 3x^2
    assert x.grad.item() == pytest.approx(6 + 27)


def test_no_grad_records_no_graph():
    x = tt.ones(3, requires_grad=True)
    with tt.no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y._ctx is None
    with tt.inference_mode():
        assert not tt.is_grad_enabled()
        assert (x + 1)._ctx is None
    assert tt.is_grad_enabled()

    @tt.no_grad()
    def decorated():
        return x * 2
    assert decorated()._ctx is None and tt.is_grad_enabled()


def test_set_grad_enabled_and_enable_grad():
    x = tt.ones(2, requires_grad=True)
    with tt.set_grad_enabled(False):
        assert (x * 2)._ctx is None
        with tt.enable_grad():
            assert (x * 2).requires_grad
    assert tt.is_grad_enabled()


def test_graph_is_freed_after_backward():
    x = tt.ones(3, requires_grad=True)
    hidden = x * 2
    loss = (hidden * hidden).sum()
    loss.backward()
    assert hidden._ctx[0] == () and loss._ctx[0] == ()  # parents dropped: intermediates can be collected
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_allows_second_backward():
    x = tt.ones(3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 4.0, 4.0])


def test_backward_needs_scalar_or_gradient():
    x = tt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(tt.ones(3))
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0, 2.0])


def test_detach_and_non_grad_inputs_get_no_grad():
    x = tt.ones(2, requires_grad=True)
    constant = tt.ones(2)
    (x.detach() * x + constant).sum().backward()
    assert constant.grad is None
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])


def test_float16_gradients_stay_float16():
    x = tt.tensor(np.ones(3), dtype=tt.float16, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == np.float16


def test_deep_graph_does_not_hit_recursion_limit():
    x = tt.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
