"""``tinytorch.nn.functional``: stateless ops with PyTorch names and signatures.

Ops that matter for speed or numerical stability (linear, gelu, norms, dropout, embedding, cross_entropy) are fused:
one NumPy forward and one hand-written gradient rule instead of a chain of small graph nodes.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import random
from ..autograd import is_grad_enabled, releasing_graph
from ..tensor import Tensor, rectified, tensor_op
from .spatial import avg_pool2d, conv2d, max_pool2d

__all__ = ["relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "conv2d", "max_pool2d",
           "avg_pool2d", "dropout", "batch_norm", "layer_norm", "embedding", "cross_entropy", "mse_loss",
           "scaled_dot_product_attention", "erf"]


def _data(x: Tensor | np.ndarray) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _present(*tensors: Tensor | None) -> tuple[Tensor, ...]:
    return tuple([t for t in tensors if t is not None])


# ---- activations ------------------------------------------------------------------------------------------------

def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0). With ``inplace`` the result is written into ``input``'s array (no new array), and, as in
    PyTorch, a leaf that requires grad is refused while grad is recorded. Without a graph to record the result is
    ``input`` itself; with one it is a new tensor on the same array (graph edges point at tensors here: earlier users
    of ``input`` keep their gradient path), so use the returned tensor, as ``x = F.relu(x, inplace=True)`` does.
    There are no version counters: an op that kept ``input``'s array for its backward (PyTorch raises then) would see
    the rectified values."""
    if not inplace:
        return input.relu()
    recording = is_grad_enabled() and input.requires_grad
    if recording and input.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    out = rectified(input.data, out=input.data)
    return tensor_op(out, (input,), lambda g: (g * (out > 0),)) if recording else input


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.log_softmax(dim)


_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)  # a5 .. a1


def _erf_with_gaussian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """erf(x) (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7) and the exp(-x^2) it needs, in ``x``'s dtype.
    Works in place on a few buffers: fresh large arrays cost page faults."""
    magnitude = np.abs(x)
    t = magnitude * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERF_A[0]
    for coefficient in _ERF_A[1:]:
        poly += coefficient
        poly *= t
    gaussian = np.square(magnitude, out=magnitude)
    np.negative(gaussian, out=gaussian)
    np.exp(gaussian, out=gaussian)
    poly *= gaussian
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly), gaussian


def erf(x: np.ndarray) -> np.ndarray:
    """Vectorized error function (NumPy has none), accurate to 1.5e-7."""
    return _erf_with_gaussian(x)[0]


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Elementwise work is done in chunks of this many entries, so that the ~25 passes of the erf GELU stay in the
# L2 cache (64K float32 entries: 1.5x faster than whole 1M-entry arrays, measured; 32K-128K are as fast).
_CHUNK = 1 << 16


