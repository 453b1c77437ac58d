"""Conv2d: weight (out_channels, in_channels, kh, kw), PyTorch's init; im2col + one GEMM (nn.spatial)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import init
from .module import Module, Parameter
from .spatial import IntPair, _pair, conv2d


def _padding(padding: IntPair | str, kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """PyTorch's padding argument: ints, "valid" (none) or "same" (stride 1, odd kernels here)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != (1, 1) or kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise NotImplementedError("padding='same' needs stride 1 and odd kernel sizes in tinytorch")
        return kernel[0] // 2, kernel[1] // 2
    return _pair(padding)  # type: ignore[arg-type]


class Conv2d(Module):
    """2-D convolution; ``dilation``, ``groups`` and ``padding_mode`` exist for PyTorch compatibility but only
    their defaults are implemented."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: np.dtype = np.float32) -> None:
        super().__init__()
        if _pair(dilation) != (1, 1) or groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("tinytorch Conv2d supports dilation=1, groups=1, padding_mode='zeros'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _padding(padding, self.kernel_size, self.stride)
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size, dtype=dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")
