"""`Newton`: damped Newton's method with the Hessian from the engine's second derivatives.

For small problems only: it forms the full n x n Hessian of the loss over all n parameter
entries, which takes O(n^2) memory, one backward pass through the gradient's graph per entry
(n passes), and an O(n^3) solve. Above `max_params` entries it refuses to run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, enable_grad, no_grad

from .optimizer import Optimizer, ParamsT, check_nonnegative, mark_updated


class Newton(Optimizer):
    """Damped Newton's method: theta <- theta - lr * (H + damping * I)^-1 g.

    theta is all parameters flattened into one vector, g = d loss / d theta and
    H = d^2 loss / d theta^2, both computed by the engine at the current theta (g with
    `create_graph=True`, then one backward pass per entry of g for H's rows). On a convex
    quadratic 1/2 theta^T P theta + q^T theta, a step with lr=1 and no damping lands on the
    minimum -P^-1 q exactly (up to rounding).

    Like `torch.optim.LBFGS`, `step(closure)` needs a closure that re-evaluates the model and
    returns the loss; it may also call `loss.backward(create_graph=True)` itself (as is usual
    for second-order methods): the gradient is always taken from the returned loss with
    `autograd.grad`, so `.grad` is left exactly as the closure made it and nothing is counted
    twice. Parameters the loss does not depend on are left unchanged.

    Cost: O(n^2) memory and O(n^3) time for n parameter entries, plus n backward passes;
    `max_params` (default 2000) bounds n, and a larger model raises ValueError.
    A singular H + damping*I raises a RuntimeError suggesting a positive `damping`. Non-finite
    losses or derivatives are not hidden: they turn the parameters into NaN.
    Only one parameter group is supported (the Hessian couples all parameters).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0,
                 max_params: int = 2000) -> None:
        defaults = dict(lr=lr, damping=damping, max_params=max_params)
        super().__init__(params, defaults)
        self._check_size(self.param_groups[0])

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative(options["damping"], "damping value")
        if int(options["max_params"]) < 1:
            raise ValueError(f"Invalid max_params: {options['max_params']} (it must be >= 1)")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError(
                "Newton takes a single parameter group: the Hessian couples all parameters, "
                "so give them all in one list")
        super().add_param_group(param_group)

    @staticmethod
    def _check_size(group: dict[str, Any]) -> None:
        n = sum(p.size for p in group["params"])
        limit = int(group["max_params"])
        if n > limit:
            raise ValueError(
                f"Newton builds the full n x n Hessian (O(n^2) memory, O(n^3) time); these "
                f"parameters have n = {n} entries, more than max_params = {limit}. Use a "
                "first-order optimizer (SGD, Adam) for a model this size, or raise max_params "
                "if you accept the cost")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Newton step at the current parameters; returns the closure's loss."""
        if closure is None:
            raise ValueError(
                "Newton.step needs a closure that re-evaluates the model and returns the loss, "
                "e.g. opt.step(lambda: loss_fn(model(x), y)); it differentiates that loss twice")
        group = self.param_groups[0]
        self._check_size(group)
        with enable_grad():
            loss = closure()
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ValueError(
                    "Newton.step: the closure must return the loss as a one-element Tensor")
            params = [p for p in group["params"] if p.requires_grad]
            if not loss.requires_grad or not params:
                raise ValueError(
                    "Newton.step: the loss does not depend on any parameter that requires grad")
            g_vec, H, used = _gradient_and_hessian(loss, params)
        if not used:
            return loss
        lr = float(group["lr"])
        damping = float(group["damping"])
        delta = _newton_direction(H, g_vec, damping, used[0].data.dtype)
        with no_grad():
            offset = 0
            for p in used:
                n = p.size
                step = delta[offset:offset + n].reshape(p.shape).astype(p.data.dtype, copy=False)
                p.data -= step * lr
                mark_updated(p)
                offset += n
        return loss


def _gradient_and_hessian(loss: Tensor, params: list[Tensor],
                          ) -> tuple[np.ndarray, np.ndarray, list[Tensor]]:
    """g (n,), H (n, n) in float64, over the parameters the loss depends on (returned too)."""
    try:
        grads = autograd.grad(loss, params, create_graph=True, allow_unused=True)
    except RuntimeError as err:
        raise RuntimeError(
            f"Newton.step could not differentiate the closure's loss ({err}). If the closure "
            "calls backward, use loss.backward(create_graph=True) so the graph is kept, or "
            "just return the loss") from err
    pairs = [(p, g) for p, g in zip(params, grads) if g is not None]
    used = [p for p, _ in pairs]
    if not pairs:
        return np.zeros(0), np.zeros((0, 0)), used
    flat = autograd.concatenate([autograd.reshape(g, (-1,)) for _, g in pairs])
    n = flat.size
    g_vec = flat.data.astype(np.float64)
    H = np.zeros((n, n))
    if flat.requires_grad:
        seed = np.zeros(n, dtype=flat.data.dtype)
        for i in range(n):
            seed[i] = 1.0
            rows = autograd.grad(flat, used, grad_outputs=seed, retain_graph=True,
                                 allow_unused=True)
            seed[i] = 0.0
            col = 0
            for p, r in zip(used, rows):
                if r is not None:
                    H[i, col:col + p.size] = r.data.reshape(-1)
                col += p.size
    return g_vec, H, used


def _newton_direction(H: np.ndarray, g: np.ndarray, damping: float,
                      dtype: np.dtype) -> np.ndarray:
    """(H + damping*I)^-1 g, refusing a singular system; NaN where the inputs are not finite."""
    n = g.size
    if not (np.isfinite(H).all() and np.isfinite(g).all()):
        return np.full(n, np.nan)
    A = 0.5 * (H + H.T)  # exact second derivatives are symmetric; average away rounding
    A[np.diag_indices(n)] += damping
    w, V = np.linalg.eigh(A)
    scale = np.abs(w).max() if n else 0.0
    # A matrix_rank-style test in the precision the Hessian was computed in.
    tol = scale * n * np.finfo(dtype).eps
    if scale == 0.0 or np.abs(w).min() <= tol:
        raise RuntimeError(
            f"Newton.step: the Hessian{' + damping*I' if damping else ''} is singular "
            f"(smallest eigenvalue magnitude {np.abs(w).min():.3g}, largest {scale:.3g}), so "
            "the Newton step is undefined; pass damping > 0 (e.g. Newton(params, "
            "damping=1e-3)) to regularize it, or check that every parameter affects the loss")
    return V @ ((V.T @ g) / w)
