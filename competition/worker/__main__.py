"""The worker's main loop: arm the audit hook, say `ready`, then serve framed requests until `exit`."""

from __future__ import annotations

import argparse
import importlib
import os
import site
import socket
import sys
import traceback
from pathlib import Path

import numpy as np

import competition
from competition.sandbox import channel, guard
from competition.worker.server import Server

try:
    import tinytorch
except ImportError:  # NumPy-only submissions still work
    tinytorch = None
try:  # pin the BLAS pool to the thread count the parent put in the environment
    from threadpoolctl import threadpool_limits
    threadpool_limits(int(os.environ.get("OMP_NUM_THREADS") or 1))
except ImportError:
    pass
for _name in ("tinytorch.nn", "tinytorch.optim", "tinytorch.data", "tinytorch.models"):
    try:  # imported before the guard is armed, so every submission starts from the same state
        importlib.import_module(_name)
    except ImportError:
        pass


def error_text(err: BaseException, root: Path) -> str:
    """One line naming the error and the submission file and line it came from."""
    if isinstance(err, MemoryError):
        return "MemoryError: the submission ran out of memory (memory limit of the sandbox)"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(str(root))]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(err).__name__}: {err}{where}"[:1900]


def arm_guard(root: Path) -> None:
    """The audit hook: an early, friendly error for forbidden calls (the jail is the defence)."""
    readable = [sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
                str(Path(np.__file__).parent), str(Path(competition.__file__).parent), "/dev/null", "/dev/urandom"]
    unreadable = []
    if tinytorch is not None:
        tt_dir = Path(list(tinytorch.__path__)[0])
        readable.append(str(tt_dir))
        unreadable.append(str(tt_dir / "data" / "bundled"))
    guard.install(str(root.parent), readable, unreadable)


def serve(server: Server, read_fd: int, write_fd: int, root: Path) -> int:
    """Answer requests until `exit` or a closed pipe; a submission error becomes an {"error": ...} reply."""
    while True:
        try:
            msg, arrays = channel.receive(read_fd)
        except channel.ChannelError:
            return 0
        if msg.get("op") == "exit":
            return 0
        handler = getattr(server, f"op_{msg.get('op')}", None)
        try:
            if handler is None:
                raise ValueError(f"unknown request {msg.get('op')!r}")
            reply, out = handler(msg, arrays)
        except BaseException as err:  # noqa: BLE001 - every submission failure becomes a reply
            if isinstance(err, KeyboardInterrupt):
                raise
            reply, out = {"error": error_text(err, root)}, []
        channel.send(write_fd, reply, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    interfaces = [name for _, name in socket.if_nameindex()]
    arm_guard(root)
    channel.send(args.write_fd, {"op": "ready", "pid": os.getpid(), "interfaces": interfaces})
    return serve(Server(root), args.read_fd, args.write_fd, root)


if __name__ == "__main__":
    sys.exit(main())
