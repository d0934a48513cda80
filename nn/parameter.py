"""`Parameter`: a Tensor that a Module registers as learnable when assigned as an attribute."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient and that `Module` collects in `parameters()`.

    `data` may be a Tensor (its array is shared, not copied, as `torch.nn.Parameter` does), a
    numpy array (a floating array keeps its dtype; an integer one becomes the default dtype) or
    Python numbers (the default dtype, `autograd.get_default_dtype()`).
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=autograd.get_default_dtype())
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data) if isinstance(data, (np.ndarray, np.generic)) else None
        if array is None:
            super().__init__(data, requires_grad=False)
        elif array.dtype.kind == "f":
            super().__init__(array, requires_grad=False)
        else:
            super().__init__(array, requires_grad=False, dtype=autograd.get_default_dtype())
        if self.data.dtype.kind != "f":
            self.data = self.data.astype(autograd.get_default_dtype())
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        # copy.deepcopy (used to clone models) must give a Parameter back, not a plain Tensor.
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad=requires_grad)
