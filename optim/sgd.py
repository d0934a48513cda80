"""`SGD`: stochastic gradient descent with PyTorch's momentum, dampening, Nesterov, weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_nonnegative, mark_updated


class SGD(Optimizer):
    """Stochastic gradient descent, `torch.optim.SGD`'s rule exactly. For each parameter p::

        g = -grad if maximize else grad
        g = g + weight_decay * p                        (weight_decay != 0)
        b = g                          (first step)     (momentum != 0)
        b = momentum * b + (1 - dampening) * g          (later steps)
        g = g + momentum * b   if nesterov   else   b
        p = p - lr * g

    `b` is kept per parameter in `state[p]["momentum_buffer"]`. Nesterov needs momentum > 0
    and dampening = 0.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening (got momentum="
                f"{options['momentum']}, dampening={options['dampening']})")

    def _update(self, group: dict[str, Any]) -> None:
        # Python floats keep float32 parameters float32 (a numpy float64 scalar would promote).
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            data = p.data
            g = grad.data
            if maximize:
                g = np.negative(g)
            if weight_decay != 0.0:
                g = g + data * weight_decay
            if momentum != 0.0:
                s = state[p]
                buf = s.get("momentum_buffer")
                if buf is None:
                    # The first buffer is the gradient itself (a copy unless g is already ours).
                    buf = s["momentum_buffer"] = g.copy() if g is grad.data else g
                else:
                    buf *= momentum
                    if dampening == 0.0:
                        buf += g
                    else:
                        buf += g * (1.0 - dampening)
                if nesterov:
                    step = buf * momentum
                    step += g
                    g = step
                else:
                    g = buf
            data -= g * lr
            mark_updated(p)
