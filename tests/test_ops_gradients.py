"""Every registered op, gradient-checked to first and second order in float64, plus exact cases.

`SPECS` maps each name in `autograd.function.REGISTRY` to a hypothesis strategy of `Case`s: random
float64 inputs in a domain where the op is smooth (positive for log and sqrt, away from the kinks
of relu, abs and clip, without ties for max and min), random shapes including broadcasting pairs,
every axis form (None, int, negative, tuple) and keepdims for reductions. Each case is checked by
central differences (gradcheck and gradgradcheck), its forward value against numpy, and in
float32 for staying float32. A new op without an entry here fails
`test_every_registered_op_has_a_spec`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import ops
from autograd.broadcast import sum_leading
from autograd.function import REGISTRY
from autograd.ops.shape import _by_position, window_sum_array
from autograd.testing import (
    arrays,
    assert_gradients_match,
    axes,
    broadcast_shape_pairs,
    broadcast_targets,
    distinct_arrays,
    safe_positive,
    shapes,
)


@dataclass
class Case:
    """One call of an op: `fn` takes the differentiable inputs (as Tensors) and runs the op;
    `expected` is numpy's forward on the same arrays; `tol` overrides gradcheck's defaults."""

    desc: str
    fn: Callable[..., ag.Tensor]
    inputs: tuple[np.ndarray, ...]
    expected: Callable[..., Any]
    tol: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(f"array({x.tolist()!r})" for x in self.inputs)
        return f"Case({self.desc} at {shown})"


REAL = arrays()                                  # [-3, 3], 0 to 3 axes of length 1 to 4
KINK_FREE = arrays(avoid=(0.0,))                 # |x| >= 1e-3: relu, abs, leaky_relu, elu
POSITIVE = safe_positive()                       # [0.1, 4]: log, sqrt
SIDE = st.integers(1, 4)
SMALL_SIDE = st.integers(1, 3)


# ---------------------------------------------------------------------------------------------
# elementwise


def unary(name: str, op: Callable, ref: Callable, domain: st.SearchStrategy = REAL,
          **tol: float) -> st.SearchStrategy[Case]:
    return domain.map(lambda x: Case(f"{name}(x)", op, (x,), ref, tol))


def binary(name: str, op: Callable, ref: Callable, left: Callable = lambda s: arrays(shape=s),
           right: Callable = lambda s: arrays(shape=s)) -> st.SearchStrategy[Case]:
    """Operands of two broadcast-compatible shapes; `left`/`right` give each one's domain."""

    # Half the pairs have an axis on both sides: the minimal pair ((), ()) checks little.
    pairs = broadcast_shape_pairs(min_dims=1) | broadcast_shape_pairs()

    @st.composite
    def case(draw: Any) -> Case:
        sa, sb = draw(pairs)
        return Case(f"{name}(a, b)", op, (draw(left(sa)), draw(right(sb))), ref)

    return case()


def interleaved(parity: int) -> Callable[[tuple], st.SearchStrategy]:
    """Even (0) or odd (1) multiples of 0.05: two such operands are never equal (no ties)."""
    grid = st.integers(-30, 30).map(lambda k: (2 * k + parity) * 0.05)
    return lambda s: arrays(shape=s, elements=grid)


def with_scalar(name: str, op: Callable, ref: Callable, scalars: st.SearchStrategy,
                domain: st.SearchStrategy = REAL) -> st.SearchStrategy[Case]:
    """A tensor with a Python int or float `c` (the engine's one-input scalar ops)."""

    @st.composite
    def case(draw: Any) -> Case:
        c = draw(scalars)
        return Case(f"{name} with c={c!r}", lambda t: op(t, c), (draw(domain),),
                    lambda a: ref(a, c))

    return case()


SCALARS = st.integers(-3, 3) | st.floats(-3.0, 3.0)
NONZERO_SCALARS = st.sampled_from([-2, 3]) | st.floats(0.5, 3.0) | st.floats(-3.0, -0.5)


@st.composite
def pow_scalar_case(draw: Any) -> Case:
    # Integer exponents are smooth everywhere; others need a positive base.
    c = draw(st.sampled_from([0, 1, 2, 3, 2.0, -1, -2, 0.5, 1.5, -2.5]))
    integral_nonneg = float(c).is_integer() and c >= 0
    x = draw(REAL if integral_nonneg else POSITIVE)
    return Case(f"x ** {c!r}", lambda t: t ** c, (x,), lambda a: a ** c)


@st.composite
def where_case(draw: Any) -> Case:
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4)
                      .map(lambda b: b.input_shapes))
    cond = draw(hnp.arrays(bool, sc))
    return Case(f"where(cond={cond.tolist()}, a, b)", lambda a, b: ag.where(cond, a, b),
                (draw(arrays(shape=sa)), draw(arrays(shape=sb))),
                lambda a, b: np.where(cond, a, b))


@st.composite
def clip_case(draw: Any) -> Case:
    if draw(st.booleans()):
        lo: Any = draw(st.floats(-2.0, 0.5))
        hi: Any = lo + draw(st.floats(0.5, 3.0))
        x = draw(arrays(avoid=(lo, hi)))
    else:
        # Array bounds that broadcast against x (possibly to a larger shape): x on odd and the
        # bounds on even multiples of 0.05, so x never sits on a bound.
        sx, sb = draw(broadcast_shape_pairs())
        x = draw(interleaved(1)(sx))
        lo = draw(interleaved(0)(sb))
        hi = lo + 1.0
    lo, hi = draw(st.sampled_from([(lo, hi), (lo, None), (None, hi)]))
    return Case(f"clip(x, {lo!r}, {hi!r})", lambda t: ag.clip(t, lo, hi), (x,),
                lambda a: np.clip(a, lo, hi))


@st.composite
def leaky_relu_case(draw: Any) -> Case:
    slope = draw(st.sampled_from([0.01, 0.2, 1.5]))
    return Case(f"leaky_relu(x, {slope})", lambda t: ag.leaky_relu(t, slope),
                (draw(KINK_FREE),), lambda a: np.where(a > 0, a, slope * a))


@st.composite
def elu_case(draw: Any) -> Case:
    alpha = draw(st.sampled_from([1.0, 0.5, 2.0]))
    return Case(f"elu(x, {alpha})", lambda t: ag.elu(t, alpha), (draw(KINK_FREE),),
                lambda a: np.where(a > 0, a, alpha * np.expm1(a)))


# ---------------------------------------------------------------------------------------------
# reductions


