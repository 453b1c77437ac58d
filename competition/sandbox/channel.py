"""Message framing between the harness and a worker: JSON control messages + .npy-framed arrays, never pickle.

A message is a 4-byte big-endian header length, the UTF-8 JSON header (which says how many arrays follow), then
for each array an 8-byte length and the array in .npy format (version 1.0 header; the reader takes only the plain
numeric headers NumPy's writer produces, so object dtypes and anything needing pickle or evaluation are refused).
Arrays are written straight from their buffers and read straight into one buffer each (no intermediate copies), and
pipes are enlarged to 1 MiB where the kernel allows, so moving a round's inputs costs little of the parent's clock.
The reading side bounds every length, so a hostile worker cannot make the parent allocate without limit.
"""

from __future__ import annotations

import fcntl
import io
import json
import math
import os
import re
import select
import struct
import time

import numpy as np

MAX_HEADER_BYTES = 1 << 20
MAX_ARRAY_BYTES = 1 << 30
MAX_ARRAYS = 1 << 16  # per message: a flood of tiny arrays would cost the reader far more than their bytes
PIPE_BYTES = 1 << 20
IOV_MAX = 1024
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux; the constant is missing from older Pythons)


class ChannelError(RuntimeError):
    """The other side broke the protocol, closed the pipe or did not answer in time."""


def _frames(header: dict, arrays: list[np.ndarray] | tuple[np.ndarray, ...]) -> list[bytes | memoryview]:
    """The byte pieces of one message, array data as views of the arrays' own buffers."""
    head = json.dumps({**header, "n_arrays": len(arrays)}, allow_nan=True).encode("utf-8")
    parts: list[bytes | memoryview] = [struct.pack(">I", len(head)), head]
    for array in arrays:
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise ValueError("arrays of Python objects cannot be sent (they would need pickle)")
        npy = io.BytesIO()
        np.lib.format.write_array_header_1_0(npy, np.lib.format.header_data_from_array_1_0(array))
        data = memoryview(array).cast("B") if array.size else memoryview(b"")
        parts += [struct.pack(">Q", npy.tell() + data.nbytes), npy.getvalue(), data]
    return parts


def encode(header: dict, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> bytes:
    """Frame one message: `header` (JSON-serialisable dict) followed by `arrays`."""
    return b"".join(bytes(part) for part in _frames(header, arrays))


def send(fd: int, header: dict, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> None:
    """Write one framed message to the file descriptor `fd`."""
    _enlarge(fd)
    views = [memoryview(part).cast("B") for part in _frames(header, arrays)]
    while views:  # one writev for the whole message (one wake-up of the reader), then whatever did not fit
        written = os.writev(fd, views[:IOV_MAX])
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def receive(fd: int, deadline: float | None = None,
            max_array_bytes: int = MAX_ARRAY_BYTES) -> tuple[dict, list[np.ndarray]]:
    """Read one framed message from `fd`; `deadline` is a time.monotonic() value after which ChannelError is raised."""
    _enlarge(fd)
    (head_len,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if head_len > MAX_HEADER_BYTES:
        raise ChannelError(f"message header of {head_len} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = json.loads(_read_exact(fd, head_len, deadline).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ChannelError(f"malformed message header: {err}") from None
    if not isinstance(header, dict) or not isinstance(header.get("n_arrays"), int) or header["n_arrays"] < 0:
        raise ChannelError("message header is not an object with a non-negative n_arrays")
    if header["n_arrays"] > MAX_ARRAYS:
        raise ChannelError(f"message of {header['n_arrays']} arrays exceeds the limit of {MAX_ARRAYS}")
    arrays, total = [], 0
    for _ in range(header.pop("n_arrays")):
        (size,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
        total += size
        if size > max_array_bytes or total > 2 * max_array_bytes:
            raise ChannelError(f"array of {size} bytes exceeds the limit of {max_array_bytes}")
        arrays.append(_parse_npy(_read_exact(fd, size, deadline)))
    return header, arrays


NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex: what outputs and inputs are made of
NPY_MAGIC = b"\x93NUMPY\x01\x00"  # version 1.0, the only one `_frames` writes
NPY_HEADER = re.compile(rb"\{'descr': '([<>|=][a-zA-Z]\d+)', 'fortran_order': (True|False), "
                        rb"'shape': \(((?:\d+, )*(?:\d+,?)?)\), \} *\n")


def _parse_npy(buf: bytearray) -> np.ndarray:
    """An array viewing `buf` (an .npy image), after checking its header; never unpickles, never evaluates.

    Only the header NumPy's own writer produces for a plain dtype is accepted, read with a regular expression (not
    NumPy's reader, which evaluates the header as a Python literal: 20-25 us per array, paid inside the timed
    request for every output batch)."""
    head_len = int.from_bytes(buf[8:10], "little") if len(buf) >= 10 else 0
    match = NPY_HEADER.fullmatch(bytes(buf[10:10 + head_len])) if buf[:8] == NPY_MAGIC else None
    if match is None:
        raise ChannelError("malformed array: not a version 1.0 .npy header of a plain dtype")
    try:
        dtype = np.dtype(match[1].decode("ascii"))
        shape = tuple(int(n) for n in match[3].replace(b" ", b"").split(b",") if n)
        offset = 10 + head_len
        if dtype.kind not in NUMERIC_KINDS or math.prod(shape) * dtype.itemsize != len(buf) - offset:
            raise ValueError(f"{dtype} {shape} is not a numeric array of the {len(buf) - offset} bytes that follow")
        return np.frombuffer(buf, dtype=dtype, offset=offset).reshape(shape, order="F" if match[2] == b"True" else "C")
    except (TypeError, ValueError) as err:
        raise ChannelError(f"malformed array: {err}") from None


def _enlarge(fd: int) -> None:
    try:
        if fcntl.fcntl(fd, 1032) < PIPE_BYTES:  # F_GETPIPE_SZ
            fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # not a pipe, or the kernel's pipe-max-size is lower: the default size works too


def _read_exact(fd: int, n: int, deadline: float | None) -> bytearray:
    buf = bytearray(n)
    view, filled = memoryview(buf), 0
    while filled < n:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ChannelError("timed out waiting for the worker")
        got = os.readv(fd, [view[filled:]])
        if not got:
            raise ChannelError("the worker closed the pipe (it exited or crashed)")
        filled += got
    return buf
