"""Activation functions as modules (each calls the engine op or its nn.functional form)."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Tensor

from .. import functional as F
from ..module import Module
from ..parameter import Parameter


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))"""

    def forward(self, x: Any) -> Tensor:
        return autograd.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)"""

    def forward(self, x: Any) -> Tensor:
        return autograd.tanh(x)


class ReLU(Module):
    """y = max(x, 0)"""

    def forward(self, x: Any) -> Tensor:
        return autograd.relu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x"""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return autograd.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """y = x if x > 0 else a * x with a learned slope `weight`: one shared value, or one per
    channel (axis 1) with num_parameters = C. Starts at `init` (0.25)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        # Not kept as an attribute: it would hide Module.num_parameters(), which gives the
        # same number here.
        self.weight = Parameter(np.full(num_parameters, init,
                                        dtype=autograd.get_default_dtype()))

    def forward(self, x: Any) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.size}"


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1)"""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return autograd.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """y = log(1 + exp(beta * x)) / beta"""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Softmax(Module):
    """y = exp(x) / sum(exp(x), axis)"""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return autograd.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """y = x - logsumexp(x, axis)"""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return autograd.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
