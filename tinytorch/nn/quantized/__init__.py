"""``tinytorch.nn.quantized``: quantized layers (``torch.ao.nn.quantized`` names). ``Linear`` / ``Conv2d`` are the
static ones (calibrated input qparams, from ``tinytorch.quantization.convert``); ``dynamic.Linear`` /
``dynamic.Conv2d`` quantize their input per call (from ``tinytorch.quantization.quantize_dynamic``)."""
from . import dynamic, functional
from .modules import INT4, Conv2d, Linear

__all__ = ["Linear", "Conv2d", "dynamic", "functional", "INT4"]
