"""Turning operands into Tensors: Python scalars take the other operand's dtype (as in numpy 2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._config import state
from ..tensor import Tensor


def constant(x: Any, like: Tensor | None = None) -> Tensor:
    """Wrap a non-Tensor operand as a constant (never requires grad, never copies an ndarray).

    A Python int or float takes `like`'s floating dtype, so `float32_tensor * 1.000001` stays
    float32 and a float64 tensor keeps full precision; without a floating `like`, a Python float
    becomes the default dtype.
    """
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray:
        return Tensor._make(x, None)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        if like is not None and like.data.dtype.kind == "f":
            return Tensor._make(np.asarray(x, dtype=like.data.dtype), None)
        if isinstance(x, float):
            return Tensor._make(np.asarray(x, dtype=state.default_dtype), None)
    return Tensor(x)


def lift(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors (a non-Tensor one becomes a constant)."""
    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else constant(b, a))
    if isinstance(b, Tensor):
        return constant(a, b), b
    return Tensor(a), Tensor(b)


def raw(x: Any) -> Any:
    """The ndarray behind a Tensor (or `x` itself): for masks, which are constants in any mode."""
    return x.data if isinstance(x, Tensor) else x


_ZEROS: dict = {}


def zero(dtype: np.dtype) -> np.ndarray:
    """A cached 0-d zero of `dtype`: numpy 2 compares and takes maxima against it several times
    faster than against the Python int 0 (which goes through weak-scalar promotion)."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = _ZEROS[dtype] = np.zeros((), dtype=dtype)
    return z
