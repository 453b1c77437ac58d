"""Closed-division conformance: each .npz keeps the baseline's file name, keys and shapes; only the transforms
listed in divisions.yaml (float16/int8 with companions, pruning masks, documented fusion) may change them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from competition.problems import Problem
from competition.validation.base import CannotValidate
from competition.rules import Division
from competition.validation.readme import mentions
from competition.validation.weights import WeightsError, npz_specs

Spec = tuple[tuple[int, ...], np.dtype]


def check(folder: Path, baseline_dir: Path, division: Division, manifest: dict) -> list[Problem]:
    """Every key of the folder's .npz files that breaks the closed division, each naming file and key."""
    baseline_files = {p.name: p for p in sorted(baseline_dir.glob("*.npz"))}
    if not baseline_files:
        raise CannotValidate(f"{baseline_dir} has no .npz weights to compare the closed division against")
    fusion_ok = _fusion_documented(folder, division, manifest)
    problems = []
    for path in sorted(folder.glob("*.npz")):
        if path.name not in baseline_files:
            problems.append(Problem(str(path), "closed division: no baseline weights file of this name",
                                    "name it like the baseline's: " + ", ".join(baseline_files)))
            continue
        try:
            mine, theirs = npz_specs(path), npz_specs(baseline_files[path.name])
        except WeightsError as exc:
            problems.append(Problem(str(path), f"cannot read the weights safely: {exc}",
                                    "save plain numeric arrays with tinytorch.save (no pickle, no object arrays)"))
            continue
        problems += compare(str(path), mine, theirs, division, fusion_ok)
    return problems


def compare(file: str, mine: dict[str, Spec], baseline: dict[str, Spec], division: Division, fusion_ok: bool) -> list[Problem]:
    """Key-by-key comparison of one .npz with the baseline's."""
    dtype_rules = {dt: t for t in division.transforms("dtype") for dt in t["dtypes"]}
    masks = division.transforms("mask")
    problems = []
    for key, (shape, dtype) in mine.items():
        if key in baseline:
            problems += _same_key(file, key, shape, dtype, baseline[key], dtype_rules, mine)
        else:
            problems += _extra_key(file, key, shape, dtype, baseline, dtype_rules, masks)
    if not fusion_ok:
        problems += [Problem(file, "closed division: baseline key missing", "keep it, or list 'fusion' in techniques_used "
                             "and explain the fusion in README.md", field=key) for key in baseline if key not in mine]
    return problems


def _same_key(file, key, shape, dtype, base_spec, dtype_rules, mine) -> list[Problem]:
    base_shape, base_dtype = base_spec
    if shape != base_shape:
        return [Problem(file, f"closed division: shape {shape} differs from the baseline's {base_shape}",
                        "keep the baseline architecture (open division allows other shapes)", field=key)]
    if dtype == base_dtype:
        return []
    rule = dtype_rules.get(dtype.name)
    if rule is None:
        return [Problem(file, f"closed division: dtype {dtype.name} is not an allowed transform",
                        "use " + ", ".join([base_dtype.name, *dtype_rules]), field=key)]
    return [Problem(file, f"closed division: {dtype.name} weights need a '{key}{suffix}' array",
                    f"save {key}{suffix} (the dequantization {suffix.strip('_')}) next to it", field=key)
            for suffix in rule.get("required_companions", []) if key + suffix not in mine]


def _extra_key(file, key, shape, dtype, baseline, dtype_rules, masks) -> list[Problem]:
    for rule in dtype_rules.values():
        for suffix in [*rule.get("required_companions", []), *rule.get("optional_companions", [])]:
            stem = key[: -len(suffix)]
            if key.endswith(suffix) and stem in baseline:
                rows = baseline[stem][0][0] if baseline[stem][0] else 1
                if int(np.prod(shape)) in (1, rows):
                    return []
                return [Problem(file, f"closed division: companion of shape {shape} fits neither per-tensor nor per-channel",
                                f"use shape () or ({rows},)", field=key)]
    for rule in masks:
        stem = key[: -len(rule["suffix"])]
        if key.endswith(rule["suffix"]) and stem in baseline:
            if shape == baseline[stem][0] and dtype.name in rule["dtypes"]:
                return []
            return [Problem(file, f"closed division: mask {shape} {dtype.name} must have the weight's shape "
                                  f"{baseline[stem][0]} and dtype " + " or ".join(rule["dtypes"]), "save the mask as "
                                  "np.asarray(weight != 0) of the same shape", field=key)]
    return [Problem(file, "closed division: key is not in the baseline's weights",
                    "keep the baseline's keys (open division allows any architecture)", field=key)]


def _fusion_documented(folder: Path, division: Division, manifest: dict) -> bool:
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    return any(t["technique"] in manifest.get("techniques_used", []) and mentions(text, t["technique"])
               for t in division.transforms("fusion"))
