"""Fusion: BatchNorm folding and fuse_modules against torch.ao.quantization.fuse_modules; fused modules equal the
unfused layers (outputs and, with autograd, gradients)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.quantization as tq
from tinytorch import nn
from tinytorch.nn import spatial
from tinytorch.nn.intrinsic import ConvReLU2d, LinearReLU


def with_statistics(norm, rng):
    """A BatchNorm whose running statistics and affine parameters are far from the identity."""
    features = norm.num_features
    norm.running_mean.data[:] = rng.standard_normal(features).astype(np.float32)
    norm.running_var.data[:] = rng.uniform(0.5, 2.0, features).astype(np.float32)
    norm.weight.data[:] = rng.uniform(0.5, 1.5, features).astype(np.float32)
    norm.bias.data[:] = rng.standard_normal(features).astype(np.float32)
    return norm


def conv_block(rng, bias=True):
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=bias), with_statistics(nn.BatchNorm2d(6), rng),
                         nn.ReLU(), nn.Flatten(), nn.Linear(6 * 25, 8), with_statistics(nn.BatchNorm1d(8), rng),
                         nn.Linear(8, 4), nn.ReLU()).eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_modules_matches_torch_state_and_outputs(bias, oracle, rng):
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from torch.ao.quantization import fuse_modules as torch_fuse  # noqa: PLC0415
    torch = oracle.torch
    mine = conv_block(rng, bias)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1, bias=bias), torch.nn.BatchNorm2d(6),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(6 * 25, 8),
                                 torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 4), torch.nn.ReLU()).eval()
    oracle.copy_weights(mine, theirs)
    groups = [["0", "1", "2"], ["4", "5"], ["6", "7"]]
    fused, tfused = tq.fuse_modules(mine, groups), torch_fuse(theirs, groups)
    assert isinstance(fused[0], ConvReLU2d) and isinstance(fused[6], LinearReLU) and type(fused[4]) is nn.Linear
    assert [type(m).__name__ for m in fused] == [type(m).__name__ for m in tfused]
    ours, reference = fused.state_dict(), tfused.state_dict()
    assert list(ours) == list(reference)
    for key in ours:
        oracle.close(ours[key], reference[key], atol=1e-6, rtol=1e-5)
    x = rng.standard_normal((7, 3, 5, 5)).astype(np.float32)
    with tt.no_grad():
        expected = mine(tt.tensor(x)).data
        np.testing.assert_allclose(fused(tt.tensor(x)).data, expected, atol=1e-5, rtol=1e-5)
    oracle.close(fused(tt.tensor(x)), tfused(torch.tensor(x)), atol=1e-5, rtol=1e-5)
    assert type(mine[0]) is nn.Conv2d  # not in place by default


@pytest.mark.parametrize("chunk_elements", [1, 1 << 12, 1 << 18])  # one image per chunk, a few, all at once
def test_fused_conv_relu_kernel_is_exact_for_any_geometry(chunk_elements, monkeypatch, rng):
    """The fused module runs conv2d's own forward (channels-first and channels-last patches alike), rectifying each
    chunk: bit-equal to the pair, whatever the chunking."""
    monkeypatch.setattr(spatial, "_PATCH_CHUNK_ELEMENTS", chunk_elements)
    for conv in (nn.Conv2d(3, 5, 3, padding=1), nn.Conv2d(3, 5, (3, 2), stride=2, padding=(1, 0), bias=False),
                 nn.Conv2d(2, 4, 1), nn.Conv2d(16, 6, 3, padding=1), nn.Conv2d(12, 4, 2, stride=2, bias=False)):
        fused = ConvReLU2d(conv, nn.ReLU())
        x = tt.tensor(rng.standard_normal((70, conv.in_channels, 9, 8)).astype(np.float32))
        with tt.no_grad():
            out = fused(x).data
            np.testing.assert_array_equal(out, conv(x).relu().data)
        assert out.flags["C_CONTIGUOUS"] and (out >= 0).all() and (out == 0).any()
    assert spatial._channels_last(16, 8) and not spatial._channels_last(3, 8)  # both layouts were exercised


def test_fused_modules_backpropagate_like_the_pair(rng):
    conv = nn.Conv2d(2, 3, 3)
    fused = ConvReLU2d(conv, nn.ReLU())
    x = tt.tensor(rng.standard_normal((2, 2, 5, 5)).astype(np.float32), requires_grad=True)
    fused(x).sum().backward()
    fused_grads = (x.grad.data.copy(), conv.weight.grad.data.copy())
    x.grad = None
    conv.zero_grad()
    conv(x).relu().sum().backward()
    np.testing.assert_array_equal(fused_grads[0], x.grad.data)
    np.testing.assert_array_equal(fused_grads[1], conv.weight.grad.data)


def test_fusion_then_quantization_and_observers_see_the_fused_layers(rng):
    model = tt.models.BaselineCNN(1, 10, 12).eval()
    fused = tq.fuse_modules(model, [["features.0", "features.1"], ["classifier.1", "classifier.2"]])
    x = tt.tensor(rng.random((4, 1, 12, 12)).astype(np.float32))
    quantized = tq.convert(tq.calibrate(tq.prepare(fused), [x]))  # observers inside fused modules get data
    np.testing.assert_allclose(quantized(x).data, model(x).data, atol=0.1)
    assert np.abs(tq.quantize_dynamic(fused, {nn.Linear, nn.Conv2d})(x).data - model(x).data).max() < 0.1


def test_fusion_errors_are_clear(rng):
    model = conv_block(rng)
    with pytest.raises(ValueError, match="cannot fuse Conv2d \\+ Flatten"):
        tq.fuse_modules(model, ["0", "3"])
    with pytest.raises(ValueError, match="no submodule '9'"):
        tq.fuse_modules(model, ["9", "1"])
    with pytest.raises(ValueError, match="needs eval mode"):
        tq.fuse_modules(model.train(), [["0", "1"]])
    with pytest.raises(TypeError, match="fuses Conv2d \\+ ReLU"):
        ConvReLU2d(nn.Linear(2, 2), nn.ReLU())