def reduction(name: str, op: Callable, ref: Callable,
              domain: Callable = lambda s: arrays(shape=s)) -> st.SearchStrategy[Case]:
    @st.composite
    def case(draw: Any) -> Case:
        shape = draw(shapes())
        axis = draw(axes(len(shape)))
        keepdims = draw(st.booleans())
        return Case(f"{name}(x, axis={axis}, keepdims={keepdims})",
                    lambda t: op(t, axis=axis, keepdims=keepdims), (draw(domain(shape)),),
                    lambda a: ref(a, axis=axis, keepdims=keepdims))

    return case()


@st.composite
def var_case(draw: Any) -> Case:
    shape = draw(shapes())
    axis = draw(axes(len(shape)))
    keepdims = draw(st.booleans())
    reduced = ops.reduce.normalize_axis(axis, len(shape), "var")
    n = int(np.prod([shape[a] for a in reduced]))
    ddof = draw(st.integers(0, min(1, n - 1)))  # n - ddof > 0
    return Case(f"var(x, axis={axis}, ddof={ddof}, keepdims={keepdims})",
                lambda t: ag.var(t, axis=axis, ddof=ddof, keepdims=keepdims),
                (draw(arrays(shape=shape)),),
                lambda a: np.var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def np_logsumexp(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(a: np.ndarray, axis: Any = -1) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_like(name: str, op: Callable, ref: Callable) -> st.SearchStrategy[Case]:
    @st.composite
    def case(draw: Any) -> Case:
        shape = draw(shapes(min_dims=1))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return Case(f"{name}(x, axis={axis})", lambda t: op(t, axis=axis),
                    (draw(arrays(shape=shape)),), lambda a: ref(a, axis=axis))

    return case()


# ---------------------------------------------------------------------------------------------
# shape ops


@st.composite
def reshape_case(draw: Any) -> Case:
    shape = draw(shapes())
    n = int(np.prod(shape))
    target = draw(st.sampled_from([(-1,), (n, 1), (1, n), shape[::-1], (1, *shape), (n, -1),
                                   (*shape[:-1], -1) if shape else (1,)]))
    return Case(f"reshape(x, {target})", lambda t: ag.reshape(t, target),
                (draw(arrays(shape=shape)),), lambda a: np.reshape(a, target))


@st.composite
def transpose_case(draw: Any) -> Case:
    shape = draw(shapes())
    nd = len(shape)
    perm = draw(st.none() | st.permutations(range(nd)))
    if perm is not None:
        # Spell some axes negatively: numpy accepts -1 for the last axis, so must we.
        perm = tuple(a - nd if draw(st.booleans()) else a for a in perm)
    return Case(f"transpose(x, {perm})", lambda t: ag.transpose(t, perm),
                (draw(arrays(shape=shape)),), lambda a: np.transpose(a, perm))


@st.composite
def swapaxes_case(draw: Any) -> Case:
    shape = draw(shapes(min_dims=1))
    ax = st.integers(-len(shape), len(shape) - 1)
    a1, a2 = draw(ax), draw(ax)
    return Case(f"swapaxes(x, {a1}, {a2})", lambda t: ag.swapaxes(t, a1, a2),
                (draw(arrays(shape=shape)),), lambda a: np.swapaxes(a, a1, a2))


@st.composite
def broadcast_to_case(draw: Any) -> Case:
    shape = draw(shapes())
    target = draw(broadcast_targets(shape))
    return Case(f"broadcast_to(x, {target})", lambda t: ag.broadcast_to(t, target),
                (draw(arrays(shape=shape)),), lambda a: np.broadcast_to(a, target))


def _sum_to_by_loop(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Each element of `a` added to the element of `shape` it was broadcast from."""
    out = np.zeros(shape, dtype=a.dtype)
    lead = a.ndim - len(shape)
    for idx in np.ndindex(*a.shape):
        out[tuple(0 if n == 1 else i for i, n in zip(idx[lead:], shape))] += a[idx]
    return out


@st.composite
def sum_to_case(draw: Any) -> Case:
    shape = draw(shapes())
    source = draw(broadcast_targets(shape))
    return Case(f"sum_to(x, {shape})", lambda t: ops.sum_to(t, shape),
                (draw(arrays(shape=source)),), lambda a: _sum_to_by_loop(a, shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "empty"])
def test_sum_leading_matches_a_sum_over_the_leading_axes(dtype, layout):
    # Contiguous float32/float64 arrays are summed by a matrix-vector product with ones;
    # everything else by numpy's reduction. Both give the sum, in the array's dtype.
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((6, 5, 4, 3)) * 10).astype(dtype)
    if layout == "transposed":
        a = a.transpose(1, 0, 2, 3)
    elif layout == "empty":
        a = a[:0]
    for lead in range(a.ndim + 1):
        got = sum_leading(a, lead)
        expect = a.astype(np.float64).sum(axis=tuple(range(lead)))
        assert got.shape == a.shape[lead:] and got.dtype == a.dtype
        # Rounding: at most one unit of the dtype per addend of the largest magnitude.
        eps = np.finfo(dtype).eps if a.dtype.kind == "f" else 0.0
        bound = eps * max(a.size, 1) * float(np.abs(a).max(initial=0))
        np.testing.assert_allclose(got, expect, rtol=0, atol=bound)
    # The bias gradient of `linear` takes the same path and keeps non-finite values.
    g = np.ones((4, 3), dtype=np.float32)
    g[1, 2] = np.inf
    g[2, 0] = np.nan
    out = sum_leading(g, 1)
    assert np.isnan(out[0]) and out[1] == 4.0 and out[2] == np.inf


@st.composite
def concatenate_case(draw: Any) -> Case:
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    k = draw(st.integers(1, 3))
    parts = []
    for _ in range(k):
        s = list(shape)
        s[axis] = draw(SIDE)
        parts.append(draw(arrays(shape=tuple(s))))
    return Case(f"concatenate([{k} arrays], axis={axis})",
                lambda *ts: ag.concatenate(ts, axis=axis), tuple(parts),
                lambda *xs: np.concatenate(xs, axis=axis))


@st.composite
def stack_case(draw: Any) -> Case:
    shape = draw(shapes())
    nd = len(shape)
    axis = draw(st.integers(-nd - 1, nd))
    k = draw(st.integers(1, 3))
    parts = tuple(draw(arrays(shape=shape)) for _ in range(k))
    return Case(f"stack([{k} arrays], axis={axis})", lambda *ts: ag.stack(ts, axis=axis), parts,
                lambda *xs: np.stack(xs, axis=axis))


@st.composite
def pad_case(draw: Any) -> Case:
    shape = draw(shapes(min_dims=1))  # numpy.pad has nothing to pad on a 0-d array
    nd = len(shape)
    width = st.integers(0, 2)
    form = draw(st.sampled_from(["int", "pair", "per_axis"]))
    if form == "int":
        pw: Any = draw(width)
    elif form == "pair":
        pw = (draw(width), draw(width))
    else:
        pw = tuple((draw(width), draw(width)) for _ in range(nd))
    value = draw(st.sampled_from([0.0, 1.5]))
    return Case(f"pad(x, {pw}, constant_values={value})",
                lambda t: ag.pad(t, pw, constant_values=value), (draw(arrays(shape=shape)),),
                lambda a: np.pad(a, pw, mode="constant", constant_values=value))


@st.composite
def indices(draw: Any, shape: tuple[int, ...]) -> Any:
    """A basic, integer-array (with repeats), boolean or mixed index into an array of `shape`."""
    kind = draw(st.sampled_from(["basic", "integer", "boolean", "mixed"]))
    if kind == "basic" or not shape:
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer":
        return draw(hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    if kind == "boolean":
        lead = draw(st.integers(1, len(shape)))
        return draw(hnp.arrays(bool, shape[:lead]))
    first = draw(hnp.arrays(np.intp, draw(st.integers(1, 4)),
                            elements=st.integers(-shape[0], shape[0] - 1)))
    return (first, *draw(hnp.basic_indices(shape[1:], allow_ellipsis=False)
                         .map(lambda i: i if isinstance(i, tuple) else (i,))))


@st.composite
def getitem_case(draw: Any) -> Case:
    shape = draw(shapes())
    index = draw(indices(shape))
    return Case(f"x[{index!r}]", lambda t: t[index], (draw(arrays(shape=shape)),),
                lambda a: a[index])


@st.composite
def unindex_case(draw: Any) -> Case:
    shape = draw(shapes())
    index = draw(indices(shape))
    sub = np.zeros(shape)[index].shape

    def ref(a: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=a.dtype)
        np.add.at(out, index, a)
        return out

    return Case(f"unindex(g, {shape}, {index!r})", lambda t: ops.unindex(t, shape, index),
                (draw(arrays(shape=sub)),), ref)


@st.composite
def windows(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...], Any]:
    """(shape, window_shape, axis) for sliding_window_view, axis as None, int or tuple."""
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    form = draw(st.sampled_from(["none", "int", "tuple"]))
    if form == "none":
        chosen = list(range(nd))  # numpy: with axis=None, a window length for every axis
        axis: Any = None
    else:
        # An axis may be windowed more than once (numpy allows it): the windows nest.
        chosen = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd + 1))
        signed = [a - nd if draw(st.booleans()) else a for a in chosen]
        axis = signed[0] if form == "int" else tuple(signed)
        chosen = chosen[:1] if form == "int" else chosen
    room = list(shape)
    window = []
    for a in chosen:
        window.append(draw(st.integers(1, room[a])))
        room[a] -= window[-1] - 1
    return shape, tuple(window), axis


@st.composite
def sliding_window_case(draw: Any) -> Case:
    shape, window, axis = draw(windows())
    w = window[0] if isinstance(axis, int) else window
    return Case(f"sliding_window_view(x, {w}, axis={axis})",
                lambda t: ag.sliding_window_view(t, w, axis=axis), (draw(arrays(shape=shape)),),
                lambda a: np.lib.stride_tricks.sliding_window_view(a, w, axis=axis))


@st.composite
def window_sum_case(draw: Any) -> Case:
    shape, window, axis = draw(windows())
    nd = len(shape)
    if axis is None:
        axis_t = tuple(range(nd - len(window), nd))
    else:
        axis_t = (axis,) if isinstance(axis, int) else axis
    out_shape = np.lib.stride_tricks.sliding_window_view(np.zeros(shape), window, axis_t).shape

    def ref(g: np.ndarray) -> np.ndarray:
        # Scatter every window back by a plain loop over window positions.
        out = np.zeros(shape, dtype=g.dtype)
        for idx in np.ndindex(*out_shape):
            pos = list(idx[:nd])
            for a, o in zip(axis_t, idx[nd:]):
                pos[a % nd] += o
            out[tuple(pos)] += g[idx]
        return out

    return Case(f"window_sum(g, {shape}, {window}, {axis_t})",
                lambda t: ops.window_sum(t, shape, window, axis_t),
                (draw(arrays(shape=out_shape)),), ref)


# ---------------------------------------------------------------------------------------------
# linear algebra and fused ops


@st.composite
def matmul_shapes(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes for matmul: each 1-D, 2-D or batched (batch axes broadcasting)."""
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    ka, kb = draw(st.sampled_from(["1d", "2d", "nd"])), draw(st.sampled_from(["1d", "2d", "nd"]))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2,
                                                    max_side=3).map(lambda b: b.input_shapes))
    sa = (k,) if ka == "1d" else (n, k) if ka == "2d" else (*ba, n, k)
    sb = (k,) if kb == "1d" else (k, m) if kb == "2d" else (*bb, k, m)
    return sa, sb


@st.composite
def matmul_case(draw: Any) -> Case:
    sa, sb = draw(matmul_shapes())
    return Case("matmul(a, b)", ag.matmul, (draw(arrays(shape=sa)), draw(arrays(shape=sb))),
                np.matmul)


EINSUM_SPECS = ["ij,jk->ik", "i,i->", "i,j->ij", "ij->ji", "ij->", "ijk->ik", "ij,jk",
                "bij,bjk->bik", "...ij,...jk->...ik", "...i,...i->...", "i...->...",
                "ij,jk,kl->il", "ijk,k->ij"]


@st.composite
def einsum_case(draw: Any) -> Case:
    spec = draw(st.sampled_from(EINSUM_SPECS))
    lhs = spec.split("->")[0].split(",")
    sizes = {c: draw(SMALL_SIDE) for c in sorted(set(spec) - set(",->."))}
    batch = tuple(draw(st.lists(SMALL_SIDE, max_size=2)))
    operands = []
    for j, s in enumerate(lhs):
        shape: tuple[int, ...] = tuple(sizes[c] for c in s.replace("...", ""))
        if "..." in s:
            # Later operands may drop leading batch axes: '...' broadcasts like numpy.
            ell = batch[min(j, len(batch)):] if j else batch
            at = s.index("...")
            shape = shape[:at] + ell + shape[at:]
        operands.append(draw(arrays(shape=shape)))
    return Case(f"einsum({spec!r}, ...)", lambda *ts: ag.einsum(spec, *ts), tuple(operands),
                lambda *xs: np.einsum(spec, *xs))


@st.composite
def linear_case(draw: Any) -> Case:
    n_in, n_out = draw(SIDE), draw(SIDE)
    lead = draw(st.lists(SMALL_SIDE, max_size=2))
    x = draw(arrays(shape=(*lead, n_in)))
    w = draw(arrays(shape=(n_out, n_in)))
    if draw(st.booleans()):
        b = draw(arrays(shape=(n_out,)))
        return Case("linear(x, W, b)", ag.linear, (x, w, b), lambda x, w, b: x @ w.T + b)
    return Case("linear(x, W)", ag.linear, (x, w), lambda x, w: x @ w.T)


@st.composite
def cross_entropy_case(draw: Any) -> Case:
    n, c = draw(SIDE), draw(SIDE)
    target = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))

    def ref(z: np.ndarray) -> np.ndarray:
        logp = z - np_logsumexp(z, axis=1, keepdims=True)
        losses = -logp[np.arange(n), target]
        return {"none": losses, "mean": losses.mean(), "sum": losses.sum()}[reduction]

    return Case(f"cross_entropy(z, {target.tolist()}, reduction={reduction!r})",
                lambda t: ag.cross_entropy(t, target, reduction=reduction),
                (draw(arrays(shape=(n, c))),), ref)


