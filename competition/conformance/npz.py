"""Read an .npz safely: array headers first (no pickle, no object arrays, bounded member count and declared size),
then the data with ``allow_pickle=False``. Used by validation (every division) and by the run-time reference."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

MAX_MEMBERS = 4096
MAX_DECLARED_BYTES = 200_000_000  # uncompressed; a 10 MB limit on files cannot be dodged with a zip bomb
SAFE_FIX = "save plain numeric arrays with tinytorch.save(model.state_dict(), 'NAME.npz') (no pickle, no object arrays)"


class WeightsError(ValueError):
    """The .npz cannot be read safely (not a zip, a pickled object array, a bad header, too large)."""


def npz_specs(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{key: (shape, dtype)} of every array in the .npz at `path`, from the headers only. Raises WeightsError."""
    specs = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) > MAX_MEMBERS:
                raise WeightsError(f"{len(names)} arrays, more than the {MAX_MEMBERS} allowed")
            for name in names:
                specs[name[:-4]] = _member_spec(archive, name)
    except WeightsError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise WeightsError(f"not a readable .npz archive ({exc})") from None
    declared = sum(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize for shape, dtype in specs.values())
    if declared > MAX_DECLARED_BYTES:
        raise WeightsError(f"the arrays declare {declared} bytes uncompressed, over the {MAX_DECLARED_BYTES} allowed")
    return specs


def _member_spec(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    if not name.endswith(".npy"):
        raise WeightsError(f"member {name!r} is not a .npy array")
    with archive.open(name) as member:
        major, _ = np.lib.format.read_magic(member)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise WeightsError(f"array {name[:-4]!r} holds Python objects (it needs pickle)")
    if any(n < 0 for n in shape):
        raise WeightsError(f"array {name[:-4]!r} declares a negative size {shape}")
    return tuple(int(n) for n in shape), dtype


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """{key: array} of the .npz at `path`, after the header checks of `npz_specs`. Raises WeightsError."""
    specs = npz_specs(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise WeightsError(f"an array cannot be read ({exc})") from None
    if set(arrays) != set(specs):
        raise WeightsError("the archive's members do not match its array list")
    return arrays


def non_finite(arrays: dict[str, np.ndarray]) -> dict[str, int]:
    """{key: how many NaN or infinite values} for every floating array that holds any."""
    counts = {}
    for key, array in arrays.items():
        if np.issubdtype(array.dtype, np.inexact):
            bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            if bad:
                counts[key] = bad
    return counts
