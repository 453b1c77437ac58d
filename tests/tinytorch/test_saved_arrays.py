"""Ops that overwrite or re-form what they saved for the backward: results must not depend on whether the graph is
retained, and a retained graph must give the same gradients every time."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import autograd
from tinytorch.nn import functional as F
from tinytorch.tensor import tensor_op


def test_releasing_graph_is_true_only_inside_a_backward_that_frees_the_graph(rng):
    seen = []
    x = tt.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    y = tensor_op(x.data * 2, (x,), lambda g: seen.append(autograd.releasing_graph()) or (g * 2,))
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert seen == [False, True]
    assert not autograd.releasing_graph()


def test_releasing_graph_is_restored_when_a_backward_function_raises(rng):
    x = tt.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    y = tensor_op(x.data, (x,), lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert not autograd.releasing_graph()


@pytest.mark.parametrize("op", [
    lambda x: F.gelu(x),
    lambda x: F.layer_norm(x, 6, tt.tensor(np.linspace(0.5, 2, 6, dtype=np.float32), requires_grad=True),
                           tt.tensor(np.linspace(-1, 1, 6, dtype=np.float32), requires_grad=True)),
    lambda x: F.layer_norm(x, 6),
], ids=["gelu", "layer_norm", "layer_norm_no_affine"])
def test_retained_graph_gives_the_same_gradient_every_time(op, oracle, rng):
    data = (rng.standard_normal((4, 6)) * 3).astype(np.float32)
    g = rng.standard_normal((4, 6)).astype(np.float32)
    x = tt.tensor(data, requires_grad=True)
    y = op(x)
    grads = []
    for retain in (True, True, False):
        x.grad = None
        y.backward(g, retain_graph=retain)
        grads.append(x.grad.data.copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], grads[2])
    fresh = tt.tensor(data, requires_grad=True)
    op(fresh).backward(g)
    np.testing.assert_array_equal(fresh.grad.data, grads[0])
