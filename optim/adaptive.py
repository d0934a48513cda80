"""Per-coordinate adaptive step sizes: `Adagrad`, `RMSprop`, `Adam` and `AdamW`.

Each divides the step by a running measure of the squared gradients, so coordinates with
large gradients take smaller steps. The rules and defaults are `torch.optim`'s, operation by
operation; each update uses one scratch array per parameter and works in place otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_beta, check_nonnegative, mark_updated


def _gradient(p: Any, maximize: bool, weight_decay: float) -> np.ndarray:
    """The gradient the rules see: negated to maximize, plus weight_decay * p (L2 penalty)."""
    g = p.grad.data
    if maximize:
        g = np.negative(g)
    if weight_decay != 0.0:
        g = g + p.data * weight_decay
    return g


class Adagrad(Optimizer):
    """Adagrad (`torch.optim.Adagrad`): steps shrink with the sum of all squared gradients::

        g   = grad (+ weight_decay * p)          t = 1, 2, ... (the step number)
        s   = s + g * g                          (s starts at initial_accumulator_value)
        p   = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter: `"step"` (t) and `"sum"` (s).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative(options["lr_decay"], "lr_decay value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_nonnegative(options["initial_accumulator_value"],
                          "initial_accumulator_value")
        check_nonnegative(options["eps"], "epsilon value")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        weight_decay = float(group["weight_decay"])
        eps = float(group["eps"])
        init = float(group["initial_accumulator_value"])
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            s = self.state[p]
            if not s:
                s["step"] = 0
                s["sum"] = np.full_like(p.data, init)
            t = s["step"] = s["step"] + 1
            g = _gradient(p, maximize, weight_decay)
            acc = s["sum"]
            tmp = g * g
            acc += tmp
            np.sqrt(acc, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            tmp *= lr / (1.0 + (t - 1) * lr_decay)
            p.data -= tmp
            mark_updated(p)


class RMSprop(Optimizer):
    """RMSprop (`torch.optim.RMSprop`): divide by a moving root-mean-square of the gradients::

        g   = grad (+ weight_decay * p)
        v   = alpha * v + (1 - alpha) * g * g
        m   = alpha * m + (1 - alpha) * g              (centered only)
        d   = sqrt(v - m * m) + eps   if centered   else   sqrt(v) + eps
        b   = momentum * b + g / d;   p = p - lr * b   (momentum > 0)
        p   = p - lr * g / d                           (momentum = 0)

    State per parameter: `"step"`, `"square_avg"` (v), `"grad_avg"` (m, centered) and
    `"momentum_buffer"` (b, momentum > 0), all starting at zero.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative(options["eps"], "epsilon value")
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_nonnegative(options["alpha"], "alpha value")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            s = self.state[p]
            if not s:
                s["step"] = 0
                s["square_avg"] = np.zeros_like(p.data)
                if momentum > 0.0:
                    s["momentum_buffer"] = np.zeros_like(p.data)
                if centered:
                    s["grad_avg"] = np.zeros_like(p.data)
            s["step"] += 1
            g = _gradient(p, maximize, weight_decay)
            v = s["square_avg"]
            v *= alpha
            tmp = g * g
            tmp *= 1.0 - alpha
            v += tmp
            if centered:
                m = s["grad_avg"]
                m *= alpha
                np.multiply(g, 1.0 - alpha, out=tmp)
                m += tmp
                np.multiply(m, m, out=tmp)
                np.subtract(v, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            if momentum > 0.0:
                b = s["momentum_buffer"]
                b *= momentum
                b += tmp
                np.multiply(b, lr, out=tmp)
            else:
                tmp *= lr
            p.data -= tmp
            mark_updated(p)


class Adam(Optimizer):
    """Adam (`torch.optim.Adam`): momentum on the gradient, RMSprop's scaling, both debiased::

        g   = grad (+ weight_decay * p)        t = 1, 2, ... (the step number)
        m   = beta1 * m + (1 - beta1) * g
        v   = beta2 * v + (1 - beta2) * g * g
        vm  = max(vm, v)   (amsgrad; then vm replaces v below)
        p   = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    With `decoupled_weight_decay=True` (AdamW) the gradient gets no L2 term; instead
    p = p * (1 - lr * weight_decay) before the step. State per parameter: `"step"` (t),
    `"exp_avg"` (m), `"exp_avg_sq"` (v) and, with amsgrad, `"max_exp_avg_sq"` (vm).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative(options["eps"], "epsilon value")
        betas = options["betas"]
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (give two values, (beta1, beta2))")
        check_beta(betas[0], "beta parameter at index 0")
        check_beta(betas[1], "beta parameter at index 1")
        check_nonnegative(options["weight_decay"], "weight_decay value")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            s = self.state[p]
            if not s:
                s["step"] = 0
                s["exp_avg"] = np.zeros_like(p.data)
                s["exp_avg_sq"] = np.zeros_like(p.data)
                if amsgrad:
                    s["max_exp_avg_sq"] = np.zeros_like(p.data)
            t = s["step"] = s["step"] + 1
            data = p.data
            if decoupled:
                if weight_decay != 0.0:
                    data *= 1.0 - lr * weight_decay
                g = _gradient(p, maximize, 0.0)
            else:
                g = _gradient(p, maximize, weight_decay)
            m = s["exp_avg"]
            v = s["exp_avg_sq"]
            m *= beta1
            tmp = g * (1.0 - beta1)
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - beta2
            v += tmp
            if amsgrad:
                vm = s["max_exp_avg_sq"]
                np.maximum(vm, v, out=vm)
                v = vm
            np.sqrt(v, out=tmp)
            tmp /= math.sqrt(1.0 - beta2 ** t)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= lr / (1.0 - beta1 ** t)
            data -= tmp
            mark_updated(p)


class AdamW(Adam):
    """AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay (default 1e-2)::

        p = p * (1 - lr * weight_decay)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    with m and v the moving averages of the plain gradient, as in `Adam`.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
