"""Runner fingerprints: which machine a result claims to come from, so only registered official runners rank.

fingerprint = SHA-256 of the canonical JSON of runner.hardware's identifying fields (FIELDS). The OS string is left
out on purpose (kernel patch updates would change it weekly); NumPy, BLAS and Python are in: a changed numeric stack
is a changed reference machine and must be registered again, in a reviewed PR.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FIELDS = ("cpu_model", "machine", "cores", "ram_bytes", "python", "numpy", "blas", "blas_threads")


def runner_fingerprint(hardware: dict[str, Any]) -> str:
    """The fingerprint of a result's runner.hardware."""
    identity = {key: hardware.get(key) for key in FIELDS}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()


def registration_snippet(result: dict[str, Any]) -> str:
    """The YAML lines a maintainer adds under `runners:` in leaderboard/config.yaml for this result's runner."""
    hardware = result["runner"]["hardware"]
    name = f"{hardware.get('cpu_model', '?')}, {hardware.get('cores', '?')} cores, {hardware.get('machine', '?')}"
    return (f"  - fingerprint: {runner_fingerprint(hardware)}\n"
            f"    class: {result['runner']['class']}\n"
            f"    name: {json.dumps(name)}\n")
