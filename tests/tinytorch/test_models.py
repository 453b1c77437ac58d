"""Reference models against their PyTorch twins: shapes, parameter counts, state_dict keys, logits, KV cache."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.models import GPT, MLP, BaselineCNN, KVCache
from tinytorch.models import torch_twins

torch = pytest.importorskip("torch")

SMALL_GPT = {"vocab_size": 11, "context_length": 16, "d_model": 32, "n_heads": 4, "n_layers": 2, "dropout": 0.0}


def _shapes(state) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def _logits(model, x) -> np.ndarray:
    with tt.no_grad():
        return model(x if isinstance(x, np.ndarray) and x.dtype == np.int64 else tt.from_numpy(x)).data


@pytest.mark.parametrize("build, twin, x_shape", [
    (lambda: MLP(), torch_twins.torch_mlp, (5, 1, 28, 28)),
    (lambda: BaselineCNN(3, 10, 32), lambda: torch_twins.torch_baseline_cnn(3, 10, 32), (4, 3, 32, 32)),
    (lambda: BaselineCNN(1, 10, 28), lambda: torch_twins.torch_baseline_cnn(1, 10, 28), (4, 1, 28, 28)),
])
def test_classifier_matches_torch_twin(build, twin, x_shape):
    tt.manual_seed(0)
    model = build().eval()
    reference = twin()
    assert _shapes(model.state_dict()) == _shapes(reference.state_dict())
    assert list(model.state_dict()) == list(reference.state_dict())
    assert sum(p.data.size for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    torch_twins.load_into_torch(reference, model.state_dict())
    x = np.random.default_rng(1).random(x_shape, dtype=np.float32)
    out = _logits(model, x)
    assert out.shape == (x_shape[0], 10)
    np.testing.assert_allclose(out, reference(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_baseline_cnn_sizes():
    assert BaselineCNN(3, 10, 32).classifier[1].weight.shape == (128, 4096)
    assert BaselineCNN(1, 10, 28).classifier[1].weight.shape == (128, 3136)
    with pytest.raises(ValueError, match="divisible by 4"):
        BaselineCNN(3, 10, 30)


def test_gpt_matches_torch_twin():
    tt.manual_seed(0)
    model = GPT(**SMALL_GPT).eval()
    reference = torch_twins.torch_gpt(**SMALL_GPT)
    assert list(model.state_dict()) == list(reference.state_dict())
    assert _shapes(model.state_dict()) == _shapes(reference.state_dict())
    torch_twins.load_into_torch(reference, model.state_dict())
    tokens = np.random.default_rng(2).integers(0, SMALL_GPT["vocab_size"], size=(3, 16))
    out = _logits(model, tokens)
    assert out.shape == (3, 16, SMALL_GPT["vocab_size"])
    with torch.no_grad():
        expected = reference(torch.from_numpy(tokens)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_gpt_is_causal():
    tt.manual_seed(0)
    model = GPT(**SMALL_GPT).eval()
    tokens = np.random.default_rng(3).integers(0, 11, size=(1, 12))
    changed = tokens.copy()
    changed[0, 8:] = (changed[0, 8:] + 1) % 11
    np.testing.assert_allclose(_logits(model, tokens)[:, :8], _logits(model, changed)[:, :8], rtol=1e-5, atol=1e-6)
    assert not np.allclose(_logits(model, tokens)[:, 8:], _logits(model, changed)[:, 8:])


@pytest.mark.parametrize("prompt_len, new_tokens", [(1, 15), (5, 11), (3, 30)])
def test_kv_cache_greedy_equals_no_cache(prompt_len, new_tokens):
    """(3, 30) runs past the 16-token window, where the cache is rebuilt each step."""
    tt.manual_seed(1)
    model = GPT(**SMALL_GPT)
    prompt = np.random.default_rng(4).integers(0, 11, size=(2, prompt_len))
    cached = model.generate(prompt, new_tokens, temperature=0).data
    uncached = model.generate(prompt, new_tokens, temperature=0, use_kv_cache=False).data
    assert cached.shape == (2, prompt_len + new_tokens)
    np.testing.assert_array_equal(cached[:, :prompt_len], prompt)
    np.testing.assert_array_equal(cached, uncached)
    assert model.training, "generate must restore the training mode"


def test_kv_cache_matches_torch_twin_generation():
    tt.manual_seed(2)
    model = GPT(**SMALL_GPT)
    reference = torch_twins.load_into_torch(torch_twins.torch_gpt(**SMALL_GPT), model.state_dict())
    prompt = np.array([[3]])
    expected = reference.generate(torch.from_numpy(prompt), 16).numpy()
    np.testing.assert_array_equal(model.generate(prompt, 16, temperature=0).data, expected)


def test_sampling_is_seeded_and_top_k_restricts():
    tt.manual_seed(0)
    model = GPT(**SMALL_GPT)
    prompt = np.zeros((1, 1), dtype=np.int64)
    first = model.generate(prompt, 10, rng=np.random.default_rng(7)).data
    again = model.generate(prompt, 10, rng=np.random.default_rng(7)).data
    np.testing.assert_array_equal(first, again)
    greedy = model.generate(prompt, 10, temperature=0).data
    np.testing.assert_array_equal(model.generate(prompt, 10, top_k=1).data, greedy)


def test_kv_cache_bookkeeping():
    cache = KVCache(n_layers=2, batch=1, n_heads=2, capacity=4, head_dim=3)
    keys = np.ones((1, 2, 3, 3), dtype=np.float32)
    k, v = cache.append(0, keys, 2 * keys)
    assert k.shape == (1, 2, 3, 3) and float(v.sum()) == 2 * keys.size
    cache.advance(3)
    assert cache.fits(1) and not cache.fits(2)
    with pytest.raises(ValueError, match="capacity"):
        cache.append(1, keys, keys)
    cache.reset()
    assert cache.length == 0 and cache.nbytes == 2 * 2 * 1 * 2 * 4 * 3 * 4


def test_gpt_rejects_bad_input():
    model = GPT(**SMALL_GPT)
    with pytest.raises(ValueError, match="context_length"):
        model(np.zeros((1, 17), dtype=np.int64))
    with pytest.raises(ValueError, match="integer"):
        model(np.zeros((1, 4), dtype=np.float32))
