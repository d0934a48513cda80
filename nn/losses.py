"""Loss functions as modules: each holds its settings and calls its nn.functional form, where
the formula is documented.

All take `reduction`: 'mean' (default) averages the per-element losses, 'sum' adds them, 'none'
returns them; anything else is a ValueError when the loss is built.
"""

from __future__ import annotations

from typing import Any

from autograd import Tensor

from . import functional as F
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeLoss", "MultiMarginLoss", "KLDivLoss",
]


class _Loss(Module):
    _reductions: tuple[str, ...] = ("mean", "sum", "none")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, self._reductions)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: l_i = (x_i - y_i)^2."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: l_i = |x_i - y_i|."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """l_i = d^2 / 2 if |d| < delta else delta (|d| - delta / 2), d = x_i - y_i."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from (N, C) logits: l_i = -sum_c q_ic log softmax(z_i)_c, with q the
    one-hot class (integer targets) or given probability rows, smoothed by `label_smoothing`.
    Stable for extreme logits (see `nn.functional.cross_entropy`)."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of (N, C) log-probabilities: l_i = -x[i, t_i]."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities: l_i = -(y log p + (1 - y) log(1 - p)), logs
    clamped at -100."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, stable: l_i = max(z, 0) - z y + log(1 + exp(-|z|))."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class HingeLoss(_Loss):
    """Binary SVM loss for labels y in {-1, +1}: l_i = max(0, margin - y_i z_i)."""

    def __init__(self, reduction: str = "mean", margin: float = 1.0) -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.hinge_loss(input, target, self.reduction, self.margin)


class MultiMarginLoss(_Loss):
    """Multi-class SVM loss (PyTorch's definition), for (N, C) scores and class indices:

        l_i = sum_{j != t_i} max(0, margin - z[i, t_i] + z[i, j]) / C

    This is CS231n's per-sample SVM loss (the sum over wrong classes) divided by the number of
    classes C; multiply by C to compare with the course's numbers.
    """

    def __init__(self, reduction: str = "mean", margin: float = 1.0) -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.multi_margin_loss(input, target, self.reduction, self.margin)


class KLDivLoss(_Loss):
    """KL divergence, natural log, PyTorch's convention: the input is log q (log-probabilities),
    the target p: l_i = p_i (log p_i - log q_i). reduction='batchmean' gives the true KL per
    sample (sum / N); 'mean' divides by the number of elements."""

    _reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)
