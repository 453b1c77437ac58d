"""What float32 reordering explains: the reference model run in float32 with, next to every activation, a bound on
how far any honest float32 execution of the same arithmetic can land from the exact (real-number) result.

"The same arithmetic": the shipped weights (dequantized exactly), the reference's layer forms in the reference's
order, in float32 with any summation order, blocking, FMA or fused kernel. Because the reference is itself one such
execution, an honest candidate differs from it by at most twice the bound (runtime.conformance_record).

Model (first order in u = 2^-24, float32's unit roundoff): every rounding error is an independent, mean-zero
variable, so errors add in quadrature; a length-K dot product contributes one sigma of ``sqrt(K) u sum |w||x|`` and
the bound is LAMBDA = 8 sigmas: for K + 1 products, Higham & Mary's probabilistic bound (SIAM J. Sci. Comput. 41,
2019) ``LAMBDA sqrt(K + 1) u sum(|w||x|) + |b|``, which fails with probability below 2 exp(-LAMBDA^2 / 2) ~ 3e-14
per rounding. What is not random rounding -- a quantization code that may round either way, a dynamic scale's own
error -- is carried apart at full size (`w`) and propagated through |W| (worst case). Per layer form (e = sigma of
the input's error, |.| elementwise):

- Linear / Conv2d: ``e_y = sqrt(W^2 e^2 + (sqrt(K + 1) u (|W||x| + |b|))^2) + u |y|``, ``w_y = |W| w``.
- ReLU: unchanged where the output is positive or x + bound > 0, else 0. MaxPool: the window's largest. Flatten,
  Dropout (eval): unchanged. BatchNorm (eval, a x + c per channel): ``|a| e + 4 u (|y| + |a x|)``.
- Quantized input (static qparams shipped, or dynamic from each call's range as tinytorch's dynamic modules do):
  a code may differ from the reference's only where ``x +- bound`` (with the scale's error) straddles a rounding
  boundary; there it is off by one step at most, a rounding error of its own (e = step / LAMBDA: alone, it is
  allowed at full size). A dynamic scale's error (its range ends' bounds / 127) is systematic: w = |code| times it.
- LayerNorm over D features: its Jacobian is ``(I - 11'/D - xhat xhat'/D) / sigma``, so ``e_xhat = sqrt(e^2 +
  mean(e^2) / D + xhat^2 mean(xhat^2 e^2) / D) / sigma`` plus ``sqrt(D) u (mean|x| / sigma + |xhat|) + 3u |xhat|``
  for the mean's and variance's rounding; times |gamma|.
- Attention (head size d, T keys): scores ``sqrt(e_q^2 k^2 + q^2 e_k^2) / sqrt d + sqrt(d) u |q||k| / sqrt d``;
  softmax ``p sqrt(e_s^2 + sum (p e_s)^2) + p (u |s - max s| + sqrt(T) u + 3u)``; output ``sqrt(p^2 e_v^2 +
  e_p^2 v^2) + sqrt(T) u p|v|``. GELU (exact erf form): ``1.13 e + (1e-6 / LAMBDA) |x| + 2u |y|`` (1.13 bounds its
  slope; 1e-6 |x| covers any erf within 2e-6, Abramowitz-Stegun's included). Residual adds: ``e_a + e_b + u |y|``.

Measured (tests/competition/test_conformance_runtime.py): honest float32 executions (tinytorch, PyTorch, fused
kernels) use 1-15 % of the bound on the CNN and about 1 % on the GPT; a CNN computing 52 of its 64 shipped conv2
channels (the rest folded into a bias) lands about 400 bounds away, int8 arithmetic in one GPT layer of a float entry
9-17.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F
from tinytorch.models import GPT

U = 2.0 ** -24
LAMBDA = 8.0
GELU_SLOPE = 1.13  # max |d/dx x Phi(x)| = 1.128...
GELU_EVAL = 1e-6  # |x| times this covers any erf of the exact form within 2e-6


@dataclass(frozen=True)
class InputQuant:
    """How a weight layer's input is quantized: static (shipped scale and zero point) or dynamic (per call)."""

    kind: str  # "static" or "dynamic"
    scale: float = 1.0
    zero_point: int = 0


UINT8 = (0, 255)
DYNAMIC_RANGE = (0, 127)  # tinytorch's dynamic modules: uint8 with reduce_range


