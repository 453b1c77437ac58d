"""PerformanceProfiler: time and memory of named blocks, and per layer through forward hooks.

    profiler = PerformanceProfiler(model)
    with profiler.profile("inference"):
        model(x)
    print(profiler.report())

Every module of ``model`` is hooked while a block runs. A layer's time is its *self* time: the time inside its
forward minus the time inside hooked children, so a block's layer times add up to the time spent in the model;
container code between layers (residual adds, reshapes in ``forward``) is one row, "(between layers)". Memory is the
tracemalloc peak above the level at the call's start (NumPy reports its buffers to tracemalloc), plus the bytes
of the output; with ``trace_memory=False`` only the output bytes are recorded and timing has no tracing overhead.
"""
from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .costs import arrays, bytes_moved, layer_flops, own_parameter_bytes
from .units import format_bytes, format_flops, format_seconds, format_share

BETWEEN_LAYERS = "(between layers)"


@dataclass
class LayerStats:
    """Accumulated over every call of one layer; ``flops`` is None when the layer type has no cost model."""

    name: str
    type: str
    calls: int = 0
    time_s: float = 0.0
    flops: int | None = 0
    bytes_moved: int = 0
    output_bytes: int = 0
    peak_bytes: int = 0
    parameters: int = 0


@dataclass
class SectionStats:
    """One named block: calls, total wall time and the largest tracemalloc peak of a call."""

    name: str
    calls: int = 0
    time_s: float = 0.0
    peak_bytes: int = 0


@dataclass
class LatencyStats:
    """Seconds per call over ``samples`` timed runs after warm-up."""

    median: float
    p25: float
    p75: float
    best: float
    samples: list[float] = field(repr=False)


@dataclass
class _Frame:
    stats: LayerStats | None  # None for a block
    started: float
    memory_at_start: int
    peak: int = 0
    children_s: float = 0.0


