"""Elementwise ops: arithmetic, transcendental functions and activations.

Each class gives the forward formula and the vector-Jacobian product side by side; `g` is the
gradient of the output. Inputs may have been broadcast: the engine sums each returned gradient
back to its input's shape, so the formulas here are written for the broadcast shape.
Masks (which are constants, not functions of the inputs) are computed on raw arrays via `raw`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .convert import constant, lift, raw, zero

# ---------------------------------------------------------------------------------------------
# arithmetic


def _broadcast_error(op: str, error: ValueError, *arrays: np.ndarray) -> ValueError:
    """numpy's broadcast error names no op: one that names the op and the operands' shapes
    (or `error` itself when it has another cause, such as integers to a negative power)."""
    shapes = [np.shape(x) for x in arrays]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        return ValueError(f"{op}: operands of shapes {listed} cannot be broadcast together")
    return error


class Add(Function):
    """y = a + b;  da = g,  db = g"""

    __slots__ = ()
    saves_inputs = False

    def forward(self, a, b):
        try:
            return a + b
        except ValueError as e:
            raise _broadcast_error("add", e, a, b) from None

    def vjp(self, F, g, a, b):
        return g, g


class Sub(Function):
    """y = a - b;  da = g,  db = -g"""

    __slots__ = ()
    saves_inputs = False

    def forward(self, a, b):
        try:
            return a - b
        except ValueError as e:
            raise _broadcast_error("subtract", e, a, b) from None

    def vjp(self, F, g, a, b):
        return g, (-g if self.needs[1] else None)


class Mul(Function):
    """y = a * b;  da = g * b,  db = g * a"""

    __slots__ = ()

    def forward(self, a, b):
        try:
            return a * b
        except ValueError as e:
            raise _broadcast_error("multiply", e, a, b) from None

    def vjp(self, F, g, a, b):
        needs = self.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Function):
    """y = a / b;  da = g / b,  db = -g * a / b**2"""

    __slots__ = ()

    def forward(self, a, b):
        try:
            return a / b
        except ValueError as e:
            raise _broadcast_error("divide", e, a, b) from None

    def vjp(self, F, g, a, b):
        needs = self.needs
        ga = g / b if needs[0] else None
        gb = -g * a / (b * b) if needs[1] else None
        return ga, gb


class Pow(Function):
    """y = a ** b;  da = g * b * a**(b-1),  db = g * y * log(a)   (db = 0 where a = 0)"""

    __slots__ = ()
    saves_output = True

    def forward(self, a, b):
        try:
            self.saved = y = a ** b
        except ValueError as e:
            raise _broadcast_error("power", e, a, b) from None
        return y

    def vjp(self, F, g, a, b):
        needs = self.needs
        ga = None
        if needs[0]:
            # b * a**(b-1) is 0 * inf at a = b = 0; the derivative is 0 there (as in PyTorch).
            zeros = (raw(a) == 0) & (raw(b) == 0)
            ga = g * b * (F.where(zeros, 1, a) if zeros.any() else a) ** (b - 1)
        gb = None
        if needs[1]:
            # log(0) would turn 0 * -inf into NaN; y = 0 there (b > 0), so the product is 0.
            safe_a = F.where(raw(a) == 0, 1, a)
            gb = g * self.output(F, a, b) * F.log(safe_a)
        return ga, gb


class Unary(Function):
    """Base of the one-input elementwise ops: the gradient has the input's shape and dtype, so
    the engine skips its broadcast and dtype checks for them."""

    __slots__ = ()
    register = False
    same_shape = True


class Neg(Unary):
    """y = -x;  dx = -g"""

    __slots__ = ()
    saves_inputs = False

    def forward(self, x):
        return -x

    def vjp(self, F, g, x):
        return (-g,)


class Maximum(Function):
    """y = maximum(a, b);  the gradient goes to the larger input, split evenly at ties"""

    __slots__ = ()

    def forward(self, a, b):
        try:
            return np.maximum(a, b)
        except ValueError as e:
            raise _broadcast_error("maximum", e, a, b) from None

    def vjp(self, F, g, a, b):
        return _tie_split(g, raw(a), raw(b), self.needs)


class Minimum(Function):
    """y = minimum(a, b);  the gradient goes to the smaller input, split evenly at ties"""

    __slots__ = ()

    def forward(self, a, b):
        try:
            return np.minimum(a, b)
        except ValueError as e:
            raise _broadcast_error("minimum", e, a, b) from None

    def vjp(self, F, g, a, b):
        # a gets the gradient where b > a: maximum's rule with the comparison reversed.
        return _tie_split(g, raw(b), raw(a), self.needs)


def _tie_split(g: Any, p: np.ndarray, q: np.ndarray, needs: tuple) -> tuple:
    """(g * [p > q], g * [p < q]), with g/2 to each at a tie p == q."""
    dtype = raw(g).dtype
    wins = (p > q).astype(dtype)
    ties = (p == q).astype(dtype) * 0.5
    return ((g * (wins + ties)) if needs[0] else None,
            (g * ((1.0 - wins) - ties)) if needs[1] else None)


class Where(Function):
    """y = where(cond, a, b);  da = where(cond, g, 0),  db = where(cond, 0, g)"""

    __slots__ = ("cond",)
    saves_inputs = False

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a, b):
        try:
            return np.where(self.cond, a, b)
        except ValueError as e:
            raise _broadcast_error("where", e, self.cond, a, b) from None

    def vjp(self, F, g, a, b):
        needs = self.needs
        return (F.where(self.cond, g, 0) if needs[0] else None,
                F.where(self.cond, 0, g) if needs[1] else None)


class Astype(Function):
    """y = x as another dtype;  dx = g as x's dtype"""

    __slots__ = ("dtype", "in_dtype")
    saves_inputs = False

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def vjp(self, F, g, x):
        return (F.astype(g, self.in_dtype),)


