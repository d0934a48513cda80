"""`Tensor`: an ndarray plus what the chain rule needs (grad, requires_grad, the node that made it).

Methods only delegate: the math lives in `autograd/ops/`, the backward pass in `engine.py`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ._config import clock, state

if TYPE_CHECKING:
    from .function import Function


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Convert to an ndarray: Python floats/lists become the default dtype, arrays keep theirs."""
    if type(data) is np.ndarray:
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if isinstance(data, Tensor):
        data = data.data
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    is_numpy = isinstance(data, (np.ndarray, np.generic))
    arr = np.asarray(data)
    if not is_numpy and arr.dtype == np.float64 and state.default_dtype != np.float64:
        arr = arr.astype(state.default_dtype)
    return arr


_new = object.__new__


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    `Tensor(data, requires_grad=False, dtype=None)`: Python floats and lists become the default
    dtype (float32 unless `set_default_dtype` changed it); a numpy array keeps its dtype and is not
    copied. Only floating tensors may require a gradient.
    """

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_version", "_hooks", "_name",
                 "__weakref__")
    # Make numpy defer to Tensor's reflected operators: ndarray + Tensor -> Tensor.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        TENSOR_TYPES.add(cls)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _to_array(data, None if dtype is None else np.dtype(dtype))
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._version = 0
        self._hooks: list | None = None
        self._name: str | None = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data: np.ndarray, grad_fn: Function | None) -> Tensor:
        """Fast constructor for op outputs (no conversion, no checks)."""
        t = _new(Tensor)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._version = 0
        t._hooks = None
        t._name = None
        return t

    # ----------------------------------------------------------------------------------------
    # autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. tensor.astype('float32')")
        if not flag and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use .detach() to get a tensor "
                "that does not require grad")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def name(self) -> str | None:
        """A display name for drawings (None until set). An op's output keeps it on its node,
        so the graph knows it even after this Tensor object is gone."""
        node = self.grad_fn
        if node is None:
            return self._name
        return None if node.extra is None else node.extra.name

    @name.setter
    def name(self, value: str | None) -> None:
        if self.grad_fn is None:
            self._name = value
        else:
            self.grad_fn._extra().name = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (inputs, parameters, constants)."""
        return self.grad_fn is None

    def backward(self, grad: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see `engine.backward`)."""
        from .engine import backward
        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if self.grad_fn is None:
            return
        self.grad_fn.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self.grad_fn.retained is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a function that removes the hook.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient; create it "
                "with requires_grad=True (or call .requires_grad_() on a leaf) first")
        owner: Any = self if self.grad_fn is None else self.grad_fn
        hooks = owner._hooks if owner is self else owner.hooks
        if hooks is None:
            hooks = []
            if owner is self:
                self._hooks = hooks
            else:
                owner.hooks = hooks
        hooks.append(hook)
        return lambda: hooks.remove(hook) if hook in hooks else None

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._make(self.data, None)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------------------------------
    # array attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, "
                f"got shape {self.data.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """Cast to `dtype` (differentiable between floating dtypes)."""
        return _ops.astype(self, dtype)


    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.data.__dlpack_device__()

    # Hash by identity (as PyTorch does) although == is elementwise; object's C-level hash is the
    # fastest, and the engine keys dicts by tensors.
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4,
                               threshold=100)
        extras = []
        if self.data.dtype != state.default_dtype or self.data.dtype.kind not in "f":
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----------------------------------------------------------------------------------------
    # in-place updates (bump the version counter so a stale saved value is detected)
    def _check_inplace(self) -> None:
        if state.grad_enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf tensor that requires grad is being modified in place; wrap the update in "
                "`with autograd.no_grad():` (as optimizers do)")
        if state.grad_enabled and self.grad_fn is not None:
            raise RuntimeError(
                "in-place operations on tensors that are part of a recorded graph are not "
                "supported; use the out-of-place operator instead")

    def _inplace(self, op: Callable[[np.ndarray], Any]) -> Tensor:
        self._check_inplace()
        op(self.data)
        self._bump_version()
        return self

    def _arith_(self, ufunc: np.ufunc, other: Any) -> Tensor:
        """data = ufunc(data, other), in place: the arithmetic in-place methods (one call, as
        optimizer-style update loops make many of them)."""
        if state.grad_enabled and (self._requires_grad or self.grad_fn is not None):
            self._check_inplace()
        data = self.data
        # The output positionally, and the default 'same_kind' casting: an int tensor refuses
        # a float operand instead of truncating it.
        ufunc(data, other.data if isinstance(other, Tensor) else other, data)
        self._bump_version()
        return self

    def _bump_version(self) -> None:
        """Record that `data` was changed in place by code outside the engine (optimizers write
        parameters with numpy), so a graph that saved the old values refuses to backward. An
        op's output records it on its node, which the nodes that read it link to."""
        self._version = state.version = version = next(clock)
        if self.grad_fn is not None:
            self.grad_fn._extra().modified = version

    def _value(self, other: Any) -> Any:
        return other.data if isinstance(other, Tensor) else other

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._arith_(np.add, other if alpha == 1.0 else self._value(other) * alpha)

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._arith_(np.subtract, other if alpha == 1.0 else self._value(other) * alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._arith_(np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        return self._arith_(np.divide, other)

    def zero_(self) -> Tensor:
        return self._inplace(lambda d: d.fill(0))

    def fill_(self, value: float) -> Tensor:
        return self._inplace(lambda d: d.fill(value))

    def copy_(self, src: Any) -> Tensor:
        s = self._value(src)
        return self._inplace(lambda d: np.copyto(d, s, casting="same_kind"))

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        return self._inplace(lambda d: np.clip(d, min, max, out=d))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, Tensor):
            index = index.data
        v = self._value(value)

        def assign(d: np.ndarray) -> None:
            d[index] = v

        self._inplace(assign)

    # ----------------------------------------------------------------------------------------
    # operators (each delegates to autograd.ops)
    def __add__(self, other: Any) -> Tensor:
        if type(other) is float:
            op = _new(_AddScalar)  # without __init__, which the interpreter cannot inline
            op.c = other
            return op.__call__(self)
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        if type(other) is float:
            op = _new(_MulScalar)  # without __init__, which the interpreter cannot inline
            op.c = other
            return op.__call__(self)
        return _ops.multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        if type(other) is float:
            op = _new(_DivScalar)  # without __init__, which the interpreter cannot inline
            op.c = other
            return op.__call__(self)
        return _ops.divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.negative(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # comparisons: not differentiable, return bool tensors
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._make(self.data < self._value(other), None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._make(self.data <= self._value(other), None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._make(self.data > self._value(other), None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._make(self.data >= self._value(other), None)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.asarray(self.data == self._value(other)), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.asarray(self.data != self._value(other)), None)

    def __invert__(self) -> Tensor:
        return Tensor._make(~self.data, None)

    def __and__(self, other: Any) -> Tensor:
        return Tensor._make(self.data & self._value(other), None)

    def __or__(self, other: Any) -> Tensor:
        return Tensor._make(self.data | self._value(other), None)

    # ----------------------------------------------------------------------------------------
    # methods mirroring numpy's ndarray methods
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _ops.argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(np.asarray(self.data.any(axis=axis, keepdims=keepdims)), None)

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(np.asarray(self.data.all(axis=axis, keepdims=keepdims)), None)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _ops.transpose(self, axes if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    def flatten(self) -> Tensor:
        return _ops.flatten(self)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        return _ops.clip(self, a_min, a_max)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def dot(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)


#: Tensor and its subclasses: a node's sources are nodes or leaf Tensors, and the backward pass
#: tells them apart with one set lookup (an isinstance test that fails costs more).
TENSOR_TYPES: set[type] = {Tensor}

from . import ops as _ops  # noqa: E402  (the ops import Tensor, so this comes last)
from .ops.elementwise import AddScalar as _AddScalar  # noqa: E402
from .ops.elementwise import DivScalar as _DivScalar  # noqa: E402
from .ops.elementwise import MulScalar as _MulScalar  # noqa: E402