def _gelu_erf(x: np.ndarray, with_derivative: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """x * Phi(x) and, if asked, its derivative Phi(x) + x * phi(x), chunk by chunk in ``x``'s dtype.

    Phi(x) = (1 + erf(x / sqrt 2)) / 2 with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): for
    z = |x| / sqrt 2, 1 - erf(z) = poly(t) exp(-z^2) with t = 1 / (1 + p z), so Phi(x) = 1/2 + sign(x) (1/2 - h),
    h = poly(t) exp(-x^2 / 2) / 2 (the 1/2 folded into the coefficients). h <= 1/2, so sign(x) (1/2 - h) flips the
    sign bit of 1/2 - h where x's is set: two SIMD integer passes, 0.26 ns an entry against np.copysign's 0.60.
    """
    bits = np.dtype(f"u{x.dtype.itemsize}")
    sign_bit = bits.type(1 << (8 * x.dtype.itemsize - 1))
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    derivative = np.empty_like(flat) if with_derivative else None
    t, gaussian = np.empty(min(_CHUNK, flat.size), x.dtype), np.empty(min(_CHUNK, flat.size), x.dtype)
    inv_p = x.dtype.type(1.0 / (_ERF_P * math.sqrt(0.5)))  # t = inv_p / (|x| + inv_p): 2 passes, 0.20 ns not 0.36
    half_a = [x.dtype.type(0.5 * a) for a in _ERF_A]
    for start in range(0, flat.size, _CHUNK):
        xs = flat[start:start + _CHUNK]
        ts, gs, cdf = t[:xs.size], gaussian[:xs.size], out[start:start + _CHUNK]
        np.abs(xs, out=gs)
        np.add(gs, inv_p, out=ts)
        np.divide(inv_p, ts, out=ts)
        np.square(gs, out=gs)
        gs *= -0.5
        np.exp(gs, out=gs)  # exp(-x^2 / 2)
        np.multiply(ts, half_a[0], out=cdf)
        for coefficient in half_a[1:]:
            cdf += coefficient
            cdf *= ts
        cdf *= gs  # h
        np.subtract(0.5, cdf, out=cdf)
        np.bitwise_and(xs.view(bits), sign_bit, out=ts.view(bits))
        np.bitwise_xor(cdf.view(bits), ts.view(bits), out=cdf.view(bits))
        cdf += 0.5  # Phi(x)
        if derivative is not None:
            ds = derivative[start:start + _CHUNK]
            np.multiply(xs, x.dtype.type(_INV_SQRT_2PI), out=ds)
            ds *= gs
            ds += cdf
        cdf *= xs
    return out.reshape(x.shape), None if derivative is None else derivative.reshape(x.shape)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact erf form (default, like PyTorch) or ``approximate="tanh"``."""
    x = input.data
    if approximate == "tanh":
        inner = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        out = 0.5 * x * (1.0 + inner)
        def backward(g: np.ndarray) -> tuple:
            d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1.0 + inner) + 0.5 * x * (1.0 - inner * inner) * d_inner),)
    elif approximate == "none":
        out, derivative = _gelu_erf(x, is_grad_enabled() and input.requires_grad)
        def backward(g: np.ndarray) -> tuple:  # into the derivative when it is read for the last time
            return (np.multiply(g, derivative, out=derivative if releasing_graph() else None),)
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return tensor_op(out, (input,), backward)


# ---- linear, dropout, embedding -------------------------------------------------------------------------------------

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with weight (out, in); leading dims are flattened into one GEMM."""
    x, w = input.data, weight.data
    x2 = x.reshape(-1, x.shape[-1])
    out = x2 @ w.T
    if bias is not None:
        out += bias.data

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, w.shape[0])
        grads = ((g2 @ w).reshape(x.shape) if input.requires_grad else None,
                 g2.T @ x2 if weight.requires_grad else None)
        return grads if bias is None else grads + (g2.sum(axis=0) if bias.requires_grad else None,)

    parents = (input, weight) if bias is None else (input, weight, bias)
    return tensor_op(out.reshape(x.shape[:-1] + (w.shape[0],)), parents, backward)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero entries with probability ``p`` (framework RNG) and scale survivors by 1 / (1 - p) when training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    keep = random.generator().random(input.shape, dtype=np.float32) >= p
    mask = keep * np.asarray(0.0 if p == 1.0 else 1.0 / (1.0 - p), dtype=input.dtype)
    return tensor_op(input.data * mask, (input,), lambda g: (g * mask,))


