"""What every check module shares: where the baseline lives and the 'could not run' error."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = REPO_ROOT / "submissions" / "baseline"


class CannotValidate(RuntimeError):
    """Validation could not run (missing path, missing baseline, missing checker): exit code 2, not 'invalid'."""