@st.composite
def max_pool2d_case(draw: Any) -> Case:
    """0 to 2 batch axes, then (H, W) up to 5, any kernel that fits and strides 1 to 3 (windows
    overlap, tile or skip elements); distinct values, so no window has a tie."""
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    h, w = draw(SIDE.map(lambda s: s + 1)), draw(SIDE.map(lambda s: s + 1))
    kernel = (draw(st.integers(1, h)), draw(st.integers(1, w)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))

    def ref(a: np.ndarray) -> np.ndarray:
        win = np.lib.stride_tricks.sliding_window_view(a, kernel, axis=(-2, -1))
        return win[..., ::stride[0], ::stride[1], :, :].max(axis=(-2, -1))

    x = draw(distinct_arrays(lead + (h, w), max_value=12.0, min_value=-12.0))
    return Case(f"max_pool2d(x, {kernel}, {stride})",
                lambda t: ag.max_pool2d(t, kernel, stride), (x,), ref)


# ---------------------------------------------------------------------------------------------
# the table


SPECS: dict[str, st.SearchStrategy[Case]] = {
    # arithmetic
    "add": binary("add", lambda a, b: a + b, np.add),
    "sub": binary("sub", lambda a, b: a - b, np.subtract),
    "mul": binary("mul", lambda a, b: a * b, np.multiply),
    "div": binary("div", lambda a, b: a / b, np.divide,
                  right=lambda s: arrays(shape=s, avoid=(0.0,), margin=0.5)),
    "pow": binary("pow", lambda a, b: a ** b, np.power,
                  left=lambda s: safe_positive(s, min_value=0.5, max_value=2.5),
                  right=lambda s: arrays(shape=s, min_value=-2.0, max_value=2.0)),
    "neg": unary("neg", lambda t: -t, np.negative),
    "add_scalar": with_scalar("x + c, c + x, x - c",
                              lambda t, c: (t + c) * 0.5 + (c + t) * 0.25 + (t - c),
                              lambda a, c: (a + c) * 0.5 + (c + a) * 0.25 + (a - c), SCALARS),
    "mul_scalar": with_scalar("x * c, c * x", lambda t, c: t * c + (c * t) * 0.5,
                              lambda a, c: a * c + (c * a) * 0.5, SCALARS),
    "div_scalar": with_scalar("x / c", lambda t, c: t / c, lambda a, c: a / c, NONZERO_SCALARS),
    "rsub_scalar": with_scalar("c - x", lambda t, c: c - t, lambda a, c: c - a, SCALARS),
    "rdiv_scalar": with_scalar("c / x", lambda t, c: c / t, lambda a, c: c / a, SCALARS,
                               arrays(avoid=(0.0,), margin=0.5)),
    "pow_scalar": pow_scalar_case(),
    "maximum": binary("maximum", ag.maximum, np.maximum, interleaved(0), interleaved(1)),
    "minimum": binary("minimum", ag.minimum, np.minimum, interleaved(0), interleaved(1)),
    "where": where_case(),
    # The round trip through float32 loses digits: difference quotients need a larger step.
    "astype": unary("astype", lambda t: t.astype(np.float32).astype(np.float64),
                    lambda a: a.astype(np.float32).astype(np.float64), eps=1e-3),
    # transcendental
    "exp": unary("exp", ag.exp, np.exp),
    "log": unary("log", ag.log, np.log, POSITIVE),
    "sqrt": unary("sqrt", ag.sqrt, np.sqrt, POSITIVE),
    "abs": unary("abs", ag.abs, np.abs, KINK_FREE),
    "sin": unary("sin", ag.sin, np.sin),
    "cos": unary("cos", ag.cos, np.cos),
    "tanh": unary("tanh", ag.tanh, np.tanh),
    "sigmoid": unary("sigmoid", ag.sigmoid, lambda a: 1.0 / (1.0 + np.exp(-a))),
    # activations
    "relu": unary("relu", ag.relu, lambda a: np.maximum(a, 0.0), KINK_FREE),
    "leaky_relu": leaky_relu_case(),
    "elu": elu_case(),
    "softplus": unary("softplus", ag.softplus, lambda a: np.log1p(np.exp(a))),
    "clip": clip_case(),
    # reductions
    "sum": reduction("sum", ag.sum, np.sum),
    "mean": reduction("mean", ag.mean, np.mean),
    "max": reduction("max", ag.max, np.max, lambda s: distinct_arrays(s)),
    "min": reduction("min", ag.min, np.min, lambda s: distinct_arrays(s)),
    "var": var_case(),
    "logsumexp": reduction("logsumexp", ag.logsumexp, np_logsumexp),
    "softmax": softmax_like("softmax", ag.softmax, np_softmax),
    "log_softmax": softmax_like("log_softmax", ag.log_softmax,
                                lambda a, axis: np.log(np_softmax(a, axis))),
    # shape
    "reshape": reshape_case(),
    "transpose": transpose_case(),
    "swapaxes": swapaxes_case(),
    "broadcast_to": broadcast_to_case(),
    "sum_to": sum_to_case(),
    "concatenate": concatenate_case(),
    "stack": stack_case(),
    "pad": pad_case(),
    "getitem": getitem_case(),
    "unindex": unindex_case(),
    "sliding_window_view": sliding_window_case(),
    "window_sum": window_sum_case(),
    # linear algebra and fused ops
    "matmul": matmul_case(),
    "einsum": einsum_case(),
    "linear": linear_case(),
    "cross_entropy": cross_entropy_case(),
    "max_pool2d": max_pool2d_case(),
}


