"""Residual connections and Maxout units."""

from __future__ import annotations

from typing import Any

import autograd
from autograd import Tensor

from ..module import Module
from .linear import _empty, reset_affine


class Residual(Module):
    """y = f(x) + x (a skip connection: the gradient reaches x along two paths, through f and
    directly, so it cannot vanish through a deep stack). f must keep the shape."""

    def __init__(self, f: Module) -> None:
        super().__init__()
        self.f = f

    def forward(self, x: Any) -> Tensor:
        return self.f(x) + x


class Maxout(Module):
    """Maxout (Goodfellow et al., 2013): y_j = max_k (x W_jk^T + b_jk), k = 1..pieces.

    One affine map with out_features * pieces outputs (row j * pieces + k is piece k of unit j,
    initialized as a Linear layer's), then the maximum over each unit's pieces.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be at least 1, got {pieces}")
        self.in_features = in_features
        self.out_features = out_features
        self.pieces = pieces
        self.weight = _empty(out_features * pieces, in_features)
        self.bias = _empty(out_features * pieces)
        reset_affine(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        z = autograd.linear(x, self.weight, self.bias)
        z = z.reshape(z.shape[:-1] + (self.out_features, self.pieces))
        return z.max(axis=-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}")
