"""Creating tensors: tensor, zeros, ones, full, *_like, arange, eye, rand, randn.

rand/randn draw from the one global generator (`manual_seed` reseeds it), so a seed reproduces
a whole run: initial weights, dropout masks and data shuffling alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._config import state
from .tensor import Tensor

Shape = int | Sequence[int]


def _dtype(dtype: Any) -> np.dtype:
    return state.default_dtype if dtype is None else np.dtype(dtype)


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(n) for n in shape)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new Tensor holding a copy of `data` (like torch.tensor)."""
    if isinstance(data, Tensor):
        data = data.data
    arr = Tensor(np.array(data, copy=True) if isinstance(data, np.ndarray) else data, dtype=dtype)
    return arr.requires_grad_(requires_grad) if requires_grad else arr


def zeros(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Zeros of `shape` (default dtype unless given)."""
    return Tensor(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Ones of `shape`."""
    return Tensor(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(shape: Shape, fill_value: float, requires_grad: bool = False,
         dtype: Any = None) -> Tensor:
    """`fill_value` everywhere in `shape`."""
    return Tensor(np.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad=requires_grad)


def zeros_like(t: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Zeros with `t`'s shape and dtype."""
    arr = np.asarray(t)
    return Tensor(np.zeros_like(arr, dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Ones with `t`'s shape and dtype."""
    arr = np.asarray(t)
    return Tensor(np.ones_like(arr, dtype=dtype), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1,
           requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop), like numpy.arange (integers stay int64)."""
    arr = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is not None:
        arr = arr.astype(dtype)
    elif arr.dtype == np.float64:
        arr = arr.astype(state.default_dtype)
    return Tensor(arr, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """The identity matrix (n x m)."""
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def rand(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Uniform samples in [0, 1) from the global generator."""
    arr = state.generator.random(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(arr, requires_grad=requires_grad)


def randn(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Standard normal samples from the global generator."""
    arr = state.generator.standard_normal(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(arr, requires_grad=requires_grad)
