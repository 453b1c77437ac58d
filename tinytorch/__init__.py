"""tinytorch: a NumPy deep-learning framework that mirrors PyTorch's API (Tensor, autograd, nn, optim)."""
import numpy as np

from . import nn, optim
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, empty, from_numpy, full, ones, ones_like, rand, randint, randn, randperm, tensor,
                       tril, triu, zeros, zeros_like)
from .random import initial_seed, manual_seed
from .serialization import load, save
from .tensor import Tensor, cat, matmul, stack, where

from . import data, models  # noqa: E402  (they build on the names above)

float16 = half = np.float16
float32 = float = np.float32
float64 = double = np.float64
int8 = qint8 = np.int8  # the quantized names name the storage dtype of the codes (torch.qint8 / torch.quint8)
uint8 = quint8 = np.uint8
int16 = np.int16
int32 = int = np.int32
int64 = long = np.int64
bool = np.bool_

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "randn", "rand",
    "randint", "randperm", "arange", "tril", "triu", "cat", "stack", "where", "matmul", "no_grad", "enable_grad",
    "inference_mode", "is_grad_enabled", "set_grad_enabled", "manual_seed", "initial_seed", "save", "load", "nn",
    "optim", "data", "models", "float16", "half", "float32", "float64", "double", "int8", "uint8", "int16", "int32", "int64", "long",
    "qint8", "quint8",
]  # tt.float / tt.int / tt.bool exist too, but a star-import must not shadow the builtins
