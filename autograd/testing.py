"""Hypothesis strategies and a gradient assertion for testing code built on autograd.

Property tests of differentiable code need three things: random inputs in a domain where the
function is smooth, random shapes (including pairs that broadcast against each other), and a
check that the analytical gradient matches central finite differences

    d f / d x_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

This module gives strategies for the first two and `assert_gradients_match` for the third::

    from hypothesis import given, strategies as st
    from autograd.testing import arrays, assert_gradients_match, broadcast_shape_pairs

    @given(broadcast_shape_pairs().flatmap(lambda s: st.tuples(arrays(shape=s[0]),
                                                               arrays(shape=s[1]))))
    def test_my_op(ab):
        assert_gradients_match(my_op, *ab, second_order=True)

hypothesis is a development dependency: `import autograd` does not import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "arrays", "shapes", "broadcastable_shapes", "broadcast_shape_pairs", "broadcast_targets",
    "axes", "safe_positive", "distinct_arrays", "assert_gradients_match",
]

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes with `min_dims..max_dims` axes, each of length `min_side..max_side`.

    `()` (a scalar) is included when `min_dims` is 0.
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def _shape_strategy(shape: Shape | st.SearchStrategy[Shape] | None, min_dims: int,
                    max_dims: int, min_side: int, max_side: int) -> st.SearchStrategy[Shape]:
    if shape is None:
        return shapes(min_dims, max_dims, min_side, max_side)
    if isinstance(shape, st.SearchStrategy):
        return shape
    return st.just(tuple(shape))


def _elements(dtype: np.dtype, min_value: float, max_value: float) -> st.SearchStrategy:
    if dtype.kind == "f":
        # Bounds must be exactly representable at the dtype's width: round them inwards.
        lo, hi = dtype.type(min_value), dtype.type(max_value)
        if lo < min_value:
            lo = np.nextafter(lo, dtype.type(np.inf))
        if hi > max_value:
            hi = np.nextafter(hi, dtype.type(-np.inf))
        return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False,
                         width=8 * dtype.itemsize)
    if dtype.kind in "iu":
        return st.integers(int(np.ceil(min_value)), int(np.floor(max_value)))
    if dtype.kind == "b":
        return st.booleans()
    raise TypeError(f"arrays: no default elements for dtype {dtype}; pass elements=")


def _push_away(x: np.ndarray, points: Sequence[float], margin: float) -> np.ndarray:
    """x with every value closer than `margin` to one of `points` moved to exactly `margin` away
    (on its own side). Points must be more than 2 * margin apart."""
    for p in points:
        d = x - p
        close = np.abs(d) < margin
        if close.any():
            x = np.where(close, p + np.where(d >= 0, margin, -margin), x).astype(x.dtype)
    return x


def arrays(dtype: Any = np.float64, shape: Shape | st.SearchStrategy[Shape] | None = None, *,
           elements: st.SearchStrategy | None = None, min_value: float = -3.0,
           max_value: float = 3.0, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4, avoid: Sequence[float] = (), margin: float = 1e-3,
           unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """ndarrays of `dtype` with finite elements in `[min_value, max_value]`.

    `shape` is a fixed shape, a strategy of shapes, or None for `shapes(min_dims, max_dims,
    min_side, max_side)`. `elements` replaces the default element strategy (bounded floats,
    integers or booleans according to `dtype`). `avoid` lists points where the function under
    test has a kink (0 for relu and abs, the bounds of clip): every value is then at least
    `margin` away from each of them, so finite differences with a step below `margin` never
    straddle one. `unique=True` makes the elements pairwise distinct (but possibly very close;
    see `distinct_arrays` for a minimum gap).
    """
    dtype = np.dtype(dtype)
    strategy = hnp.arrays(dtype, _shape_strategy(shape, min_dims, max_dims, min_side, max_side),
                          elements=elements if elements is not None else
                          _elements(dtype, min_value, max_value), unique=unique)
    if avoid:
        if dtype.kind != "f":
            raise TypeError(f"arrays: avoid= needs a floating dtype, got {dtype}")
        points = tuple(float(p) for p in avoid)
        strategy = strategy.map(lambda x: _push_away(x, points, margin))
    return strategy


def distinct_arrays(shape: Shape | st.SearchStrategy[Shape] | None = None, *,
                    dtype: Any = np.float64, min_gap: float = 1e-2, min_value: float = -3.0,
                    max_value: float = 3.0, min_dims: int = 0, max_dims: int = 3,
                    min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[np.ndarray]:
    """Arrays whose elements differ pairwise by at least `min_gap` (no ties).

    The values are multiples of `min_gap` in `[min_value, max_value]`: the domain of max, min
    and sorting-like functions, whose derivative jumps where two elements are equal. The range
    must hold at least as many multiples as the largest array has elements.
    """
    dtype = np.dtype(dtype)
    lo, hi = int(np.ceil(min_value / min_gap)), int(np.floor(max_value / min_gap))
    grid = st.integers(lo, hi).map(lambda k: float(dtype.type(k * min_gap)))
    return arrays(dtype, shape, elements=grid, min_dims=min_dims, max_dims=max_dims,
                  min_side=min_side, max_side=max_side, unique=True)


def safe_positive(shape: Shape | st.SearchStrategy[Shape] | None = None, *,
                  dtype: Any = np.float64, min_value: float = 0.1, max_value: float = 4.0,
                  min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                  max_side: int = 4) -> st.SearchStrategy[np.ndarray]:
    """Arrays with elements in `[min_value, max_value]`, bounded away from 0.

    The domain of log, sqrt, x ** y with a real y, and of divisors: the functions and their
    first two derivatives stay finite and moderate there.
    """
    if min_value <= 0:
        raise ValueError(f"safe_positive: min_value must be > 0, got {min_value}")
    return arrays(dtype, shape, min_value=min_value, max_value=max_value, min_dims=min_dims,
                  max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape: Shape, *, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Shapes that broadcast together with `shape` (numpy's rules, right-aligned).

    Where `shape` has length n > 1 along an aligned axis the result has n or 1; where `shape`
    has 1 it has any length in `min_side..max_side`; it may have more or fewer axes.
    """
    return hnp.broadcastable_shapes(tuple(shape), min_dims=min_dims,
                                    max_dims=max(max_dims, min_dims), min_side=min_side,
                                    max_side=max_side)


