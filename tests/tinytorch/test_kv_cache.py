"""The sliding-window KV cache of GPT.generate: which window each token sees, how often it re-encodes, and that the
cached and cache-free paths agree."""
from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.models import GPT

CONTEXT = 16
SMALL_GPT = {"vocab_size": 11, "context_length": CONTEXT, "d_model": 32, "n_heads": 4, "n_layers": 2}


@pytest.fixture
def model() -> GPT:
    tt.manual_seed(1)
    return GPT(**SMALL_GPT)


def _prompt(length: int) -> np.ndarray:
    return np.random.default_rng(4).integers(0, 11, size=(2, length))


def _greedy_from_windows(model: GPT, prompt: np.ndarray, window_lengths: list[int]) -> np.ndarray:
    """The specification: token i is the argmax of forward() over the last window_lengths[i] tokens."""
    tokens = prompt
    with tt.no_grad():
        for length in window_lengths:
            logits = model.eval()(tokens[:, -length:])[:, -1].data
            tokens = np.concatenate([tokens, logits.argmax(-1)[:, None]], axis=1)
    return tokens


def test_sliding_window_sees_the_documented_windows(model):
    # context 16, reencode_every 4: the prompt (3) grows the window to 16, then it restarts at 12 and grows to 16.
    windows = list(range(3, 17)) + list(range(12, 17)) * 3 + [12, 13]
    expected = _greedy_from_windows(model, _prompt(3), windows)
    got = model.generate(_prompt(3), len(windows), temperature=0, reencode_every=4).data
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("prompt_len", [3, 16, 25])  # shorter than, equal to and longer than the context
@pytest.mark.parametrize("reencode_every", [1, 5, CONTEXT - 1])
def test_cached_and_cache_free_paths_agree(model, prompt_len, reencode_every):
    kwargs = dict(temperature=0, reencode_every=reencode_every)
    cached = model.generate(_prompt(prompt_len), 40, **kwargs).data
    uncached = model.generate(_prompt(prompt_len), 40, use_kv_cache=False, **kwargs).data
    assert cached.shape == (2, prompt_len + 40)
    np.testing.assert_array_equal(cached, uncached)


def test_inside_the_context_the_sliding_window_changes_nothing(model):
    exact = model.generate(_prompt(3), CONTEXT - 3, temperature=0).data
    np.testing.assert_array_equal(model.generate(_prompt(3), CONTEXT - 3, temperature=0, reencode_every=4).data,
                                  exact)


def _fed_lengths(model: GPT, monkeypatch, **kwargs) -> list[int]:
    """Number of tokens fed through the cache at each step."""
    fed: list[int] = []
    original = model._cached_logits

    def spy(tokens, cache):
        fed.append(tokens.shape[1])
        return original(tokens, cache)

    monkeypatch.setattr(model, "_cached_logits", spy)
    model.generate(_prompt(3), 60, temperature=0, **kwargs)
    return fed


def test_sliding_window_re_encodes_once_per_k_plus_one_tokens(model, monkeypatch):
    sliding = _fed_lengths(model, monkeypatch, reencode_every=4)
    assert sliding[0] == 3 and sliding.count(CONTEXT - 4) == len([n for n in sliding if n > 1]) - 1
    past_window = sliding[CONTEXT - 3 + 1:]
    assert past_window == ([CONTEXT - 4] + [1] * 4) * (len(past_window) // 5) + past_window[:len(past_window) % 5]
    exact = _fed_lengths(model, monkeypatch)
    assert exact[CONTEXT - 3 + 1:] == [CONTEXT] * (60 - (CONTEXT - 3 + 1))  # the default: a full window per token


@pytest.mark.parametrize("bad", [0, -1, CONTEXT, 2.5, True, "4"])
def test_bad_reencode_every_is_refused(model, bad):
    with pytest.raises(ValueError, match="reencode_every must be an integer in \\[1, 15\\]"):
        model.generate(_prompt(3), 2, reencode_every=bad)
