"""Workload 2: the engine's overhead per elementwise op, on chains of tiny tensors.

A chain applies `y <- act(y * c + d)` over and over (three ops per round: multiply by a Python
float, add a Python float, then relu or tanh) to a leaf of shape (1,) or (16,), 10,000 ops in
all, then back-propagates a gradient of ones to the leaf. With so little arithmetic per op, the
time is almost all bookkeeping: making the output tensor, recording the node, ordering the graph,
running each VJP, accumulating and freeing. Reported in microseconds per op (forward+backward).

The floor is numpy's own: the same forward on arrays (keeping what the backward needs) and the
backward written by hand, which no engine on numpy can beat. micrograd runs the relu chain on
shape (1,) (a scalar engine; it has no tanh). Its backward is recursive, so the recursion limit
is raised for it while it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import harness
from .harness import Config, Result

NAME = "ops"
N_OPS = 10_000
QUICK_OPS = 300

#: act -> (c, d): constants that keep the values finite and the gradient away from denormals
#: (a relu chain tends to y = 1 with gradient 0.9999 per round; tanh to y = 0.14).
CONSTANTS = {"relu": (0.9999, 0.0001), "tanh": (0.999, 0.001)}


def start(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape).astype(np.float32)


def rounds(n_ops: int) -> int:
    return max(1, n_ops // 3)


# A chain function runs forward+backward once and returns (output, gradient of the leaf).
Chain = Callable[[], tuple[Any, Any]]


def numpy_chain(x0: np.ndarray, act: str, n_ops: int) -> Chain:
    """numpy forward (keeping what the backward needs) and the backward written by hand.

    The constants are 0-d arrays of x's dtype: numpy converts a Python float operand on every
    call, which doubles the cost of an op on a tiny array, and the floor should be the best
    numpy can do.
    """
    c, d = (np.asarray(v, dtype=x0.dtype) for v in CONSTANTS[act])
    zero, one = np.zeros((), x0.dtype), np.ones((), x0.dtype)
    n = rounds(n_ops)

    def chain() -> tuple[Any, Any]:
        saved = []
        y = x0
        for _ in range(n):
            y = y * c
            y = y + d
            y = np.maximum(y, zero) if act == "relu" else np.tanh(y)
            saved.append(y)
        g = np.ones_like(y)
        for y_i in reversed(saved):
            g = g * (y_i > zero) if act == "relu" else g * (one - y_i * y_i)
            g = g * c
        return y, g

    return chain


def chainrule_chain(x0: np.ndarray, act: str, n_ops: int) -> Chain:
    import autograd as ag

    c, d = CONSTANTS[act]
    n = rounds(n_ops)
    f = ag.relu if act == "relu" else ag.tanh
    ones = np.ones_like(x0)

    def chain() -> tuple[Any, Any]:
        x = ag.Tensor(x0, requires_grad=True)
        y = x
        for _ in range(n):
            y = f(y * c + d)
        y.backward(ones)
        return y.data, x.grad.data

    return chain


def torch_chain(x0: np.ndarray, act: str, n_ops: int) -> Chain:
    T = harness.torch()
    c, d = CONSTANTS[act]
    n = rounds(n_ops)
    f = T.relu if act == "relu" else T.tanh
    x_data = T.from_numpy(x0)
    ones = T.ones_like(x_data)

    def chain() -> tuple[Any, Any]:
        x = x_data.clone().requires_grad_(True)
        y = x
        for _ in range(n):
            y = f(y * c + d)
        y.backward(ones)
        return y.detach().numpy(), x.grad.numpy()

    return chain


def micrograd_chain(x0: np.ndarray, act: str, n_ops: int, raise_limit: bool = True) -> Chain:
    """micrograd's scalar Values; `raise_limit` lifts the recursion limit its backward needs."""
    from micrograd.engine import Value

    c, d = CONSTANTS[act]
    n = rounds(n_ops)
    value = float(x0[0])

    def chain() -> tuple[Any, Any]:
        x = Value(value)
        y = x
        for _ in range(n):
            y = (y * c + d).relu()
        limit = sys.getrecursionlimit()
        if raise_limit:
            sys.setrecursionlimit(max(limit, 3 * n_ops + 1000))
        try:
            y.backward()
        finally:
            sys.setrecursionlimit(limit)
        return np.array([y.data]), np.array([x.grad])

    return chain


BUILDERS: dict[str, tuple[str, Callable[[np.ndarray, str, int], Chain]]] = {
    "numpy (forward + hand backward)": ("numpy", numpy_chain),
    "chainrule": ("chainrule", chainrule_chain),
    "torch (eager)": ("torch", torch_chain),
    "micrograd": ("micrograd", micrograd_chain),
}
REFERENCE = "numpy (forward + hand backward)"


def applies(label: str, act: str, shape: tuple[int, ...]) -> bool:
    """micrograd is a scalar engine without tanh: it runs the relu chain on shape (1,) only."""
    return BUILDERS[label][0] != "micrograd" or (act == "relu" and shape == (1,))


def check(chain: Chain, ref: tuple[Any, Any]) -> str:
    try:
        y, g = chain()
    except Exception as e:  # a crashing implementation is a failed check, not a crashed suite
        return f"FAILED: {type(e).__name__}: {e}"
    return harness.compare({"output": ref[0], "grad": ref[1]}, {"output": y, "grad": g})


def run(cfg: Config) -> list[Result]:
    n_ops = QUICK_OPS if cfg.quick else N_OPS
    n_real = 3 * rounds(n_ops)
    results: list[Result] = []
    for act in ("relu", "tanh"):
        for shape in ((1,), (16,)):
            title = f"{n_real:,}-op chain (mul, add, {act}), shape {shape}, per op"
            x0 = start(shape, cfg.seed)
            ref = numpy_chain(x0, act, n_ops)()
            cases: dict[str, Chain] = {}
            rows: dict[str, Result] = {}
            for label, (framework, build) in BUILDERS.items():
                if not applies(label, act, shape):
                    continue
                row = rows[label] = Result(NAME, title, label, None, "us/op",
                                           tag=f"{act}-{shape[0]}")
                if not harness.available(framework, cfg):
                    row.check = harness.missing(framework, cfg)
                    continue
                chain = build(x0, act, n_ops)
                row.check = "-" if label == REFERENCE else check(chain, ref)
                if not row.check.startswith("FAILED"):
                    cases[label] = chain
            times = harness.interleave(cases, cfg.reps(11), cfg.target)
            for label, ts in times.items():
                rows[label].value = harness.median(ts) / n_real
                rows[label].samples = ts
            out = list(rows.values())
            harness.ratios(out, REFERENCE)
            results += out
    return results
