"""The two namespaces a VJP formula runs in (the `F` argument of `Function.vjp`).

`ArrayNS` maps each name to numpy, for the ordinary backward pass on ndarrays (fast). `TensorNS`
maps the same names to the engine's differentiable functions, for `create_graph=True`, so the
backward pass is itself recorded and can be differentiated again. Arithmetic operators and
indexing work on both kinds of value, so most formulas need no namespace at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .broadcast import sum_to_shape
from .ops.nn_ops import _stable_lse
from .ops.shape import SlidingWindowView, window_sum_array


def _np_sliding_window_view(x: np.ndarray, window: Any, axis: Any) -> np.ndarray:
    return SlidingWindowView(window, axis).forward(x)


def _np_unindex(g: np.ndarray, shape: Any, index: Any) -> np.ndarray:
    return ops.shape.Unindex(tuple(shape), index).forward(g)


class ArrayNS:
    """numpy on ndarrays."""

    where = staticmethod(np.where)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    minimum = staticmethod(np.minimum)
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    swapaxes = staticmethod(np.swapaxes)
    expand_dims = staticmethod(np.expand_dims)
    sum_to = staticmethod(sum_to_shape)
    sum = staticmethod(np.sum)
    mean = staticmethod(np.mean)
    einsum = staticmethod(np.einsum)
    unindex = staticmethod(_np_unindex)
    window_sum = staticmethod(window_sum_array)
    sliding_window_view = staticmethod(_np_sliding_window_view)

    @staticmethod
    def broadcast_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if x.size == 1:
            # The gradient of a full reduction: np.full is much cheaper than np.broadcast_to's
            # Python wrapper, and gives an array the engine may own and add into.
            return np.full(shape, x.reshape(()), dtype=x.dtype)
        return np.broadcast_to(x, shape)

    @staticmethod
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return (np.tanh(x * 0.5) + 1.0) * 0.5

    @staticmethod
    def astype(x: np.ndarray, dtype: Any) -> np.ndarray:
        return x.astype(dtype, copy=False)

    @staticmethod
    def logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        y = _stable_lse(x, axis)
        return y if keepdims else np.squeeze(y, axis=axis)


class TensorNS:
    """The engine's differentiable functions on Tensors."""

    where = staticmethod(ops.where)
    exp = staticmethod(ops.exp)
    log = staticmethod(ops.log)
    sin = staticmethod(ops.sin)
    cos = staticmethod(ops.cos)
    minimum = staticmethod(ops.minimum)
    reshape = staticmethod(ops.reshape)
    transpose = staticmethod(ops.transpose)
    swapaxes = staticmethod(ops.swapaxes)
    expand_dims = staticmethod(ops.expand_dims)
    broadcast_to = staticmethod(ops.broadcast_to)
    sum_to = staticmethod(ops.sum_to)
    sum = staticmethod(ops.sum)
    mean = staticmethod(ops.mean)
    einsum = staticmethod(ops.einsum)
    unindex = staticmethod(ops.unindex)
    window_sum = staticmethod(ops.window_sum)
    sliding_window_view = staticmethod(ops.sliding_window_view)
    sigmoid = staticmethod(ops.sigmoid)
    astype = staticmethod(ops.astype)
    logsumexp = staticmethod(ops.logsumexp)
