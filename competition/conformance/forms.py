"""How a closed entry may store one baseline tensor: the optimization kit's forms, decoded to float32 with NumPy.

For a baseline key ``K`` (for example ``features.0.weight``) whose expected shape is ``S`` (the baseline's, or its
structural shrink) the shipped .npz holds exactly one value array:

* ``K`` as float32 or float16 (float16 is cast up), or
* ``K`` as **int8** of shape ``S`` with ``K_scale`` (float, shape ``()``, ``(1,)`` or ``(S[0],)``: per tensor or per
  output channel, axis 0) and optionally ``K_zero_point`` (integer, the scale's shape); value =
  ``(q - zero_point) * scale`` (tinytorch.nn.quantized: symmetric, no zero point), or
* ``K`` as **packed int4** exactly as tinytorch.nn.quantized stores it: uint8 of shape ``(S[0], ceil(R / 2))``, ``R``
  the values per output channel (``prod(S[1:])``), two's-complement codes in [-8, 7], two per byte along each row,
  element ``2i`` in the low nibble, an odd ``R`` padded with one zero code per row; with ``K_scale`` (+ optional
  ``K_zero_point``) as for int8.

Pruning (``torch.nn.utils.prune`` names): ``K_mask`` (bool, uint8, int8, float16 or float32 holding only 0 and 1,
the value's shape) multiplies the value. PyTorch's un-``remove``d form ships ``K_orig`` (in any value form above,
companions named ``K_orig_scale`` ...) together with ``K_mask`` instead of ``K``. An already-applied mask is just
zeros in ``K``. A mask of all ones or zeros is fine; what counts is the function the weights compute.

Static activation quantization (tinytorch.nn.quantized's static modules): a layer ``P`` with a ``P.weight`` may
ship ``P.input_scale`` (float) and ``P.input_zero_point`` (integer), one value each, the calibrated uint8 qparams
of its input. The reference runs float activations and ignores them; their rounding is what the run-time
tolerance allows for.

Containers the kit writes are unwrapped first: a fused layer (``fuse_modules``: ConvReLU2d, LinearReLU) ships its
keys one level down, ``P.0.weight`` for ``P.weight``; ``tinytorch.nn.utils.sparse.save_sparse`` stores a tensor
``T`` as ``T::bitmask`` (np.packbits of its nonzeros), ``T::values`` and ``T::shape``.

Baseline keys of integer dtype (``num_batches_tracked``) must keep their dtype; no other dtype (float64, int16,
bool, complex) is a closed-division form. Shapes are checked elsewhere (architecture: shrunk widths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

FLOAT_DTYPES = ("float32", "float16")
MASK_DTYPES = ("bool", "uint8", "int8", "float16", "float32")
FORMS_DOC = "docs/students.md#closed-division"


@dataclass
class Decoded:
    """One baseline key rebuilt from the shipped arrays: the float32 value (None if it could not be), the shipped
    keys it used, and problems as (shipped key, message, fix)."""

    value: np.ndarray | None
    used: set[str] = field(default_factory=set)
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def source_key(key: str, arrays: Mapping[str, np.ndarray]) -> str | None:
    """The shipped array holding `key`'s values: `key` itself, PyTorch's `key_orig`, or None."""
    return key if key in arrays else key + "_orig" if key + "_orig" in arrays else None


def decode(key: str, arrays: Mapping[str, np.ndarray], baseline_dtype: np.dtype, shape: tuple[int, ...]) -> Decoded | None:
    """The float32 value of baseline key `key` (expected shape `shape`) from `arrays`; None if not shipped."""
    source = source_key(key, arrays)
    if source is None:
        return None
    if key in arrays and key + "_orig" in arrays:
        return Decoded(None, {key, key + "_orig"}, [(key, f"both {key!r} and {key + '_orig'!r} were shipped",
                                                     "ship one: the pruned weight, or weight_orig with weight_mask")])
    if np.issubdtype(baseline_dtype, np.integer):
        return _integer(source, arrays[source])
    result = _value(source, arrays, shape)
    mask_key = key + "_mask"
    if mask_key in arrays:
        result.used.add(mask_key)
        value_shape = result.value.shape if result.value is not None else shape
        if _mask_ok(mask_key, arrays[mask_key], value_shape, result) and result.value is not None:
            result.value = result.value * arrays[mask_key].astype(np.float32)
    elif source != key:
        result.problems.append((source, f"{source!r} needs its {mask_key!r}",
                                "ship the mask too, or call prune.remove(module, 'weight') before saving"))
    return result


def _integer(key: str, array: np.ndarray) -> Decoded:
    if not np.issubdtype(array.dtype, np.integer):
        return Decoded(None, {key}, [(key, f"dtype {array.dtype.name} where the baseline stores an integer",
                                      "save it unchanged from the model's state_dict()")])
    return Decoded(array.astype(np.int64), {key})


def _value(source: str, arrays: Mapping[str, np.ndarray], shape: tuple[int, ...]) -> Decoded:
    array = arrays[source]
    if array.dtype.name in FLOAT_DTYPES:
        return Decoded(array.astype(np.float32), {source})
    if array.dtype == np.int8:
        return _dequantize(source, array, arrays)
    if array.dtype == np.uint8:
        result = Decoded(None, {source} | {source + c for c in ("_scale", "_zero_point") if source + c in arrays})
        codes = _unpack_int4(source, array, shape, result)
        return _dequantize(source, codes, arrays, result) if codes is not None else result
    return Decoded(None, {source}, [(source, f"dtype {array.dtype.name} is not a closed-division form",
                                     f"store float32, float16, int8 with {source}_scale, or packed int4 (uint8) "
                                     f"with {source}_scale (see {FORMS_DOC})")])


def _dequantize(source: str, quantized: np.ndarray, arrays: Mapping[str, np.ndarray],
                result: Decoded | None = None) -> Decoded:
    scale_key, zero_key = source + "_scale", source + "_zero_point"
    result = result or Decoded(None, {source})
    result.used |= {key for key in (scale_key, zero_key) if key in arrays}
    if scale_key not in arrays:
        result.problems.append((source, f"quantized weights without {scale_key!r}",
                                f"save {scale_key} (per-tensor shape () or per-channel shape (rows,)) next to it"))
        return result
    scale = _companion(scale_key, arrays[scale_key], quantized, "floating", result)
    zero = _companion(zero_key, arrays[zero_key], quantized, "integer", result) if zero_key in arrays else np.zeros(())
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


def _unpack_int4(source: str, packed: np.ndarray, shape: tuple[int, ...], result: Decoded) -> np.ndarray | None:
    """int8 codes of `shape` from tinytorch.nn.quantized's packed rows; None (and a problem) if they cannot be."""
    rows, per_row = (shape[0], math.prod(shape[1:])) if shape else (1, 1)
    if packed.shape != (rows, (per_row + 1) // 2):
        result.problems.append((source, f"packed int4 of shape {packed.shape} cannot hold a {shape} weight (that needs "
                                        f"uint8 ({rows}, {(per_row + 1) // 2}): two codes per byte along each row)",
                                "quantize with tinytorch.quantization (dtype 'int4'), or save int8 codes as np.int8"))
        return None
    codes = np.empty((rows, 2 * packed.shape[1]), np.int8)
    codes[:, 0::2] = (packed << 4).view(np.int8) >> 4
    codes[:, 1::2] = packed.view(np.int8) >> 4
    return codes[:, :per_row].reshape(shape)


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
    """The optional calibrated `prefix.input_scale` / `prefix.input_zero_point` of a weight-bearing layer."""
    result = Decoded(None)
    for name, kind in (("input_scale", np.floating), ("input_zero_point", np.integer)):
        key = f"{prefix}.{name}"
        if key in arrays:
            result.used.add(key)
            if arrays[key].size != 1 or arrays[key].ndim > 1 or not np.issubdtype(arrays[key].dtype, kind):
                result.problems.append((key, f"{arrays[key].dtype.name} {arrays[key].shape}; {name} is one "
                                             f"{'float' if kind is np.floating else 'integer'} value",
                                        "calibrate with tinytorch.quantization (prepare, calibrate, convert)"))
    return result


def unwrap(arrays: Mapping[str, np.ndarray], layers: set[str],
           max_values: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]]]:
    """(arrays with sparse triples made dense and fused layers' keys moved up a level, problems)."""
    problems: list[tuple[str, str, str]] = []
    dense = _densify(arrays, max_values, problems)
    unwrapped: dict[str, np.ndarray] = {}
    for key, value in dense.items():
        prefix, _, name = key.rpartition(".")
        if prefix not in layers and prefix.endswith(".0") and prefix[:-2] in layers:
            moved = f"{prefix[:-2]}.{name}"
            if moved in dense:
                problems.append((key, f"both {key!r} and {moved!r} were shipped", "ship the fused or the unfused layer"))
                continue
            key = moved
        unwrapped[key] = value
    return unwrapped, problems


