"""User-defined ops: subclass autograd.Function with `forward` and `vjp` side by side."""

import numpy as np
import pytest

import autograd as ag
from autograd import Function
from autograd.ops.convert import raw


class ScaledTanh(Function):
    """y = c * tanh(x);  dx = g * c * (1 - tanh(x)^2) = g * (c - y^2 / c)"""

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x):
        self.saved = y = self.c * np.tanh(x)
        return y

    def vjp(self, F, g, x):
        y = self.output(F, x)  # the saved array, or a differentiable re-run under create_graph
        return (g * (self.c - y * y / self.c),)


class Hypot(Function):
    """y = sqrt(a^2 + b^2);  da = g * a / y,  db = g * b / y"""

    def forward(self, a, b):
        self.saved = y = np.hypot(a, b)
        return y

    def vjp(self, F, g, a, b):
        y = self.output(F, a, b)
        return (g * a / y if self.needs[0] else None), (g * b / y if self.needs[1] else None)


class Swish(Function):
    """y = x * sigmoid(x);  dx = g * (s + x s (1 - s)),  s = sigmoid(x)  (uses the namespace F)"""

    name = "swish_act"

    def forward(self, x):
        return x / (1.0 + np.exp(-x))

    def vjp(self, F, g, x):
        s = F.sigmoid(x)
        return (g * (s + x * s * (1.0 - s)),)

    def describe(self) -> str:
        return "swish (custom)"


def f64(values, requires_grad=True):
    return ag.tensor(values, dtype=np.float64, requires_grad=requires_grad)


def test_custom_op_forward_and_gradient():
    x = f64([-1.0, 0.0, 2.0])
    y = ScaledTanh(3.0)(x)
    np.testing.assert_allclose(y.data, 3.0 * np.tanh([-1.0, 0.0, 2.0]))
    assert y.grad_fn.name == "scaledtanh"
    assert repr(y).endswith("grad_fn=<ScaledTanhBackward>)")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3.0 * (1 - np.tanh([-1.0, 0.0, 2.0]) ** 2))
    assert ag.gradcheck(lambda t: ScaledTanh(0.5)(t), [x])


def test_custom_op_works_in_float32_and_keeps_the_dtype():
    x = ag.tensor([0.5, -0.5], requires_grad=True)
    y = ScaledTanh(2.0)(x)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    t = np.tanh(0.5)
    np.testing.assert_allclose(x.grad.data, [8 * t * (1 - t * t), -8 * t * (1 - t * t)],
                               rtol=1e-6)


def test_custom_op_is_not_added_to_the_registry():
    assert "scaledtanh" not in ag.REGISTRY
    assert "hypot" not in ag.REGISTRY
    assert "swish_act" not in ag.REGISTRY
    assert all(cls not in ag.REGISTRY.values() for cls in (ScaledTanh, Hypot, Swish))
    assert "mul" in ag.REGISTRY  # the built-ins are


