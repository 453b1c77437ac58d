"""MaxPool2d and AvgPool2d (stride defaults to the kernel size, like PyTorch)."""
from __future__ import annotations

from ..tensor import Tensor
from .module import Module
from .spatial import IntPair, avg_pool2d, max_pool2d


class _Pool2d(Module):
    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling; ``dilation``, ``return_indices``, ``ceil_mode`` accept only their PyTorch defaults."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
                 dilation: IntPair = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        if dilation not in (1, (1, 1)) or return_indices or ceil_mode:
            raise NotImplementedError("tinytorch MaxPool2d supports dilation=1, return_indices=False, "
                                      "ceil_mode=False")
        super().__init__(kernel_size, stride, padding)

    def forward(self, input: Tensor) -> Tensor:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Average pooling counting padded zeros (``count_include_pad=True``), PyTorch's default."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        if ceil_mode or not count_include_pad or divisor_override is not None:
            raise NotImplementedError("tinytorch AvgPool2d supports ceil_mode=False, count_include_pad=True, "
                                      "divisor_override=None")
        super().__init__(kernel_size, stride, padding)

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding)
