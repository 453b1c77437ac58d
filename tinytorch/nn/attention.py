"""MultiheadAttention with PyTorch's signature and parameters (packed ``in_proj_weight`` (3E, E), ``in_proj_bias``,
``out_proj``). The forward pass reads as four steps: in-projection, split heads, attention, out-projection.

When the attention weights are not returned and no dropout applies (``need_weights=False``, as in
TransformerEncoderLayer), the attention step is one fused autograd op with a hand-written backward that keeps only
the exponentiated scores: ``F.attention``'s result up to float rounding, fewer (L, L) passes. For self-attention the op
(`fused_self_attention`) also splits and merges the heads of the packed in-projection, so its gradient is one
packed array; otherwise `fused_attention` takes q, k, v."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, tensor_op
from . import functional as F
from . import init
from .linear import Linear
from .module import Module, Parameter


class _AttentionCore:
    """softmax(q k^T / sqrt(d) + mask) v on (..., L, d) arrays with the arithmetic of ``F.attention``, except that
    the row normalisation is applied to (L, d) arrays instead of the (L, L) scores: it keeps E = exp(S - rowmax)
    and r = 1 / rowsum(E), so P = r E and out = r (E V). Backward with D = rowsum(g * out) (= rowsum(dP * P)) and
    the scale s = 1 / sqrt(d) folded into the (L, d) gradient: dV = E^T (r g); s dS = E ((s r g) V^T - s D);
    dQ = (s dS) K; dK = (s dS)^T Q.

    Only the unscaled queries are kept, and ``out`` and the gradients may be views into the caller's arrays
    (matmul's ``out=``): fewer bytes held from the forward to the backward (fresh pages on the next step) and no
    copies into strided views (measured)."""

    def __init__(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
                 out: np.ndarray | None = None) -> None:
        self.scale = q.dtype.type(1.0 / np.sqrt(q.shape[-1]))
        self.q, self.k, self.v = q, k, v
        exps = (q * self.scale) @ np.swapaxes(k, -1, -2)
        if mask is not None:
            exps += mask
        exps -= exps.max(axis=-1, keepdims=True)
        np.exp(exps, out=exps)
        self.exps = exps
        self.inv_sums = np.reciprocal(exps.sum(axis=-1, keepdims=True))
        self.out = np.matmul(exps, v, out=out)
        self.out *= self.inv_sums

    def backward(self, g: np.ndarray, grad_q: np.ndarray | None = None, grad_k: np.ndarray | None = None,
                 grad_v: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dQ, dK, dV), each written into the given array if there is one."""
        g_scores = g * (self.inv_sums * self.scale)
        grad_scores = g_scores @ np.swapaxes(self.v, -1, -2)  # r dP / sqrt(d), turned into dS / sqrt(d) in place
        grad_scores -= np.einsum("...ld,...ld->...l", g_scores, self.out)[..., None]
        grad_scores *= self.exps
        return (np.matmul(grad_scores, self.k, out=grad_q),
                np.matmul(np.swapaxes(grad_scores, -1, -2), self.q, out=grad_k),
                np.matmul(np.swapaxes(self.exps, -1, -2), g * self.inv_sums, out=grad_v))


def fused_attention(query: Tensor, key: Tensor, value: Tensor, mask: np.ndarray | None = None) -> Tensor:
    """``F.attention(query, key, value, mask)[0]`` as one autograd op (no weights returned, no dropout)."""
    core = _AttentionCore(query.data, key.data, value.data, mask)
    return tensor_op(core.out, (query, key, value), core.backward)


# Causal self-attention runs in this many query blocks, each over only the keys up to its last query: 4 blocks
# do (4 + 1) / 8 of the (L, L) work. Shorter sequences attend in one block: more blocks mean more calls, which
# only the (L, L) work they save can repay. (TinyGPT training step, L = 256, A/B in one process: 1, 2, 4, 8 blocks
# 260, 245, 235, 238 ms.)
_CAUSAL_BLOCKS = 4
_MIN_SPLIT_LENGTH = 64
# Samples attend in groups whose largest block of scores stays within this many bytes (the L2 cache: whole-batch
# blocks are slower, and every group costs ~20 NumPy calls a block). TinyGPT training step, A/B in one process:
# groups of 2 and 4 samples (1 MiB) 0.987x, 0.986x / 0.994x the time of one sample at a time, 8 samples 1.003x.
_GROUP_BYTES = 1 << 20


def _causal_stops(mask: np.ndarray | None, length: int) -> list[int]:
    """Query block ends s_1 < ... < s_B = length such that the queries before s_b see no key from s_b on (a causal
    mask): block b then needs only the first s_b keys. ``[length]`` (one block) when the mask does not allow it."""
    if mask is None or length < _MIN_SPLIT_LENGTH or mask.shape[-2:] != (length, length):
        return [length]
    stops = [length * b // _CAUSAL_BLOCKS for b in range(1, _CAUSAL_BLOCKS)]
    if all(np.isneginf(mask[..., :stop, stop:]).all() for stop in stops):
        return stops + [length]
    return [length]


def _group_cores(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, stops: list[int],
                 out: np.ndarray) -> list[tuple[slice, int, _AttentionCore]]:
    """(query rows, key stop, core) blocks of a group of samples' attention, each writing its rows of ``out``."""
    blocks, start = [], 0
    for stop in stops:
        block_mask = None if mask is None else mask[..., start:stop, :stop]
        blocks.append((slice(start, stop), stop, _AttentionCore(q[..., start:stop, :], k[..., :stop, :],
                                                                v[..., :stop, :], block_mask,
                                                                out[..., start:stop, :])))
        start = stop
    return blocks


def _group_grads(heads_view: np.ndarray, i: slice, blocks: list, g_heads: np.ndarray) -> None:
    """Write the (dQ, dK, dV) of the samples ``i`` into the packed (3, N, heads, L, head_dim) gradient. The last block
    sees every key: its matmuls write straight into the gradient, and the earlier blocks add to their keys."""
    *earlier, (rows, stop, core) = blocks
    core.backward(g_heads[i, :, rows], heads_view[0, i, :, rows], heads_view[1, i, :, :stop],
                  heads_view[2, i, :, :stop])
    for rows, stop, core in reversed(earlier):
        _, grad_k, grad_v = core.backward(g_heads[i, :, rows], heads_view[0, i, :, rows])
        heads_view[1, i, :, :stop] += grad_k
        heads_view[2, i, :, :stop] += grad_v


def fused_self_attention(qkv: Tensor, num_heads: int, mask: np.ndarray | None = None) -> Tensor:
    """Packed (N, L, 3E) in-projection output -> attended (N, L, E), heads split and merged inside one op.

    The blocks write straight into the merged (N, L, E) result; the gradient comes back as one packed (N, L, 3E)
    array: no per-slice zero-filled gradients to sum.
    """
    n, length, packed = qkv.shape
    head_dim = packed // (3 * num_heads)
    q, k, v = qkv.data.reshape(n, length, 3, num_heads, head_dim).transpose(2, 0, 3, 1, 4)
    merged = np.empty((n, length, num_heads, head_dim), dtype=qkv.dtype)
    out_heads = merged.transpose(0, 2, 1, 3)  # (N, heads, L, head_dim)
    per_sample = mask is not None and mask.ndim == 4 and mask.shape[0] > 1
    stops = _causal_stops(mask, length)
    block_bytes = num_heads * max(b - a for a, b in zip([0] + stops, stops)) * length * qkv.dtype.itemsize
    group = max(1, _GROUP_BYTES // max(block_bytes, 1))
    groups = [slice(i, i + group) for i in range(0, n, group)]
    cores = [_group_cores(q[i], k[i], v[i], mask[i] if per_sample else mask, stops, out_heads[i]) for i in groups]

    def backward(g: np.ndarray) -> tuple:
        g_heads = g.reshape(n, length, num_heads, head_dim).transpose(0, 2, 1, 3)
        grad_qkv = np.empty((n, length, 3, num_heads, head_dim), dtype=g.dtype)
        heads_view = grad_qkv.transpose(2, 0, 3, 1, 4)  # (3, N, heads, L, head_dim)
        for i, blocks in zip(groups, cores):
            _group_grads(heads_view, i, blocks, g_heads)
        return (grad_qkv.reshape(n, length, packed),)

    return tensor_op(merged.reshape(n, length, packed // 3), (qkv,), backward)


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
        dropout = self.dropout if self.training else 0.0
        if same == (True, True) and not need_weights and dropout == 0.0:
            n, length, _ = query.shape
            qkv = F.linear(query, self.in_proj_weight, self.in_proj_bias)
            mask = self.attention_mask(attn_mask, key_padding_mask, is_causal, n, length, length, qkv.dtype)
            out = self.out_proj(fused_self_attention(qkv, self.num_heads, mask))
        else:
            q, k, v = self.in_projection(query, key, value)
            q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
            mask = self.attention_mask(attn_mask, key_padding_mask, is_causal, q.shape[0], q.shape[2], k.shape[2],
                                       q.dtype)
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