def test_every_registered_op_has_a_spec():
    assert sorted(SPECS) == sorted(REGISTRY), (
        f"ops without a spec: {sorted(set(REGISTRY) - set(SPECS))}; "
        f"specs of unregistered ops: {sorted(set(SPECS) - set(REGISTRY))}")


def _tensors(case: Case) -> list[ag.Tensor]:
    return [ag.Tensor(x.copy(), requires_grad=True) for x in case.inputs]


@pytest.mark.parametrize("name", sorted(SPECS))
@given(data=st.data())
def test_op_forward_matches_numpy(name, data):
    case = data.draw(SPECS[name], label="case")
    out = case.fn(*_tensors(case))
    expected = np.asarray(case.expected(*case.inputs))
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SPECS))
@given(data=st.data())
def test_op_keeps_float32_float32(name, data):
    case = data.draw(SPECS[name], label="case")
    inputs = [x.astype(np.float32) for x in case.inputs]
    ts = [ag.Tensor(x, requires_grad=True) for x in inputs]
    out = case.fn(*ts)
    expected = np.asarray(case.expected(*inputs))
    # numpy's own result type on float32 inputs: float32, except for an explicit cast.
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    out.backward(np.ones(out.shape, dtype=out.dtype))
    for t in ts:
        assert t.grad.dtype == np.float32 and np.all(np.isfinite(t.grad.data))


