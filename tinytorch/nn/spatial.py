"""Image ops on (N, C, H, W) arrays: conv2d, max_pool2d, avg_pool2d.

Conv sees the input through `windows` (im2col as a zero-copy strided view) and copies it, a cache-sized chunk of
samples at a time, into patch matrices with a ones row/column that carries the bias: per-sample (C*kh*kw + 1,
OH*OW) matrices for batched GEMMs that write NCHW directly, or, when channels outnumber output columns, one
channels-last (pixels, kh*kw*C + 1) matrix per chunk (longer copy runs, one larger GEMM). That forward,
`_conv_forward`, is also the fused ``nn.intrinsic.ConvReLU2d``'s, which rectifies each chunk in cache. The input
gradient is a gather, not a scatter: the full correlation of the (stride-dilated, padded) output gradient with the
flipped kernel, computed by `_input_grad` as kh*kw GEMMs on shifted contiguous row blocks of a flat channels-last grid
(no im2col copy, no col2im scatter-add). The pools work on one strided slice per kernel offset (`_offset_slices`):
a loop over kernel offsets, never over pixels or channels; max-pool is separable (columns, then rows) and records each
window's first-maximum offset for its backward.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import is_grad_enabled
from ..tensor import Tensor, rectified, tensor_op

IntPair = int | tuple[int, int]


def _pair(value: IntPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def _pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Pad H and W with ``value`` (a fill + one slice copy; np.pad is several times slower)."""
    if padding == (0, 0):
        return x
    ph, pw = padding
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


def _crop(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]


def windows(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            axes: tuple[int, int] = (2, 3)) -> np.ndarray:
    """im2col as a zero-copy view: (N, C, H, W) -> (N, C, OH, OW, kh, kw); with ``axes=(1, 2)``,
    (N, H, W, C) -> (N, OH, OW, C, kh, kw)."""
    view = sliding_window_view(padded, kernel, axis=axes)
    steps = [slice(None)] * 4
    steps[axes[0]], steps[axes[1]] = slice(None, None, stride[0]), slice(None, None, stride[1])
    return view[tuple(steps)]


def _offset_slices(kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]) -> list[tuple]:
    """For each kernel offset (i, j), row-major: the (N, C, OH, OW) strided slice of the padded input it sees."""
    (sh, sw), (oh, ow) = stride, out_hw
    return [(slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))
            for i in range(kernel[0]) for j in range(kernel[1])]


# Grid entries per chunk of the input gradient: 128 KB of float32, the kh*kw GEMMs and sums stay in L1/L2 (best
# overall of 8K..256K entries on five CNN layer shapes; BaselineCNN conv2, one sample per chunk: 1.35x faster than
# 1 MB chunks, measured).
_GRAD_CHUNK_ELEMENTS = 1 << 15


