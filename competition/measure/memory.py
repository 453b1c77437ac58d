"""Peak memory during inference, measured inside the worker.

tracemalloc_bytes: the tracemalloc peak of one call above the traced memory just before it (NumPy reports its
array buffers to tracemalloc, so this counts NumPy allocations and Python objects made by the call).
rss_delta_bytes (computed by the parent): the worker's RSS high-water mark (getrusage ru_maxrss) after load,
warm-up and one inference, minus the high-water mark of an import-only worker started the same way.
"""

from __future__ import annotations

import resource
import sys
import tracemalloc
from collections.abc import Callable


def traced_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes traced by tracemalloc while `fn` runs, above what was traced when it started."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not already:
            tracemalloc.stop()
    return max(0, peak - before)


def max_rss_bytes() -> int:
    """This process's resident-set high-water mark in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(value if sys.platform == "darwin" else value * 1024)