@dataclass
class Bounded:
    """float32 values; per element the one-sigma size `e` of the rounding error (independent between elements,
    propagated in quadrature) and a worst-case part `w` (quantization codes that may round either way, a
    dynamic scale's own error: propagated through |W|). The bound is LAMBDA e + w."""

    x: np.ndarray
    e: np.ndarray
    w: np.ndarray | float = 0.0

    def bound(self) -> np.ndarray:
        return LAMBDA * self.e + self.w


def _t(a: np.ndarray) -> tt.Tensor:
    return tt.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _abs32(a: np.ndarray) -> np.ndarray:
    return np.abs(a).astype(np.float32)


SAFETY = 1 + 1e-5  # a bound computed in float32, made safe against its own rounding


def _up(a: tt.Tensor) -> np.ndarray:
    """A bound computed in float32, made safe against its own rounding."""
    return a.numpy().astype(np.float64) * SAFETY


def quantized_input(b: Bounded, q: InputQuant | None) -> Bounded:
    """The input as the integer kernel sees it (dequantized), with its bound. A code may differ from the
    reference's only where x +- bound (and the scale's own error) straddles a rounding boundary: there it may be off
    by a step, a rounding error of its own (it enters e at full size: one step over LAMBDA). A dynamic scale's
    error, (the range ends' bounds) / 127, is the same for every element: it enters w, times |code|."""
    if q is None:
        return b
    x = b.x.astype(np.float64)
    reach = np.broadcast_to(b.bound(), x.shape)
    if q.kind == "static":
        scale, zero, qrange, scale_err = float(q.scale), float(q.zero_point), UINT8, 0.0
    else:
        qrange = DYNAMIC_RANGE
        low, high = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        scale = max((high - low) / 127, float(np.finfo(np.float32).eps))
        zero = float(np.clip(-round(low / scale), *qrange))
        ends = float(reach.flat[int(np.argmax(x))]) + (float(reach.flat[int(np.argmin(x))]) if low < 0 else 0.0)
        scale_err = ends / 127 + 4 * U * scale
        if low < 0 and abs(abs(low / scale) % 1 - 0.5) < 2 * scale_err / scale + 1e-6:
            raise ValueError("a dynamic zero point on a rounding boundary has no bound")
    inv = 1.0 / scale
    codes = np.clip(np.round(x * inv) + zero, *qrange)
    spread = reach * inv + np.abs(x) * inv * (scale_err * inv + 4 * U) + 1e-9
    flips = np.maximum(np.clip(np.round(x * inv + spread) + zero, *qrange) - codes,
                       codes - np.clip(np.round(x * inv - spread) + zero, *qrange))
    values = (codes - zero) * scale
    e = flips * (scale + scale_err) / LAMBDA + U * np.abs(values)
    return Bounded(values.astype(np.float32), e, np.abs(codes - zero) * scale_err if scale_err else 0.0)


def linear(b: Bounded, weight: np.ndarray, bias: np.ndarray | None) -> Bounded:
    y = F.linear(_t(b.x), _t(weight), None if bias is None else _t(bias)).numpy()
    spread = _up(F.linear(_t(b.e * b.e), _t(weight * weight)))
    local = math.sqrt(weight.shape[1] + 1) * U * _up(F.linear(_t(np.abs(b.x)), _t(_abs32(weight)),
                                                              None if bias is None else _t(_abs32(bias))))
    w = _up(F.linear(_t(b.w), _t(_abs32(weight)))) if np.any(b.w) else 0.0
    return Bounded(y, np.sqrt(spread + local ** 2) + U * np.abs(y), w)


def conv2d(b: Bounded, layer: nn.Conv2d) -> Bounded:
    weight, bias = layer.weight.data, None if layer.bias is None else layer.bias.data

    def conv(a: np.ndarray, kernel: np.ndarray, with_bias: np.ndarray | None = None) -> tt.Tensor:
        return F.conv2d(_t(a), _t(kernel), None if with_bias is None else _t(with_bias), layer.stride, layer.padding)

    y = conv(b.x, weight, bias).numpy()
    spread = _up(conv(b.e * b.e, weight * weight))
    k = int(np.prod(weight.shape[1:])) + 1
    local = math.sqrt(k) * U * _up(conv(np.abs(b.x), _abs32(weight), None if bias is None else _abs32(bias)))
    w = _up(conv(np.broadcast_to(b.w, b.x.shape), _abs32(weight))) if np.any(b.w) else 0.0
    return Bounded(y, np.sqrt(spread + local ** 2) + U * np.abs(y), w)


