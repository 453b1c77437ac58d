"""Diagnostic per-layer records for `tito profile`, through tinytorch forward hooks (never part of a result).

Runs inside the worker when the student asks `tito profile` for where time goes; the numbers are the worker's own
and are therefore shown to the student only, never written into a result.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np


def leaf_modules(model: Any) -> list[tuple[str, Any]]:
    """(name, module) of modules without children that support forward hooks; [] if `model` is not a Module."""
    if not hasattr(model, "named_modules"):
        return []
    out = []
    for name, module in model.named_modules():
        has_children = any(True for _ in module.children()) if hasattr(module, "children") else False
        if not has_children and hasattr(module, "register_forward_hook"):
            out.append((name or type(module).__name__, module))
    return out


def layer_flops(module: Any, output: Any) -> int:
    """Multiply-add FLOPs (2 per MAC) of one Linear or Conv2d call from its weight and output shapes; else 0."""
    kind = type(module).__name__
    weight = getattr(module, "weight", None)
    if kind not in ("Linear", "Conv2d") or weight is None:
        return 0
    w_shape = np.shape(getattr(weight, "data", weight))
    out_numel = int(np.prod(np.shape(getattr(output, "data", output))))
    return 2 * out_numel * int(np.prod(w_shape[1:]))


def record_layers(model: Any, fn: Callable[[], object], trace_memory: bool = True) -> list[dict]:
    """Run `fn` once with hooks on every leaf module; per layer: calls, seconds, peak traced bytes, FLOPs."""
    layers = leaf_modules(model)
    stats = {name: {"name": name, "type": type(m).__name__, "calls": 0, "time_s": 0.0, "peak_bytes": 0,
                    "flops": 0, "parameters": _param_count(m)} for name, m in layers}
    started: dict[str, tuple[float, int]] = {}
    handles = []

    def pre(name: str) -> Callable:
        def hook(module: Any, inputs: Any) -> None:
            if trace_memory:
                tracemalloc.reset_peak()
            started[name] = (time.perf_counter(), tracemalloc.get_traced_memory()[0] if trace_memory else 0)
        return hook

    def post(name: str) -> Callable:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            t0, mem0 = started.pop(name)
            entry = stats[name]
            entry["time_s"] += time.perf_counter() - t0
            entry["calls"] += 1
            entry["flops"] += layer_flops(module, output)
            if trace_memory:
                entry["peak_bytes"] = max(entry["peak_bytes"], tracemalloc.get_traced_memory()[1] - mem0)
        return hook

    for name, module in layers:
        handles.append(module.register_forward_pre_hook(pre(name)))
        handles.append(module.register_forward_hook(post(name)))
    tracing = trace_memory and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    try:
        fn()
    finally:
        if tracing:
            tracemalloc.stop()
        for handle in handles:
            handle.remove()
    return list(stats.values())


def _param_count(module: Any) -> int:
    if not hasattr(module, "parameters"):
        return 0
    return int(sum(np.size(getattr(p, "data", p)) for p in module.parameters()))
