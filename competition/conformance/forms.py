"""How a closed entry may store one baseline tensor: the optimization kit's forms, decoded to float32 with NumPy.

For a baseline key ``K`` (for example ``features.0.weight``) the shipped .npz holds exactly one value array:

* ``K`` as float32 or float16 (float16 is cast up), or
* ``K`` as **int8** (symmetric or affine, ``torch.qint8``-like) or **uint8** (``torch.quint8``-like) with
  ``K_scale`` (float, shape ``()``, ``(1,)`` or ``(K.shape[0],)``: per-tensor or per-output-channel, axis 0) and
  optionally ``K_zero_point`` (integer, the scale's shape); value = ``(q - zero_point) * scale``, or
* ``K`` as **packed int4**: uint8 of shape ``(ceil(n / 2),)`` plus ``K_int4_shape`` (int64, the unpacked shape,
  ``n`` its product) and ``K_scale`` (+ optional ``K_zero_point``) as for int8. Element ``2i`` sits in the low
  nibble of byte ``i``, element ``2i + 1`` in the high nibble, each a two's-complement int4 in [-8, 7]; an odd
  ``n`` pads the last high nibble with 0.

Pruning (``torch.nn.utils.prune`` names): ``K_mask`` (bool, uint8, int8, float16 or float32 holding only 0 and 1,
the value's shape) multiplies the value. PyTorch's un-``remove``d form ships ``K_orig`` (in any value form above,
companions named ``K_orig_scale`` ...) together with ``K_mask`` instead of ``K``. An already-applied mask is just
zeros in ``K``. A mask of all ones or zeros is fine; what counts is the function the weights compute.

Static activation quantization (PyTorch's quantized-module names): a layer ``P`` with a ``P.weight`` may ship
``P.scale`` (float) and ``P.zero_point`` (integer), one value each, for its output activations. The reference runs
float activations and ignores them; their rounding is what the run-time tolerance allows for.

Baseline keys of integer dtype (``num_batches_tracked``) must keep their dtype; no other dtype (float64, int16,
bool, complex) is a closed-division form. Shapes are checked elsewhere (architecture: shrunk widths).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

FLOAT_DTYPES = ("float32", "float16")
QUANT_DTYPES = ("int8", "uint8")
MASK_DTYPES = ("bool", "uint8", "int8", "float16", "float32")
FORMS_DOC = "docs/students.md#closed-division"


@dataclass
class Decoded:
    """One baseline key rebuilt from the shipped arrays: the float32 value (None if it could not be), the shipped
    keys it used, and problems as (shipped key, message, fix)."""

    value: np.ndarray | None
    used: set[str] = field(default_factory=set)
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def decode(key: str, arrays: Mapping[str, np.ndarray], baseline_dtype: np.dtype) -> Decoded | None:
    """The float32 value of baseline key `key` from `arrays`, or None if no form of it was shipped."""
    plain, orig = key in arrays, key + "_orig" in arrays
    if not plain and not orig:
        return None
    if plain and orig:
        return Decoded(None, {key, key + "_orig"}, [(key, f"both {key!r} and {key + '_orig'!r} were shipped",
                                                     "ship one: the pruned weight, or weight_orig with weight_mask")])
    source = key if plain else key + "_orig"
    if np.issubdtype(baseline_dtype, np.integer):
        return _integer(key, arrays[key])
    result = _value(source, arrays)
    mask_key = key + "_mask"
    if mask_key in arrays:
        result.used.add(mask_key)
        shape = result.value.shape if result.value is not None else arrays[source].shape
        if _mask_ok(mask_key, arrays[mask_key], shape, result) and result.value is not None:
            result.value = result.value * arrays[mask_key].astype(np.float32)
    elif orig:
        result.problems.append((source, f"{source!r} needs its {mask_key!r}",
                                "ship the mask too, or call prune.remove(module, 'weight') before saving"))
    return result


def _integer(key: str, array: np.ndarray) -> Decoded:
    if not np.issubdtype(array.dtype, np.integer):
        return Decoded(None, {key}, [(key, f"dtype {array.dtype.name} where the baseline stores an integer",
                                      "save it unchanged from the model's state_dict()")])
    return Decoded(array.astype(np.int64), {key})


def _value(source: str, arrays: Mapping[str, np.ndarray]) -> Decoded:
    array = arrays[source]
    dtype = array.dtype.name
    if dtype in FLOAT_DTYPES:
        return Decoded(array.astype(np.float32), {source})
    if dtype in QUANT_DTYPES:
        return _dequantize(source, arrays)
    return Decoded(None, {source}, [(source, f"dtype {dtype} is not a closed-division form",
                                     f"store float32, float16, int8/uint8 with {source}_scale, or packed int4 "
                                     f"(see {FORMS_DOC})")])


def _dequantize(source: str, arrays: Mapping[str, np.ndarray]) -> Decoded:
    result = Decoded(None, {source} | {source + suffix for suffix in ("_scale", "_zero_point") if source + suffix in arrays})
    quantized = arrays[source]
    shape_key = source + "_int4_shape"
    if shape_key in arrays:
        result.used.add(shape_key)
        quantized = _unpack_int4(source, quantized, arrays[shape_key], result)
    scale_key, zero_key = source + "_scale", source + "_zero_point"
    if scale_key not in arrays:
        result.problems.append((source, f"quantized {quantized.dtype.name} weights without {scale_key!r}",
                                f"save {scale_key} (per-tensor shape () or per-channel shape (rows,)) next to it"))
        return result
    if quantized is None:
        return result
    result.used.add(scale_key)
    scale = _companion(scale_key, arrays[scale_key], quantized, "floating", result)
    zero = np.zeros((), np.float64)
    if zero_key in arrays:
        result.used.add(zero_key)
        zero = _companion(zero_key, arrays[zero_key], quantized, "integer", result)
    if scale is None or zero is None:
        return result
    if zero.shape != () and scale.shape != () and zero.shape != scale.shape:
        result.problems.append((zero_key, f"shape {zero.shape} differs from the scale's {scale.shape}",
                                "give the zero point the scale's shape"))
        return result
    result.value = ((quantized.astype(np.float64) - zero) * scale).astype(np.float32)
    return result


def _companion(key: str, array: np.ndarray, quantized: np.ndarray, kind: str, result: Decoded) -> np.ndarray | None:
    """A scale or zero point, reshaped to broadcast over the quantized array's axis 0; None (and a problem) if bad."""
    wanted = np.floating if kind == "floating" else np.integer
    if not np.issubdtype(array.dtype, wanted):
        result.problems.append((key, f"dtype {array.dtype.name}; a {'scale' if kind == 'floating' else 'zero point'} "
                                     f"must be {kind}", "save float32 scales and integer zero points"))
        return None
    rows = quantized.shape[0] if quantized.ndim else 1
    if array.size == 1 and array.ndim <= 1:
        return array.reshape(()).astype(np.float64)
    if array.shape == (rows,):
        return array.astype(np.float64).reshape((rows,) + (1,) * (quantized.ndim - 1))
    result.problems.append((key, f"shape {array.shape} is neither per-tensor () nor per-channel ({rows},)",
                            "quantize per tensor or per output channel (axis 0)"))
    return None


