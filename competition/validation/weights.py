"""Read the key -> (shape, dtype) table of an .npz from its array headers, without pickle and without the data."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


class WeightsError(ValueError):
    """The .npz cannot be read safely (not a zip, a pickled object array, a bad header)."""


def npz_specs(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{key: (shape, dtype)} of every array in the .npz at `path`. Raises WeightsError."""
    specs = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not name.endswith(".npy"):
                    raise WeightsError(f"member {name!r} is not a .npy array")
                with archive.open(name) as member:
                    major, _ = np.lib.format.read_magic(member)
                    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise WeightsError(f"array {name[:-4]!r} holds Python objects (needs pickle)")
                specs[name[:-4]] = (tuple(shape), dtype)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, WeightsError):
            raise
        raise WeightsError(str(exc)) from exc
    return specs
