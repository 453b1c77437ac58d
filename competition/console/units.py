"""Numbers in units people read: 1.23 ms, 45.6 MiB, 4.2 M, 12.3 %."""

from __future__ import annotations


def human_seconds(seconds: float | None) -> str:
    """'1.23 s', '4.56 ms', '789 us'."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale or unit == "us":
            return f"{seconds / scale:.3g} {unit}"
    return "-"


def mebibytes(count: float | None) -> str:
    """'45.6 MiB' (binary units, as the verdict line and the leaderboard give peak memory)."""
    return "-" if count is None else f"{count / 2**20:.1f} MiB"


def human_count(count: float | None) -> str:
    """'950', '42.1 k', '3.4 M', '1.2 G'."""
    if count is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f}"


def human_percent(fraction: float | None) -> str:
    """0.123 -> '12.3 %'."""
    return "-" if fraction is None else f"{100 * fraction:.1f} %"
