"""`Momentum`: the course notes' momentum, an exponential moving average of the gradients.

Unlike `SGD(momentum=...)` (the "heavy ball" sum b = momentum*b + g), the notes average:
the velocity stays on the gradients' scale, so the same learning rate suits both with and
without momentum, and the average's start-up bias towards zero can be divided out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_beta, mark_updated


class Momentum(Optimizer):
    """Gradient descent with an averaged velocity, as the course notes write it.

    With the gradient g_t = grad f(theta_t), u_0 = 0 and t = 0, 1, 2, ... counting the updates
    already made (so the first step is t = 0)::

        u_{t+1}     = beta * u_t + (1 - beta) * g_t
        theta_{t+1} = theta_t - lr * v_{t+1}

    where the velocity used is v_{t+1} = u_{t+1}, or with `debias=True`

        v_{t+1} = u_{t+1} / (1 - beta^(t+1)).

    The average starts at zero, so u_{t+1} = (1 - beta) * (g_t + beta g_{t-1} + ...) is biased
    towards zero by the factor 1 - beta^(t+1) = the sum of its weights; dividing that out makes
    the first step (t = 0: v_1 = (1 - beta) g_0 / (1 - beta) = g_0) exactly as large as plain
    gradient descent's, lr * g_0, instead of (1 - beta) times it. (Counted from one, k = t + 1,
    this is Adam's correction 1 - beta^k.)

    `nesterov=True` takes the gradient at the look-ahead point instead::

        u_{t+1}     = beta * u_t + (1 - beta) * grad f(theta_t - lr * v_t)
        theta_{t+1} = theta_t - lr * v_{t+1}                       (v_0 = 0)

    A training loop computes the gradient where the parameters are, so with Nesterov the
    parameters hold the look-ahead point phi_t = theta_t - lr * v_t (phi_0 = theta_0) and each
    step moves them to the next one::

        phi_{t+1} = theta_{t+1} - lr * v_{t+1} = phi_t + lr * v_t - 2 * lr * v_{t+1}

    (theta_t = phi_t + lr * v_t recovers the notes' iterate; the lr is assumed constant
    across the step.) State per parameter: `"step"` (t) and `"momentum_buffer"` (u).
    """

    def __init__(self, params: ParamsT, lr: float, beta: float = 0.9, debias: bool = False,
                 nesterov: bool = False) -> None:
        defaults = dict(lr=lr, beta=beta, debias=debias, nesterov=nesterov)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_beta(options["beta"], "beta")

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta = float(group["beta"])
        debias = group["debias"]
        nesterov = group["nesterov"]
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            g = grad.data
            s = state[p]
            if not s:
                s["step"] = 0
                s["momentum_buffer"] = np.zeros_like(p.data)
            t = s["step"]
            u = s["momentum_buffer"]
            # scale_t turns u_t into v_t; scale_t1 turns u_{t+1} into v_{t+1}.
            scale_t = (1.0 / (1.0 - beta ** t) if t > 0 else 0.0) if debias else 1.0
            scale_t1 = 1.0 / (1.0 - beta ** (t + 1)) if debias else 1.0
            if nesterov:
                back = u * (lr * scale_t)  # + lr * v_t: undo the previous look-ahead
            u *= beta
            u += g * (1.0 - beta)
            data = p.data
            if nesterov:
                back -= u * (2.0 * lr * scale_t1)
                data += back
            else:
                data -= u * (lr * scale_t1)
            s["step"] = t + 1
            mark_updated(p)
