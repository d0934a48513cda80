"""Workload 1: one SGD step of a ReLU MLP with a cross-entropy loss, float32.

A step is: forward through Linear-ReLU-...-Linear, mean cross-entropy of the logits, backward,
and `w <- w - lr * dL/dw` for every weight and bias (gradients then cleared). Two sizes: the
784-256-256-10 net at batch 128, where the matrix products dominate and the engine's cost shows
as a percentage, and the 784-16-16-10 net at batch 32, where the work is tiny and the per-op
overhead of the engine is most of the step.

Implementations:
- numpy (hand-written): the forward pass, the closed-form backward pass, in-place updates.
- chainrule (autograd ops): `autograd.linear`, `relu`, `cross_entropy(..., reduction="mean")`,
  backward, and the reference's in-place update (`grad *= lr; w -= grad`) under `no_grad`.
- chainrule (unfused ops): the same net from `x @ W.T + b` and `-log_softmax(z)[rows, y]`, to
  show what the fused `linear` and `cross_entropy` nodes save.
- chainrule (nn + optim): `nn.Sequential`, `nn.CrossEntropyLoss`, `optim.SGD`.
- torch (eager ops) and torch (nn + optim): the same two ways in PyTorch.

Weights follow PyTorch's layout: W is (out_features, in_features).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import harness
from .harness import Config, Result

NAME = "mlp"
LR = 0.1

#: (layer sizes, batch) per case: full sizes, and the smoke sizes of --quick.
CASES = (((784, 256, 256, 10), 128), ((784, 16, 16, 10), 32))
QUICK_CASES = (((48, 32, 32, 10), 16), ((16, 8, 8, 4), 8))


@dataclass
class Problem:
    """Initial weights (W1, b1, W2, b2, ...) and one batch, shared by every implementation."""

    sizes: tuple[int, ...]
    x: np.ndarray
    y: np.ndarray
    init: list[np.ndarray]
    lr: float = LR

    @property
    def title(self) -> str:
        return f"MLP {'-'.join(map(str, self.sizes))} SGD step, batch {len(self.x)}"


def problem(sizes: tuple[int, ...], batch: int, seed: int = 0) -> Problem:
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and a random batch."""
    rng = np.random.default_rng(seed)
    init = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        init.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        init.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    return Problem(tuple(sizes), x, y, init)


#: An implementation built for a problem: `step()` runs one SGD step and returns the loss;
#: `params()` returns the current weights as arrays, in the order of `Problem.init`.
Impl = tuple[Callable[[], Any], Callable[[], list[np.ndarray]]]


# ---------------------------------------------------------------------------------------------
# hand-written numpy


def numpy_impl(p: Problem) -> Impl:
    """Forward, closed-form backward and in-place update, written the way one would by hand."""
    params = [a.copy() for a in p.init]
    x, y, lr = p.x, p.y, p.lr
    rows = np.arange(len(x))

    def step() -> Any:
        acts = harness.numpy_relu_mlp(params, x)
        # dL/dz = (softmax(z) - onehot(y)) / N, built in place in the logits.
        loss, g = harness.numpy_cross_entropy(acts[-1], y, rows)
        harness.numpy_relu_mlp_sgd(params, acts, g, lr)
        return loss

    return step, lambda: params


# ---------------------------------------------------------------------------------------------
# chainrule


def chainrule_ops_impl(p: Problem) -> Impl:
    """autograd.linear + relu + cross_entropy(mean); update in place under no_grad."""
    import autograd as ag

    params = [ag.Tensor(a.copy(), requires_grad=True) for a in p.init]
    x, y, lr = ag.Tensor(p.x), p.y, p.lr

    def step() -> Any:
        loss = ag.cross_entropy(harness.relu_mlp(params, x, ag.linear, ag.relu), y,
                                reduction="mean")
        loss.backward()
        harness.update_like_numpy(params, lr)
        return loss

    return step, lambda: [q.data for q in params]


def chainrule_unfused_impl(p: Problem) -> Impl:
    """The same step from matmul, add, log_softmax and indexing: one node per elementary op."""
    import autograd as ag

    params = [ag.Tensor(a.copy(), requires_grad=True) for a in p.init]
    x, y, lr = ag.Tensor(p.x), p.y, p.lr
    rows = np.arange(len(p.x))

    def step() -> Any:
        h = harness.relu_mlp(params, x, lambda h, w, b: h @ w.T + b, ag.relu)
        loss = -ag.log_softmax(h, axis=1)[rows, y].mean()
        loss.backward()
        harness.update_like_numpy(params, lr)
        return loss

    return step, lambda: [q.data for q in params]


def _sequential(nn: Any, sizes: tuple[int, ...]) -> Any:
    """Linear/ReLU layers for `sizes`, from either framework's nn module (same names)."""
    layers: list[Any] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def chainrule_nn_impl(p: Problem) -> Impl:
    """nn.Sequential of nn.Linear/nn.ReLU, nn.CrossEntropyLoss and optim.SGD."""
    nn, _ = harness.nn_optim()  # type: ignore[misc]
    return harness.chainrule_classifier_step(_sequential(nn, p.sizes), p.init, p.x, p.y, p.lr)


# ---------------------------------------------------------------------------------------------
# PyTorch


def torch_ops_impl(p: Problem) -> Impl:
    """F.linear + F.relu + F.cross_entropy; update in place under torch.no_grad."""
    T = harness.torch()
    F = T.nn.functional
    params = [T.tensor(a, requires_grad=True) for a in p.init]
    x, y, lr = T.from_numpy(p.x), T.from_numpy(p.y), p.lr

    def step() -> Any:
        loss = F.cross_entropy(harness.relu_mlp(params, x, F.linear, F.relu), y)
        loss.backward()
        with T.no_grad():
            for q in params:
                q.sub_(q.grad, alpha=lr)
                q.grad = None
        return loss

    return step, lambda: [q.detach().numpy() for q in params]


def torch_nn_impl(p: Problem) -> Impl:
    """torch.nn.Sequential, torch.nn.CrossEntropyLoss and torch.optim.SGD."""
    T = harness.torch()
    return harness.torch_classifier_step(_sequential(T.nn, p.sizes), p.init, p.x, p.y, p.lr)


#: label -> (framework, builder, needs this project's nn/optim)
IMPLS: dict[str, tuple[str, Callable[[Problem], Impl], bool]] = {
    "numpy (hand-written)": ("numpy", numpy_impl, False),
    "chainrule (autograd ops)": ("chainrule", chainrule_ops_impl, False),
    "chainrule (unfused ops)": ("chainrule", chainrule_unfused_impl, False),
    "chainrule (nn + optim)": ("chainrule", chainrule_nn_impl, True),
    "torch (eager ops)": ("torch", torch_ops_impl, False),
    "torch (nn + optim)": ("torch", torch_nn_impl, False),
}
REFERENCE = "numpy (hand-written)"


def run(cfg: Config) -> list[Result]:
    results: list[Result] = []
    for tag, (sizes, batch) in zip(("big", "small"), QUICK_CASES if cfg.quick else CASES):
        p = problem(sizes, batch, cfg.seed)
        results += harness.step_workload(cfg, NAME, tag, p.title, IMPLS, REFERENCE, p,
                                         cfg.reps(41))
    return results
