"""Parser for the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").

Layout: magic number = two zero bytes, a type code byte, a byte with the number of dimensions;
then one big-endian uint32 per dimension; then the values, big-endian, in C order.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from tinytorch.data.errors import DataFormatError

IDX_DTYPES: dict[int, str] = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in .gz) into a native-endian array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            payload = handle.read()
    except (gzip.BadGzipFile, EOFError) as error:
        raise DataFormatError(f"{path}: not a valid gzip file ({error})") from error
    return parse_idx(payload, source=str(path))


def parse_idx(payload: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file; `source` names it in error messages."""
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in IDX_DTYPES:
        raise DataFormatError(
            f"{source}: bad IDX magic number {payload[:4].hex() or '(empty)'}; expected 00 00 <type "
            f"{'/'.join(f'{code:02x}' for code in IDX_DTYPES)}> <ndim>. "
            + ("It is gzip data: give the file a .gz name." if payload[:2] == b"\x1f\x8b" else "Is this an IDX file?"))
    ndim = payload[3]
    header_bytes = 4 + 4 * ndim
    if len(payload) < header_bytes:
        raise DataFormatError(f"{source}: truncated IDX header ({len(payload)} bytes, need {header_bytes})")
    shape = tuple(int(size) for size in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[payload[2]])
    expected_bytes = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(payload) != expected_bytes:
        raise DataFormatError(
            f"{source}: IDX header says shape {shape} of {dtype.name} ({expected_bytes} bytes in all) "
            f"but the file has {len(payload)} bytes; the file is truncated or corrupt")
    values = np.frombuffer(payload, dtype=dtype, offset=header_bytes).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