def _input_grad(g: np.ndarray, w: np.ndarray, input_hw: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int]) -> np.ndarray:
    """d loss / d input of a convolution: the full correlation of the stride-dilated ``g`` with the flipped kernel.

    ``g`` (N, O, OH, OW) is written, dilated by the stride, into a zero channels-last grid (N, Gh, Gw, O) at offset
    (kh - 1 - ph, kw - 1 - pw). Flattened to (N*Gh*Gw, O) rows, input pixel q receives ``grid[q + shift] @
    W[:, :, i, j]`` from kernel offset (i, j), ``shift = (kh-1-i) * Gw + (kw-1-j)``: one GEMM per offset on a
    contiguous block of rows, no im2col copy and no scatter. Gh and Gw are as small as the windows allow: a window
    that runs past a row's (or sample's) end reads the zero margin at the start of the next one, which is why one
    zero margin serves both sides (BaselineCNN conv2: 17 x 17 rows per sample instead of 18 x 18). Rows that fall in
    the margins are computed and cropped away. (Pixel rows x channels is the GEMM shape OpenBLAS runs fastest here:
    measured 27 % faster than channels x pixels.) A few samples at a time, so that the kh*kw products and sums stay
    in cache (``_GRAD_CHUNK_ELEMENTS``).
    """
    n, o, oh, ow = g.shape
    _, c, kh, kw = w.shape
    (h, w_in), (sh, sw) = input_hw, stride
    # Rows/columns of the padded input computed: just the input, unless padding exceeds kernel - 1 (then all).
    first = tuple(p if p <= k - 1 else 0 for p, k in zip(padding, (kh, kw)))
    top, left = kh - 1 - first[0], kw - 1 - first[1]
    ch, cw = (p - f for p, f in zip(padding, first))
    # Wide enough for the data, and for a kept pixel's window to end before the next row's (sample's) data starts.
    gh = max(top + sh * (oh - 1) + 1, ch + h + kh - 1 - top)
    gw = max(left + sw * (ow - 1) + 1, cw + w_in + kw - 1 - left)
    kernel = np.ascontiguousarray(w.transpose(2, 3, 0, 1))  # (kh, kw, O, C)
    per_chunk = min(n, max(1, _GRAD_CHUNK_ELEMENTS // (gh * gw * o)))
    # Margins and gaps stay zero. Kept pixels of the last sample read into the kh spare rows; in a shorter last chunk
    # the unused slots keep stale data, but only in rows >= top, which no kept pixel's window reaches.
    grid = np.zeros((per_chunk * gh + kh, gw, o), dtype=g.dtype)
    grad = np.empty((per_chunk * gh * gw, c), dtype=g.dtype)
    term = np.empty_like(grad)
    result = np.empty((n, c, h, w_in), dtype=g.dtype)
    for start in range(0, n, per_chunk):
        count = min(per_chunk, n - start)
        samples = grid[:count * gh].reshape(count, gh, gw, o)
        samples[:, top:top + (oh - 1) * sh + 1:sh, left:left + (ow - 1) * sw + 1:sw] = \
            g[start:start + count].transpose(0, 2, 3, 1)
        flat, length = grid.reshape(-1, o), count * gh * gw
        out, part = grad[:length], term[:length]
        for i in range(kh):
            for j in range(kw):
                shift = (kh - 1 - i) * gw + (kw - 1 - j)
                np.matmul(flat[shift:shift + length], kernel[i, j], out=out if i == j == 0 else part)
                if i or j:
                    out += part
        pixels = out.reshape(count, gh, gw, c)[:, ch:ch + h, cw:cw + w_in]
        result[start:start + count] = pixels.transpose(0, 3, 1, 2)
    return result


# Entries per chunk (patches, plus the forward's output): each chunk's patches are built and multiplied while they are
# in cache (1 MB: 15 % faster than building all patches first, measured on conv2 of BaselineCNN). Counting the output
# in the forward keeps a fused ReLU in cache: MNIST CNN conv1 (1->32), fused, 1.07-1.10x faster than counting the
# patches alone (A/B, two runs).
_PATCH_CHUNK_ELEMENTS = 1 << 18


def _channels_last(channels: int, out_width: int) -> bool:
    """Whether patches are built channels-last: their copy then moves runs of C floats instead of OW, and the GEMMs
    take whole chunks of pixels (conv2 of BaselineCNN, C=32 > OW=16: weight gradient 1.4x faster, forward 3 %,
    measured; conv1, C=3 < OW=32: both 1.7-2x slower that way)."""
    return channels >= out_width


def _padded_input(x: np.ndarray, padding: tuple[int, int], channels_last: bool) -> np.ndarray:
    """``x`` (N, C, H, W) zero-padded, as (N, Hp, Wp, C) when ``channels_last`` (one transposing copy)."""
    if not channels_last:
        return _pad(x, padding)
    (ph, pw), (n, c, h, w) = padding, x.shape
    padded = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype) if ph or pw else np.empty((n, h, w, c), x.dtype)
    padded[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
    return padded


def _patch_chunks(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int],
                  ones: bool, channels_last: bool, out_channels: int = 0) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first sample, sample count, patches) for consecutive chunks of samples, in one reused cache-sized buffer.

    ``padded`` (N, C, H, W): per sample a (C*kh*kw [+ 1], OH*OW) matrix. ``channels_last``, ``padded`` (N, H, W, C):
    one (count*OH*OW, kh*kw*C [+ 1]) matrix, a row per output pixel. Either is one copy of the strided window view;
    with ``ones`` the extra row/column of ones carries the bias (a bias column/row in the weight matrix). A chunk holds
    ``_PATCH_CHUNK_ELEMENTS`` entries of patches plus ``out_channels`` per output pixel (the GEMM's output)."""
    n, c = padded.shape[0], padded.shape[3 if channels_last else 1]
    depth, pixels = c * kernel[0] * kernel[1], out_hw[0] * out_hw[1]
    per_chunk = max(1, _PATCH_CHUNK_ELEMENTS // ((depth + ones + out_channels) * pixels))
    if channels_last:
        view = windows(padded, kernel, stride, axes=(1, 2)).transpose(0, 1, 2, 4, 5, 3)  # (N, OH, OW, kh, kw, C)
        buffer = np.empty((min(per_chunk, n) * pixels, depth + ones), dtype=padded.dtype)
    else:
        view = windows(padded, kernel, stride).transpose(0, 1, 4, 5, 2, 3)  # (N, C, kh, kw, OH, OW)
        buffer = np.empty((min(per_chunk, n), depth + ones, pixels), dtype=padded.dtype)
    if ones:
        buffer[:, depth] = 1
    for start in range(0, n, per_chunk):
        count = min(per_chunk, n - start)
        part = buffer[:count * pixels] if channels_last else buffer[:count]
        part[:, :depth].reshape(view[start:start + count].shape)[...] = view[start:start + count]
        yield start, count, part


def _conv_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, stride: tuple[int, int],
                  padding: tuple[int, int], relu: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
    """conv2d's forward on arrays: (output (N, O, OH, OW), padded input, channels-last flag); rectified when ``relu``.

    The weight matrix (O, C*kh*kw) plus a bias column times the patches (`_patch_chunks`, channels-first or -last,
    `_channels_last`) gives the output with the bias added, written chunk by chunk into contiguous NCHW. With
    ``relu`` each chunk is rectified right after its GEMM, while it is in cache (`rectified`: a max against a block of
    zeros); channels-last, that max is the copy into NCHW. The padded input and flag are what the weight gradient
    rebuilds the patches from.
    """
    n, c, h, w_in = x.shape
    out_channels, _, kh, kw = w.shape
    oh, ow = (h + 2 * padding[0] - kh) // stride[0] + 1, (w_in + 2 * padding[1] - kw) // stride[1] + 1
    last = _channels_last(c, ow)
    dtype = np.result_type(x, w)
    w2 = (w.transpose(0, 2, 3, 1) if last else w).reshape(out_channels, -1).astype(dtype, copy=False)
    if bias is not None:
        w2 = np.concatenate([w2, bias.astype(dtype, copy=False)[:, None]], axis=1)
    padded = _padded_input(x, padding, last).astype(dtype, copy=False)
    result = np.empty((n, out_channels, oh, ow), dtype=dtype)
    products = result.reshape(n, out_channels, oh * ow)
    w2_t = np.ascontiguousarray(w2.T) if last else None
    for start, count, patches in _patch_chunks(padded, (kh, kw), stride, (oh, ow), bias is not None, last,
                                               out_channels):
        target = products[start:start + count]
        if last:  # (pixels, O) rows -> (count, O, OH*OW)
            pixels = (patches @ w2_t).reshape(count, oh * ow, out_channels)
            if relu:
                rectified(pixels.transpose(0, 2, 1), out=target)
            else:
                np.copyto(target, pixels.transpose(0, 2, 1))
        else:
            np.matmul(w2, patches, out=target)
            if relu:
                rectified(target, out=target)
    return result, padded, last


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation, weight (out, in, kh, kw), like ``torch.nn.functional.conv2d`` (groups=1).

    The forward is `_conv_forward` (chunked patches times the weight matrix with a bias column). The weight
    gradient rebuilds the patches chunk by chunk (as fast as keeping them, measured, and 4*C*kh*kw*OH*OW bytes per
    sample lighter) and multiplies them by the chunk's output gradient; its last column is the bias gradient.
    """
    x, w = input.data, weight.data
    stride, padding = _pair(stride), _pair(padding)
    result, padded, last = _conv_forward(x, w, None if bias is None else bias.data, stride, padding)
    n, c, _, _ = x.shape
    out_channels, _, kh, kw = w.shape
    oh, ow = result.shape[2:]
    parents = (input, weight) if bias is None else (input, weight, bias)

    def backward(g: np.ndarray) -> tuple:
        grad_x = _input_grad(g, w, x.shape[2:], stride, padding) if input.requires_grad else None
        grad_w2 = None
        if weight.requires_grad or (bias is not None and bias.requires_grad):
            g3 = g.reshape(n, out_channels, -1)
            grad_w2 = np.zeros((out_channels, c * kh * kw + (bias is not None)), dtype=g.dtype)
            for start, count, patches in _patch_chunks(padded, (kh, kw), stride, (oh, ow), bias is not None, last):
                if last:  # one GEMM over the chunk's pixels: (O, count*OH*OW) @ (count*OH*OW, kh*kw*C + 1)
                    grad_w2 += g3[start:start + count].transpose(1, 0, 2).reshape(out_channels, -1) @ patches
                else:
                    grad_w2 += np.matmul(g3[start:start + count], patches.transpose(0, 2, 1)).sum(axis=0)
        grad_w = None
        if weight.requires_grad:
            grad_w = grad_w2[:, :c * kh * kw]
            grad_w = grad_w.reshape(out_channels, kh, kw, c).transpose(0, 3, 1, 2) if last else grad_w.reshape(w.shape)
        if bias is None:
            return grad_x, grad_w
        return grad_x, grad_w, grad_w2[:, -1].copy() if bias.requires_grad else None

    return tensor_op(result, parents, backward)


def _pool_args(kernel_size: IntPair, stride: IntPair | None, padding: IntPair) -> tuple:
    kernel = _pair(kernel_size)
    return kernel, kernel if stride is None else _pair(stride), _pair(padding)


def _pool_windows(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> list[tuple]:
    """The strided (N, C, OH, OW) slice of ``padded`` under each kernel offset (row-major)."""
    out_hw = tuple((size - k) // s + 1 for size, k, s in zip(padded.shape[2:], kernel, stride))
    return _offset_slices(kernel, stride, out_hw)  # type: ignore[arg-type]


# Padded-input entries per chunk of the max-pool passes: 512 KB of float32 stays in L2 across the passes over it
# (measured faster than whole-batch passes for BaselineCNN's 8 MB pool input).
_POOL_CHUNK_ELEMENTS = 1 << 17


def _axis_slices(axis: int, kernel: int, stride: int, count: int) -> list[tuple]:
    """For each kernel offset along ``axis`` (2 = H, 3 = W) of an (N, C, H, W) array: the strided slice it sees."""
    steps = [slice(None)] * 4
    return [tuple(steps[:axis] + [slice(k, k + stride * (count - 1) + 1, stride)] + steps[axis + 1:])
            for k in range(kernel)]


def _running_max(source: np.ndarray, slices: list[tuple], out: np.ndarray, arg: np.ndarray | None = None,
                 codes: Callable[[int], Any] | None = None) -> None:
    """``out`` = elementwise max of ``source`` under ``slices``; ``arg`` (when given) = ``codes(k)`` (default k) of
    the first slice k that reaches it. Codes must exceed every earlier slice's codes: a later slice takes over only
    where it is strictly greater, so ``arg`` is a running ``max(arg, better * codes(k))`` (masked writes are several
    times slower in NumPy, measured). The first two slices meet in one pass (no copy of the first)."""
    if len(slices) == 1:
        np.copyto(out, source[slices[0]])
    if arg is not None:
        codes = codes or arg.dtype.type
        np.copyto(arg, codes(0), casting="unsafe")
        better = np.empty(out.shape, dtype=bool)
    for k, window in enumerate(slices[1:], 1):
        best = source[slices[0]] if k == 1 else out
        if arg is not None:
            np.greater(source[window], best, out=better)
            np.maximum(arg, better * codes(k), out=arg, casting="unsafe")
        np.maximum(best, source[window], out=out)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Max over kh x kw windows, separably: a running max over the kh row offsets (strided whole rows), then over
    the kw column offsets of that (strided slices along W), a few samples at a time so that the passes hit the cache
    (kw + kh passes instead of kh*kw: the forward about 1.1x faster, measured; rows first 1.25x faster than columns
    first on BaselineCNN's pools). With autograd the columns go first, so that ties resolve in row-major order: the
    column stage records which offset holds each row's first maximum, and the row stage turns it into the window's
    first maximum in row-major order, ``i * kw + j`` (PyTorch's choice on ties); the backward writes each output
    gradient to that one input position in one pass per offset."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    padded = _pad(input.data, padding, -np.inf)
    n, c, hp, wp = padded.shape
    oh, ow = ((size - k) // st + 1 for size, k, st in zip((hp, wp), kernel, stride))
    cols, rows = _axis_slices(3, kernel[1], stride[1], ow), _axis_slices(2, kernel[0], stride[0], oh)
    record = is_grad_enabled() and input.requires_grad
    code_type = np.min_scalar_type(kernel[0] * kernel[1] - 1)
    out = np.empty((n, c, oh, ow), dtype=padded.dtype)
    first = np.empty((n, c, oh, ow), dtype=code_type) if record else None
    chunk = max(1, _POOL_CHUNK_ELEMENTS // max(1, padded[0].size))
    stage = np.empty((min(chunk, n), c) + ((hp, ow) if record else (oh, wp)), dtype=padded.dtype)
    col_arg = np.empty(stage.shape, dtype=code_type) if record else None
    for start in range(0, n, chunk):
        part, count = slice(start, start + chunk), min(chunk, n - start)
        if not record:
            _running_max(padded[part], rows, stage[:count])
            _running_max(stage[:count], cols, out[part])
            continue
        arg = col_arg[:count]
        _running_max(padded[part], cols, stage[:count], arg)
        _running_max(stage[:count], rows, out[part], first[part],
                     lambda i: arg[rows[i]] + code_type.type(i * kernel[1]))  # row i, column arg[...]
    if not record:
        return Tensor(out)
    slices = _offset_slices(kernel, stride, (oh, ow))
    tiled = stride == kernel and (hp, wp) == (oh * kernel[0], ow * kernel[1])

    def backward(g: np.ndarray) -> tuple:
        grad = (np.empty if tiled else np.zeros)(padded.shape, dtype=g.dtype)
        for start in range(0, n, chunk):
            part = slice(start, start + chunk)
            hit = np.empty(first[part].shape, dtype=bool)
            for code, window in enumerate(slices):
                np.equal(first[part], code, out=hit)
                if tiled:  # every input position lies in exactly one window: write each offset's share once
                    np.multiply(g[part], hit, out=grad[part][window])
                else:
                    grad[part][window] += g[part] * hit
        return (_crop(grad, padding),)

    return tensor_op(out, (input,), backward)


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Mean over kh x kw windows (padding counts as zeros, PyTorch's count_include_pad=True)."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    padded = _pad(input.data, padding)
    slices = _pool_windows(padded, kernel, stride)
    out = padded[slices[0]].copy()
    for window in slices[1:]:
        out += padded[window]
    scale = np.asarray(1.0 / len(slices), dtype=out.dtype)
    out *= scale

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(padded.shape, dtype=g.dtype)
        share = g * scale
        for window in slices:
            grad[window] += share
        return (_crop(grad, padding),)

    return tensor_op(out, (input,), backward)