def relu(b: Bounded) -> Bounded:
    """Positive outputs keep their bound; a zero output can be off only where x + bound > 0."""
    y = np.maximum(b.x, 0)
    live = (b.x > 0) | (b.x + b.bound() > 0)
    return Bounded(y, np.where(live, b.e, 0.0), np.where(live, b.w, 0.0))


def max_pool(b: Bounded, layer: nn.Module) -> Bounded:
    def pool(a: np.ndarray) -> tt.Tensor:
        return F.max_pool2d(_t(np.broadcast_to(a, b.x.shape)), layer.kernel_size, layer.stride, layer.padding)
    return Bounded(pool(b.x).numpy(), _up(pool(b.e)), _up(pool(b.w)) if np.any(b.w) else 0.0)


def batch_norm(b: Bounded, layer: nn.Module) -> Bounded:
    shape = (1, -1) + (1,) * (b.x.ndim - 2)
    a = np.abs(layer.weight.data / np.sqrt(layer.running_var.data + layer.eps)).astype(np.float64).reshape(shape)
    with tt.no_grad():
        y = layer(_t(b.x)).numpy()
    return Bounded(y, a * b.e + 4 * U * (np.abs(y) + a * np.abs(b.x)), a * b.w)


def _flat(b: Bounded) -> Bounded:
    n = len(b.x)
    return Bounded(b.x.reshape(n, -1), b.e.reshape(n, -1), np.broadcast_to(b.w, b.x.shape).reshape(n, -1))


def sequential(model: nn.Module, x: np.ndarray, quant: dict[str, InputQuant]) -> Bounded:
    """A CNN or MLP (modules applied in registration order, as both reference models do): logits and bounds
    (Bounded.bound)."""
    b = Bounded(np.asarray(x, np.float32), np.zeros(np.shape(x)))
    leaves = [(name, m) for name, m in model.named_modules() if name and not m._modules]
    if leaves and isinstance(leaves[0][1], nn.Linear) and b.x.ndim > 2:
        b = _flat(b)
    for name, layer in leaves:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            b = quantized_input(b, quant.get(name))
        b = _layer(b, layer)
    return b


def _layer(b: Bounded, layer: nn.Module) -> Bounded:
    if isinstance(layer, nn.Conv2d):
        return conv2d(b, layer)
    if isinstance(layer, nn.Linear):
        return linear(b, layer.weight.data, None if layer.bias is None else layer.bias.data)
    if isinstance(layer, nn.ReLU):
        return relu(b)
    if isinstance(layer, nn.MaxPool2d):
        return max_pool(b, layer)
    if isinstance(layer, nn.Flatten):
        return _flat(b)
    if isinstance(layer, (nn.Dropout, nn.Identity)):
        return b
    if "BatchNorm" in type(layer).__name__:
        return batch_norm(b, layer)
    raise ValueError(f"no float32 bound for layer {type(layer).__name__}")


# ---- GPT: float32 activations only (w stays 0) ---------------------------------------------------------------------

def layer_norm(b: Bounded, norm: nn.LayerNorm) -> Bounded:
    """The Jacobian of (x - mean) / sigma is (I - 11'/D - xhat xhat'/D) / sigma, a projection over sigma."""
    x = b.x.astype(np.float64)
    d = x.shape[-1]
    c = x - x.mean(-1, keepdims=True)
    sigma = np.sqrt((c * c).mean(-1, keepdims=True) + norm.eps)
    xhat = c / sigma
    s2 = b.e ** 2
    spread = np.sqrt(s2 + s2.mean(-1, keepdims=True) / d + xhat ** 2 * (xhat ** 2 * s2).mean(-1, keepdims=True) / d)
    local = math.sqrt(d) * U * (np.abs(x).mean(-1, keepdims=True) / sigma + np.abs(xhat)) + 3 * U * np.abs(xhat)
    gamma = np.abs(norm.weight.data.astype(np.float64))
    with tt.no_grad():
        y = norm(_t(b.x)).numpy()
    return Bounded(y, gamma * (spread / sigma + local) + 2 * U * np.abs(y))


