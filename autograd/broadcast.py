"""Undoing numpy broadcasting in the backward pass: the one place it happens.

If the forward pass broadcast an input of shape `s` to the output's shape, every element of the
input fed several output elements, so (by the multivariate chain rule) its gradient is the sum of
the output gradient over the broadcast axes:

    grad_input = sum_to_shape(grad_output, s)

The engine applies this to every gradient flowing along every edge; no op deals with it.
"""

from __future__ import annotations

import math

import numpy as np


def broadcast_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Axes of `target` along which an array of `shape` was broadcast, and the leading count.

    Returns `(axes, lead)`: `lead` leading axes were prepended (summed away), and `axes` are the
    axes (in `target`'s numbering) where `shape` had length 1 but `target` did not.
    """
    lead = len(target) - len(shape)
    axes = tuple(lead + i for i, n in enumerate(shape) if n == 1 and target[lead + i] != 1)
    return axes, lead


#: Below this many elements numpy's own reduction is as fast as a BLAS call (whose fixed cost
#: is a few microseconds, more when BLAS threads are busy-waiting after a matrix product).
_BLAS_SUM_MIN_SIZE = 16384


def sum_leading(g: np.ndarray, lead: int) -> np.ndarray:
    """`g` summed over its first `lead` axes (a bias's gradient, an undone broadcast).

    For a large C-contiguous float32/float64 array this is (ones @ g.reshape(rows, -1)), a
    matrix-vector product in BLAS: numpy's own reduction over leading axes runs one short inner
    loop per row, 7x slower on a convolution's (50176, 6) gradient and 2x on an MLP's (128, 256).
    """
    if (g.size >= _BLAS_SUM_MIN_SIZE and 0 < lead < g.ndim and g.dtype.char in "fd"
            and g.flags.c_contiguous):
        rows, rest = math.prod(g.shape[:lead]), g.shape[lead:]
        return (np.ones(rows, dtype=g.dtype) @ g.reshape(rows, math.prod(rest))).reshape(rest)
    # The ufunc's reduce directly: ndarray.sum goes through a Python-level wrapper.
    return np.add.reduce(g, axis=0 if lead == 1 else tuple(range(lead)))


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `g` over the axes that broadcasting added, so the result has `shape`."""
    if g.shape == shape:
        return g
    axes, lead = broadcast_axes(shape, g.shape)
    if lead < 0:
        raise ValueError(f"sum_to_shape: cannot reduce shape {g.shape} to {shape}")
    if lead:
        g = sum_leading(g, lead)
        if not shape:
            return np.asarray(g)  # summing every axis gives a numpy scalar: keep an ndarray
    if axes:
        g = g.sum(axis=tuple(a - lead for a in axes), keepdims=True)
    return g