def embedding(input: Tensor | np.ndarray, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` selected by integer ``input``; the ``padding_idx`` row gets no gradient."""
    indices = _data(input)
    table = weight.data

    def backward(g: np.ndarray) -> tuple:
        """Rows of ``g`` summed per index: a stable sort, then one ``np.add.reduceat`` over each index's run
        (3.4x faster than ``np.add.at`` for 2048 lookups into 65 rows, measured; same summation order)."""
        grad = np.zeros_like(table)
        flat = indices.reshape(-1) % table.shape[0]  # negative indices count from the end, as in the forward
        if flat.size:
            order = np.argsort(flat, kind="stable")
            ordered = flat[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            grad[ordered[starts]] = np.add.reduceat(g.reshape(-1, table.shape[1])[order], starts, axis=0)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)

    return tensor_op(table[indices], (weight,), backward)


# ---- normalization ----------------------------------------------------------------------------------------------

def _normalized(centered: np.ndarray, var: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean) / sqrt(var + eps) and 1 / sqrt(var + eps), in the input's dtype."""
    inv_std = np.sqrt(var + eps)
    np.divide(1.0, inv_std, out=inv_std)
    inv_std = inv_std.astype(centered.dtype, copy=False)
    return centered * inv_std, inv_std


def _mean(x: np.ndarray, axes: tuple, count: int) -> np.ndarray:
    """Mean over ``axes`` (keepdims) as one ufunc reduction; np.mean costs several microseconds more per call."""
    total = x.sum(axis=axes, keepdims=True)
    total *= 1.0 / count
    return total


def _normalize_backward(grad_xhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: tuple) -> np.ndarray:
    """Gradient through xhat = (x - mean(x)) / std(x) where the statistics were computed over ``axes``."""
    count = xhat.size // inv_std.size
    mean_grad = _mean(grad_xhat, axes, count)
    mean_grad_xhat = _mean(grad_xhat * xhat, axes, count)
    return inv_std * (grad_xhat - mean_grad - xhat * mean_grad_xhat)


def _affine(xhat: np.ndarray, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> np.ndarray:
    out = xhat * weight.data.reshape(shape) if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data.reshape(shape)
    return out


def _affine_backward(g: np.ndarray, xhat: np.ndarray, weight: Tensor | None, bias: Tensor | None,
                     shape: tuple, axes: tuple) -> tuple:
    grads = ()
    if weight is not None:
        grads += ((g * xhat).sum(axis=axes).reshape(weight.shape) if weight.requires_grad else None,)
    if bias is not None:
        grads += (g.sum(axis=axes).reshape(bias.shape) if bias.requires_grad else None,)
    return grads


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize over every dim but 1 (channels). Training uses batch statistics and updates the running ones in
    place (unbiased variance, like PyTorch); evaluation uses the running statistics."""
    x = input.data
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        count = x.size // x.shape[1]
        if running_mean is not None:
            running_mean.data *= 1 - momentum
            running_mean.data += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var.data *= 1 - momentum
            running_var.data += momentum * var.reshape(-1) * (count / max(count - 1, 1))
    else:
        mean, var = running_mean.data.reshape(shape), running_var.data.reshape(shape)
    xhat, inv_std = _normalized(x - mean, var, eps)

    def backward(g: np.ndarray) -> tuple:
        grad_xhat = g * weight.data.reshape(shape) if weight is not None else g
        if not input.requires_grad:
            grad_x = None
        elif training:
            grad_x = _normalize_backward(grad_xhat, xhat, inv_std, axes)
        else:
            grad_x = grad_xhat * inv_std
        return (grad_x,) + _affine_backward(g, xhat, weight, bias, shape, axes)

    return tensor_op(_affine(xhat, weight, bias, shape), _present(input, weight, bias), backward)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims (biased variance), then scale and shift.

    Works on the (rows, features) view. Row statistics are matrix-vector products with a ``1 / features`` vector
    (BLAS) or row dot products (`np.einsum`); the backward's column sums are vector products too (BLAS: 4x faster
    than NumPy's ``sum(axis=0)`` over 2048 x 128, measured). Like PyTorch it keeps only the row means and inverse
    deviations for the backward, which centers the input again and folds the inverse deviations into its row and
    column products (one pass fewer than forming xhat): the forward scales and shifts in place, one array instead
    of two, and holds none until the backward (fresh pages otherwise)."""
    x = input.data
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = math.prod(normalized_shape)
    rows = x.reshape(-1, count)
    averager = np.full(count, 1.0 / count, dtype=x.dtype)
    mean = rows @ averager
    out = rows - mean[:, None]
    inv_std = np.einsum("ij,ij->i", out, out)
    inv_std *= x.dtype.type(1.0 / count)
    inv_std += x.dtype.type(eps)
    np.sqrt(inv_std, out=inv_std)
    np.reciprocal(inv_std, out=inv_std)
    out *= inv_std[:, None]
    w = None if weight is None else weight.data.reshape(-1)
    if w is not None:
        out *= w
    if bias is not None:
        out += bias.data.reshape(-1)

    def backward(g: np.ndarray) -> tuple:  # xhat = centered * inv_std, folded into the row and column products
        g_rows = g.reshape(-1, count)
        centered = rows - mean[:, None]
        g_centered = g_rows * centered
        grads: tuple = (None,)
        if weight is not None:
            grads += ((inv_std @ g_centered).reshape(weight.shape) if weight.requires_grad else None,)
        if bias is not None:
            grads += ((np.ones(g_rows.shape[0], g.dtype) @ g_rows).reshape(bias.shape) if bias.requires_grad
                      else None,)
        if input.requires_grad:  # inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * w
            scale = averager if w is None else w * averager
            centered *= ((g_centered @ scale) * inv_std * inv_std)[:, None]
            grad_x = np.positive(g_rows, out=g_centered) if w is None else np.multiply(g_rows, w, out=g_centered)
            grad_x -= (g_rows @ scale)[:, None]
            grad_x -= centered
            grad_x *= inv_std[:, None]
            grads = (grad_x.reshape(x.shape),) + grads[1:]
        return grads

    return tensor_op(out.reshape(x.shape), _present(input, weight, bias), backward)


# ---- losses -------------------------------------------------------------------------------------------------------

def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    diff = input - target
    return _reduce(diff * diff, reduction)


def _class_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim > 2 else x


def _labels(target: np.ndarray, rows: int, class_weight: np.ndarray,
            ignore_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class-index targets -> (labels with ignored entries set to 0, valid mask, per-sample weight: 0 where
    ignored)."""
    labels = target.reshape(-1)
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: class-index targets must be integers, got {target.dtype}")
    if labels.size != rows:
        raise ValueError(f"cross_entropy: {rows} rows of logits but {labels.size} targets (shape {target.shape})")
    valid = labels != ignore_index
    safe = np.where(valid, labels, 0)
    return safe, valid, class_weight[safe] * valid


def _target_coefficients(target: np.ndarray, rows: int, num_classes: int, class_weight: np.ndarray,
                         ignore_index: int, label_smoothing: float, dtype: np.dtype) -> tuple[np.ndarray, float]:
    """Matrix c with loss_i = -sum_c c[i, c] log p[i, c], and the 'mean' denominator (PyTorch's rules)."""
    if target.dtype.kind == "f":  # class probabilities
        probs = _class_last(target).astype(dtype, copy=False)
        probs = (1 - label_smoothing) * probs + label_smoothing / num_classes
        return probs * class_weight, float(probs.shape[0])
    labels, valid, sample_weight = _labels(target, rows, class_weight, ignore_index)
    coefficients = (label_smoothing / num_classes) * class_weight[None, :] * valid[:, None].astype(dtype)
    coefficients[np.arange(labels.size), labels] += (1 - label_smoothing) * sample_weight
    return coefficients, float(sample_weight.sum())


def cross_entropy(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits (N, C) / (N, C, d...) / (C,) against class indices or probabilities.

    Class indices without label smoothing (the common case) take a sparse path: each row's loss reads one log
    probability and its gradient is softmax * weight minus weight at the label, with no (N, C) target matrix
    (forward + backward 2.6x faster than the dense path on TinyGPT's 2048 x 65 logits, measured)."""
    logits, target_data = input.data, _data(target)
    flat = _class_last(logits)
    rows, num_classes = flat.shape
    class_weight = _data(weight).astype(flat.dtype) if weight is not None else np.ones(num_classes, flat.dtype)
    shifted = flat - flat.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1)
    log_total = np.log(total)
    sparse = target_data.dtype.kind != "f" and not label_smoothing
    if sparse:
        labels, _, sample_weight = _labels(target_data, rows, class_weight, ignore_index)
        losses = (log_total - shifted[np.arange(rows), labels]) * sample_weight
        denominator = float(sample_weight.sum())
    else:
        coefficients, denominator = _target_coefficients(target_data, rows, num_classes, class_weight,
                                                         ignore_index, label_smoothing, flat.dtype)
        losses = -(coefficients * (shifted - log_total[:, None])).sum(axis=1)
    if reduction == "none":
        out, scale = losses.reshape(logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()), None
    elif reduction in ("mean", "sum"):
        scale = 1.0 / denominator if reduction == "mean" else 1.0
        out = np.asarray(losses.sum() * scale, dtype=flat.dtype)
    else:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")

    def backward(g: np.ndarray) -> tuple:
        per_row = g.reshape(-1) if scale is None else g * np.asarray(scale, dtype=flat.dtype)
        if sparse:  # (softmax * sum_c coefficients - coefficients) * per_row, coefficients one weight per row
            row_weight = (sample_weight * per_row).astype(flat.dtype, copy=False)
            grad = exp * (row_weight / total)[:, None]
            grad[np.arange(rows), labels] -= row_weight
        else:
            grad = (exp * (coefficients.sum(axis=1) / total)[:, None] - coefficients) * np.reshape(per_row, (-1, 1))
        if logits.ndim == 1:
            return (grad[0],)
        if logits.ndim > 2:
            moved = (logits.shape[0],) + logits.shape[2:] + (num_classes,)
            grad = np.moveaxis(grad.reshape(moved), -1, 1)
        return (grad,)

    return tensor_op(out, (input,), backward)


# ---- attention ----------------------------------------------------------------------------------------------------

def additive_mask(mask: Tensor | np.ndarray | None, blocked_when: bool, dtype: np.dtype) -> np.ndarray | None:
    """A float mask to add to attention scores: boolean masks become 0 / -inf (``blocked_when`` marks the entries
    that may not attend: True for nn.MultiheadAttention masks, False for scaled_dot_product_attention)."""
    if mask is None:
        return None
    mask = _data(mask)
    if mask.dtype == np.bool_:
        return np.where(mask == blocked_when, -np.inf, 0.0).astype(dtype)
    return mask.astype(dtype, copy=False)


def causal_mask(queries: int, keys: int, dtype: np.dtype = np.float32) -> np.ndarray:
    """(queries, keys) additive mask: 0 where query i may see key j (j <= i, aligned at the top-left), else -inf."""
    return np.where(np.tri(queries, keys, dtype=bool), 0.0, -np.inf).astype(dtype)


def attention(query: Tensor, key: Tensor, value: Tensor, mask: np.ndarray | None = None, dropout_p: float = 0.0,
              scale: float | None = None) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale + mask) v over the last two dims; returns (output, attention weights)."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query * scale) @ key.transpose(-2, -1)  # scaling q touches L*d entries instead of L*S
    if mask is not None:
        scores = scores + mask
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """Like PyTorch: a boolean ``attn_mask`` marks the entries that DO take part; a float mask is added."""
    mask = additive_mask(attn_mask, False, query.dtype)
    if is_causal:
        causal = causal_mask(query.shape[-2], key.shape[-2], query.dtype)
        mask = causal if mask is None else mask + causal
    return attention(query, key, value, mask, dropout_p, scale)[0]


# ---- distillation -------------------------------------------------------------------------------------------------

def kl_div(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || model) from log-probabilities ``input``, like ``torch.nn.functional.kl_div``: pointwise
    ``target * (log(target) - input)`` (0 where target is 0), or ``exp(target) * (target - input)`` with
    ``log_target``. ``reduction="batchmean"`` (sum / batch size) is the true KL divergence; ``"mean"`` averages over
    every element, as PyTorch does. The gradient with respect to a zero target is 0 here (PyTorch gives nan)."""
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    if size_average is not None or reduce is not None:
        raise ValueError("kl_div: size_average and reduce are deprecated in PyTorch; use reduction=")
    x, t = input.data, _data(target)
    if x.shape != t.shape:
        raise ValueError(f"kl_div: input shape {x.shape} and target shape {t.shape} differ")
    if log_target:
        weight = np.exp(t)
        pointwise = weight * (t - x)
    else:
        weight = t
        log_t = np.log(np.where(t > 0, t, 1)).astype(x.dtype, copy=False)
        pointwise = t * (log_t - x)

    def backward(g: np.ndarray) -> tuple:
        grad_input = -weight * g if input.requires_grad else None
        if not isinstance(target, Tensor) or not target.requires_grad:
            return (grad_input,) if not isinstance(target, Tensor) else (grad_input, None)
        grad_target = weight * (t - x + 1) * g if log_target else np.where(t > 0, log_t + 1 - x, 0) * g
        return grad_input, grad_target

    parents = (input, target) if isinstance(target, Tensor) else (input,)
    loss = tensor_op(pointwise.astype(x.dtype, copy=False), parents, backward)
    if reduction == "batchmean":
        return loss.sum() * (1.0 / x.shape[0]) if x.ndim else loss.sum()
    return _reduce(loss, reduction)


__all__.append("kl_div")
