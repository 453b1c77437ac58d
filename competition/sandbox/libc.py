"""The C library for the system calls Python does not wrap (unshare, mount, prctl), loaded once at import: loading it
in a forked child, between fork and exec, may run a subprocess (ctypes.util.find_library) and is unsafe there."""

from __future__ import annotations

import ctypes
import ctypes.util

LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
