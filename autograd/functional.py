"""Function transforms with PyTorch's signatures: vjp, jvp, jacobian, hessian, hvp.

Each takes a function of Tensors and the point `inputs` (a Tensor or a tuple of them); inputs are
detached copies that require grad, so the caller's tensors and their `.grad` are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import grad
from .tensor import Tensor


def _prepare(inputs: Any, create_graph: bool = False) -> tuple[tuple[Tensor, ...], bool]:
    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    # Under create_graph a caller's tensor that requires grad is used as it is, so the results
    # stay differentiable with respect to it (nested transforms, gradient penalties), as in
    # PyTorch; otherwise a detached copy that requires grad leaves the caller's graph alone.
    return tuple(x if create_graph and x.requires_grad else Tensor._make(x.data, None)
                 .requires_grad_() for x in xs), single


def _outputs(out: Any) -> tuple[tuple[Tensor, ...], bool]:
    single = isinstance(out, Tensor)
    return ((out,) if single else tuple(out)), single


def _fill(gs: tuple, like: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Replace the None of an unused input by zeros of its shape."""
    return tuple(g if g is not None else Tensor(np.zeros(x.shape, dtype=x.dtype))
                 for g, x in zip(gs, like))


def _grad(outs: tuple, xs: tuple, gos: Any, create_graph: bool) -> tuple[Tensor, ...]:
    live = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
    if not live:
        return tuple(Tensor(np.zeros(x.shape, dtype=x.dtype)) for x in xs)
    gs = grad([o for o, _ in live], list(xs), [g for _, g in live], retain_graph=True,
              create_graph=create_graph, allow_unused=True)
    return _fill(gs, xs, create_graph)


def _unpack(values: tuple, single: bool) -> Any:
    return values[0] if single else values


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None,
        create_graph: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    xs, single_in = _prepare(inputs, create_graph)
    outs, single_out = _outputs(func(*xs))
    if v is None:
        for o in outs:
            if o.size != 1:
                raise RuntimeError("vjp: v can be omitted only when the output is a scalar")
        vs = [Tensor(np.ones_like(o.data)) for o in outs]
    else:
        vs = [v] if isinstance(v, Tensor) else list(v)
    gs = _grad(outs, xs, vs, create_graph)
    return _unpack(_detach(outs, create_graph), single_out), _unpack(gs, single_in)


def _detach(ts: tuple, create_graph: bool) -> tuple:
    return ts if create_graph else tuple(t.detach() for t in ts)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None,
        create_graph: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a VJP once more.

    The VJP u -> J^T u is linear in u, so the gradient of <J^T u, v> with respect to u is J v.
    """
    xs, single_in = _prepare(inputs, create_graph)
    if v is None:
        for x in xs:
            if x.size != 1:
                raise RuntimeError("jvp: v can be omitted only when the input is a scalar")
        vs = tuple(Tensor(np.ones_like(x.data)) for x in xs)
    else:
        vs = (v,) if isinstance(v, Tensor) else tuple(v)
    outs, single_out = _outputs(func(*xs))
    us = tuple(Tensor(np.zeros_like(o.data), requires_grad=True) for o in outs)
    gs = _grad(outs, xs, us, create_graph=True)
    jv = _grad(gs, us, vs, create_graph)
    return _unpack(_detach(outs, create_graph), single_out), _unpack(jv, single_out)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """d func / d inputs: for one input and one output a Tensor of shape out.shape + in.shape.

    With several inputs (outputs), a tuple over them (a tuple of tuples for both).
    """
    xs, single_in = _prepare(inputs, create_graph)
    outs, single_out = _outputs(func(*xs))
    result = []
    for o in outs:
        rows = []
        for k in range(o.size):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.flat[k] = 1
            rows.append(_grad((o,), xs, [Tensor(seed)], create_graph))
        blocks = []
        for i, x in enumerate(xs):
            from .ops import reshape, stack
            if rows:
                block = stack([r[i] for r in rows], axis=0)
            else:
                block = Tensor(np.zeros((0,) + x.shape, dtype=x.dtype))
            block = reshape(block, o.shape + x.shape)
            blocks.append(block if create_graph else block.detach())
        result.append(_unpack(tuple(blocks), single_in))
    return _unpack(tuple(result), single_out)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """Second derivatives of a scalar function: H[i][j] has shape x_i.shape + x_j.shape."""
    xs, single_in = _prepare(inputs, create_graph)

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out = func(*args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise RuntimeError("hessian: the function must return a single scalar Tensor")
        return _grad((out,), args, [Tensor(np.ones_like(out.data))], create_graph=True)

    h = jacobian(gradient, xs, create_graph=create_graph)
    if single_in:
        return h[0][0]
    return h


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None,
        create_graph: bool = False) -> tuple[Tensor, Any]:
    """(func(inputs), H v) for a scalar function, without forming H (two backward passes)."""
    xs, single_in = _prepare(inputs, create_graph)
    if v is None:
        if len(xs) != 1 or xs[0].size != 1:
            raise RuntimeError("hvp: v can be omitted only when the input is a single scalar")
        vs = (Tensor(np.ones_like(xs[0].data)),)
    else:
        vs = (v,) if isinstance(v, Tensor) else tuple(v)
    out = func(*xs)
    if not isinstance(out, Tensor) or out.size != 1:
        raise RuntimeError("hvp: the function must return a single scalar Tensor")
    gs = _grad((out,), xs, [Tensor(np.ones_like(out.data))], create_graph=True)
    hv = _grad(gs, xs, vs, create_graph)
    return (out if create_graph else out.detach()), _unpack(hv, single_in)
