"""The scatter-free convolution input gradient and the argmax max-pool backward, against PyTorch's autograd."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.nn import functional as F
from tinytorch.nn.spatial import _axis_slices, _input_grad, _running_max


def _torch_grads(torch, x, w, b, g, stride, padding):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    out.backward(torch.tensor(g))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy(), out.detach().numpy()


@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 9, 8), (3, 3), (1, 1), (1, 1)),
    ((2, 3, 9, 8), (3, 3), (2, 2), (0, 0)),     # stride 2: rows/columns not reached by any window get zero
    ((1, 2, 10, 7), (2, 3), (1, 2), (1, 0)),    # rectangular kernel, mixed stride and padding
    ((2, 4, 11, 11), (5, 5), (3, 3), (2, 2)),
    ((1, 2, 5, 6), (2, 2), (1, 1), (3, 2)),     # padding larger than kernel - 1: outputs that see only zeros
    ((3, 5, 6, 6), (1, 1), (1, 1), (0, 0)),
    ((2, 16, 9, 8), (3, 3), (1, 1), (1, 1)),    # 16+ input channels: the channels-last training path
    ((2, 20, 11, 10), (3, 2), (2, 3), (2, 1)),
])
def test_conv_input_and_weight_gradients_equal_torch(shape, kernel, stride, padding, torch, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((4, shape[1]) + kernel).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    tx, tw, tb = (tt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride, padding)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    want_x, want_w, want_b, want_out = _torch_grads(torch, x, w, b, g, stride, padding)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-4, atol=1e-4)
    with tt.no_grad():  # the inference path (chunked, channels-first) computes the same convolution
        np.testing.assert_allclose(F.conv2d(tt.tensor(x), tt.tensor(w), tt.tensor(b), stride, padding).data,
                                   out.data, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tx.grad.data, want_x, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tw.grad.data, want_w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tb.grad.data, want_b, rtol=1e-4, atol=1e-4)
    assert tx.grad.dtype == np.float32 and tx.grad.data.flags.c_contiguous


def test_frozen_weights_or_input_get_no_gradient(rng):
    x = tt.tensor(rng.standard_normal((2, 16, 5, 5)).astype(np.float32), requires_grad=True)
    w = tt.tensor(rng.standard_normal((3, 16, 3, 3)).astype(np.float32))
    F.conv2d(x, w, None, 1, 1).sum().backward()
    assert x.grad is not None and w.grad is None


def test_input_grad_is_the_adjoint_of_the_convolution(rng):
    """<conv(x), g> == <x, input_grad(g)> for any x, g: the defining property, independent of PyTorch."""
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float64)
    w = rng.standard_normal((5, 3, 3, 2)).astype(np.float64)
    out = F.conv2d(tt.tensor(x), tt.tensor(w), None, (2, 1), (1, 1)).data
    g = rng.standard_normal(out.shape)
    grad_x = _input_grad(g, w, x.shape[2:], (2, 1), (1, 1))
    assert np.vdot(out, g) == pytest.approx(np.vdot(x, grad_x), rel=1e-10)


def test_running_max_records_the_first_maximum():
    source = np.array([[[[1, 3, 3, 0], [3, 2, 0, 0], [0, 5, 0, 7]]]], dtype=np.float32)  # ties 3/3, 0/0; a 7
    out, arg = np.empty((1, 1, 3, 2), dtype=np.float32), np.empty((1, 1, 3, 2), dtype=np.uint8)
    _running_max(source, _axis_slices(3, 2, 2, 2), out, arg)
    assert out.tolist() == [[[[3, 3], [3, 0], [5, 7]]]] and arg.tolist() == [[[[1, 0], [0, 0], [1, 1]]]]


@pytest.mark.parametrize("kernel,stride,padding,width", [
    (2, 2, 0, 9), (2, 2, 0, 8), ((2, 3), (2, 3), 0, 9),  # windows that tile the input (width 8 and 9) or not (9)
    (3, 2, 1, 9), (3, 1, 1, 9), ((2, 3), (2, 1), 0, 9), (9, 1, 4, 9)])
def test_max_pool_gradient_equals_torch_with_ties(kernel, stride, padding, width, torch, rng):
    x = np.maximum(rng.standard_normal((2, 3, 10, width)), 0).astype(np.float32)  # ReLU-like: many tied zeros
    x[0, 0, :4, :4] = 1.0
    tx = tt.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, kernel, stride, padding)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(ref, kernel, stride, padding).backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride,
                                                                         padding).numpy())
    np.testing.assert_allclose(tx.grad.data, ref.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (1, 3), ((2, 1), (0, 2))])
@pytest.mark.parametrize("chunk_elements", [1, 600, 1500, 1 << 20])
def test_input_grad_in_uneven_chunks_equals_torch(stride, padding, chunk_elements, torch, rng, monkeypatch):
    """Chunks of one, two or three samples leave a shorter last chunk, whose windows read the grid's spare rows."""
    from tinytorch.nn import spatial

    monkeypatch.setattr(spatial, "_GRAD_CHUNK_ELEMENTS", chunk_elements)
    x = rng.standard_normal((5, 3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.conv2d(tx, torch.tensor(w), None, stride, padding)
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.tensor(g))
    grad_x = _input_grad(g, w, x.shape[2:], spatial._pair(stride), spatial._pair(padding))
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
