"""Shape ops: reshape, transpose, broadcasting, joining, splitting, padding, indexing, windows.

Most come in adjoint pairs whose VJPs are each other: broadcast_to <-> sum_to, getitem <->
unindex (scatter-add), sliding_window_view <-> window_sum (col2im). Pairing them is what makes the
backward pass itself differentiable (create_graph=True) without any special case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..broadcast import sum_to_shape
from ..function import Function
from ..tensor import Tensor
from .convert import constant
from .reduce import normalize_axis


class Reshape(Function):
    """y = x viewed with another shape;  dx = g reshaped back"""

    __slots__ = ("shape", "in_shape")
    saves_inputs = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {self.shape}") from None

    def vjp(self, F, g, x):
        return (F.reshape(g, self.in_shape),)

    def describe(self) -> str:
        return f"reshape{tuple(self.shape)}"


class Transpose(Function):
    """y = x with axes permuted;  dx = g with the inverse permutation"""

    __slots__ = ("axes",)
    saves_inputs = False

    def __init__(self, axes: Sequence[int] | None) -> None:
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.axes = tuple(range(x.ndim))[::-1]
        else:
            # Non-negative, so that argsort in the VJP gives the inverse permutation.
            self.axes = tuple(a % x.ndim for a in self.axes)
        return np.transpose(x, self.axes)

    def vjp(self, F, g, x):
        return (F.transpose(g, tuple(np.argsort(self.axes))),)


class Swapaxes(Function):
    """y = x with two axes exchanged;  dx = g with them exchanged back"""

    __slots__ = ("a1", "a2")
    saves_inputs = False

    def __init__(self, axis1: int, axis2: int) -> None:
        self.a1, self.a2 = axis1, axis2

    def forward(self, x):
        return np.swapaxes(x, self.a1, self.a2)

    def vjp(self, F, g, x):
        return (F.swapaxes(g, self.a1, self.a2),)


class BroadcastTo(Function):
    """y = x broadcast to `shape`;  dx = g summed over the broadcast axes"""

    __slots__ = ("shape", "in_shape")
    saves_inputs = False
    name = "broadcast_to"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}") from None

    def vjp(self, F, g, x):
        return (F.sum_to(g, self.in_shape),)


class SumTo(Function):
    """y = x summed down to `shape` (undoing broadcasting);  dx = g broadcast back"""

    __slots__ = ("shape", "in_shape")
    saves_inputs = False
    name = "sum_to"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return sum_to_shape(x, self.shape)

    def vjp(self, F, g, x):
        return (F.broadcast_to(g, self.in_shape),)


class Concatenate(Function):
    """y = concatenate(xs, axis);  dx_i = the slice of g where x_i went"""

    __slots__ = ("axis", "bounds")
    saves_inputs = False

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs):
        try:
            out = np.concatenate(xs, axis=self.axis)
        except np.exceptions.AxisError:
            raise
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(
                f"concatenate: shapes {shapes} do not match except along axis {self.axis}"
            ) from None
        self.axis = self.axis % out.ndim
        self.bounds = np.cumsum([0] + [x.shape[self.axis] for x in xs])
        return out

    def vjp(self, F, g, *xs):
        lead = (slice(None),) * self.axis
        b = self.bounds
        return tuple(g[lead + (slice(int(b[i]), int(b[i + 1])),)] if need else None
                     for i, need in enumerate(self.needs))


class Stack(Function):
    """y = stack(xs, axis);  dx_i = g[..., i, ...] along the new axis"""

    __slots__ = ("axis",)
    saves_inputs = False

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs):
        try:
            out = np.stack(xs, axis=self.axis)
        except np.exceptions.AxisError:
            raise
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"stack: all inputs must have the same shape, got {shapes}") from None
        self.axis = self.axis % out.ndim
        return out

    def vjp(self, F, g, *xs):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] if need else None for i, need in enumerate(self.needs))


class Pad(Function):
    """y = x padded with zeros;  dx = the central slice of g"""

    __slots__ = ("pad_width", "value", "in_shape")
    saves_inputs = False

    def __init__(self, pad_width: Any, constant_values: float = 0) -> None:
        self.pad_width = pad_width
        self.value = constant_values

    def forward(self, x):
        self.pad_width = np.broadcast_to(np.asarray(self.pad_width, dtype=int), (x.ndim, 2))
        self.in_shape = x.shape
        return np.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def vjp(self, F, g, x):
        index = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(self.pad_width,
                                                                       self.in_shape))
        return (g[index],)


def _plain_index(index: Any) -> Any:
    """An index with Tensors replaced by arrays (and lists by arrays, as numpy reads them)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index: Any) -> bool:
    """True when the index has no integer arrays (so no element is selected twice)."""
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if isinstance(i, np.ndarray) and i.dtype != bool:
            return False
    return True


class GetItem(Function):
    """y = x[index];  dx = zeros with g added at the indexed positions (repeats accumulate)"""

    __slots__ = ("index", "in_shape")
    saves_inputs = False
    name = "getitem"

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.index]

    def vjp(self, F, g, x):
        return (F.unindex(g, self.in_shape, self.index),)

    def describe(self) -> str:
        return "getitem"


