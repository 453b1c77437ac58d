"""Safe checkpoints: ``save`` writes a state dict as ``.npz`` atomically; ``load`` reads it without pickle."""
from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .tensor import Tensor

_FIX = "save tensors with tinytorch.save(model.state_dict(), 'weights.npz')"


def _checked_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{path}: tinytorch checkpoints must be .npz files (numeric arrays only); {_FIX}")
    return path


def _as_array(key: str, value: object, path: Path) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else value
    if not isinstance(array, (np.ndarray, np.generic)) or np.asarray(array).dtype.hasobject:
        raise TypeError(f"{path}: entry {key!r} is {type(value).__name__}, not a numeric Tensor or ndarray; "
                        "only numeric arrays can be saved")
    return np.asarray(array)


def save(state: Mapping[str, Tensor | np.ndarray], path: str | os.PathLike) -> None:
    """Write ``state`` (name -> Tensor or ndarray) to ``path`` (.npz) via a temp file and an atomic rename."""
    path = _checked_path(path)
    if not isinstance(state, Mapping):
        raise TypeError(f"{path}: tinytorch.save expects a mapping name -> tensor (e.g. model.state_dict()), "
                        f"got {type(state).__name__}")
    arrays = {str(key): _as_array(str(key), value, path) for key, value in state.items()}
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _refusal(path: Path, reason: object) -> ValueError:
    return ValueError(f"{path}: not a safe tinytorch checkpoint ({reason}); only .npz archives of numeric arrays "
                      f"are accepted (no pickles, no object arrays); {_FIX}")


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a ``.npz`` checkpoint into name -> Tensor; pickles and object arrays are refused."""
    path = _checked_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise _refusal(path, error) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _refusal(path, "a single .npy array, not an .npz archive")
    with archive:
        try:
            return {key: Tensor(archive[key]) for key in archive.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise _refusal(path, error) from None
