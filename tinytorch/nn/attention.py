"""MultiheadAttention with PyTorch's signature and parameters (packed ``in_proj_weight`` (3E, E), ``in_proj_bias``,
``out_proj``). The forward pass reads as four steps: in-projection, split heads, attention, out-projection.

When the attention weights are not returned and no dropout applies (``need_weights=False``, as in
TransformerEncoderLayer), the attention step is one fused autograd op (`fused_attention`) with a hand-written
backward that keeps only the probabilities: same forward arithmetic as ``F.attention``, fewer temporaries."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, tensor_op
from . import functional as F
from . import init
from .linear import Linear
from .module import Module, Parameter


def fused_attention(query: Tensor, key: Tensor, value: Tensor, mask: np.ndarray | None = None) -> Tensor:
    """softmax(q k^T / sqrt(d) + mask) v over the last two dims as one op (the arithmetic of ``F.attention``).

    Backward, with P the probabilities and g the output gradient: dV = P^T g; dP = g V^T;
    dS = P * (dP - rowsum(dP * P)); dQ = dS K / sqrt(d); dK = dS^T (Q / sqrt(d)).
    """
    scale = 1.0 / np.sqrt(query.shape[-1])
    q_scaled = query.data * query.data.dtype.type(scale)
    k, v = key.data, value.data
    probs = q_scaled @ np.swapaxes(k, -1, -2)
    if mask is not None:
        probs += mask
    probs -= probs.max(axis=-1, keepdims=True)
    np.exp(probs, out=probs)
    probs /= probs.sum(axis=-1, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        grad_probs = g @ np.swapaxes(v, -1, -2)
        grad_scores = grad_probs
        grad_scores -= (grad_probs * probs).sum(axis=-1, keepdims=True)
        grad_scores *= probs
        grad_q = (grad_scores @ k) * grad_scores.dtype.type(scale) if query.requires_grad else None
        grad_k = np.swapaxes(grad_scores, -1, -2) @ q_scaled if key.requires_grad else None
        grad_v = np.swapaxes(probs, -1, -2) @ g if value.requires_grad else None
        return grad_q, grad_k, grad_v

    return tensor_op(probs @ v, (query, key, value), backward)


class MultiheadAttention(Module):
    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype: np.dtype = np.float32) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        self.register_parameter("in_proj_bias", Parameter(np.empty(3 * embed_dim, dtype=dtype)) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    # ---- the four steps -----------------------------------------------------------------------------------------

    def in_projection(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(N, L, E) inputs -> q, k, v (N, L, E); self-attention uses one packed GEMM."""
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            n, length, e = query.shape
            qkv = F.linear(query, w, b).reshape(n, length, 3, e)
            return qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        e = self.embed_dim
        parts = [(w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e]) for i in range(3)]
        return tuple(F.linear(x, wi, bi) for x, (wi, bi) in zip((query, key, value), parts))  # type: ignore

    def split_heads(self, x: Tensor) -> Tensor:
        """(N, L, E) -> (N, heads, L, head_dim)."""
        n, length, _ = x.shape
        return x.reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """(N, heads, L, head_dim) -> (N, L, E)."""
        n, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(n, length, self.embed_dim)

    def attention_mask(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool,
                       batch: int, queries: int, keys: int, dtype: np.dtype) -> np.ndarray | None:
        """One additive mask broadcastable to (N, heads, L, S); boolean masks mark positions NOT to attend."""
        mask = F.additive_mask(attn_mask, True, dtype)
        if mask is not None and mask.ndim == 3:
            mask = mask.reshape(batch, self.num_heads, queries, keys)
        if mask is None and is_causal:
            mask = F.causal_mask(queries, keys, dtype)
        padding = F.additive_mask(key_padding_mask, True, dtype)
        if padding is not None:
            padding = padding.reshape(batch, 1, 1, keys)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Inputs (L, N, E), or (N, L, E) with ``batch_first``, or unbatched (L, E) -> (output, weights | None)."""
        batched = query.ndim == 3
        same = (query is key, key is value)
        if not batched:
            query, key, value = (x.unsqueeze(0) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if same == (True, True):
            key = value = query
        q, k, v = self.in_projection(query, key, value)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        mask = self.attention_mask(attn_mask, key_padding_mask, is_causal, q.shape[0], q.shape[2], k.shape[2],
                                   q.dtype)
        dropout = self.dropout if self.training else 0.0
        if need_weights or dropout > 0.0:
            attended, weights = F.attention(q, k, v, mask, dropout)
        else:
            attended = fused_attention(q, k, v, mask)
        out = self.out_proj(self.merge_heads(attended))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = weights.mean(dim=1) if average_attn_weights else weights
        return out, weights if batched else weights.squeeze(0)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