@pytest.mark.parametrize("name", sorted(SPECS))
@given(data=st.data())
def test_op_gradients_match_finite_differences(name, data):
    case = data.draw(SPECS[name], label="case")
    # The spec must exercise the op it is filed under, unless the call was an identity that the
    # public function short-cuts (such as broadcast_to a tensor's own shape).
    ts = _tensors(case)
    out = case.fn(*ts)
    if not any(out is x for x in ts):
        assert name in {node.name for node in ag.toposort([out.grad_fn])}
    assert_gradients_match(case.fn, *case.inputs, second_order=True, **case.tol)


INPLACE_OPS = sorted(name for name, cls in REGISTRY.items() if cls.vjp_ is not None)


def test_ops_that_write_gradients_in_place_are_found():
    assert "relu" in INPLACE_OPS


@pytest.mark.parametrize("name", INPLACE_OPS)
@given(data=st.data())
def test_in_place_vjp_writes_what_vjp_returns_into_g(name, data):
    case = data.draw(SPECS[name], label="case")
    node = case.fn(*_tensors(case)).grad_fn
    assert node.name == name
    args = [a for _, a in node.edges()]
    g = data.draw(arrays(shape=np.shape(case.expected(*case.inputs))), label="g")
    expected = node.vjp(np, g.copy(), *args)
    given_g = g.copy()
    written = node.vjp_(given_g, *args)
    for want, got in zip(expected, written):
        assert got is given_g
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------------
# every axis form of every reduction, exhaustively on one 3-D shape (first order; the property
# tests above cover second order on random shapes)


def _axis_forms(ndim: int) -> list[Any]:
    """None, every int axis (negative too), and every tuple of distinct axes in two spellings."""
    forms: list[Any] = [None, *range(-ndim, ndim)]
    for k in range(ndim + 1):
        for combo in itertools.combinations(range(ndim), k):
            forms.append(combo)
            if combo:
                forms.append(tuple(a - ndim for a in combo[::-1]))
    return forms


REDUCTION_OPS = [
    ("sum", ag.sum, np.sum), ("mean", ag.mean, np.mean), ("max", ag.max, np.max),
    ("min", ag.min, np.min), ("logsumexp", ag.logsumexp, np_logsumexp),
    ("var", ag.var, np.var),
    ("var_ddof1", lambda x, **kw: ag.var(x, ddof=1, **kw), lambda a, **kw: np.var(a, ddof=1, **kw)),
    ("std", ag.std, np.std),
]