def broadcast_shape_pairs(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                          max_side: int = 4) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs `(s1, s2)` of shapes that broadcast together, e.g. ((2, 1, 3), (4, 1)).

    Both sides vary: either may have fewer axes or a 1 where the other does not, so a binary
    op's gradient must be summed back to each operand's own shape.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: (tuple(b.input_shapes[0]), tuple(b.input_shapes[1])))


@st.composite
def broadcast_targets(draw: Any, shape: Shape, max_extra_dims: int = 2,
                      max_side: int = 4) -> Shape:
    """Shapes that `shape` broadcasts to (a valid `broadcast_to` target for an array of `shape`).

    Up to `max_extra_dims` new leading axes, and each length-1 axis of `shape` may grow to
    `1..max_side`; the other axes are kept.
    """
    extra = draw(st.lists(st.integers(1, max_side), max_size=max_extra_dims))
    grown = [draw(st.integers(1, max_side)) if n == 1 else n for n in shape]
    return tuple(extra) + tuple(grown)


def axes(ndim: int, *, allow_none: bool = True, allow_int: bool = True,
         allow_tuple: bool = True) -> st.SearchStrategy[int | tuple[int, ...] | None]:
    """Values of numpy's `axis=` argument valid for an array with `ndim` axes.

    None (all axes), a single int, or a tuple of distinct axes (possibly empty); ints range over
    `-ndim..ndim-1`, so negative axes are included.
    """
    choices: list[st.SearchStrategy] = []
    if allow_none:
        choices.append(st.none())
    if allow_int and ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        choices.append(hnp.valid_tuple_axes(ndim))
    if not choices:
        raise ValueError(f"axes: no axis choice is allowed for ndim={ndim}")
    return st.one_of(*choices)


def _as_input(x: Any) -> Tensor:
    """A float64 leaf Tensor requiring grad, holding a copy of `x` (gradcheck perturbs it)."""
    data = x.data if isinstance(x, Tensor) else x
    return Tensor(np.array(data, dtype=np.float64), requires_grad=True)


def assert_gradients_match(fn: Callable[..., Any], *arrays: Any, eps: float = 1e-6,
                           atol: float = 1e-5, rtol: float = 1e-3,
                           second_order: bool = False) -> None:
    """Assert that `fn`'s gradients match central finite differences at `arrays`.

    Each array (an ndarray, a Tensor, a list or a scalar) is copied into a float64 Tensor that
    requires grad, and `fn(*tensors)` is checked with `autograd.gradcheck`; with
    `second_order=True` also with `autograd.gradgradcheck` (the derivative of the
    vector-Jacobian product, i.e. Hessian-vector products). Pass non-differentiable arguments
    (indices, masks, options) by closing over them in `fn`. Raises AssertionError describing
    the first mismatching element.
    """
    if not arrays:
        raise ValueError("assert_gradients_match: give at least one array to differentiate at")
    inputs = tuple(_as_input(x) for x in arrays)
    try:
        gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
        if second_order:
            gradgradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError as e:
        raise AssertionError(str(e)) from e
