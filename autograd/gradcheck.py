"""Checking analytical gradients against central finite differences.

    d f / d x_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

`gradcheck` compares whole Jacobians of a function; `gradgradcheck` does the same for the
gradient itself (second derivatives through create_graph=True); `check_graph` tests every node of
an already-recorded graph at the values it saw, to find the op whose VJP is wrong.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import grad, toposort
from .function import Function
from .namespace import ArrayNS
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient does not match finite differences."""


def _as_tuple(x: Any) -> tuple:
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _flat_outputs(fn: Callable, inputs: tuple) -> list[Tensor]:
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical_jacobian(fn: Callable, inputs: tuple, i: int, eps: float) -> np.ndarray:
    """J[k, j] = d out_k / d inputs[i]_j by central differences (outputs concatenated)."""
    x = inputs[i].data
    cols = []
    # Not under no_grad: `fn` may itself differentiate (gradgradcheck's first derivative).
    for j in range(x.size):
        idx = np.unravel_index(j, x.shape)
        orig = x[idx].item()
        x[idx] = orig + eps
        plus = np.concatenate([o.data.ravel() for o in _flat_outputs(fn, inputs)])
        x[idx] = orig - eps
        minus = np.concatenate([o.data.ravel() for o in _flat_outputs(fn, inputs)])
        x[idx] = orig
        cols.append((plus.astype(np.float64) - minus) / (2 * eps))
    n_out = sum(o.size for o in _flat_outputs(fn, inputs)) if not cols else cols[0].size
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _analytical_jacobians(fn: Callable, inputs: tuple, diff: list[int]) -> list[np.ndarray]:
    """J_i[k, j] for each differentiable input i, one backward pass per output element."""
    outs = _flat_outputs(fn, inputs)
    n_out = sum(o.size for o in outs)
    jacs = [np.zeros((n_out, inputs[i].size)) for i in diff]
    row = 0
    for o in outs:
        for k in range(o.size):
            if o.requires_grad:
                seed = np.zeros(o.shape, dtype=o.dtype)
                seed.flat[k] = 1
                gs = grad(o, [inputs[i] for i in diff], grad_outputs=seed, retain_graph=True,
                          allow_unused=True)
                for jac, g in zip(jacs, gs):
                    if g is not None:
                        jac[row] = g.data.ravel()
            row += 1
    return jacs


def _compare(name: str, i: int, x: Tensor, a: np.ndarray, n: np.ndarray, atol: float,
             rtol: float) -> None:
    bad = ~np.isclose(a, n, atol=atol, rtol=rtol, equal_nan=True)
    if bad.any():
        k, j = np.argwhere(bad)[0]
        index = np.unravel_index(int(j), x.shape) if x.ndim else ()
        raise GradcheckError(
            f"{name}: gradient mismatch for input {i} at element {tuple(int(v) for v in index)} "
            f"(output element {int(k)}): analytical {a[k, j]:.8g}, numerical {n[k, j]:.8g} "
            f"(atol={atol}, rtol={rtol})")


def gradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, name: str = "gradcheck") -> bool:
    """Check `fn`'s gradients with respect to every input that requires grad.

    Raises GradcheckError naming the input, the element index, and the analytical and numerical
    values at the first mismatch; returns True otherwise. Use float64 inputs: in float32 the
    finite differences are too imprecise for the tolerances (a warning says so).
    """
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError(f"{name}: no input requires grad, so there is nothing to check")
    for i in diff:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"{name}: input {i} is {inputs[i].dtype}, not float64; finite differences in low "
                "precision are unreliable (use dtype=np.float64)", stacklevel=2)
    analytical = _analytical_jacobians(fn, inputs, diff)
    for i, a in zip(diff, analytical):
        n = _numerical_jacobian(fn, inputs, i, eps)
        _compare(name, i, inputs[i], a, n, atol, rtol)
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor],
                  grad_outputs: Sequence[Tensor] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> grad(fn(inputs), inputs, v).

    `v` (the grad_outputs) defaults to random float64 tensors of the outputs' shapes; it is
    differentiated too, which checks that each VJP is linear in the incoming gradient.
    """
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape).astype(o.dtype), requires_grad=True)
                        for o in _flat_outputs(fn, inputs)]
    grad_outputs = list(grad_outputs)
    n = len(inputs)

    def first_derivative(*args: Tensor) -> tuple:
        xs, vs = args[:n], args[n:]
        outs = _flat_outputs(fn, xs)
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        if not pairs:
            return tuple(Tensor(np.zeros(xs[i].shape, dtype=xs[i].dtype)) for i in diff)
        gs = grad([p[0] for p in pairs], [xs[i] for i in diff], [p[1] for p in pairs],
                  create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(np.zeros(xs[i].shape, dtype=xs[i].dtype))
                     for g, i in zip(gs, diff))

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, name="gradgradcheck")


def check_graph(root: Tensor, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                seed: int = 0) -> int:
    """Check every recorded node's VJP against finite differences at the values it saw.

    For each node f with inputs x (in float64) and random directions u (output) and v (input),
    compares <u, J v> from finite differences with <vjp(u), v>. Raises GradcheckError naming
    the first op (in forward order) whose local gradient is wrong; returns the number checked.
    Run it after the forward pass (or with retain_graph=True): it needs the inputs' values.
    """
    if root.grad_fn is None:
        raise ValueError("check_graph: the tensor has no recorded graph (it is a leaf)")
    rng = np.random.default_rng(seed)
    order = toposort([root.grad_fn])[::-1]
    for step, node in enumerate(order):
        arrays = [t.data.astype(np.float64) if t.dtype.kind == "f" else t.data
                  for t in node.inputs]
        probe: Function = copy.copy(node)
        out = np.asarray(probe.forward(*arrays), dtype=np.float64)
        u = rng.standard_normal(out.shape)
        gins = probe.vjp(ArrayNS, u, *arrays)
        for i, (t, need) in enumerate(zip(node.inputs, node.needs)):
            if not need or gins[i] is None:
                continue
            v = rng.standard_normal(t.shape)
            plus = list(arrays)
            minus = list(arrays)
            plus[i] = arrays[i] + eps * v
            minus[i] = arrays[i] - eps * v
            f_plus = np.asarray(copy.copy(node).forward(*plus), dtype=np.float64)
            f_minus = np.asarray(copy.copy(node).forward(*minus), dtype=np.float64)
            numerical = float(np.sum(u * (f_plus - f_minus)) / (2 * eps))
            g = np.broadcast_to(gins[i], out.shape) if gins[i].shape != t.shape else gins[i]
            from .broadcast import sum_to_shape
            analytical = float(np.sum(sum_to_shape(np.asarray(g), t.shape) * v))
            if not np.isclose(analytical, numerical, atol=atol, rtol=rtol):
                shapes = ", ".join(str(x.shape) for x in node.inputs)
                raise GradcheckError(
                    f"check_graph: the VJP of '{node.describe()}' (op {step + 1} of {len(order)} "
                    f"in forward order, inputs of shapes {shapes}) is wrong for input {i}: "
                    f"<u, J v> = {numerical:.8g} by finite differences but {analytical:.8g} "
                    "from the VJP")
    return len(order)