@pytest.mark.parametrize("name,op,ref", REDUCTION_OPS, ids=[r[0] for r in REDUCTION_OPS])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_every_axis_form_matches_numpy_and_finite_differences(name, op, ref,
                                                                          keepdims):
    # Distinct values with gaps of at least 0.1: no ties for max/min, var > 0 for std.
    a = np.random.default_rng(3).permutation(24).reshape(2, 3, 4) * 0.1 - 1.2
    for axis in _axis_forms(3):
        if name == "var_ddof1" and axis == ():
            continue  # one element per slice with ddof=1 divides by zero (numpy gives nan too)
        if name == "std" and axis == ():
            continue  # std of one element is 0, where sqrt has no derivative
        out = op(ag.tensor(a), axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(out.data, ref(a, axis=axis, keepdims=keepdims), rtol=1e-12,
                                   err_msg=f"{name}(axis={axis}, keepdims={keepdims})")
        assert_gradients_match(lambda t, axis=axis: op(t, axis=axis, keepdims=keepdims), a)


@pytest.mark.parametrize("op,ref", [(ag.softmax, np_softmax),
                                    (ag.log_softmax, lambda a, axis: np.log(np_softmax(a, axis)))])
def test_softmax_and_log_softmax_over_every_axis(op, ref):
    a = np.random.default_rng(4).standard_normal((2, 3, 4))
    for axis in range(-3, 3):
        np.testing.assert_allclose(op(ag.tensor(a), axis=axis).data, ref(a, axis), rtol=1e-12)
        assert_gradients_match(lambda t, axis=axis: op(t, axis=axis), a)


# ---------------------------------------------------------------------------------------------
# ties: the gradient of max/min/maximum/minimum is split evenly among tied elements


def _grad(fn: Callable, *values: Any, seed: Any = None) -> list[np.ndarray]:
    ts = [ag.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    out = fn(*ts)
    out.backward(seed if seed is not None else None)
    return [t.grad.data for t in ts]


def test_max_splits_gradient_evenly_among_ties():
    (g,) = _grad(lambda x: ag.max(x), [1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    (g,) = _grad(lambda x: ag.max(x), [[5.0, 5.0], [5.0, 1.0]])
    np.testing.assert_array_equal(g, [[1 / 3, 1 / 3], [1 / 3, 0.0]])


def test_max_and_min_over_an_axis_split_ties_per_slice():
    x = [[2.0, 2.0, 1.0], [0.0, 4.0, 4.0], [7.0, 2.0, 7.0]]
    (g,) = _grad(lambda t: (ag.max(t, axis=1) * ag.tensor([1.0, 2.0, 3.0], dtype=np.float64))
                 .sum(), x)
    np.testing.assert_allclose(g, [[0.5, 0.5, 0.0], [0.0, 1.0, 1.0], [1.5, 0.0, 1.5]])
    (g,) = _grad(lambda t: ag.min(t, axis=0, keepdims=True).sum(), x)
    np.testing.assert_allclose(g, [[0.0, 0.5, 1.0], [1.0, 0.0, 0.0], [0.0, 0.5, 0.0]])


def test_maximum_and_minimum_split_ties_between_operands():
    a, b = [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]
    ga, gb = _grad(ag.maximum, a, b, seed=np.ones(3))
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = _grad(ag.minimum, a, b, seed=np.ones(3))
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    # A broadcast operand collects its halves from every tie it took part in.
    ga, gb = _grad(ag.maximum, [2.0, 2.0, 1.0], 2.0, seed=np.ones(3))
    np.testing.assert_array_equal(ga, [0.5, 0.5, 0.0])
    assert gb == 2.0


# ---------------------------------------------------------------------------------------------
# x ** y at x = 0


def test_pow_derivative_wrt_exponent_at_zero_base_is_zero():
    ga, gb = _grad(lambda a, b: (a ** b).sum(), [0.0, 0.0, 2.0], [2.0, 3.0, 3.0])
    assert np.all(np.isfinite(gb))
    np.testing.assert_allclose(gb, [0.0, 0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(ga, [0.0, 0.0, 12.0])


def test_pow_derivative_wrt_base_at_zero_to_the_zero_is_zero():
    # d/da a**b = b * a**(b-1) reads 0 * inf at a = b = 0; like PyTorch, the answer is 0.
    ga, gb = _grad(lambda a, b: (a ** b).sum(), [0.0, 0.0, 2.0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(ga, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(gb, [0.0, 0.0, np.log(2.0)])
    (g,) = _grad(lambda a: (a ** 0).sum(), [0.0, 3.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])
    (g,) = _grad(lambda a: (a ** 1).sum(), [0.0, 3.0])
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_pow_second_derivative_at_zero_base_is_finite():
    a = ag.tensor(np.array([0.0, 1.5]), requires_grad=True)
    b = ag.tensor(np.array([3.0, 2.0]), requires_grad=True)
    (gb,) = ag.grad((a ** b).sum(), b, create_graph=True)
    np.testing.assert_allclose(gb.data, [0.0, 2.25 * np.log(1.5)])
    ga2, gb2 = ag.grad(gb.sum(), [a, b])
    # d/da (a^b log a) = a^(b-1) (b log a + 1) and d/db = a^b log(a)^2, both 0 at a = 0, b = 3.
    np.testing.assert_allclose(ga2.data, [0.0, 1.5 * (2.0 * np.log(1.5) + 1.0)])
    np.testing.assert_allclose(gb2.data, [0.0, 2.25 * np.log(1.5) ** 2])


# ---------------------------------------------------------------------------------------------
# numerically stable logsumexp / softmax / log_softmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_softmax_log_softmax_are_stable_for_extreme_logits(dtype):
    values = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    # float32 holds 1e4 - log(3) to about 5e-4, which exp(x - lse) turns into a relative 5e-4.
    atol = 1e-3 if dtype == np.float32 else 1e-9
    x = ag.tensor(values, requires_grad=True)
    lse = ag.logsumexp(x, axis=1)
    np.testing.assert_allclose(lse.data, [1e4, -1e4 + np.log(3.0)], rtol=1e-6)
    lse.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=atol)

    x = ag.tensor(values, requires_grad=True)
    p = ag.softmax(x, axis=1)
    np.testing.assert_allclose(p.data, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], atol=atol)
    (p * ag.tensor(np.array([1.0, 2.0, 3.0], dtype=dtype))).sum().backward()
    # d/dx_j sum_i w_i p_i = p_j (w_j - sum_i w_i p_i)
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0, 0.0], [-1 / 3, 0.0, 1 / 3]], atol=atol)

    x = ag.tensor(values, requires_grad=True)
    logp = ag.log_softmax(x, axis=1)
    np.testing.assert_allclose(logp.data, [[0.0, -2e4, -1e4], [-np.log(3.0)] * 3], rtol=1e-6,
                               atol=atol)
    logp.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[-2.0, 1.0, 1.0], [0.0, 0.0, 0.0]], atol=atol)
    for t in (lse, p, logp):
        assert np.all(np.isfinite(t.data)) and t.dtype == dtype


@pytest.mark.parametrize("axis", [0, 1])
def test_log_softmax_and_cross_entropy_with_non_finite_logits(axis):
    # Rows (or columns) with a -inf everywhere, a +inf, a NaN, and some -inf entries next to
    # finite ones: log_softmax's fast path finds the NaN sums and recomputes such inputs with
    # the shift by 0, giving what numpy's formula gives (NaN only where it must be).
    inf, nan = np.inf, np.nan
    x = np.array([[1.0, 2.0, 3.0], [-inf, -inf, -inf], [1.0, inf, 2.0], [1.0, nan, 2.0],
                  [-inf, 0.0, 1.0]])
    x = x if axis == 1 else x.T
    with np.errstate(all="ignore"):
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        expect = x - (np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m)
        got = ag.log_softmax(ag.tensor(x), axis=axis).data
    np.testing.assert_array_equal(got, expect)
    if axis == 1:
        # The finite rows are exact log-probabilities; a -inf logit has probability 0.
        np.testing.assert_allclose(got[0], np.log(np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()))
        np.testing.assert_allclose(got[4], [-inf, *np.log(np.exp([0, 1]) / np.exp([0, 1]).sum())])
        with np.errstate(all="ignore"):
            loss = ag.cross_entropy(ag.tensor(x), np.array([2, 0, 0, 2, 2]))
        np.testing.assert_array_equal(loss.data, -expect[np.arange(5), [2, 0, 0, 2, 2]])
        # Row 2 puts all probability on its +inf logit, so class 0 costs +inf.
        np.testing.assert_array_equal(np.isnan(loss.data), [False, True, False, True, False])
        assert loss.data[2] == inf and np.isfinite(loss.data[[0, 4]]).all()


def test_stable_ops_have_finite_second_derivatives_at_extreme_logits():
    x = ag.tensor(np.array([1e4, -1e4, 0.0]), requires_grad=True)
    (g,) = ag.grad(ag.logsumexp(x), x, create_graph=True)
    (h,) = ag.grad((g * ag.tensor(np.array([1.0, 0.0, 0.0]))).sum(), x)
    # Row 0 of the Hessian diag(p) - p p^T with p = (1, 0, 0): all zeros.
    np.testing.assert_allclose(h.data, [0.0, 0.0, 0.0], atol=1e-12)


# ---------------------------------------------------------------------------------------------
# sliding_window_view against an explicit loop


def test_sliding_window_view_2d_matches_a_loop_in_values_and_gradient():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    x = ag.tensor(a, requires_grad=True)
    w = ag.sliding_window_view(x, (2, 3))
    assert w.shape == (3, 3, 2, 3)
    for i, j in itertools.product(range(3), range(3)):
        np.testing.assert_array_equal(w.data[i, j], a[i:i + 2, j:j + 3])
    weights = rng.standard_normal(w.shape)
    (w * ag.tensor(weights)).sum().backward()
    expected = np.zeros_like(a)
    for i, j in itertools.product(range(3), range(3)):
        expected[i:i + 2, j:j + 3] += weights[i, j]
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_sliding_window_view_along_one_axis_counts_window_memberships():
    x = ag.tensor(np.arange(6.0), requires_grad=True)
    w = ag.sliding_window_view(x, 3)
    np.testing.assert_array_equal(w.data, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    w.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 2, 3, 3, 2, 1])
    y = ag.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    v = ag.sliding_window_view(y, 2, axis=0)
    np.testing.assert_array_equal(v.data[1], [[4, 8], [5, 9], [6, 10], [7, 11]])
    v.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[1] * 4, [2] * 4, [1] * 4])


