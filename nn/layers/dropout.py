"""Dropout (inverted: scaled at training time, the identity at evaluation)."""

from __future__ import annotations

from typing import Any

from autograd import Tensor

from .. import functional as F
from ..module import Module


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1 / (1 - p), so
    the expected output equals the input; in eval mode, the identity.

    Masks are drawn from `autograd.get_generator()`, so `autograd.manual_seed` reproduces them.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
