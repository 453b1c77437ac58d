"""Closed division, static half: the folder's weights (every .npz, subfolders too) express the baseline's models
under the optimization kit's transformations and nothing else (rules: competition.conformance)."""

from __future__ import annotations

from pathlib import Path

from competition.conformance.npz import WeightsError
from competition.conformance.static import check_folder
from competition.problems import Problem
from competition.validation.base import CannotValidate


def check(folder: Path, baseline_dir: Path, manifest: dict) -> list[Problem]:
    """Every file and key that breaks the closed division, each naming file, key and fix."""
    if not any(baseline_dir.glob("*.npz")):
        raise CannotValidate(f"{baseline_dir} has no .npz weights to compare the closed division against")
    try:
        return check_folder(folder, baseline_dir, manifest.get("events", []))
    except WeightsError as exc:
        raise CannotValidate(f"the baseline's weights in {baseline_dir} cannot be read: {exc}") from None