def _windows_back_by_loop(g: np.ndarray, shape: tuple[int, ...],
                          axis: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    nd = len(shape)
    for idx in np.ndindex(*g.shape):
        pos = list(idx[:nd])
        for a, o in zip(axis, idx[nd:]):
            pos[a] += o
        out[tuple(pos)] += g[idx]
    return out


@given(windows(), st.data())
def test_window_sum_by_offset_and_by_position_match_a_loop(case, data):
    shape, window, axis = case
    nd = len(shape)
    if axis is None:
        axis_t = tuple(range(nd - len(window), nd))
    else:
        axis_t = tuple(a % nd for a in ((axis,) if isinstance(axis, int) else axis))
        window = window[:len(axis_t)]
    out_shape = np.lib.stride_tricks.sliding_window_view(np.zeros(shape), window, axis_t).shape
    g = data.draw(arrays(shape=out_shape))
    expect = _windows_back_by_loop(g, shape, axis_t)
    for by_position in (False, True, None):
        got = window_sum_array(g, shape, window, axis_t, by_position)
        np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def _conv_cols_grad(n: int, h: int, w: int, c: int, k: int) -> np.ndarray:
    """The gradient of im2col's columns (N*OH*OW, kh*kw*C) as the windows' axes see it:
    (N, OH, OW, C, kh, kw) with the channels innermost in memory (what conv2d's backward has)."""
    cols = np.random.default_rng(0).standard_normal((n, h - k + 1, w - k + 1, k, k, c))
    return cols.transpose(0, 1, 2, 5, 3, 4)


def test_window_sum_goes_by_position_for_a_channels_last_convolution_gradient():
    g = _conv_cols_grad(3, 7, 6, 4, 3)
    shape, window, axis = (3, 7, 6, 4), (3, 3), (1, 2)
    expect = _windows_back_by_loop(g, shape, axis)
    for by_position in (False, True):
        np.testing.assert_allclose(window_sum_array(g, shape, window, axis, by_position), expect,
                                   rtol=1e-12)
    # The choice, at the sizes of LeNet's second convolution and of a 3x3 one on 32 channels;
    # on a tiny input the fewer slice-adds by offset win.
    assert _by_position(_conv_cols_grad(64, 14, 14, 6, 5), (64, 14, 14, 6), (5, 5), axis)
    assert _by_position(_conv_cols_grad(16, 16, 16, 32, 3), (16, 16, 16, 32), window, axis)
    assert not _by_position(g, shape, window, axis)
    # One channel: slices by offset are as long as window rows; a gradient broadcast along the
    # windows (a sum's VJP) adds best whole; an axis windowed twice has no single window row; a
    # long channels-last sequence would take one add per position.
    assert not _by_position(_conv_cols_grad(64, 32, 32, 1, 5), (64, 32, 32, 1), (5, 5), axis)
    big = (64, 10, 10, 6, 5, 5)
    flat = np.broadcast_to(np.zeros((64, 10, 10, 6, 1, 1)), big)
    assert not _by_position(flat, (64, 14, 14, 6), (5, 5), axis)
    assert not _by_position(np.zeros((64, 12, 14, 6, 2, 2)), (64, 14, 14, 6), (2, 2), (1, 1))
    seq = np.zeros((2, 9998, 3, 16)).transpose(0, 1, 3, 2)  # (N, L-2, C, k) of (N, L, C)
    assert not _by_position(seq, (2, 10000, 16), (3,), (1,))


# ---------------------------------------------------------------------------------------------
# matmul and einsum against numpy, values and gradients


def _linear_grads(f: Callable[..., np.ndarray], operands: list[np.ndarray],
                  seed: np.ndarray) -> list[np.ndarray]:
    """d<seed, f(operands)>/d operand, exactly, for f linear in each operand separately:
    the derivative along a basis element e_j is <seed, f(..., e_j, ...)>."""
    grads = []
    for k, x in enumerate(operands):
        g = np.zeros_like(x)
        for j in np.ndindex(*x.shape):
            e = np.zeros_like(x)
            e[j] = 1.0
            args = operands[:k] + [e] + operands[k + 1:]
            g[j] = np.sum(seed * f(*args))
        grads.append(g)
    return grads


MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_numpy_in_values_and_gradients(sa, sb):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    out = ta @ tb
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    seed = rng.standard_normal(expected.shape)
    out.backward(seed)
    ga, gb = _linear_grads(np.matmul, [a, b], seed)
    np.testing.assert_allclose(ta.grad.data, ga, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad.data, gb, rtol=1e-10, atol=1e-12)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("ijk->ik", [(2, 3, 4)]),                         # j summed away
    ("ij,jk->i", [(2, 3), (3, 4)]),                   # k summed away in the second operand
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),      # '...' broadcasting
    ("b...i,bi->b...", [(2, 3, 4, 5), (2, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]),
    ("ij->", [(3, 2)]),
]


@pytest.mark.parametrize("spec,shapes_", EINSUM_CASES)
def test_einsum_matches_numpy_in_values_and_gradients(spec, shapes_):
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal(s) for s in shapes_]
    ts = [ag.tensor(x, requires_grad=True) for x in xs]
    out = ag.einsum(spec, *ts)
    expected = np.einsum(spec, *xs)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    seed = rng.standard_normal(expected.shape)
    out.backward(seed)
    for t, g in zip(ts, _linear_grads(lambda *a: np.einsum(spec, *a), xs, seed)):
        np.testing.assert_allclose(t.grad.data, g, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# indexing: repeated indices accumulate


def test_getitem_with_repeated_integer_indices_accumulates():
    (g,) = _grad(lambda x: x[[0, 0, 2, 0]].sum(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])
    (g,) = _grad(lambda x: (x[np.array([[1, 1], [0, 1]])] * ag.tensor(
        np.array([[1.0, 2.0], [3.0, 4.0]]))).sum(), [5.0, 6.0])
    np.testing.assert_array_equal(g, [3.0, 7.0])


def test_getitem_basic_boolean_and_mixed_indices():
    a = np.arange(12.0).reshape(3, 4)
    x = ag.tensor(a, requires_grad=True)
    y = x[1:, ::2]
    np.testing.assert_array_equal(y.data, a[1:, ::2])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])

    x = ag.tensor(a, requires_grad=True)
    mask = a % 3 == 0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [0.0, 3.0, 6.0, 9.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.where(mask, 2 * a, 0.0))

    x = ag.tensor(a, requires_grad=True)
    y = x[[2, 2, 0], 1:3]  # advanced index repeated, combined with a slice
    np.testing.assert_array_equal(y.data, a[[2, 2, 0], 1:3])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 1, 0], [0, 0, 0, 0], [0, 2, 2, 0]])

    x = ag.tensor(a, requires_grad=True)
    y = x[ag.tensor(np.array([True, False, True]))]  # a boolean Tensor as the index
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1] * 4, [0] * 4, [1] * 4])


