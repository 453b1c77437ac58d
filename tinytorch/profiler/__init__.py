"""Profiling with the course's names: where time and memory go, why, and what an optimization bought.

- `PerformanceProfiler`: ``with profiler.profile("name"):`` blocks; per-layer time, FLOPs and memory via hooks.
- `BottleneckAnalyzer`: layers by time share, compute- or memory-bound against this machine's measured roofs.
- `OptimizationComparer`: ``compare(baseline=..., quantized=..., pruned=...)``: time, size, accuracy side by side.
"""
from .bottleneck import UNSTABLE_SPREAD, BottleneckAnalyzer, Finding, Stability
from .compare import Comparison, OptimizationComparer, model_size_bytes
from .machine import MachineRates, measure_machine, probe_machine
from .performance import LatencyStats, LayerStats, PerformanceProfiler, SectionStats
from .units import (format_bandwidth, format_bytes, format_count, format_flops, format_rate, format_seconds,
                    format_share)

__all__ = ["PerformanceProfiler", "BottleneckAnalyzer", "OptimizationComparer", "Finding", "Stability",
           "UNSTABLE_SPREAD", "probe_machine", "Comparison",
           "LayerStats", "SectionStats", "LatencyStats", "MachineRates", "measure_machine", "model_size_bytes",
           "format_seconds", "format_bytes", "format_count", "format_flops", "format_rate", "format_bandwidth",
           "format_share"]
