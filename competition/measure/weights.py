"""Model size and parameter count from the files the submission ships, read by the parent (never the model's report).

What a worker gets: for inference and generation events, the submission's code (.py), its data files (.json,
.txt) and only the .npz weight files that load(event) cannot do without (found by starting a worker without each
file in turn, `needed_npz`); for training events the code alone (a training event trains from scratch: shipped
weights would let train() yield a pretrained model), with comments and docstrings blanked (measure/source_payload.py).

model_size_bytes: the array bytes of those .npz files (shape x itemsize from each array's header, read without
pickle; object arrays refused) plus the file bytes of every other file the worker gets (code and data files, so
weights hidden in source or JSON still count). parameter_count: the number of values in those .npz arrays.
A model that upcasts its weights when loading is caught by resident memory (measure/memory.py), not here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from competition.measure import source_payload
from competition.validation.weights import npz_specs

CODE_SUFFIXES = frozenset({".py"})
DATA_SUFFIXES = frozenset({".json", ".txt"})


@dataclass(frozen=True)
class Shipped:
    """The files one event's worker gets, and what they weigh."""

    folder: Path  # a temporary folder holding exactly these files
    npz: tuple[str, ...]
    model_size_bytes: int | None
    parameter_count: int | None


def npz_summary(path: Path) -> tuple[int, int]:
    """(array bytes, number of values) of one .npz, from its array headers (WeightsError on object arrays)."""
    specs = npz_specs(path).values()
    values = [int(np.prod(shape, dtype=np.int64)) for shape, _ in specs]
    return sum(v * dtype.itemsize for v, (_, dtype) in zip(values, specs)), sum(values)


def copy_files(src: Path, names: list[str], transform: Callable[[Path], str] | None = None) -> Path:
    """A new temporary folder holding copies of `names` (top-level files of `src`), or, with `transform`, the text it
    makes of each file (written as UTF-8; a file it cannot read as source is left out, so nothing reaches the worker
    untransformed)."""
    dst = Path(tempfile.mkdtemp(prefix="tito-shipped-")) / src.resolve().name
    dst.mkdir()
    for name in names:
        if transform is None:
            shutil.copyfile(src / name, dst / name)
            continue
        try:
            (dst / name).write_text(transform(src / name), encoding="utf-8")
        except (SyntaxError, UnicodeDecodeError, LookupError, ValueError):
            continue  # not Python source: the static check refuses it before any run
    return dst


def _top_files(folder: Path, suffixes: frozenset[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink() and p.suffix in suffixes)


def needed_npz(folder: Path, loads: Callable[[Path], bool]) -> list[str]:
    """The .npz files of `folder` without which `loads(copy)` fails (each file left out of one fresh copy)."""
    base = _top_files(folder, CODE_SUFFIXES | DATA_SUFFIXES)
    npz = _top_files(folder, frozenset({".npz"}))
    needed = []
    for name in npz:
        trial = copy_files(folder, base + [n for n in npz if n != name])
        try:
            if not loads(trial):
                needed.append(name)
        finally:
            shutil.rmtree(trial.parent, ignore_errors=True)
    return needed


def shipped(folder: Path, kind: str, loads: Callable[[Path], bool]) -> Shipped:
    """The worker's files for an event of `kind` and their size (see the module docstring)."""
    folder = Path(folder)
    if kind == "training":
        code = copy_files(folder, _top_files(folder, CODE_SUFFIXES), source_payload.stripped_file)
        return Shipped(code, (), None, None)
    npz = needed_npz(folder, loads)
    others = _top_files(folder, CODE_SUFFIXES | DATA_SUFFIXES)
    summaries = [npz_summary(folder / name) for name in npz]
    size = sum(b for b, _ in summaries) + sum((folder / name).stat().st_size for name in others)
    params = sum(v for _, v in summaries) if summaries else None
    return Shipped(copy_files(folder, others + npz), tuple(npz), size, params)


def discard(item: Shipped) -> None:
    """Delete the temporary folder of `item`."""
    shutil.rmtree(item.folder.parent, ignore_errors=True)