def attention(b: Bounded, attn: nn.Module, heads: int) -> Bounded:
    """Causal scaled dot-product self-attention (in_proj, softmax, out_proj) of norm-first GPT blocks. Values and
    bounds in float32 (a bound's own rounding is a relative 1e-7, covered by SAFETY); the paired products of each
    bound share one matrix product."""
    n, t, c = b.x.shape
    d = c // heads
    qkv = linear(b, attn.in_proj_weight.data, _bias_of(attn, "in_proj_bias"))

    def split(a: np.ndarray) -> list[np.ndarray]:
        a = a.astype(np.float32, copy=False).reshape(n, t, 3, heads, d).transpose(2, 0, 3, 1, 4)
        return list(a)  # q, k, v: (n, heads, t, d)

    (q, k, v), (eq, ek, ev) = split(qkv.x), split(qkv.e)
    masked = np.triu(np.ones((t, t), bool), 1)
    scale = np.float32(1.0 / math.sqrt(d))
    s = q @ k.swapaxes(-1, -2) * scale
    s[..., masked] = -np.inf
    spread = np.concatenate([eq * eq, q * q], -1) @ np.concatenate([k * k, ek * ek], -1).swapaxes(-1, -2)
    es = np.sqrt(spread) * scale + np.float32(math.sqrt(d) * U) * (np.abs(q) @ np.abs(k).swapaxes(-1, -2)) * scale
    shifted = s - s.max(-1, keepdims=True)
    shifted[..., masked] = 0
    es += np.float32(U) * np.abs(s)
    es[..., masked] = 0
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    keys = np.sqrt((~masked).sum(-1, keepdims=True)).astype(np.float32)
    pe = p * es
    ep = p * np.sqrt(es * es + (pe * pe).sum(-1, keepdims=True))
    ep += p * (np.float32(U) * np.abs(shifted) + keys * np.float32(U) + np.float32(3 * U))
    o = p @ v
    eo = np.sqrt(np.concatenate([p * p, ep * ep], -1) @ np.concatenate([ev * ev, v * v], -2))
    eo += keys * np.float32(U) * (p @ np.abs(v)) + np.float32(U) * np.abs(o)
    merged = Bounded(o.transpose(0, 2, 1, 3).reshape(n, t, c),
                     SAFETY * eo.astype(np.float64).transpose(0, 2, 1, 3).reshape(n, t, c))
    return linear(merged, attn.out_proj.weight.data, _bias_of(attn.out_proj, "bias"))


def gelu(b: Bounded) -> Bounded:
    y = F.gelu(_t(b.x)).numpy()
    return Bounded(y, GELU_SLOPE * b.e + GELU_EVAL / LAMBDA * np.abs(b.x) + 2 * U * np.abs(y))


def _add(a: Bounded, b: Bounded) -> Bounded:
    y = a.x + b.x
    return Bounded(y, a.e + b.e + U * np.abs(y))


def gpt(model: GPT, tokens: np.ndarray) -> Bounded:
    """(B, T) ids, T <= context -> (B, T, vocab) logits of the reference GPT and their bounds (Bounded.bound)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer) or tokens.shape[1] > model.context_length:
        raise ValueError(f"GPT: token ids must be (batch, time <= {model.context_length}), got {tokens.shape}")
    vocab = model.tok_emb.weight.shape[0]
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
        raise ValueError(f"GPT: token ids must lie in [0, {vocab})")
    x = model.tok_emb.weight.data[tokens] + model.pos_emb.weight.data[np.arange(tokens.shape[1])]
    b = Bounded(x, U * np.abs(x.astype(np.float64)))
    for block in model.blocks:
        b = _add(b, attention(layer_norm(b, block.norm1), block.self_attn, model.n_heads))
        hidden = gelu(linear(layer_norm(b, block.norm2), block.linear1.weight.data,
                                       _bias_of(block.linear1, "bias")))
        b = _add(b, linear(hidden, block.linear2.weight.data, _bias_of(block.linear2, "bias")))
    return linear(layer_norm(b, model.ln_f), model.head.weight.data, _bias_of(model.head, "bias"))


def _bias_of(layer: nn.Module, name: str) -> np.ndarray | None:
    bias = getattr(layer, name, None)
    return None if bias is None else bias.data