def test_custom_op_gradient_is_summed_back_over_broadcast_axes():
    a = f64([[3.0], [0.0], [1.0]])  # (3, 1)
    b = f64([4.0, 1.0])  # (2,)
    y = Hypot()(a, b)
    assert y.shape == (3, 2)
    y.sum().backward()
    av, bv = a.data, b.data
    r = np.hypot(av, bv)
    assert a.grad.shape == (3, 1) and b.grad.shape == (2,)
    np.testing.assert_allclose(a.grad.data, (av / r).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(b.grad.data, (bv / r).sum(axis=0))
    assert ag.gradcheck(lambda p, q: Hypot()(p, q), [f64([[3.0], [-2.0]]), f64([4.0, 1.0, 2.0])])


def test_custom_op_vjp_may_skip_inputs_that_need_no_gradient():
    a = f64([3.0])
    b = f64([4.0], requires_grad=False)
    y = Hypot()(a, b)
    assert y.grad_fn.needs == (True, False)
    y.backward(np.ones(1))
    np.testing.assert_allclose(a.grad.data, [0.6])
    assert b.grad is None


def test_custom_op_supports_create_graph_and_second_derivatives():
    x = f64([0.3, -1.2])
    (g,) = ag.grad(ScaledTanh(2.0)(x).sum(), x, create_graph=True)
    (h,) = ag.grad(g.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(g.data, 2.0 * (1 - t ** 2))
    np.testing.assert_allclose(h.data, -4.0 * t * (1 - t ** 2))
    assert ag.gradgradcheck(lambda v: ScaledTanh(2.0)(v), [x])
    assert ag.gradgradcheck(lambda p, q: Hypot()(p, q),
                            [f64([[3.0], [-2.0]]), f64([4.0, 1.0, 2.0])])
    assert ag.gradgradcheck(lambda v: Swish()(v), [f64([-2.0, 0.1, 1.5])])


def test_custom_op_hessian_through_functional():
    x = f64([0.5, 1.0], requires_grad=False)
    h = ag.functional.hessian(lambda v: Swish()(v).sum(), x)
    s = 1 / (1 + np.exp(-x.data))
    d2 = s * (1 - s) * (2 + x.data * (1 - 2 * s))
    np.testing.assert_allclose(h.data, np.diag(d2), rtol=1e-10)


def test_custom_op_name_and_describe_appear_in_check_graph_and_anomaly_messages():
    class BadSwish(Swish):
        name = "bad_swish"

        def vjp(self, F, g, x):
            return (g * F.sigmoid(x),)

        def describe(self) -> str:
            return "bad_swish(beta=1)"

    x = f64([0.5, -1.0])
    y = (BadSwish()(x) * 2.0).sum()
    with pytest.raises(ag.GradcheckError, match=r"the VJP of 'bad_swish\(beta=1\)' \(op 1 of"):
        ag.check_graph(y)

    class InfGrad(Function):
        def forward(self, x):
            return x.copy()

        def vjp(self, F, g, x):
            return (g / raw(x),)

    z = f64([0.0, 1.0])
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match="detect_anomaly: function 'infgrad'.*inf"):
            InfGrad()(z).sum().backward()


def test_custom_op_records_nothing_without_grad():
    x = f64([1.0, 2.0])
    with ag.no_grad():
        y = ScaledTanh(1.0)(x)
    assert y.grad_fn is None and not y.requires_grad
    z = ScaledTanh(1.0)(f64([1.0], requires_grad=False))
    assert z.grad_fn is None


def test_custom_op_detects_in_place_changes_of_saved_inputs():
    a = f64([3.0])
    b = f64([4.0], requires_grad=False)
    y = Hypot()(a, b)
    b.mul_(2.0)
    with pytest.raises(RuntimeError, match="input 1 of 'hypot'.*modified|modified.*input 1 of "
                                           "'hypot'"):
        y.backward(np.ones(1))


def test_custom_op_that_does_not_read_its_inputs_can_say_so():
    class Shift(Function):
        """y = x + k;  dx = g"""

        saves_inputs = False

        def forward(self, x, k):
            return x + k

        def vjp(self, F, g, x, k):
            return g, None

    x = f64([1.0, 2.0])
    k = f64([5.0, 5.0], requires_grad=False)
    y = Shift()(x, k)
    k.add_(1.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_custom_op_returning_a_gradient_of_the_wrong_shape_is_named():
    class BadShape(Function):
        def forward(self, x):
            return x * 2.0

        def vjp(self, F, g, x):
            return (np.ones(7),)

    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"'badshape' returned a gradient of shape \(7,\) for "
                                           r"its input 0 of shape \(2,\); a VJP must return"):
        BadShape()(x).sum().backward()


def test_custom_op_without_vjp_says_so():
    class NoVJP(Function):
        def forward(self, x):
            return x * 2.0

    x = f64([1.0])
    y = NoVJP()(x)
    np.testing.assert_array_equal(y.data, [2.0])
    with pytest.raises(NotImplementedError, match="NoVJP.vjp is not implemented"):
        y.sum().backward()


def test_custom_op_composes_with_builtins_in_a_training_step():
    w = f64([[0.5, -0.2], [0.1, 0.3]])
    x = f64([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]], requires_grad=False)
    for _ in range(2):
        loss = (Swish()(x @ w) ** 2).mean()
        w.grad = None
        loss.backward()
        with ag.no_grad():
            w -= w.grad * 0.1
    assert ag.gradcheck(lambda m: (Swish()(x @ m) ** 2).mean(), [w])


def test_calling_a_function_on_a_non_tensor_says_how_to_wrap_it():
    from autograd.ops.elementwise import Mul, Tanh

    with pytest.raises(TypeError, match=r"Tanh: a Function is called on Tensors, got \(float\)"):
        Tanh()(2.0)
    with pytest.raises(TypeError, match=r"got \(Tensor, ndarray\); wrap constants"):
        Mul()(ag.tensor(1.0), np.ones(2))
