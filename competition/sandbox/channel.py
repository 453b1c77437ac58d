"""Message framing between the harness and a worker: JSON control messages + .npy-framed arrays, never pickle.

A message is a 4-byte big-endian header length, the UTF-8 JSON header (which says how many arrays follow), then
for each array an 8-byte length and the array in .npy format (written and read with allow_pickle=False).
The reading side bounds every length, so a hostile worker cannot make the parent allocate without limit.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time

import numpy as np

MAX_HEADER_BYTES = 1 << 20


class ChannelError(RuntimeError):
    """The other side broke the protocol, closed the pipe or did not answer in time."""


def encode(header: dict, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> bytes:
    """Frame one message: `header` (JSON-serialisable dict) followed by `arrays`."""
    header = {**header, "n_arrays": len(arrays)}
    head = json.dumps(header, allow_nan=True).encode("utf-8")
    parts = [struct.pack(">I", len(head)), head]
    for array in arrays:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
        data = buf.getvalue()
        parts += [struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def send(fd: int, header: dict, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> None:
    """Write one framed message to the file descriptor `fd`."""
    view = memoryview(encode(header, arrays))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd: int, deadline: float | None = None, max_array_bytes: int = 1 << 31) -> tuple[dict, list[np.ndarray]]:
    """Read one framed message from `fd`; `deadline` is a time.monotonic() value after which ChannelError is raised."""
    (head_len,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if head_len > MAX_HEADER_BYTES:
        raise ChannelError(f"message header of {head_len} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = json.loads(_read_exact(fd, head_len, deadline).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ChannelError(f"malformed message header: {err}") from None
    if not isinstance(header, dict) or not isinstance(header.get("n_arrays"), int) or header["n_arrays"] < 0:
        raise ChannelError("message header is not an object with a non-negative n_arrays")
    arrays = []
    for _ in range(header.pop("n_arrays")):
        (size,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
        if size > max_array_bytes:
            raise ChannelError(f"array of {size} bytes exceeds the limit of {max_array_bytes}")
        try:
            arrays.append(np.lib.format.read_array(io.BytesIO(_read_exact(fd, size, deadline)), allow_pickle=False))
        except ValueError as err:
            raise ChannelError(f"malformed array: {err}") from None
    return header, arrays


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ChannelError("timed out waiting for the worker")
        chunk = os.read(fd, min(remaining, 1 << 22))
        if not chunk:
            raise ChannelError("the worker closed the pipe (it exited or crashed)")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
