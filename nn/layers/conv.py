"""Conv2d, MaxPool2d and AvgPool2d (NCHW layout, PyTorch's parameter shapes)."""

from __future__ import annotations

from typing import Any

from autograd import Tensor

from .. import functional as F
from ..module import Module
from .linear import _empty, reset_affine


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) inputs:

        y[n, o] = b[o] + sum_c w[o, c] (*) x[n, c],   OH = (H + 2 ph - kh) // sh + 1

    Parameters: `weight` (out_channels, in_channels, kh, kw), `bias` (out_channels,) or None,
    initialized as PyTorch does. Computed as im2col and one matrix product
    (`nn.functional.conv2d`).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")
        self.weight = _empty(out_channels, in_channels, *self.kernel_size)
        if bias:
            self.bias = _empty(out_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Pool2d(Module):
    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each (kh, kw) window (stride defaults to the kernel size; padding adds
    -inf borders)."""

    def forward(self, x: Any) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each (kh, kw) window (stride defaults to the kernel size; padding adds zeros,
    which count in the mean)."""

    def forward(self, x: Any) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
