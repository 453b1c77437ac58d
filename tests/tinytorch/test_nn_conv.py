"""Conv2d, pools, Flatten, BatchNorm, Dropout against PyTorch (forward, input and parameter gradients)."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F


def _run(oracle, mine, theirs, x_array, atol=1e-5):
    """Forward both modules, backprop a random cotangent, compare output and all gradients."""
    x, tx = oracle.pair(x_array.astype(np.float32))
    out, tout = mine(x), theirs(tx)
    oracle.close(out, tout, atol=atol)
    assert out.dtype == np.float32
    cotangent = np.random.default_rng(5).standard_normal(out.shape).astype(np.float32)
    (out * tt.tensor(cotangent)).sum().backward()
    (tout * oracle.torch.tensor(cotangent)).sum().backward()
    oracle.close(x.grad, tx.grad, atol=atol)
    if list(theirs.parameters()):
        oracle.grads_close(mine, theirs, atol=atol)
    return out


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, padding=1), dict(kernel_size=3, stride=2),
                                    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
                                    dict(kernel_size=1, bias=False), dict(kernel_size=5, stride=3, padding=2)])
def test_conv2d_matches_torch(kwargs, oracle, rng):
    mine, theirs = nn.Conv2d(3, 4, **kwargs), oracle.torch.nn.Conv2d(3, 4, **kwargs)
    oracle.copy_weights(mine, theirs)
    assert mine.weight.shape == tuple(theirs.weight.shape)
    _run(oracle, mine, theirs, rng.standard_normal((2, 3, 9, 8)), atol=1e-4)


def test_conv2d_init_bounds():
    conv = nn.Conv2d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 9)
    assert conv.weight.shape == (16, 8, 3, 3)
    assert 0.8 * bound < np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound


@pytest.mark.parametrize("pool", ["MaxPool2d", "AvgPool2d"])
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2), dict(kernel_size=1),
                                    dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=(2, 3), stride=(2, 1))])
def test_pools_match_torch(pool, kwargs, oracle, rng):
    _run(oracle, getattr(nn, pool)(**kwargs), getattr(oracle.torch.nn, pool)(**kwargs),
         rng.standard_normal((2, 3, 8, 7)))


def test_max_pool_ties_send_gradient_to_first_maximum(oracle):
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)  # every window is a tie (like ReLU outputs)
    _run(oracle, nn.MaxPool2d(2), oracle.torch.nn.MaxPool2d(2), x)
    _run(oracle, nn.MaxPool2d(3, 1), oracle.torch.nn.MaxPool2d(3, 1), x)



@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=1), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=(2, 3), stride=(2, 1))])
def test_max_pool_without_autograd_matches_torch(kwargs, oracle, rng, monkeypatch):
    """Without autograd the pool takes rows first; one sample per chunk crosses every chunk boundary."""
    from tinytorch.nn import spatial

    monkeypatch.setattr(spatial, "_POOL_CHUNK_ELEMENTS", 1)
    x = rng.standard_normal((3, 2, 8, 7)).astype(np.float32)
    with tt.no_grad():
        out = nn.MaxPool2d(**kwargs)(tt.tensor(x))
    oracle.close(out, oracle.torch.nn.MaxPool2d(**kwargs)(oracle.torch.tensor(x)))

def test_flatten_and_cnn_stack(oracle, rng):
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(3, 8, 3, padding=1), n.ReLU(), n.MaxPool2d(2), n.Conv2d(8, 8, 3, padding=1),
                            n.ReLU(), n.MaxPool2d(2), n.Flatten(), n.Linear(8 * 2 * 2, 5))
    mine, theirs = build(tt), build(oracle.torch)
    oracle.copy_weights(mine, theirs)
    _run(oracle, mine, theirs, rng.standard_normal((3, 3, 8, 8)), atol=1e-4)


@pytest.mark.parametrize("module,shape", [("BatchNorm2d", (4, 3, 5, 5)), ("BatchNorm1d", (6, 3)),
                                          ("BatchNorm1d", (4, 3, 7))])
def test_batch_norm_train_and_eval_match_torch(module, shape, oracle, rng):
    mine, theirs = getattr(nn, module)(3), getattr(oracle.torch.nn, module)(3)
    with tt.no_grad():
        mine.weight.data[:] = rng.random(3) + 0.5
        mine.bias.data[:] = rng.standard_normal(3)
    oracle.copy_weights(mine, theirs)
    for _ in range(2):  # training: batch statistics, running statistics updated
        mine.zero_grad()
        theirs.zero_grad()
        _run(oracle, mine, theirs, rng.standard_normal(shape) * 2 + 1, atol=1e-4)
    for name, buffer in mine.named_buffers():
        oracle.close(buffer, dict(theirs.named_buffers())[name])
    assert mine.num_batches_tracked.item() == 2
    mine.eval()
    theirs.eval()
    mine.zero_grad()
    theirs.zero_grad()
    _run(oracle, mine, theirs, rng.standard_normal(shape), atol=1e-4)
    assert mine.num_batches_tracked.item() == 2


def test_batch_norm_state_dict_matches_torch(oracle):
    mine, theirs = nn.BatchNorm2d(4), oracle.torch.nn.BatchNorm2d(4)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [p for p, _ in mine.named_parameters()] == ["weight", "bias"]
    assert mine.state_dict()["num_batches_tracked"].dtype == np.int64


def test_batch_norm_momentum_none_is_cumulative(oracle, rng):
    mine, theirs = nn.BatchNorm2d(2, momentum=None), oracle.torch.nn.BatchNorm2d(2, momentum=None)
    for _ in range(3):
        x = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
        mine(tt.tensor(x))
        theirs(oracle.torch.tensor(x))
    oracle.close(mine.running_var, theirs.running_var)


def test_dropout_train_eval_and_scaling():
    tt.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tt.ones(10000, requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert 0.72 < kept.mean() < 0.78
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.where(kept, 1 / 0.75, 0))
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).data == 0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_conv_padding_strings_and_unsupported_options(oracle, rng):
    mine, theirs = nn.Conv2d(2, 3, 5, padding="same"), oracle.torch.nn.Conv2d(2, 3, 5, padding="same")
    oracle.copy_weights(mine, theirs)
    _run(oracle, mine, theirs, rng.standard_normal((1, 2, 6, 6)), atol=1e-4)
    assert nn.Conv2d(2, 3, 3, padding="valid").padding == (0, 0)
    for kwargs in (dict(groups=2), dict(dilation=2), dict(padding_mode="reflect")):
        with pytest.raises(NotImplementedError):
            nn.Conv2d(2, 4, 3, **kwargs)
    with pytest.raises(NotImplementedError):
        nn.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(NotImplementedError):
        nn.AvgPool2d(2, count_include_pad=False)


def test_chunked_patches_equal_a_single_pass(monkeypatch, oracle, rng):
    from tinytorch.nn import spatial
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = tt.tensor(rng.standard_normal((5, 3, 6, 6)).astype(np.float32))
    with tt.no_grad():
        whole = conv(x).data
        monkeypatch.setattr(spatial, "_PATCH_CHUNK_ELEMENTS", 28 * 36 * 2)  # two images per chunk, 1 in the last
        chunked = conv(x)
    assert chunked._ctx is None and chunked.data.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(chunked.data, whole, rtol=1e-6, atol=1e-6)
    theirs = oracle.torch.nn.Conv2d(3, 4, 3, padding=1)
    oracle.copy_weights(conv, theirs)
    _run(oracle, conv, theirs, x.data, atol=1e-4)  # the weight gradient rebuilds the patches in the same chunks


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (1, 3)])
def test_input_gradient_in_sample_chunks_equals_torch(stride, padding, oracle, monkeypatch, rng):
    """The input gradient runs a few samples at a time: one sample per chunk here, every boundary crossed."""
    from tinytorch.nn import spatial

    monkeypatch.setattr(spatial, "_GRAD_CHUNK_ELEMENTS", 1)
    mine = nn.Conv2d(3, 4, 3, stride=stride, padding=padding)
    theirs = oracle.torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding)
    oracle.copy_weights(mine, theirs)
    _run(oracle, mine, theirs, rng.standard_normal((3, 3, 7, 6)), atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, padding=1), dict(kernel_size=(2, 3), stride=(2, 1)),
                                    dict(kernel_size=1, bias=False), dict(kernel_size=3, stride=2, padding=3)])
def test_channels_last_patches_match_torch(kwargs, oracle, rng, monkeypatch):
    """More channels than output columns: the patches are built channels-last (pixel rows), in several chunks."""
    from tinytorch.nn import spatial

    monkeypatch.setattr(spatial, "_PATCH_CHUNK_ELEMENTS", 1)  # one image per chunk
    mine, theirs = nn.Conv2d(16, 8, **kwargs), oracle.torch.nn.Conv2d(16, 8, **kwargs)
    oracle.copy_weights(mine, theirs)
    out = _run(oracle, mine, theirs, rng.standard_normal((3, 16, 7, 6)), atol=1e-4)
    assert spatial._channels_last(16, out.shape[3]) and out.data.flags["C_CONTIGUOUS"]