SPARSE_PARTS = ("::bitmask", "::values", "::shape")


def _densify(arrays: Mapping[str, np.ndarray], max_values: int, problems: list) -> dict[str, np.ndarray]:
    dense = {key: value for key, value in arrays.items() if "::" not in key}
    names = {key.rsplit("::", 1)[0] for key in arrays if "::" in key}
    for name in sorted(names):
        parts = [arrays.get(name + part) for part in SPARSE_PARTS]
        if any(part is None for part in parts) or set(k for k in arrays if k.startswith(name + "::")) - {
                name + part for part in SPARSE_PARTS}:
            problems.append((name + "::", "a sparse tensor needs exactly ::bitmask, ::values and ::shape",
                             "save it with tinytorch.nn.utils.sparse.save_sparse"))
            continue
        value = _sparse(name, *parts, max_values, problems)
        if value is not None:
            dense[name] = value
    return dense


def _sparse(name: str, bitmask: np.ndarray, values: np.ndarray, shape: np.ndarray, max_values: int,
            problems: list) -> np.ndarray | None:
    fix = "save it with tinytorch.nn.utils.sparse.save_sparse"
    if not np.issubdtype(shape.dtype, np.integer) or shape.ndim != 1 or (shape < 0).any() or shape.size > 8:
        problems.append((name + "::shape", "must list a tensor shape (non-negative integers)", fix))
        return None
    size = math.prod(int(n) for n in shape)
    if size > max_values or bitmask.dtype != np.uint8 or bitmask.shape != ((size + 7) // 8,) or values.ndim != 1:
        problems.append((name + "::bitmask", f"does not encode a {tuple(int(n) for n in shape)} tensor (at most "
                                             f"{max_values} values, one bit each)", fix))
        return None
    nonzero = np.unpackbits(bitmask, count=size).astype(bool)
    if int(nonzero.sum()) != values.size:
        problems.append((name + "::values", f"{values.size} values for {int(nonzero.sum())} marked entries", fix))
        return None
    dense = np.zeros(size, values.dtype)
    dense[nonzero] = values
    return dense.reshape(tuple(int(n) for n in shape))