# ---------------------------------------------------------------------------------------------
# arithmetic with a Python scalar: one input, no constant Tensor to build (the hot path of
# expressions like `x * 0.5` or `1 - y`); numpy 2 keeps the tensor's dtype for Python scalars.


#: Cached 0-d constants: {dtype: {Python number: array}}, for floating dtypes only.
_CONSTANTS: dict = {}


class _ScalarOp(Unary):
    __slots__ = ("c",)
    register = False
    symbol = "?"

    def __init__(self, c: float) -> None:
        self.c = c

    def _const(self, x: np.ndarray) -> Any:
        """c as a 0-d array of x's floating dtype: numpy 2 computes with it about twice as fast
        as with a Python float, and the VJP reuses it. Cached, since a model uses few constants
        many times (the cache is emptied when it grows large). Zeros are not cached: -0.0 and
        0.0 are equal dict keys, but `x / -0.0` is not `x / 0.0` (nor is NaN: no key finds it)."""
        c = self.c
        if type(c) is np.ndarray:  # run again (a copy of the node, by check_graph)
            if c.dtype == x.dtype:
                return c
            c = self.c = c.item()
        dt = x.dtype
        table = _CONSTANTS.get(dt)
        if table is None:
            if dt.kind != "f":
                return c  # integer tensors: numpy's own rules for a Python scalar
            table = _CONSTANTS[dt] = {}
        const = table.get(c)
        if const is None:
            const = np.asarray(c, dt)
            const.flags.writeable = False
            if c != 0 and c == c:  # neither a zero nor NaN
                if len(table) > 4096:
                    table.clear()
                table[c] = const
        self.c = const
        return const

    def describe(self) -> str:
        return f"{self.symbol} {float(self.c):g}"


class AddScalar(_ScalarOp):
    """y = x + c;  dx = g"""

    __slots__ = ()
    saves_inputs = False
    name = "add_scalar"
    symbol = "+"

    def forward(self, x):
        return x + self._const(x)

    def vjp(self, F, g, x):
        return (g,)


class MulScalar(_ScalarOp):
    """y = x * c;  dx = g * c"""

    __slots__ = ()
    saves_inputs = False
    name = "mul_scalar"
    symbol = "*"

    def forward(self, x):
        return x * self._const(x)

    def vjp(self, F, g, x):
        return (g * self.c,)


class DivScalar(_ScalarOp):
    """y = x / c;  dx = g / c"""

    __slots__ = ()
    saves_inputs = False
    name = "div_scalar"
    symbol = "/"

    def forward(self, x):
        return x / self._const(x)

    def vjp(self, F, g, x):
        return (g / self.c,)


class RSubScalar(_ScalarOp):
    """y = c - x;  dx = -g"""

    __slots__ = ()
    saves_inputs = False
    name = "rsub_scalar"

    def forward(self, x):
        return self._const(x) - x

    def vjp(self, F, g, x):
        return (-g,)

    def describe(self) -> str:
        return f"{float(self.c):g} -"


class RDivScalar(_ScalarOp):
    """y = c / x;  dx = -g * c / x**2"""

    __slots__ = ()
    name = "rdiv_scalar"

    def forward(self, x):
        return self._const(x) / x

    def vjp(self, F, g, x):
        return (-g * self.c / (x * x),)

    def describe(self) -> str:
        return f"{float(self.c):g} /"


