"""TinyGPT: a character-level decoder-only transformer built from norm-first ``nn.TransformerEncoderLayer`` blocks.

The module tree (and so ``state_dict()``) equals PyTorch's for the same construction:
``tok_emb``, ``pos_emb``, ``blocks.<i>.{self_attn.in_proj_weight, self_attn.out_proj, linear1, linear2, norm1,
norm2}``, ``ln_f``, ``head``. :meth:`GPT.generate` decodes with a :class:`KVCache` that reuses each layer's attention
parameters; with greedy decoding it yields exactly the tokens of the cache-free path (for the same
``reencode_every``; see :meth:`GPT.generate` for what the sliding window changes past the context length).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import init
from tinytorch.nn import functional as F
from tinytorch.random import generator

from .kv_cache import KVCache


@lru_cache(maxsize=8)
def _causal_mask(queries: int, keys: int) -> np.ndarray:
    """Float mask (queries, keys): 0 where query i (the last ``queries`` of ``keys`` positions) may look, -inf after."""
    allowed = np.tril(np.ones((queries, keys), dtype=bool), k=keys - queries)
    mask = np.where(allowed, 0.0, -np.inf).astype(np.float32)
    mask.setflags(write=False)
    return mask


def _index_array(idx: tt.Tensor | np.ndarray) -> np.ndarray:
    """(B, T) integer token ids as an int64 array."""
    array = np.asarray(idx.data if isinstance(idx, tt.Tensor) else idx)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"GPT: token ids must be a (batch, time) integer array, got {array.dtype} {array.shape}")
    return array.astype(np.int64, copy=False)


class GPT(nn.Module):
    """Token + learned position embeddings, ``n_layers`` causal norm-first encoder layers, final LayerNorm, head."""

    def __init__(self, vocab_size: int, context_length: int = 256, d_model: int = 128, n_heads: int = 4,
                 n_layers: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"GPT: d_model={d_model} must be divisible by n_heads={n_heads}")
        self.context_length = context_length
        self.n_heads = n_heads
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context_length, d_model)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(n_layers)
        ])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        for embedding in (self.tok_emb, self.pos_emb):
            init.normal_(embedding.weight, std=0.02)  # GPT-2 init: keeps the residual stream small at the start

    def forward(self, idx: tt.Tensor | np.ndarray) -> tt.Tensor:
        """(B, T) token ids, T <= context_length -> (B, T, vocab) next-token logits."""
        tokens = _index_array(idx)
        t = tokens.shape[1]
        if t > self.context_length:
            raise ValueError(f"GPT: sequence length {t} exceeds context_length {self.context_length}")
        x = self.tok_emb(tt.from_numpy(tokens)) + self.pos_emb(tt.from_numpy(np.arange(t)))
        mask = tt.from_numpy(_causal_mask(t, t))
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(x))

    # ---- KV-cached decoding -------------------------------------------------------------------------------------

    def new_cache(self, batch: int) -> KVCache:
        """An empty cache sized for this model's context window."""
        d_model = self.head.weight.shape[1]
        return KVCache(len(self.blocks), batch, self.n_heads, self.context_length, d_model // self.n_heads,
                       dtype=self.head.weight.dtype)

    def _attention_step(self, layer: int, x: tt.Tensor, cache: KVCache) -> tt.Tensor:
        """Self-attention of the new positions in ``x`` over the cached ones plus themselves (eval mode)."""
        block = self.blocks[layer]
        attn = block.self_attn
        b, t, c = x.shape
        head_dim = c // self.n_heads
        qkv = F.linear(block.norm1(x), attn.in_proj_weight, attn.in_proj_bias).data
        q, k, v = qkv.reshape(b, t, 3, self.n_heads, head_dim).transpose(2, 0, 3, 1, 4)
        keys, values = cache.append(layer, k, v)
        scores = (q @ keys.swapaxes(-1, -2)) * np.float32(1.0 / np.sqrt(head_dim))
        if t > 1:
            scores = scores + _causal_mask(t, keys.shape[2])
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        y = (probs @ values).transpose(0, 2, 1, 3).reshape(b, t, c)
        return attn.out_proj(tt.from_numpy(np.ascontiguousarray(y)))

    def _cached_logits(self, tokens: np.ndarray, cache: KVCache) -> np.ndarray:
        """Feed new tokens (B, T) at positions [cache.length, +T); return the last position's logits (B, vocab)."""
        start, t = cache.length, tokens.shape[1]
        x = self.tok_emb(tt.from_numpy(tokens)) + self.pos_emb(tt.from_numpy(np.arange(start, start + t)))
        for layer, block in enumerate(self.blocks):
            x = x + self._attention_step(layer, x, cache)
            x = x + block.linear2(F.gelu(block.linear1(block.norm2(x))))
        cache.advance(t)
        return self.head(self.ln_f(x[:, -1])).data

    def generate(self, idx: tt.Tensor | np.ndarray, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, use_kv_cache: bool = True, rng: np.random.Generator | None = None,
                 reencode_every: int | None = None) -> tt.Tensor:
        """Append ``max_new_tokens`` tokens to ``idx`` (B, T) and return the (B, T + max_new_tokens) int64 tokens.

        ``temperature=0`` (or ``top_k=1``) decodes greedily; otherwise tokens are sampled from
        softmax(logits / temperature) restricted to the ``top_k`` largest, drawing from ``rng`` (default: tinytorch's
        generator, so ``tt.manual_seed`` makes sampling reproducible). With the cache, the prompt is encoded once and
        each step feeds one token.

        Past the context window the position embeddings of every kept token change when the window moves, so
        cached keys/values go stale. ``reencode_every=None`` (the default) re-encodes the last ``context_length``
        tokens for every new token: each token is predicted from exactly the previous ``context_length`` tokens.
        ``reencode_every=k`` (1 <= k < context_length) is the sliding-window cache: when the window is full it
        re-encodes only the last ``context_length - k`` tokens, then appends ``k`` tokens through the cache, so a
        full re-encode happens once per ``k + 1`` tokens. Each token is then predicted from the last m tokens,
        ``context_length - k <= m <= context_length``, exactly as ``forward`` on those m tokens would; the
        cache-free path (``use_kv_cache=False``) follows the same windows, so both give the same tokens.
        """
        tokens = _index_array(idx)
        keep = self._kept_on_reencode(reencode_every)
        rng = rng if rng is not None else generator()
        was_training = self.training
        self.eval()
        try:
            with tt.no_grad():
                cache = self.new_cache(tokens.shape[0]) if use_kv_cache else None
                length, new = 0, min(tokens.shape[1], self.context_length)  # positions held / to add this step
                for _ in range(max_new_tokens):
                    if length + new > self.context_length:
                        length, new = 0, keep
                        if cache is not None:
                            cache.reset()
                    length += new
                    if cache is None:
                        logits = self.forward(tokens[:, -length:])[:, -1].data
                    else:
                        logits = self._cached_logits(tokens[:, -new:], cache)
                    tokens = np.concatenate([tokens, _next_tokens(logits, temperature, top_k, rng)], axis=1)
                    new = 1
        finally:
            self.train(was_training)
        return tt.from_numpy(tokens)

    def _kept_on_reencode(self, reencode_every: int | None) -> int:
        """Tokens re-encoded when the window is full: all of it, or ``context_length - reencode_every``."""
        if reencode_every is None:
            return self.context_length
        if isinstance(reencode_every, bool) or not isinstance(reencode_every, (int, np.integer)) \
                or not 1 <= reencode_every < self.context_length:
            raise ValueError(f"GPT.generate: reencode_every must be an integer in [1, {self.context_length - 1}] "
                             f"(or None to re-encode the window for every token), got {reencode_every!r}")
        return self.context_length - int(reencode_every)


def _next_tokens(logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> np.ndarray:
    """(B, vocab) logits -> (B, 1) chosen token ids."""
    if temperature == 0 or top_k == 1:
        return logits.argmax(axis=-1)[:, None].astype(np.int64)
    scaled = logits.astype(np.float64) / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = np.partition(scaled, -top_k, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled < kth, -np.inf, scaled)
    probs = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    return np.array([[rng.choice(probs.shape[-1], p=row)] for row in probs], dtype=np.int64)
