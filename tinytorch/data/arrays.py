"""Accept NumPy arrays and tinytorch Tensors alike without importing Tensor."""
from __future__ import annotations

from typing import Any

import numpy as np


def as_numpy(value: Any) -> np.ndarray:
    """The ndarray behind `value`: itself if an ndarray, `.data` if a Tensor, else np.asarray(value)."""
    if isinstance(value, np.ndarray):
        return value
    data = getattr(value, "data", None)
    return data if isinstance(data, np.ndarray) else np.asarray(value)
