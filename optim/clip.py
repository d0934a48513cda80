"""Gradient clipping, the remedy for exploding gradients: `clip_grad_norm_`, `clip_grad_value_`.

Both work in place on the parameters' `.grad` (skipping parameters without one), as
`torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` do. Neither hides non-finite gradients:
a NaN or infinite gradient leaves NaN behind rather than a finite-looking update.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad.data for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients so that their joint norm is at most `max_norm`; return that norm.

    The total norm is the `norm_type`-norm of all gradients together, i.e. the norm of the
    vector of per-parameter norms (`norm_type` may be `inf`: the largest |entry|). When
    `coef = max_norm / (total_norm + 1e-6)` is below 1, every gradient is multiplied by it;
    otherwise they are left unchanged. Returns the total norm before clipping as a 0-d Tensor.

    A non-finite total norm (NaN or inf in some gradient) scales by coef = 0 or NaN as PyTorch
    does, which leaves NaN in the gradients; with `error_if_nonfinite=True` it raises instead.
    """
    if not max_norm >= 0.0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    p = float(norm_type)
    if not p > 0.0:
        raise ValueError(f"norm_type must be positive (or inf), got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    dtype = grads[0].dtype
    norms = [np.linalg.norm(g.reshape(-1), ord=p) if g.size else 0.0 for g in grads]
    total = float(np.linalg.norm(np.array(norms, dtype=np.float64), ord=p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite ({total}), so it cannot be clipped; set error_if_nonfinite=False to "
            "clip anyway (leaving NaN in the gradients)")
    coef = max_norm / (total + 1e-6)
    # `not coef >= 1` also scales by a NaN coefficient, as PyTorch's clamp(max=1) does.
    if not coef >= 1.0:
        for g in grads:
            g *= coef
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value] in place (NaN stays NaN)."""
    if not clip_value >= 0.0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    c = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -c, c, out=g)
