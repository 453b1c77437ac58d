"""Image ops on (N, C, H, W) arrays: conv2d, max_pool2d, avg_pool2d.

All three see the input through `windows` (im2col as a zero-copy strided view) and copy it once into a contiguous
layout: conv into a (C*kh*kw, N*OH*OW) matrix for one GEMM, the pools into (kh*kw, N, C, OH, OW) blocks.
`col2im`, the adjoint, scatters window gradients back with one strided add per kernel offset.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor, tensor_op

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


def windows(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """im2col as a zero-copy view: (N, C, H, W) -> (N, C, OH, OW, kh, kw)."""
    view = sliding_window_view(padded, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def _offset_slices(kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]) -> list[tuple]:
    """For each kernel offset (i, j), row-major: the (N, C, OH, OW) strided slice of the padded input it sees."""
    (sh, sw), (oh, ow) = stride, out_hw
    return [(slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))
            for i in range(kernel[0]) for j in range(kernel[1])]


def col2im(patches: np.ndarray, padded_shape: tuple[int, ...], stride: tuple[int, int]) -> np.ndarray:
    """Adjoint of `windows`: sum (N, C, kh, kw, OH, OW) patch gradients into an array of ``padded_shape``."""
    _, _, kh, kw, oh, ow = patches.shape
    out = np.zeros(padded_shape, dtype=patches.dtype)
    for k, window in enumerate(_offset_slices((kh, kw), stride, (oh, ow))):
        out[window] += patches[:, :, k // kw, k % kw]
    return out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation, weight (out, in, kh, kw), like ``torch.nn.functional.conv2d`` (groups=1).

    The patch matrix is laid out (C*kh*kw, N*OH*OW) so that building it copies long contiguous rows and the
    product ``W (out, C*kh*kw) @ cols`` is one GEMM; adding the bias writes the result as contiguous NCHW.
    """
    x, w = input.data, weight.data
    stride, padding = _pair(stride), _pair(padding)
    n, c, _, _ = x.shape
    out_channels, _, kh, kw = w.shape
    padded = _pad(x, padding)
    patch_view = windows(padded, (kh, kw), stride)
    oh, ow = patch_view.shape[2:4]
    cols = patch_view.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)  # the one copy
    w2 = w.reshape(out_channels, -1)
    out = (w2 @ cols).reshape(out_channels, n, oh * ow).transpose(1, 0, 2)
    result = np.empty((n, out_channels, oh, ow), dtype=out.dtype)
    if bias is None:
        result.reshape(n, out_channels, -1)[...] = out  # to contiguous NCHW
    else:
        np.add(out, bias.data[:, None], out=result.reshape(n, out_channels, -1))  # bias + NCHW in one pass

    def backward(g: np.ndarray) -> tuple:
        g2 = g.transpose(1, 0, 2, 3).reshape(out_channels, -1)
        grad_x = grad_w = None
        if input.requires_grad:
            patches = (w2.T @ g2).reshape(c, kh, kw, n, oh, ow).transpose(3, 0, 1, 2, 4, 5)
            grad_x = _crop(col2im(patches, padded.shape, stride), padding)
        if weight.requires_grad:
            grad_w = (g2 @ cols.T).reshape(w.shape)
        if bias is None:
            return grad_x, grad_w
        return grad_x, grad_w, g2.sum(axis=1) if bias.requires_grad else None

    parents = (input, weight) if bias is None else (input, weight, bias)
    return tensor_op(result, parents, backward)


def _pool_args(kernel_size: IntPair, stride: IntPair | None, padding: IntPair) -> tuple:
    kernel = _pair(kernel_size)
    return kernel, kernel if stride is None else _pair(stride), _pair(padding)


def _offset_major_patches(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every window as one contiguous (kh*kw, N, C, OH, OW) copy: pooling then runs on contiguous blocks, which
    NumPy processes many times faster than strided slices or a reduction over small trailing axes."""
    view = windows(padded, kernel, stride)
    return np.ascontiguousarray(view.transpose(4, 5, 0, 1, 2, 3)).reshape((-1,) + view.shape[:4])


def _patch_gradients_to_input(grads: np.ndarray, kernel: tuple[int, int], padded_shape: tuple[int, ...],
                              stride: tuple[int, int], padding: tuple[int, int]) -> np.ndarray:
    """(kh*kw, N, C, OH, OW) window gradients -> gradient of the unpadded input."""
    patches = grads.reshape(kernel + grads.shape[1:]).transpose(2, 3, 0, 1, 4, 5)
    return _crop(col2im(patches, padded_shape, stride), padding)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Max over kh x kw windows; the gradient goes to the first maximum of each window, as in PyTorch."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    padded = _pad(input.data, padding, -np.inf)
    patches = _offset_major_patches(padded, kernel, stride)
    out = patches[0].copy()
    for patch in patches[1:]:
        np.maximum(out, patch, out=out)

    def backward(g: np.ndarray) -> tuple:
        grads = np.empty_like(patches, dtype=g.dtype)
        unclaimed = np.ones(out.shape, dtype=bool)
        for patch, grad in zip(patches, grads):  # row-major offsets: the first maximum claims the window
            hit = patch == out
            hit &= unclaimed
            unclaimed ^= hit
            np.multiply(g, hit, out=grad)
        return (_patch_gradients_to_input(grads, kernel, padded.shape, stride, padding),)

    return tensor_op(out, (input,), backward)


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Mean over kh x kw windows (padding counts as zeros, PyTorch's count_include_pad=True)."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    padded = _pad(input.data, padding)
    patches = _offset_major_patches(padded, kernel, stride)
    out = patches.sum(axis=0)
    scale = np.asarray(1.0 / len(patches), dtype=out.dtype)
    out *= scale

    def backward(g: np.ndarray) -> tuple:
        grads = np.broadcast_to(g * scale, patches.shape)
        return (_patch_gradients_to_input(grads, kernel, padded.shape, stride, padding),)

    return tensor_op(out, (input,), backward)