class Unindex(Function):
    """y = zeros(shape) with x added at y[index] (scatter-add);  dx = g[index]"""

    __slots__ = ("shape", "index")
    saves_inputs = False

    def __init__(self, shape: tuple[int, ...], index: Any) -> None:
        self.shape, self.index = shape, index

    def forward(self, x):
        out = np.zeros(self.shape, dtype=x.dtype)
        if _is_basic(self.index):
            out[self.index] = x
        else:
            np.add.at(out, self.index, x)
        return out

    def vjp(self, F, g, x):
        return (g[self.index],)


class SlidingWindowView(Function):
    """y[..., w] = x[... + w]: every window of `window_shape` along `axis`, as new last axes.

    dx = window_sum(g): each input element receives the gradients of every window it falls in
    (col2im), computed by shifted-slice additions (see `window_sum_array`).
    """

    __slots__ = ("window", "axis", "in_shape")
    saves_inputs = False
    name = "sliding_window_view"

    def __init__(self, window_shape: Any, axis: Any = None) -> None:
        self.window = (window_shape,) if np.isscalar(window_shape) else tuple(window_shape)
        self.axis = axis

    def forward(self, x):
        self.in_shape = x.shape
        if self.axis is None:
            self.axis = tuple(range(x.ndim - len(self.window), x.ndim))
        elif np.isscalar(self.axis):
            self.axis = (int(self.axis),)
        for a in self.axis:
            if not -x.ndim <= a < x.ndim:
                raise np.exceptions.AxisError(int(a), x.ndim, self.name)
        self.axis = tuple(a % x.ndim for a in self.axis)
        for a, w in zip(self.axis, self.window):
            if w > x.shape[a] or w < 1:
                raise ValueError(
                    f"sliding_window_view: window {self.window} does not fit into axis {a} of "
                    f"shape {x.shape}")
        return np.lib.stride_tricks.sliding_window_view(x, self.window, axis=self.axis)

    def vjp(self, F, g, x):
        return (F.window_sum(g, self.in_shape, self.window, self.axis),)


class WindowSum(Function):
    """y = the sum of windows back into an array of `shape` (col2im);  dx = sliding windows of g"""

    __slots__ = ("shape", "window", "axis")
    saves_inputs = False
    name = "window_sum"

    def __init__(self, shape: tuple[int, ...], window: tuple[int, ...],
                 axis: tuple[int, ...]) -> None:
        self.shape, self.window = tuple(shape), tuple(window)
        # Non-negative: the windowed input has extra trailing axes, so -1 would mean another one.
        self.axis = tuple(a % len(self.shape) for a in axis)

    def forward(self, x):
        return window_sum_array(x, self.shape, self.window, self.axis)

    def vjp(self, F, g, x):
        return (F.sliding_window_view(g, self.window, self.axis),)


def window_sum_array(g: np.ndarray, shape: tuple[int, ...], window: tuple[int, ...],
                     axis: tuple[int, ...], by_position: bool | None = None) -> np.ndarray:
    """Adjoint of sliding_window_view on arrays (col2im): add every window back into place.

    Two loops give the same sum; `by_position` picks one (None: the one `_by_position` expects
    to be faster; an axis windowed twice always goes by offset).

    - By offset: for each offset in the window, one slice-add of an output-sized block. Its
      elements run contiguously only along the axes after the windowed ones (the channels of a
      channels-last image), so with few channels numpy's inner loops are short.
    - By position: for each offset in the other windowed axes and each output position j along
      the last windowed axis, add a whole window row, `out[..., j:j+k, ...] += g[..., j, ..., :]`.
      In the memory order that im2col's gradient has (window axes before the channels), a row
      is contiguous with the channels in both arrays: inner loops k times as long.
    """
    out = np.zeros(shape, dtype=g.dtype)
    nwin = len(window)
    lead = g.ndim - nwin
    if by_position is None:
        by_position = _by_position(g, shape, window, axis)
    if by_position and len(set(axis)) == nwin:
        last = max(axis)
        k = axis.index(last)
        # g indexed at one position along `last` keeps window dim k as its last axis: move it
        # to where `last` is in the output.
        order = (*range(last), lead - 1, *range(last, lead - 1))
        others = window[:k] + window[k + 1:]
        for offset in np.ndindex(*others):
            dst: list[Any] = [slice(None)] * lead
            src: list[Any] = [slice(None)] * g.ndim
            for i, o in enumerate(offset[:k] + (0,) + offset[k:]):
                if i != k:
                    dst[axis[i]] = slice(o, o + g.shape[axis[i]])
                    src[lead + i] = o
            for j in range(g.shape[last]):
                dst[last] = slice(j, j + window[k])
                src[last] = j
                out[tuple(dst)] += g[tuple(src)].transpose(order)
        return out
    for offset in np.ndindex(*window):
        dst = [slice(None)] * len(shape)
        starts: dict[int, int] = {}
        for a, o in zip(axis, offset):
            # An axis windowed twice (numpy allows it) is shifted by the sum of its offsets.
            starts[a] = starts.get(a, 0) + o
        for a, start in starts.items():
            dst[a] = slice(start, start + g.shape[a])
        out[tuple(dst)] += g[(slice(None),) * lead + offset]
    return out


