"""Quantization arithmetic on NumPy arrays, with PyTorch's rules (``torch.ao.quantization`` observers and
``torch.quantize_per_channel``):

- qparams from a range: the range is widened to include 0; symmetric: ``scale = max(|min|, max) / ((qmax - qmin) / 2)``
  and zero point 0 (signed) ; affine: ``scale = (max - min) / (qmax - qmin)``, ``zero_point = qmin - round(min /
  scale)`` clamped to [qmin, qmax]; scales never fall below float32 eps. Computed in float32 like PyTorch.
- quantize: ``clamp(round(x * (1 / scale)) + zero_point, qmin, qmax)`` (round half to even); dequantize:
  ``(q - zero_point) * scale``.
- INT4 packing: two signed 4-bit values per uint8, element ``2i`` in the low nibble and ``2i + 1`` in the high nibble
  (two's complement). The packed axis (the last) must have even length; ``pack_int4`` refuses odd lengths.
"""
from __future__ import annotations

import numpy as np

__all__ = ["INT8_RANGE", "INT4_RANGE", "UINT8_RANGE", "qparams", "quantize", "dequantize", "pack_int4",
           "unpack_int4"]

INT8_RANGE = (-128, 127)
INT4_RANGE = (-8, 7)
UINT8_RANGE = (0, 255)
_EPS = np.finfo(np.float32).eps


def qparams(min_val: np.ndarray | float, max_val: np.ndarray | float, qrange: tuple[int, int],
            symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """(scale float32, zero_point int64) for observed ranges (scalars or per-channel arrays)."""
    qmin, qmax = qrange
    low = np.minimum(np.asarray(min_val, dtype=np.float32), np.float32(0))
    high = np.maximum(np.asarray(max_val, dtype=np.float32), np.float32(0))
    if symmetric:
        scale = np.maximum(-low, high) / np.float32((qmax - qmin) / 2)
        scale = np.maximum(scale, _EPS).astype(np.float32)
        zero_point = np.full(scale.shape, 0 if qmin < 0 else (qmin + qmax + 1) // 2, dtype=np.int64)
    else:
        scale = np.maximum((high - low) / np.float32(qmax - qmin), _EPS).astype(np.float32)
        zero_point = np.clip(qmin - np.round(low / scale).astype(np.int64), qmin, qmax)
    return scale, zero_point


def _along(values: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    """Per-channel parameters shaped to broadcast along ``axis`` of an ``ndim``-D array (scalars unchanged)."""
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = -1
    return values.reshape(shape)


def quantize(x: np.ndarray, scale: np.ndarray | float, zero_point: np.ndarray | int, qrange: tuple[int, int],
             axis: int | None = None) -> np.ndarray:
    """Integer codes of ``x`` (int8 if the range is signed, else uint8); ``axis`` for per-channel parameters."""
    inverse = _along(np.float32(1) / np.asarray(scale, dtype=np.float32), x.ndim, axis)
    codes = np.round(x.astype(np.float32, copy=False) * inverse)
    codes += _along(np.asarray(zero_point, dtype=np.float32), x.ndim, axis)
    np.clip(codes, qrange[0], qrange[1], out=codes)
    return codes.astype(np.int8 if qrange[0] < 0 else np.uint8)


def dequantize(q: np.ndarray, scale: np.ndarray | float, zero_point: np.ndarray | int = 0,
               axis: int | None = None) -> np.ndarray:
    """float32 values ``(q - zero_point) * scale``."""
    values = q.astype(np.float32)
    if np.any(zero_point):
        values -= _along(np.asarray(zero_point, dtype=np.float32), q.ndim, axis)
    values *= _along(np.asarray(scale, dtype=np.float32), q.ndim, axis)
    return values


def pack_int4(codes: np.ndarray) -> np.ndarray:
    """Signed 4-bit codes (int values in [-8, 7]) -> uint8 with two codes per byte along the last axis."""
    codes = np.asarray(codes)
    if codes.shape[-1] % 2:
        raise ValueError(f"pack_int4: the last axis has odd length {codes.shape[-1]} (shape {codes.shape}); INT4 "
                         "packs two values per byte, so pad it to an even length first (quantized modules pad each "
                         "weight row with one zero)")
    if codes.size and (codes.min() < INT4_RANGE[0] or codes.max() > INT4_RANGE[1]):
        raise ValueError(f"pack_int4: values must lie in [-8, 7], got [{codes.min()}, {codes.max()}]")
    nibbles = codes.astype(np.uint8) & 0x0F
    return nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)


def unpack_int4(packed: np.ndarray) -> np.ndarray:
    """Inverse of ``pack_int4``: uint8 (..., n) -> int8 (..., 2n)."""
    if packed.dtype != np.uint8:
        raise TypeError(f"unpack_int4: expected uint8 packed INT4 data, got {packed.dtype}")
    codes = np.empty(packed.shape[:-1] + (2 * packed.shape[-1],), dtype=np.int8)
    codes[..., 0::2] = (packed << 4).view(np.int8) >> 4  # sign-extend the low nibble
    codes[..., 1::2] = packed.view(np.int8) >> 4
    return codes
