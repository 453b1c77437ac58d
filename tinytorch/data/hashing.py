"""SHA-256 helpers: of a file on disk, and of in-memory arrays (for provenance in results)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

_CHUNK_BYTES = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_sha256(*arrays: np.ndarray) -> str:
    """Hex SHA-256 over each array's dtype, shape and C-order bytes, in argument order.

    Two data sets hash equal only if every array has the same dtype, shape and values.
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
