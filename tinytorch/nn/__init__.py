"""``tinytorch.nn``: modules with PyTorch names, signatures, init schemes and state_dict layouts."""
from . import functional, init, utils
from .activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .loss import CrossEntropyLoss, KLDivLoss, MSELoss
from .module import Module, Parameter, RemovableHandle
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "RemovableHandle", "Sequential", "ModuleList",
    "ModuleDict", "Linear", "Identity", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "GELU", "Sigmoid",
    "Tanh", "Softmax", "LogSoftmax", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "CrossEntropyLoss", "MSELoss", "KLDivLoss",
]
