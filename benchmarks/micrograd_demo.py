"""Workload 5: micrograd's demo, one full-batch SGD step per call.

The demo of micrograd's README: a 2-16-16-1 ReLU MLP classifies 100 two-moons points (labels
-1/+1) with the hinge loss mean(relu(1 - y * score)) plus an L2 penalty 1e-4 * sum(w**2),
trained by plain SGD. Timed per step for micrograd itself (scalar Values, Python floats), this
project (autograd ops; and nn + optim), PyTorch, and numpy by hand. All start from the same
weights; micrograd computes in float64, the others in float32, so they agree to float32 accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import harness
from .harness import Config, Result

NAME = "micrograd"
ALPHA = 1e-4  # weight of the L2 penalty
LR = 1.0      # the demo's first learning rate


@dataclass
class Problem:
    sizes: tuple[int, ...]
    x: np.ndarray   # (n, 2) float32
    y: np.ndarray   # (n,) float32, -1 or +1
    init: list[np.ndarray]
    lr: float = LR

    @property
    def title(self) -> str:
        return (f"micrograd demo: MLP {'-'.join(map(str, self.sizes))}, {len(self.x)} moons, "
                "hinge + L2, SGD step")


def problem(n: int = 100, hidden: int = 16, seed: int = 0) -> Problem:
    from nn.datasets import moons

    x, labels = moons(n, noise=0.1, seed=seed)
    rng = np.random.default_rng(seed)
    sizes = (2, hidden, hidden, 1)
    init = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # micrograd's Neuron: weights U(-1, 1), bias 0.
        init.append(rng.uniform(-1.0, 1.0, (fan_out, fan_in)).astype(np.float32))
        init.append(np.zeros(fan_out, dtype=np.float32))
    return Problem(sizes, x, (2.0 * labels - 1.0).astype(np.float32), init)


Impl = tuple[Callable[[], Any], Callable[[], list[np.ndarray]]]


def numpy_impl(p: Problem) -> Impl:
    params = [a.copy() for a in p.init]
    x, y, lr, inv_n = p.x, p.y, p.lr, 1.0 / len(p.x)

    def step() -> Any:
        acts = harness.numpy_relu_mlp(params, x)
        h = acts[-1]
        margin = 1.0 - y * h[:, 0]
        loss = np.maximum(margin, 0.0).mean() + ALPHA * sum(float((w * w).sum()) for w in params)
        # d(mean relu(1 - y s))/ds = -y [margin > 0] / n
        g = (-inv_n * y * (margin > 0))[:, None]
        harness.numpy_relu_mlp_sgd(params, acts, g, lr, ALPHA)
        return loss

    return step, lambda: params


def chainrule_ops_impl(p: Problem) -> Impl:
    import autograd as ag

    params = [ag.Tensor(a.copy(), requires_grad=True) for a in p.init]
    x, y, lr = ag.Tensor(p.x), ag.Tensor(p.y), p.lr

    def step() -> Any:
        h = harness.relu_mlp(params, x, ag.linear, ag.relu)
        loss = ag.relu(1.0 - y * h[:, 0]).mean() + ALPHA * sum((w * w).sum() for w in params)
        loss.backward()
        with ag.no_grad():
            for w in params:
                w.sub_(w.grad, alpha=lr)
                w.grad = None
        return loss

    return step, lambda: [w.data for w in params]


def chainrule_nn_impl(p: Problem) -> Impl:
    import autograd as ag

    nn, optim = harness.nn_optim()  # type: ignore[misc]
    h = p.sizes[1]
    model = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))
    params = list(model.parameters())
    for w, a in zip(params, p.init, strict=True):
        np.copyto(w.data, a)
    opt = optim.SGD(params, lr=p.lr)
    x, y = ag.Tensor(p.x), ag.Tensor(p.y)

    def step() -> Any:
        opt.zero_grad()
        loss = (ag.relu(1.0 - y * model(x)[:, 0]).mean()
                + ALPHA * sum((w * w).sum() for w in params))
        loss.backward()
        opt.step()
        return loss

    return step, lambda: [w.data for w in params]


def torch_impl(p: Problem) -> Impl:
    T = harness.torch()
    F = T.nn.functional
    params = [T.tensor(a, requires_grad=True) for a in p.init]
    x, y, lr = T.from_numpy(p.x), T.from_numpy(p.y), p.lr

    def step() -> Any:
        h = harness.relu_mlp(params, x, F.linear, F.relu)
        loss = F.relu(1.0 - y * h[:, 0]).mean() + ALPHA * sum((w * w).sum() for w in params)
        loss.backward()
        with T.no_grad():
            for w in params:
                w.sub_(w.grad, alpha=lr)
                w.grad = None
        return loss

    return step, lambda: [w.detach().numpy() for w in params]


def micrograd_impl(p: Problem) -> Impl:
    """The demo's own code: micrograd.nn.MLP, loss on lists of Values, p.data -= lr * p.grad."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(p.sizes[0], list(p.sizes[1:]))
    for layer, w, b in zip(model.layers, p.init[0::2], p.init[1::2]):
        for neuron, w_row, b_i in zip(layer.neurons, w, b):
            for v, wij in zip(neuron.w, w_row):
                v.data = float(wij)
            neuron.b.data = float(b_i)
    xs = [list(map(float, row)) for row in p.x]
    ys = [float(v) for v in p.y]
    parameters = model.parameters()

    def step() -> Any:
        inputs = [list(map(Value, row)) for row in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(q * q for q in parameters)
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for q in parameters:
            q.data -= p.lr * q.grad
        return total.data

    def weights() -> list[np.ndarray]:
        out = []
        for layer in model.layers:
            out.append(np.array([[v.data for v in nrn.w] for nrn in layer.neurons]))
            out.append(np.array([nrn.b.data for nrn in layer.neurons]))
        return out

    return step, weights


IMPLS: harness.Impls = {
    "numpy (hand-written)": ("numpy", numpy_impl, False),
    "chainrule (autograd ops)": ("chainrule", chainrule_ops_impl, False),
    "chainrule (nn + optim)": ("chainrule", chainrule_nn_impl, True),
    "torch (eager ops)": ("torch", torch_impl, False),
    "micrograd": ("micrograd", micrograd_impl, False),
}
REFERENCE = "numpy (hand-written)"


def run(cfg: Config) -> list[Result]:
    p = problem(12, 4, cfg.seed) if cfg.quick else problem(100, 16, cfg.seed)
    return harness.step_workload(cfg, NAME, "demo", p.title, IMPLS, REFERENCE, p, cfg.reps(9))
