"""Human units for profiles: seconds as ns/us/ms/s, bytes as B/kB/MB/GB (powers of 1000), rates as GFLOP/s, GB/s."""
from __future__ import annotations

import math


def _scaled(value: float, steps: tuple[tuple[float, str], ...], digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    for factor, unit in steps:
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {unit}"
    factor, unit = steps[-1]
    return f"{value / factor:.{digits}g} {unit}"


def format_seconds(seconds: float | None) -> str:
    """0.0123 -> '12.3 ms'."""
    return _scaled(seconds, ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")))


def format_bytes(count: float | None) -> str:
    """1_500_000 -> '1.5 MB' (decimal units, as disks and bandwidth are quoted)."""
    if count is not None and abs(count) < 1000:
        return f"{int(count)} B"
    return _scaled(count, ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")))


def format_flops(count: float | None) -> str:
    """Floating-point operations: 2.4e9 -> '2.4 GFLOP'."""
    if count is not None and abs(count) < 1000:
        return f"{int(count)} FLOP"
    return _scaled(count, ((1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")))


def format_count(count: float | None) -> str:
    """Plain counts (parameters, FLOPs in a narrow column): 950, '42.1 k', '3.4 M', '1.2 G'."""
    if count is not None and abs(count) < 1000:
        return f"{count:.0f}"
    return _scaled(count, ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")))


def format_rate(flops_per_s: float | None) -> str:
    """Throughput in GFLOP/s (one unit throughout, so rows compare at a glance)."""
    return "-" if flops_per_s is None else f"{flops_per_s / 1e9:.3g} GFLOP/s"


def format_bandwidth(bytes_per_s: float | None) -> str:
    return "-" if bytes_per_s is None else f"{bytes_per_s / 1e9:.3g} GB/s"


def format_share(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.1f} %"
