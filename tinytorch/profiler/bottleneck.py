"""BottleneckAnalyzer: layers ranked by time share, each placed on the roofline of this machine.

A layer doing F FLOPs and moving B bytes needs at least ``max(F / gemm_rate, B / bandwidth)`` seconds. It is
*compute-bound* when its arithmetic intensity F / B is above the machine balance (gemm_rate / bandwidth, FLOP per
byte) and *memory-bound* below it; ``efficiency`` is that lower bound over the measured time (1.0 = at the roof).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..autograd import no_grad
from ..nn.module import Module
from .machine import MachineRates, measure_machine
from .performance import LayerStats, PerformanceProfiler, _as_input
from .units import format_bandwidth, format_rate, format_seconds, format_share


@dataclass(frozen=True)
class Finding:
    name: str
    type: str
    time_s: float
    share: float
    flops: int | None
    bytes_moved: int
    intensity: float | None  # FLOP per byte
    bound: str  # "compute", "memory" or "unknown" (no cost model for this layer type)
    flops_per_s: float | None
    bytes_per_s: float | None
    efficiency: float | None


class BottleneckAnalyzer:
    """Findings for the layers of a profile (a PerformanceProfiler or its ``layers``), slowest first."""

    def __init__(self, profile: PerformanceProfiler | Sequence[LayerStats], machine: MachineRates | None = None):
        self.layers = list(profile.layers if isinstance(profile, PerformanceProfiler) else profile)
        self.machine = machine if machine is not None else measure_machine()

    @classmethod
    def from_model(cls, model: Module, inputs: Any, repeats: int = 3,
                   machine: MachineRates | None = None) -> BottleneckAnalyzer:
        """Profile ``repeats`` forward passes (after one warm-up) without memory tracing, then analyze."""
        with no_grad():
            model(_as_input(inputs))
            profiler = PerformanceProfiler(model, trace_memory=False)
            for _ in range(repeats):
                with profiler.profile("forward"):
                    model(_as_input(inputs))
        return cls(profiler, machine)

    def analyze(self) -> list[Finding]:
        total = sum(layer.time_s for layer in self.layers) or 1.0
        findings = [self._finding(layer, total) for layer in self.layers]
        return sorted(findings, key=lambda f: f.time_s, reverse=True)

    def bottleneck(self) -> Finding:
        """The layer with the largest time share."""
        findings = self.analyze()
        if not findings:
            raise ValueError("BottleneckAnalyzer: the profile has no layers (was the model called inside a block?)")
        return findings[0]

    def _finding(self, layer: LayerStats, total: float) -> Finding:
        seconds = layer.time_s or float("nan")
        if layer.flops is None or not layer.bytes_moved:
            return Finding(layer.name, layer.type, layer.time_s, layer.time_s / total, layer.flops,
                           layer.bytes_moved, None, "unknown", None,
                           layer.bytes_moved / seconds if layer.bytes_moved else None, None)
        intensity = layer.flops / layer.bytes_moved
        bound = "compute" if intensity >= self.machine.balance else "memory"
        roof_s = max(layer.flops / self.machine.gemm_flops_per_s,
                     layer.bytes_moved / self.machine.bandwidth_bytes_per_s)
        return Finding(layer.name, layer.type, layer.time_s, layer.time_s / total, layer.flops, layer.bytes_moved,
                       intensity, bound, layer.flops / seconds, layer.bytes_moved / seconds, roof_s / seconds)

    def report(self, top: int = 10) -> str:
        m = self.machine
        lines = [f"machine: GEMM {format_rate(m.gemm_flops_per_s)}, memory {format_bandwidth(m.bandwidth_bytes_per_s)}"
                 f", balance {m.balance:.1f} FLOP/byte",
                 f"{'layer':<22}{'time':>10}{'share':>8}{'FLOP/B':>8}{'bound':>9}{'achieved':>16}{'of roof':>9}"]
        for f in self.analyze()[:top]:
            achieved = format_rate(f.flops_per_s) if f.bound == "compute" else format_bandwidth(f.bytes_per_s)
            lines.append(f"{f.name[:21]:<22}{format_seconds(f.time_s):>10}{format_share(f.share):>8}"
                         f"{'-' if f.intensity is None else f'{f.intensity:.1f}':>8}{f.bound:>9}{achieved:>16}"
                         f"{format_share(f.efficiency):>9}")
        return "\n".join(lines)
