"""BottleneckAnalyzer: layers ranked by time share, each placed on the roofline of this machine.

A layer doing F FLOPs and moving B bytes needs at least ``max(F / gemm_rate, B / bandwidth)`` seconds. It is
*compute-bound* when its arithmetic intensity F / B is above the machine balance (gemm_rate / bandwidth, FLOP per
byte) and *memory-bound* below it; ``efficiency`` is that lower bound over the measured time (1.0 = at the roof).

``from_model`` measures the roofs in the same interleaved way as the layers (roof, pass, roof, pass, ...), takes the
best roof and each layer's median time, and reports the spread of both: on a loaded machine a spread above
``UNSTABLE_SPREAD`` flags the numbers as unstable. A layer that ran faster than its roof (its data stayed in cache,
so the DRAM bandwidth roof does not bind it, or load slowed the roof measurement) is reported as "above roof" with
``efficiency`` None: no share above 100 % is ever printed.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..autograd import no_grad
from ..nn.module import Module
from .machine import MachineRates, measure_machine, probe_machine
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
    efficiency: float | None  # None when unknown or above the roof
    above_roof: bool = False


UNSTABLE_SPREAD = 1.25  # slowest / fastest round above this: the machine was too busy for a stable reading


@dataclass(frozen=True)
class Stability:
    """How steady the interleaved rounds were: slowest over fastest roof measurement and forward pass."""

    rounds: int
    roof_spread: float
    pass_spread: float

    @property
    def stable(self) -> bool:
        return max(self.roof_spread, self.pass_spread) <= UNSTABLE_SPREAD


class BottleneckAnalyzer:
    """Findings for the layers of a profile (a PerformanceProfiler or its ``layers``), slowest first."""

    def __init__(self, profile: PerformanceProfiler | Sequence[LayerStats], machine: MachineRates | None = None,
                 stability: Stability | None = None):
        self.layers = list(profile.layers if isinstance(profile, PerformanceProfiler) else profile)
        self.machine = machine if machine is not None else measure_machine()
        self.stability = stability

    @classmethod
    def from_model(cls, model: Module, inputs: Any, repeats: int = 5,
                   machine: MachineRates | None = None) -> BottleneckAnalyzer:
        """``repeats`` rounds (after one warm-up pass), each a roof measurement then a profiled forward pass
        without memory tracing; the best roof (or ``machine``) and each layer's median time per pass."""
        rooves, passes = [], []
        with no_grad():
            model(_as_input(inputs))
            for _ in range(repeats):
                rooves.append(probe_machine())
                profiler = PerformanceProfiler(model, trace_memory=False)
                with profiler.profile("forward"):
                    model(_as_input(inputs))
                passes.append(profiler)
        layers = [replace(rows[0], time_s=statistics.median(row.time_s for row in rows))
                  for rows in zip(*(p.layers for p in passes))]
        gemm = [r.gemm_flops_per_s for r in rooves]
        bandwidth = [r.bandwidth_bytes_per_s for r in rooves]
        times = [p.sections["forward"].time_s for p in passes]
        stability = Stability(repeats, max(max(gemm) / min(gemm), max(bandwidth) / min(bandwidth)),
                              max(times) / min(times))
        best = MachineRates(max(gemm), max(bandwidth))
        return cls(layers, machine if machine is not None else best, stability)

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
        efficiency = roof_s / seconds
        return Finding(layer.name, layer.type, layer.time_s, layer.time_s / total, layer.flops, layer.bytes_moved,
                       intensity, bound, layer.flops / seconds, layer.bytes_moved / seconds,
                       efficiency if efficiency <= 1 else None, efficiency > 1)

    def report(self, top: int = 10) -> str:
        m = self.machine
        lines = [f"machine: GEMM {format_rate(m.gemm_flops_per_s)}, memory {format_bandwidth(m.bandwidth_bytes_per_s)}"
                 f", balance {m.balance:.1f} FLOP/byte", *self._stability_lines(),
                 f"{'layer':<21}{'time':>10}{'share':>8}{'FLOP/B':>8}{'bound':>9}{'achieved':>13}{'of roof':>11}"]
        findings = self.analyze()[:top]
        for f in findings:
            achieved = format_rate(f.flops_per_s) if f.bound == "compute" else format_bandwidth(f.bytes_per_s)
            roof = "above roof" if f.above_roof else format_share(f.efficiency)
            lines.append(f"{f.name[:20]:<21}{format_seconds(f.time_s):>10}{format_share(f.share):>8}"
                         f"{'-' if f.intensity is None else f'{f.intensity:.1f}':>8}{f.bound:>9}{achieved:>13}"
                         f"{roof:>11}")
        if any(f.above_roof for f in findings):
            lines.append("above roof: faster than the measured roof allows (data in cache beats the DRAM roof, or")
            lines.append("load slowed the roof measurement); no share of the roof is claimed")
        return "\n".join(lines)

    def _stability_lines(self) -> list[str]:
        s = self.stability
        if s is None:
            return []
        spread = (f"{s.rounds} interleaved rounds: roof spread {s.roof_spread:.2f}x, pass spread "
                  f"{s.pass_spread:.2f}x")
        if s.stable:
            return [spread + ", stable"]
        return [spread, f"UNSTABLE: a spread above {UNSTABLE_SPREAD:.2f}x means a busy machine; rerun when quieter"]