def _unpack_int4(source: str, packed: np.ndarray, shape_array: np.ndarray, result: Decoded) -> np.ndarray | None:
    shape_key = source + "_int4_shape"
    if packed.dtype != np.uint8 or packed.ndim != 1:
        result.problems.append((source, f"packed int4 must be a 1-D uint8 array, got {packed.dtype.name} {packed.shape}",
                                "pack two int4 values per byte into a flat uint8 array"))
        return None
    if not np.issubdtype(shape_array.dtype, np.integer) or shape_array.ndim != 1 or (shape_array < 0).any():
        result.problems.append((shape_key, "must be a 1-D integer array of non-negative sizes",
                                "save the unpacked shape, e.g. np.array(weight.shape, np.int64)"))
        return None
    shape = tuple(int(n) for n in shape_array)
    count = int(np.prod(shape, dtype=np.int64))
    if packed.size != (count + 1) // 2:
        result.problems.append((source, f"{packed.size} bytes cannot hold {shape} int4 values "
                                        f"(needs {(count + 1) // 2})", f"repack, or fix {shape_key}"))
        return None
    nibbles = np.empty(packed.size * 2, np.int8)
    nibbles[0::2] = packed & 0x0F
    nibbles[1::2] = packed >> 4
    nibbles[nibbles >= 8] -= 16
    return nibbles[:count].reshape(shape)


def _mask_ok(mask_key: str, mask: np.ndarray, shape: tuple[int, ...], result: Decoded) -> bool:
    if mask.dtype.name not in MASK_DTYPES or mask.shape != shape:
        result.problems.append((mask_key, f"mask {mask.dtype.name} {mask.shape} must have the weight's shape "
                                          f"{shape} and dtype " + ", ".join(MASK_DTYPES),
                                "save the mask of prune (module.weight_mask), or np.asarray(weight != 0)"))
        return False
    if not np.isin(mask, (0, 1)).all():
        result.problems.append((mask_key, "a mask holds only 0 and 1", "save the boolean keep-mask of the pruning"))
        return False
    return True


def activation_params(prefix: str, arrays: Mapping[str, np.ndarray]) -> Decoded:
    """The optional output-activation `prefix.scale` / `prefix.zero_point` of a weight-bearing layer."""
    result = Decoded(None)
    for name, kind in (("scale", np.floating), ("zero_point", np.integer)):
        key = f"{prefix}.{name}"
        if key in arrays:
            result.used.add(key)
            if arrays[key].size != 1 or arrays[key].ndim > 1 or not np.issubdtype(arrays[key].dtype, kind):
                result.problems.append((key, f"{arrays[key].dtype.name} {arrays[key].shape}; an activation {name} is "
                                             f"one {'float' if kind is np.floating else 'integer'} value",
                                        f"save it as np.array({'0.1' if kind is np.floating else '0'}) (shape ())"))
    return result
