"""Reductions over axes: sum, mean, max, min, var, std, argmax, argmin.

The VJP of a reduction first restores the reduced axes (as length 1, i.e. keepdims) so the
output gradient broadcasts back over the elements that were reduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .convert import constant, raw

Axis = int | tuple[int, ...] | None


def normalize_axis(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """`axis` as a sorted tuple of non-negative ints; numpy's AxisError if one is out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim, f"{op}")
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with the reduced `axes` set to 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduction(Function):
    """Shared set-up: the normalized axes, keepdims, and the input's shape."""

    __slots__ = ("axes", "keepdims", "in_shape")
    register = False

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axes: Any = axis
        self.keepdims = keepdims

    def _setup(self, x: np.ndarray) -> None:
        self.axes = normalize_axis(self.axes, x.ndim, self.name)
        self.in_shape = x.shape

    def _kept(self, F: Any, g: Any) -> Any:
        """The output gradient reshaped with the reduced axes kept as length 1."""
        if self.keepdims:
            return g
        return F.reshape(g, keepdims_shape(self.in_shape, self.axes))

    def describe(self) -> str:
        ax = self.axes if len(self.axes) != len(self.in_shape) else None
        return f"{self.name}(axis={ax})" if ax is not None else self.name


class Sum(_Reduction):
    """y = sum(x, axis);  dx = g broadcast back over the summed axes"""

    __slots__ = ()
    saves_inputs = False

    def forward(self, x):
        self._setup(x)
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdims)

    def vjp(self, F, g, x):
        return (F.broadcast_to(self._kept(F, g), self.in_shape),)


class Mean(_Reduction):
    """y = mean(x, axis) = sum(x, axis) / n;  dx = g / n broadcast back"""

    __slots__ = ()
    saves_inputs = False

    def forward(self, x):
        self._setup(x)
        n = _count(self.in_shape, self.axes)
        if x.dtype.kind != "f":
            return np.mean(x, axis=self.axes, keepdims=self.keepdims)
        # np.add.reduce skips np.mean's Python wrapper (several microseconds on small arrays).
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdims) / np.asarray(n, x.dtype)

    def vjp(self, F, g, x):
        n = _count(self.in_shape, self.axes)
        return (F.broadcast_to(self._kept(F, g) / n, self.in_shape),)


class Max(_Reduction):
    """y = max(x, axis);  dx = g at the maxima (split evenly among ties), 0 elsewhere"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        self._setup(x)
        self.saved = np.maximum.reduce(x, axis=self.axes, keepdims=True)
        return self.saved if self.keepdims else np.squeeze(self.saved, axis=self.axes)

    def vjp(self, F, g, x):
        return (self._kept(F, g) * _argext_weights(raw(x), self.saved, self.axes),)


class Min(Max):
    """y = min(x, axis);  dx = g at the minima (split evenly among ties), 0 elsewhere"""

    __slots__ = ()

    def forward(self, x):
        self._setup(x)
        self.saved = np.minimum.reduce(x, axis=self.axes, keepdims=True)
        return self.saved if self.keepdims else np.squeeze(self.saved, axis=self.axes)


def _argext_weights(x: np.ndarray, ext: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """1/k on each of the k elements equal to the extreme value of their slice, else 0."""
    hit = (x == ext).astype(x.dtype)
    return hit / hit.sum(axis=axes, keepdims=True)


class Var(_Reduction):
    """y = sum((x - mean)**2, axis) / (n - ddof);  dx = g * 2 (x - mean) / (n - ddof)"""

    __slots__ = ("ddof",)

    def __init__(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> None:
        super().__init__(axis, keepdims)
        self.ddof = ddof

    def forward(self, x):
        self._setup(x)
        return np.var(x, axis=self.axes, ddof=self.ddof, keepdims=self.keepdims)

    def vjp(self, F, g, x):
        n = _count(self.in_shape, self.axes)
        centered = x - F.mean(x, axis=self.axes, keepdims=True)
        return (self._kept(F, g) * centered * (2.0 / (n - self.ddof)),)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


# ---------------------------------------------------------------------------------------------
# functions


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over `axis` (int, tuple or None for all)."""
    return Sum(axis, keepdims).__call__(constant(x))


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis`."""
    return Mean(axis, keepdims).__call__(constant(x))


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over `axis`; at ties the gradient is split evenly."""
    return Max(axis, keepdims).__call__(constant(x))


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over `axis`; at ties the gradient is split evenly."""
    return Min(axis, keepdims).__call__(constant(x))


def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over `axis` with numpy's `ddof` (0: biased, 1: unbiased)."""
    return Var(axis, ddof, keepdims).__call__(constant(x))


def std(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation: sqrt(var(x, axis, ddof))."""
    from .elementwise import sqrt
    x = constant(x)
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, "std")  # so a bad axis is reported as std's
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (not differentiable)."""
    return Tensor._make(np.asarray(np.argmax(raw(x), axis=axis, keepdims=keepdims)), None)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (not differentiable)."""
    return Tensor._make(np.asarray(np.argmin(raw(x), axis=axis, keepdims=keepdims)), None)
