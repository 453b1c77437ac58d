"""Model size and parameter count, defined once.

model_size_bytes: the sum of `nbytes` of every weight array of the loaded model as stored (its state_dict:
parameters and buffers, in their own dtypes, so int8 / float16 weights really count 1 / 2 bytes per value).
parameter_count: the number of values in the model's parameters (named_parameters(); for a model without
parameters() every state array counts).
Models that are not tinytorch Modules count their ndarray/Tensor attributes (or the values of a dict of arrays).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def weight_arrays(model: Any) -> list[np.ndarray]:
    """The model's stored weight arrays (see module docstring for where they are found)."""
    if hasattr(model, "state_dict") and callable(model.state_dict):
        return [_array(v) for v in model.state_dict().values()]
    items = model.values() if isinstance(model, Mapping) else vars(model).values() if hasattr(model, "__dict__") else []
    return [_array(v) for v in items if _is_array(v)]


def weights_summary(model: Any) -> tuple[int | None, int | None]:
    """(model_size_bytes, parameter_count); (None, None) when the model holds no arrays we can see."""
    arrays = weight_arrays(model)
    if not arrays:
        return None, None
    size = int(sum(a.nbytes for a in arrays))
    if hasattr(model, "parameters") and callable(model.parameters):
        params = int(sum(_array(p).size for p in model.parameters()))
    else:
        params = int(sum(a.size for a in arrays))
    return size, params


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or isinstance(getattr(value, "data", None), np.ndarray)


def _array(value: Any) -> np.ndarray:
    data = value if isinstance(value, np.ndarray) else getattr(value, "data", value)
    return np.asarray(data)