# ---------------------------------------------------------------------------------------------
# split / concatenate / stack / pad round trips


def test_split_then_concatenate_is_the_identity():
    a = np.arange(24.0).reshape(2, 6, 2)
    x = ag.tensor(a, requires_grad=True)
    parts = ag.split(x, 3, axis=1)
    assert [p.shape for p in parts] == [(2, 2, 2)] * 3
    for p, q in zip(parts, np.split(a, 3, axis=1)):
        np.testing.assert_array_equal(p.data, q)
    back = ag.concatenate(parts, axis=1)
    np.testing.assert_array_equal(back.data, a)
    (back * ag.tensor(a)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, a)

    x = ag.tensor(a, requires_grad=True)
    parts = ag.split(x, [1, 4], axis=-2)
    assert [p.shape[1] for p in parts] == [1, 3, 2]
    (parts[0].sum() * 1.0 + parts[2].sum() * 3.0).backward()
    np.testing.assert_array_equal(x.grad.data[:, :, 0], [[1, 0, 0, 0, 3, 3]] * 2)


def test_stack_then_index_recovers_each_input_and_its_gradient():
    xs = [ag.tensor(np.full((2, 3), float(i)), requires_grad=True) for i in range(3)]
    s = ag.stack(xs, axis=-1)
    assert s.shape == (2, 3, 3)
    for i in range(3):
        np.testing.assert_array_equal(s[..., i].data, xs[i].data)
    (s * ag.tensor(np.arange(3.0))).sum().backward()
    for i, t in enumerate(xs):
        np.testing.assert_array_equal(t.grad.data, np.full((2, 3), float(i)))


def test_pad_then_slice_is_the_identity():
    a = np.arange(6.0).reshape(2, 3)
    x = ag.tensor(a, requires_grad=True)
    p = ag.pad(x, ((1, 2), (0, 1)), constant_values=-1.0)
    np.testing.assert_array_equal(p.data, np.pad(a, ((1, 2), (0, 1)), constant_values=-1.0))
    np.testing.assert_array_equal(p[1:3, 0:3].data, a)
    (p * p).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * a)


# ---------------------------------------------------------------------------------------------
# the strategies and the assertion this file relies on (autograd.testing)


@given(broadcast_shape_pairs())
def test_broadcast_shape_pairs_broadcast_together(pair):
    sa, sb = pair
    assert len(sa) <= 3 and len(sb) <= 3 and all(1 <= n <= 4 for n in sa + sb)
    np.broadcast_shapes(sa, sb)


@given(shapes().flatmap(lambda s: st.tuples(st.just(s), broadcast_targets(s))))
def test_broadcast_targets_are_reachable_by_broadcasting(pair):
    shape, target = pair
    assert np.broadcast_to(np.zeros(shape), target).shape == target


@given(shapes().flatmap(lambda s: st.tuples(st.just(s), axes(len(s)))))
def test_axes_are_valid_numpy_axis_arguments(pair):
    shape, axis = pair
    assert axis is None or isinstance(axis, (int, tuple))
    np.sum(np.zeros(shape), axis=axis)


@given(arrays(avoid=(0.0, 1.0), margin=1e-2), safe_positive(min_value=0.5, max_value=2.0),
       distinct_arrays(min_gap=0.1))
def test_domain_strategies_keep_their_bounds(away, positive, distinct):
    assert away.dtype == np.float64 and np.all(np.abs(away) <= 3.0)
    assert np.all(np.abs(away) >= 1e-2) and np.all(np.abs(away - 1.0) >= 1e-2)
    assert np.all((positive >= 0.5) & (positive <= 2.0))
    gaps = np.diff(np.sort(distinct.ravel()))
    assert np.all(gaps >= 0.1 - 1e-12)


class _SquareWithWrongGradient(ag.Function):
    """y = x**2 with a VJP of g * x: half the true derivative."""

    def forward(self, x):
        return x * x

    def vjp(self, F, g, x):
        return (g * x,)


class _SquareWithConstantGradient(ag.Function):
    """y = x**2 whose VJP treats x as a constant: right first derivative, wrong second."""

    def forward(self, x):
        return x * x

    def vjp(self, F, g, x):
        return (g * ops.convert.raw(x) * 2.0,)


def test_assert_gradients_match_reports_a_wrong_first_derivative():
    with pytest.raises(AssertionError, match=r"gradient mismatch for input 0 at element \(1,\) "
                                             r".*analytical 3, numerical 6"):
        # Right at 0 (both derivatives vanish), wrong at 3: the report points at element 1.
        assert_gradients_match(lambda x: _SquareWithWrongGradient()(x), [0.0, 3.0])
    assert_gradients_match(lambda x: x * x, [1.0, 3.0], second_order=True)


def test_assert_gradients_match_checks_second_derivatives_when_asked():
    square = _SquareWithConstantGradient()
    assert_gradients_match(lambda x: square(x), np.array([1.0, 3.0]))
    with pytest.raises(AssertionError, match="gradgradcheck: gradient mismatch for input 0"):
        assert_gradients_match(lambda x: square(x), np.array([1.0, 3.0]), second_order=True)


def test_assert_gradients_match_differentiates_float64_copies():
    x = np.array([0.5, 2.0], dtype=np.float32)
    seen = []

    def fn(t):
        seen.append((t.dtype, t.requires_grad))
        return ag.exp(t)

    assert_gradients_match(fn, x)
    assert set(seen) == {(np.dtype(np.float64), True)}
    np.testing.assert_array_equal(x, np.array([0.5, 2.0], dtype=np.float32))  # not perturbed


def test_maximum_and_minimum_of_scalars_split_ties():
    a = ag.tensor(1.0, requires_grad=True)
    b = ag.tensor(1.0, requires_grad=True)
    ag.maximum(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)
    c = ag.tensor(2.0, requires_grad=True)
    ag.minimum(c, 1.0).backward()
    assert c.grad.item() == 0.0
    d = ag.tensor(0.5, requires_grad=True)
    ag.minimum(d, 1.0).backward()
    assert d.grad.item() == 1.0
