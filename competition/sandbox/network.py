"""Cut a child process off the network where the OS allows it: a fresh network namespace (loopback only)."""

from __future__ import annotations

import os

from competition.sandbox.libc import LIBC

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def isolate() -> str | None:
    """unshare() the network namespace of the calling process; return the method used, or None if not allowed.

    Root can unshare the network namespace directly; other users first need a user namespace.
    Call it in the child between fork and exec (it must be single-threaded for CLONE_NEWUSER).
    """
    attempts = [(CLONE_NEWNET, "unshare(CLONE_NEWNET)")]
    if os.geteuid() != 0:
        attempts = [(CLONE_NEWUSER | CLONE_NEWNET, "unshare(CLONE_NEWUSER|CLONE_NEWNET)")]
    for flags, method in attempts:
        if LIBC.unshare(flags) == 0:
            return method
    return None