class PowScalar(_ScalarOp):
    """y = x ** c;  dx = g * c * x**(c-1)   (0 for c = 0, also at x = 0 where it reads 0 * inf)"""

    __slots__ = ()
    name = "pow_scalar"
    symbol = "**"

    def forward(self, x):
        return x ** self.c

    def vjp(self, F, g, x):
        if self.c == 0:
            return (g * 0.0,)
        if self.c == 2:
            return (g * x * 2.0,)
        return (g * self.c * x ** (self.c - 1),)


# ---------------------------------------------------------------------------------------------
# transcendental functions


class Exp(Unary):
    """y = exp(x);  dx = g * y"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        self.saved = y = np.exp(x)
        return y

    def vjp(self, F, g, x):
        return (g * self.output(F, x),)


class Log(Unary):
    """y = log(x);  dx = g / x"""

    __slots__ = ()

    def forward(self, x):
        return np.log(x)

    def vjp(self, F, g, x):
        return (g / x,)


class Sqrt(Unary):
    """y = sqrt(x);  dx = g / (2 y)"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        self.saved = y = np.sqrt(x)
        return y

    def vjp(self, F, g, x):
        return (g / (self.output(F, x) * 2.0),)


class Abs(Unary):
    """y = |x|;  dx = g * sign(x)   (0 at x = 0, as in PyTorch)"""

    __slots__ = ()

    def forward(self, x):
        return np.abs(x)

    def vjp(self, F, g, x):
        return (g * np.sign(raw(x)),)


class Sin(Unary):
    """y = sin(x);  dx = g * cos(x)"""

    __slots__ = ()

    def forward(self, x):
        return np.sin(x)

    def vjp(self, F, g, x):
        return (g * F.cos(x),)


class Cos(Unary):
    """y = cos(x);  dx = -g * sin(x)"""

    __slots__ = ()

    def forward(self, x):
        return np.cos(x)

    def vjp(self, F, g, x):
        return (-g * F.sin(x),)


class Tanh(Unary):
    """y = tanh(x);  dx = g * (1 - y**2)"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        self.saved = y = np.tanh(x)
        return y

    def vjp(self, F, g, x):
        y = self.output(F, x)
        gy = g * y
        return (g - gy * y,)  # g * (1 - y^2), without a (slow) Python-scalar operation


class Sigmoid(Unary):
    """y = 1 / (1 + exp(-x));  dx = g * y * (1 - y)"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        # 0.5 * (1 + tanh(x / 2)) is the logistic function without overflow for large |x|.
        self.saved = y = (np.tanh(x * 0.5) + 1.0) * 0.5
        return y

    def vjp(self, F, g, x):
        y = self.output(F, x)
        gy = g * y
        return (gy - gy * y,)  # g * y * (1 - y)


# ---------------------------------------------------------------------------------------------
# activations


class Relu(Unary):
    """y = max(x, 0);  dx = g * [x > 0]"""

    __slots__ = ()

    def forward(self, x):
        return np.maximum(x, zero(x.dtype))

    def vjp(self, F, g, x):
        x = raw(x)
        return (g * (x > zero(x.dtype)),)

    def vjp_(self, g, x):
        """`vjp` written into g (an array of the engine's own): no new array of g's size."""
        np.multiply(g, x > zero(x.dtype), out=g)
        return (g,)


class LeakyRelu(Unary):
    """y = x if x > 0 else slope * x;  dx = g if x > 0 else slope * g"""

    __slots__ = ("slope",)
    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.slope = float(negative_slope)

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def vjp(self, F, g, x):
        return (F.where(raw(x) > 0, g, g * self.slope),)

    def describe(self) -> str:
        return f"leaky_relu({self.slope:g})"


class Elu(Unary):
    """y = x if x > 0 else alpha * (exp(x) - 1);  dx = g if x > 0 else g * alpha * exp(x)"""

    __slots__ = ("alpha",)

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def forward(self, x):
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)) * self.alpha)

    def vjp(self, F, g, x):
        neg = F.exp(F.minimum(x, 0)) * self.alpha
        return (F.where(raw(x) > 0, g, g * neg),)


class Softplus(Unary):
    """y = log(1 + exp(x));  dx = g * sigmoid(x)"""

    __slots__ = ()

    def forward(self, x):
        return np.logaddexp(0, x)

    def vjp(self, F, g, x):
        return (g * F.sigmoid(x),)


