"""Folder rules: a lowercase slug name that is not reserved, the required files, allowed file types, sizes."""

from __future__ import annotations

import re
from pathlib import Path

from competition.problems import Problem
from competition.rules import Limits

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ENTRIES = 1000  # files and folders: a submission needs a handful; thousands only slow every copy
REQUIRED_FILES = {
    "submission.yaml": "who you are, your division and events (copy it from `tito submission new NAME`)",
    "model.py": "the entry points load/predict/train/next_token_logits/generate (docs/architecture.md)",
    "README.md": "your performance report and reproduction guide",
}


def check(folder: Path, limits: Limits, is_baseline: bool = False, needs_weights: bool = True) -> list[Problem]:
    """Problems with the folder's name, layout, file types and sizes (weights are needed by events with `load`)."""
    return _name(folder, limits, is_baseline) + _required(folder, needs_weights) + _files(folder, limits)


def _name(folder: Path, limits: Limits, is_baseline: bool) -> list[Problem]:
    name = folder.resolve().name
    if not NAME_PATTERN.match(name):
        return [Problem(str(folder), f"folder name {name!r} is not a lowercase slug",
                        "rename the folder to lowercase letters, digits, '-' or '_' (at most 64), e.g. "
                        + repr(re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_") or "my-entry"))]
    if name in limits.reserved_names and not is_baseline:
        return [Problem(str(folder), f"folder name {name!r} is reserved", "choose another name, e.g. your GitHub handle")]
    return []


def _required(folder: Path, needs_weights: bool) -> list[Problem]:
    problems = [Problem(str(folder / name), "required file is missing", f"add {name}: {purpose}")
                for name, purpose in REQUIRED_FILES.items() if not (folder / name).is_file()]
    if needs_weights and not any(folder.rglob("*.npz")):
        problems.append(Problem(str(folder), "no .npz weights file", "save your weights with tinytorch.save(state, 'NAME.npz')"))
    return problems


def _files(folder: Path, limits: Limits) -> list[Problem]:
    problems: list[Problem] = []
    total = model = 0
    paths = sorted(folder.rglob("*"))
    if len(paths) > MAX_ENTRIES:
        return [Problem(str(folder), f"the folder holds {len(paths)} files and folders, over the limit of "
                        f"{MAX_ENTRIES}", "keep only what load/predict/train need")]
    for path in paths:
        if not path.name.isprintable():
            problems.append(Problem(repr(str(path)), "file name holds control characters (line breaks, escapes)",
                                    "rename it with letters, digits, '.', '-' or '_'"))
            continue
        if path.is_symlink():
            problems.append(Problem(str(path), "symbolic links are not allowed", "replace the link by a real file"))
            continue
        if not path.is_file() and not path.is_dir():
            problems.append(Problem(str(path), "special files (pipes, sockets, devices) are not allowed",
                                    "keep only regular files and folders"))
            continue
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        size = path.stat().st_size
        total += size
        model += size if path.suffix == ".npz" else 0
        if path.suffix not in limits.allowed_file_extensions:
            problems.append(Problem(str(path), f"file type {path.suffix or '(none)'!r} is not allowed",
                                    "keep only " + ", ".join(limits.allowed_file_extensions) + " files"))
        if size > limits.file_bytes_max:
            problems.append(Problem(str(path), f"file is {size} bytes, over the {limits.file_bytes_max}-byte limit",
                                    "shrink it (quantize or prune weights) or drop it"))
    if model > limits.model_size_bytes_max:
        problems.append(Problem(str(folder), f"model weights (.npz) total {model} bytes, over the {limits.model_size_bytes_max}-byte (10 MB) limit",
                                "compress the model: int8 quantization, pruning, a smaller architecture (open division)"))
    if total > limits.submission_folder_bytes_max:
        problems.append(Problem(str(folder), f"folder totals {total} bytes, over the {limits.submission_folder_bytes_max}-byte limit",
                                "remove large files that the benchmark does not need"))
    return problems