class PerformanceProfiler:
    """Named blocks (``with profiler.profile(name):``) and per-layer statistics of ``model`` inside them."""

    def __init__(self, model: Module | None = None, trace_memory: bool = True) -> None:
        if model is not None and not isinstance(model, Module):
            raise TypeError(f"PerformanceProfiler: model must be a tinytorch nn.Module, got {type(model).__name__}")
        self.model = model
        self.trace_memory = trace_memory
        self.sections: dict[str, SectionStats] = {}
        self._layers: dict[str, LayerStats] = {}
        self._modules: dict[str, Module] = {}
        self._stack: list[_Frame] = []  # open blocks and layer calls, innermost last
        self._depth = 0  # open blocks

    # ---- blocks and hooks ---------------------------------------------------------------------------------------

    @contextmanager
    def profile(self, name: str) -> Iterator[SectionStats]:
        """Time (and trace) the block; hooks on every module of the model record per-layer statistics.
        Blocks may nest: the hooks are attached once, by the outermost block."""
        section = self.sections.setdefault(name, SectionStats(name))
        outermost = self._depth == 0
        handles = self._attach() if self.model is not None and outermost else []
        tracing = self.trace_memory and not tracemalloc.is_tracing()
        if tracing:
            tracemalloc.start()
        current, peak = self._traced()
        if self._stack:  # an enclosing block keeps the peak reached so far
            self._stack[-1].peak = max(self._stack[-1].peak, peak)
        if self.trace_memory:
            tracemalloc.reset_peak()
        frame = _Frame(None, time.perf_counter(), current)
        self._stack.append(frame)
        self._depth += 1
        try:
            yield section
        finally:
            section.time_s += time.perf_counter() - frame.started
            section.calls += 1
            self._depth -= 1
            while self._stack and self._stack[-1] is not frame:  # an exception left layer frames open
                self._stack.pop()
            self._stack.pop()
            peak = max(frame.peak, self._traced()[1])
            if self.trace_memory:
                section.peak_bytes = max(section.peak_bytes, peak - frame.memory_at_start)
            if self._stack:
                self._stack[-1].peak = max(self._stack[-1].peak, peak)
            if tracing:
                tracemalloc.stop()
            for handle in handles:
                handle.remove()

    def _attach(self) -> list:
        handles = []
        for name, module in self.model.named_modules():
            key = name or type(module).__name__
            stats = self._layers.setdefault(key, LayerStats(key, type(module).__name__,
                                                            parameters=_parameter_count(module, recurse=False)))
            self._modules[key] = module
            handles.append(module.register_forward_pre_hook(self._pre_hook(stats)))
            handles.append(module.register_forward_hook(self._post_hook(stats)))
        return handles

    def _traced(self) -> tuple[int, int]:
        return tracemalloc.get_traced_memory() if self.trace_memory else (0, 0)

    def _pre_hook(self, stats: LayerStats) -> Callable:
        def hook(module: Module, inputs: tuple) -> None:
            current, peak = self._traced()
            if self._stack:  # the parent's peak so far, before this call resets the counter
                self._stack[-1].peak = max(self._stack[-1].peak, peak)
            if self.trace_memory:
                tracemalloc.reset_peak()
            self._stack.append(_Frame(stats, time.perf_counter(), current))
        return hook

    def _post_hook(self, stats: LayerStats) -> Callable:
        def hook(module: Module, inputs: tuple, output: Any) -> None:
            ended = time.perf_counter()
            frame = self._stack.pop()
            inclusive = ended - frame.started
            peak = max(frame.peak, self._traced()[1])
            stats.calls += 1
            stats.time_s += inclusive - frame.children_s
            stats.peak_bytes = max(stats.peak_bytes, peak - frame.memory_at_start)
            stats.output_bytes = max(stats.output_bytes, sum(a.nbytes for a in arrays(output)))
            flops = layer_flops(module, inputs, output)
            stats.flops = None if flops is None or stats.flops is None else stats.flops + flops
            stats.bytes_moved += bytes_moved(module, inputs, output) if _is_layer(module) else 0
            if self._stack:
                self._stack[-1].children_s += inclusive
                self._stack[-1].peak = max(self._stack[-1].peak, peak)
        return hook

    # ---- results ------------------------------------------------------------------------------------------------

    @property
    def layers(self) -> list[LayerStats]:
        """Layers that ran (leaves and modules with their own parameters), in first-call order, then one
        "(between layers)" row with the self time of pure containers."""
        rows, between = [], LayerStats(BETWEEN_LAYERS, "-", flops=None)
        for key, stats in self._layers.items():
            if not stats.calls:
                continue
            if _is_layer(self._modules[key]):
                rows.append(stats)
            else:
                between.calls += stats.calls
                between.time_s += stats.time_s
        return rows + ([between] if between.calls else [])

    def total_layer_time(self) -> float:
        return sum(layer.time_s for layer in self.layers)

    def report(self, top: int | None = None) -> str:
        """Blocks, then layers by time share (``top`` largest), in ms / MB / FLOP."""
        lines = [f"{'block':<28}{'calls':>6}{'time':>12}{'peak memory':>14}"]
        for section in self.sections.values():
            peak = format_bytes(section.peak_bytes) if self.trace_memory else "not traced"
            lines.append(f"{section.name[:27]:<28}{section.calls:>6}{format_seconds(section.time_s):>12}{peak:>14}")
        layers = sorted(self.layers, key=lambda layer: layer.time_s, reverse=True)[:top]
        if layers:
            total = self.total_layer_time() or 1.0
            lines += ["", f"{'layer':<22}{'type':<12}{'calls':>5}{'time':>10}{'share':>8}{'FLOPs':>12}{'memory':>11}"]
            for layer in layers:
                memory = format_bytes(max(layer.peak_bytes, layer.output_bytes))
                flops = format_flops(layer.flops) if layer.flops is not None else "-"
                lines.append(f"{layer.name[:21]:<22}{layer.type[:11]:<12}{layer.calls:>5}"
                             f"{format_seconds(layer.time_s):>10}{format_share(layer.time_s / total):>8}"
                             f"{flops:>12}{memory:>11}")
        return "\n".join(lines)

    # ---- the course's one-call measurements ---------------------------------------------------------------------

    @staticmethod
    def count_parameters(model: Module) -> int:
        return _parameter_count(model)

    @staticmethod
    def count_flops(model: Module, inputs: Any) -> int:
        """FLOPs of one forward pass on ``inputs`` (layers without a cost model count 0)."""
        profiler = PerformanceProfiler(model, trace_memory=False)
        with profiler.profile("count_flops"), no_grad():
            model(_as_input(inputs))
        return sum(layer.flops or 0 for layer in profiler.layers)

    @staticmethod
    def measure_latency(model: Module | Callable[[], Any], inputs: Any = None, warmup: int = 2,
                        iterations: int = 10) -> LatencyStats:
        """Seconds per forward (or per call of a zero-argument function) over ``iterations`` timed runs."""
        run = (lambda: model()) if inputs is None else (lambda: model(_as_input(inputs)))  # noqa: E731
        samples = []
        with no_grad():
            for _ in range(warmup):
                run()
            for _ in range(iterations):
                started = time.perf_counter()
                run()
                samples.append(time.perf_counter() - started)
        q = np.percentile(samples, [25, 75])
        return LatencyStats(statistics.median(samples), float(q[0]), float(q[1]), min(samples), samples)

    @staticmethod
    def measure_memory(model: Module, inputs: Any) -> int:
        """tracemalloc peak bytes of one forward pass, above the level before it."""
        profiler = PerformanceProfiler(trace_memory=True)
        with profiler.profile("memory") as section, no_grad():
            model(_as_input(inputs))
        return section.peak_bytes


def _as_input(inputs: Any) -> Any:
    return Tensor(inputs) if isinstance(inputs, np.ndarray) and inputs.dtype.kind == "f" else inputs


def _is_layer(module: Module) -> bool:
    """A leaf, or a module with parameters of its own (e.g. MultiheadAttention's in-projection)."""
    return not any(True for _ in module.children()) or own_parameter_bytes(module) > 0


def _parameter_count(module: Module, recurse: bool = True) -> int:
    return int(sum(p.data.size for p in module.parameters(recurse=recurse)))