class Clip(Function):
    """y = clip(x, lo, hi);  dx = g where lo <= x <= hi, else 0 (PyTorch's clamp)"""

    __slots__ = ("lo", "hi")

    def __init__(self, a_min: Any = None, a_max: Any = None) -> None:
        self.lo, self.hi = raw(a_min), raw(a_max)

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)

    def vjp(self, F, g, x):
        x = raw(x)
        # Not in place: array bounds may broadcast x to a larger shape.
        inside: Any = True
        if self.lo is not None:
            inside = x >= self.lo
        if self.hi is not None:
            inside = inside & (x <= self.hi)
        return (g * inside,)


# ---------------------------------------------------------------------------------------------
# functions (the public API; Tensor's operators call these)


_PY_SCALAR = (int, float)


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting like numpy."""
    if type(b) in _PY_SCALAR and isinstance(a, Tensor):
        return AddScalar(b).__call__(a)
    if type(a) in _PY_SCALAR and isinstance(b, Tensor):
        return AddScalar(a).__call__(b)
    a, b = lift(a, b)
    return Add().__call__(a, b)


def subtract(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting like numpy."""
    if type(b) in _PY_SCALAR and isinstance(a, Tensor):
        return AddScalar(-b).__call__(a)
    if type(a) in _PY_SCALAR and isinstance(b, Tensor):
        return RSubScalar(a).__call__(b)
    a, b = lift(a, b)
    return Sub().__call__(a, b)


def multiply(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting like numpy."""
    if type(b) in _PY_SCALAR and isinstance(a, Tensor):
        return MulScalar(b).__call__(a)
    if type(a) in _PY_SCALAR and isinstance(b, Tensor):
        return MulScalar(a).__call__(b)
    a, b = lift(a, b)
    return Mul().__call__(a, b)


def divide(a: Any, b: Any) -> Tensor:
    """a / b, broadcasting like numpy."""
    if type(b) in _PY_SCALAR and isinstance(a, Tensor):
        return DivScalar(b).__call__(a)
    if type(a) in _PY_SCALAR and isinstance(b, Tensor):
        return RDivScalar(a).__call__(b)
    a, b = lift(a, b)
    return Div().__call__(a, b)


def power(a: Any, b: Any) -> Tensor:
    """a ** b, broadcasting like numpy."""
    if type(b) in _PY_SCALAR and isinstance(a, Tensor):
        return PowScalar(b).__call__(a)
    a, b = lift(a, b)
    return Pow().__call__(a, b)


def negative(x: Any) -> Tensor:
    """-x"""
    return Neg().__call__(x if type(x) is Tensor else constant(x))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (gradient split evenly at ties)."""
    a, b = lift(a, b)
    return Maximum().__call__(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (gradient split evenly at ties)."""
    a, b = lift(a, b)
    return Minimum().__call__(a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise `a` where `cond` else `b` (cond is not differentiable)."""
    cond = np.asarray(raw(cond), dtype=bool)
    a, b = lift(a, b)
    return Where(cond).__call__(a, b)


def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to `dtype`; differentiable (the gradient is cast back)."""
    x = constant(x)
    if x.data.dtype == np.dtype(dtype):
        return x
    return Astype(dtype).__call__(x)


def exp(x: Any) -> Tensor:
    """e**x"""
    return Exp().__call__(x if type(x) is Tensor else constant(x))


def log(x: Any) -> Tensor:
    """Natural logarithm."""
    return Log().__call__(x if type(x) is Tensor else constant(x))


def sqrt(x: Any) -> Tensor:
    """Square root."""
    return Sqrt().__call__(x if type(x) is Tensor else constant(x))


def abs(x: Any) -> Tensor:  # noqa: A001  (numpy's name)
    """|x| (subgradient 0 at 0)."""
    return Abs().__call__(x if type(x) is Tensor else constant(x))


def sin(x: Any) -> Tensor:
    """Sine."""
    return Sin().__call__(x if type(x) is Tensor else constant(x))


def cos(x: Any) -> Tensor:
    """Cosine."""
    return Cos().__call__(x if type(x) is Tensor else constant(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh().__call__(x if type(x) is Tensor else constant(x))


def sigmoid(x: Any) -> Tensor:
    """Logistic function 1 / (1 + exp(-x)), stable for large |x|."""
    return Sigmoid().__call__(x if type(x) is Tensor else constant(x))


def relu(x: Any) -> Tensor:
    """max(x, 0) (subgradient 0 at 0)."""
    return Relu().__call__(x if type(x) is Tensor else constant(x))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyRelu(negative_slope).__call__(x if type(x) is Tensor else constant(x))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return Elu(alpha).__call__(x if type(x) is Tensor else constant(x))


def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), stable for large |x|."""
    return Softplus().__call__(x if type(x) is Tensor else constant(x))


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit values to [a_min, a_max]; the gradient is 0 outside (bounds are constants)."""
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    return Clip(a_min, a_max).__call__(constant(x))
