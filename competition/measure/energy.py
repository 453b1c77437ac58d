"""Energy from the RAPL package counters under /sys/class/powercap (Linux), read by the parent around a timed run.

The counters are cumulative microjoules that wrap at max_energy_range_uj; a difference is taken modulo that range.
Where the counters are missing or unreadable (VMs, containers, macOS, non-root on recent kernels), nothing is
measured: joules are null, measured is false, and the reason says why. No estimate is ever ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

POWERCAP = Path("/sys/class/powercap")
METHOD = "RAPL package energy_uj"


@dataclass(frozen=True)
class Rapl:
    """The package-level RAPL domains of this machine."""

    domains: tuple[Path, ...]

    def read(self) -> tuple[int, ...]:
        """Current counter of every package domain, in microjoules."""
        return tuple(int((d / "energy_uj").read_text()) for d in self.domains)

    def joules(self, before: tuple[int, ...], after: tuple[int, ...]) -> float:
        """Energy between two reads, summed over packages, counting one wrap-around per domain at most."""
        total = 0
        for domain, b, a in zip(self.domains, before, after):
            span = int((domain / "max_energy_range_uj").read_text())
            total += (a - b) % (span + 1) if a < b else a - b
        return total / 1e6


def find_rapl(root: Path = POWERCAP) -> tuple[Rapl | None, str | None]:
    """(Rapl, None) when package counters are readable, else (None, reason)."""
    if not root.is_dir():
        return None, f"{root} does not exist (no RAPL powercap interface on this machine)"
    domains = []
    for name_file in sorted(root.glob("*/name")):
        try:
            if name_file.read_text().strip().startswith("package"):
                domains.append(name_file.parent)
        except OSError:
            continue
    if not domains:
        return None, f"no RAPL package domain under {root}"
    rapl = Rapl(tuple(domains))
    try:
        rapl.read()
        for domain in domains:
            int((domain / "max_energy_range_uj").read_text())
    except (OSError, ValueError) as err:
        return None, f"RAPL counters unreadable: {err}"
    return rapl, None


def energy_record(joules: float | None, inferences: int, reason: str | None = None) -> dict:
    """The result's `energy` object: measured joules per inference, or null with measured false and the reason."""
    if joules is None or inferences <= 0:
        return {"measured": False, "joules_per_inference": None, "method": None,
                "estimate_joules_per_inference": None, "estimate_method": None,
                "reason": reason or "not measured"}
    return {"measured": True, "joules_per_inference": joules / inferences, "method": METHOD,
            "estimate_joules_per_inference": None, "estimate_method": None, "reason": None}
