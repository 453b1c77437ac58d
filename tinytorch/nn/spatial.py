"""Image ops on (N, C, H, W) arrays: conv2d, max_pool2d, avg_pool2d, all built on one im2col (`windows`) and its
adjoint (`col2im`). Convolution is one GEMM over a contiguous (N*OH*OW, C*kh*kw) patch matrix."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor, tensor_op

IntPair = int | tuple[int, int]


def _pair(value: IntPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def _pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    if padding == (0, 0):
        return x
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _crop(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]


def windows(padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """im2col as a zero-copy view: (N, C, H, W) -> (N, C, OH, OW, kh, kw)."""
    view = sliding_window_view(padded, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def col2im(patches: np.ndarray, padded_shape: tuple[int, ...], stride: tuple[int, int]) -> np.ndarray:
    """Adjoint of `windows`: sum (N, C, kh, kw, OH, OW) patch gradients into an array of ``padded_shape``."""
    _, _, kh, kw, oh, ow = patches.shape
    sh, sw = stride
    out = np.zeros(padded_shape, dtype=patches.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += patches[:, :, i, j]
    return out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation, weight (out, in, kh, kw), like ``torch.nn.functional.conv2d`` (groups=1)."""
    x, w = input.data, weight.data
    stride, padding = _pair(stride), _pair(padding)
    n, c, _, _ = x.shape
    out_channels, _, kh, kw = w.shape
    padded = _pad(x, padding)
    patch_view = windows(padded, (kh, kw), stride)
    oh, ow = patch_view.shape[2:4]
    cols = patch_view.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)  # the one copy
    w2 = w.reshape(out_channels, -1)
    out = cols @ w2.T
    if bias is not None:
        out += bias.data
    result = out.reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, out_channels)
        grad_x = grad_w = None
        if input.requires_grad:
            patches = (g2 @ w2).reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
            grad_x = _crop(col2im(patches, padded.shape, stride), padding)
        if weight.requires_grad:
            grad_w = (g2.T @ cols).reshape(w.shape)
        if bias is None:
            return grad_x, grad_w
        return grad_x, grad_w, g.sum(axis=(0, 2, 3)) if bias.requires_grad else None

    parents = (input, weight) if bias is None else (input, weight, bias)
    return tensor_op(result, parents, backward)


def _pool_args(kernel_size: IntPair, stride: IntPair | None, padding: IntPair) -> tuple:
    kernel = _pair(kernel_size)
    return kernel, kernel if stride is None else _pair(stride), _pair(padding)


def _tiles(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]):
    """Non-overlapping (N, C, OH, kh, OW, kw) reshape view when the pool tiles the input exactly, else None."""
    n, c, h, w = x.shape
    kh, kw = kernel
    if kernel != stride or padding != (0, 0) or h % kh or w % kw:
        return None
    return x.reshape(n, c, h // kh, kh, w // kw, kw)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Max over kh x kw windows; the gradient goes to the first maximum of each window (as in PyTorch)."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    x = input.data
    tiles = _tiles(x, kernel, stride, padding)
    padded = _pad(x, padding, -np.inf)
    patch_view = windows(padded, kernel, stride)
    out = tiles.max(axis=(3, 5)) if tiles is not None else patch_view.max(axis=(4, 5))

    def backward(g: np.ndarray) -> tuple:
        n, c, oh, ow, kh, kw = patch_view.shape
        flat = patch_view.reshape(n, c, oh, ow, kh * kw)
        grads = np.zeros(flat.shape, dtype=g.dtype)
        np.put_along_axis(grads, flat.argmax(axis=-1)[..., None], g[..., None], axis=-1)
        patches = grads.reshape(n, c, oh, ow, kh, kw).transpose(0, 1, 4, 5, 2, 3)
        return (_crop(col2im(patches, padded.shape, stride), padding),)

    return tensor_op(out, (input,), backward)


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Mean over kh x kw windows (padding counts as zeros, PyTorch's count_include_pad=True)."""
    kernel, stride, padding = _pool_args(kernel_size, stride, padding)
    x = input.data
    tiles = _tiles(x, kernel, stride, padding)
    padded = _pad(x, padding)
    patch_view = windows(padded, kernel, stride)
    out = tiles.mean(axis=(3, 5)) if tiles is not None else patch_view.mean(axis=(4, 5))
    area = kernel[0] * kernel[1]

    def backward(g: np.ndarray) -> tuple:
        n, c, oh, ow = g.shape
        patches = np.broadcast_to((g / area)[:, :, None, None], (n, c) + kernel + (oh, ow))
        return (_crop(col2im(patches, padded.shape, stride), padding),)

    return tensor_op(out, (input,), backward)
