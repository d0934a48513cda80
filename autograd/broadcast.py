"""Undoing numpy broadcasting in the backward pass: the one place it happens.

If the forward pass broadcast an input of shape `s` to the output's shape, every element of the
input fed several output elements, so (by the multivariate chain rule) its gradient is the sum of
the output gradient over the broadcast axes:

    grad_input = sum_to_shape(grad_output, s)

The engine applies this to every gradient flowing along every edge; no op deals with it.
"""

from __future__ import annotations

import numpy as np


def broadcast_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Axes of `target` along which an array of `shape` was broadcast, and the leading count.

    Returns `(axes, lead)`: `lead` leading axes were prepended (summed away), and `axes` are the
    axes (in `target`'s numbering) where `shape` had length 1 but `target` did not.
    """
    lead = len(target) - len(shape)
    axes = tuple(lead + i for i, n in enumerate(shape) if n == 1 and target[lead + i] != 1)
    return axes, lead


def sum_to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `g` over the axes that broadcasting added, so the result has `shape`."""
    if g.shape == shape:
        return g
    axes, lead = broadcast_axes(shape, g.shape)
    if lead < 0:
        raise ValueError(f"sum_to_shape: cannot reduce shape {g.shape} to {shape}")
    if lead:
        g = g.sum(axis=tuple(range(lead)))
        if not shape:
            return np.asarray(g)  # summing every axis gives a numpy scalar: keep an ndarray
    if axes:
        g = g.sum(axis=tuple(a - lead for a in axes), keepdims=True)
    return g