#: Roughly how many of numpy's inner-loop calls one Python-level slice-add costs.
_ADD_COST_IN_LOOPS = 250


def _by_position(g: np.ndarray, shape: tuple[int, ...], window: tuple[int, ...],
                 axis: tuple[int, ...]) -> bool:
    """Whether adding windows back by position is expected to beat adding them by offset.

    Only when axes follow the last windowed one (so rows can be longer than those axes), no
    axis is windowed twice, and g is not broadcast along that window (a broadcast block adds
    best whole). The estimate counts slice-adds and numpy inner loops: by offset, prod(window)
    adds with runs of the trailing axes' size; by position, one add per window row and output
    position, with runs k times as long.
    """
    last = max(axis)
    trail = math.prod(shape[last + 1:])
    k = axis.index(last)
    if trail < 2 or len(set(axis)) != len(axis) or g.strides[g.ndim - len(window) + k] == 0:
        return False
    adds_offset = math.prod(window)
    adds_position = adds_offset // window[k] * g.shape[last]
    cost_offset = adds_offset * _ADD_COST_IN_LOOPS + g.size // trail
    cost_position = adds_position * _ADD_COST_IN_LOOPS + g.size // (trail * window[k])
    return cost_position < cost_offset


# ---------------------------------------------------------------------------------------------
# functions


def reshape(x: Any, shape: Any) -> Tensor:
    """View with a new shape (one axis may be -1)."""
    x = constant(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if shape == x.data.shape:
        return x
    return Reshape(shape).__call__(x)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when `axes` is None), like numpy.transpose."""
    x = constant(x)
    if axes is not None:
        axes = tuple(int(a) for a in axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} axes")
    return Transpose(axes).__call__(x)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    return Swapaxes(axis1, axis2).__call__(constant(x))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Broadcast to `shape` as numpy does."""
    x = constant(x)
    if tuple(shape) == x.data.shape:
        return x
    return BroadcastTo(shape).__call__(x)


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Sum `x` down to `shape` (the adjoint of broadcast_to)."""
    x = constant(x)
    if tuple(shape) == x.data.shape:
        return x
    return SumTo(shape).__call__(x)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove length-1 axes (all of them, or those in `axis`)."""
    x = constant(x)
    shape = x.data.shape
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze")
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {shape} has length {shape[a]}, not 1")
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, new)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert length-1 axes at `axis`."""
    x = constant(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=bool), axis).shape)


def flatten(x: Any) -> Tensor:
    """A 1-D view of all elements (numpy's ndarray.flatten; use nn.Flatten to keep the batch)."""
    return reshape(x, (-1,))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    ts = [constant(x) for x in xs]
    if not ts:
        raise ValueError("concatenate: need at least one tensor")
    return Concatenate(axis).__call__(*ts)


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    ts = [constant(x) for x in xs]
    if not ts:
        raise ValueError("stack: need at least one tensor")
    return Stack(axis).__call__(*ts)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into pieces along `axis`, like numpy.split (each piece is a differentiable slice)."""
    x = constant(x)
    axis = normalize_axis(axis, x.ndim, "split")[0]
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(
                f"split: axis {axis} of length {n} cannot be split into {k} equal sections")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    lead = (slice(None),) * axis
    return [x[lead + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]


def pad(x: Any, pad_width: Any, constant_values: float = 0) -> Tensor:
    """Pad with a constant (numpy.pad's mode='constant')."""
    return Pad(pad_width, constant_values).__call__(constant(x))


def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with basic or advanced (integer-array, boolean) indexing."""
    return GetItem(_plain_index(index)).__call__(constant(x))


def unindex(g: Any, shape: Sequence[int], index: Any) -> Tensor:
    """zeros(shape) with `g` added at [index] (the adjoint of getitem)."""
    return Unindex(tuple(shape), _plain_index(index)).__call__(constant(g))


def sliding_window_view(x: Any, window_shape: Any, axis: Any = None) -> Tensor:
    """numpy.lib.stride_tricks.sliding_window_view, differentiable: the im2col of convolutions."""
    return SlidingWindowView(window_shape, axis).__call__(constant(x))


def window_sum(g: Any, shape: Sequence[int], window_shape: Sequence[int],
               axis: Sequence[int]) -> Tensor:
    """Add every window back into an array of `shape` (the adjoint of sliding_window_view)."""
    return WindowSum(tuple(shape), tuple(window_shape), tuple(axis)).__call__(constant(g))


def unindex_array(g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """Array version of `unindex` for the ordinary backward pass."""
    return Unindex(shape, index).forward(g)

