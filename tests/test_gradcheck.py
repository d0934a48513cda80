"""gradcheck, gradgradcheck and check_graph: passing on correct code, naming what is wrong."""

import numpy as np
import pytest

import autograd as ag
from autograd import Function
from autograd.ops.convert import raw


def f64(values, requires_grad=True):
    return ag.tensor(values, dtype=np.float64, requires_grad=requires_grad)


class WrongSquare(Function):
    """y = x^2 with a wrong VJP (g * x instead of 2 g x): the error gradcheck must catch."""

    def forward(self, x):
        return x * x

    def vjp(self, F, g, x):
        return (g * x,)


class ConstantSlopeSquare(Function):
    """y = x^2 with a first derivative that is right but not differentiable in x (a mask-like
    constant), so second derivatives are wrong: the error only gradgradcheck catches."""

    def forward(self, x):
        return x * x

    def vjp(self, F, g, x):
        return (g * (2.0 * raw(x)),)


class BrokenScale(Function):
    """y = 3 x with a VJP that forgets the factor 3 (a typical custom-op bug)."""

    def forward(self, x):
        return 3.0 * x

    def vjp(self, F, g, x):
        return (g,)


# ---------------------------------------------------------------------------------------------
# gradcheck


def test_gradcheck_passes_for_correct_functions():
    rng = np.random.default_rng(0)
    x = f64(rng.standard_normal((2, 3)))
    y = f64(rng.standard_normal(3))
    w = f64(rng.standard_normal((3, 2)))
    assert ag.gradcheck(lambda a, b: ag.sin(a) * b + a ** 2, [x, y]) is True
    assert ag.gradcheck(lambda a, m: ag.tanh(a @ m).sum(), [x, w]) is True
    assert ag.gradcheck(lambda a: ag.softmax(a, axis=-1), x) is True
    assert ag.gradcheck(lambda a: (ag.exp(a), a.sum(axis=0)), [x]) is True


def test_gradcheck_skips_inputs_that_do_not_require_grad():
    x = f64([1.0, 2.0])
    c = f64([3.0, 4.0], requires_grad=False)
    assert ag.gradcheck(lambda a, b: a * b, [x, c])


def test_gradcheck_error_names_input_element_and_both_values():
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(ag.GradcheckError, match=r"gradient mismatch for input 0 at element "
                                                r"\(0,\) \(output element 0\): analytical 1, "
                                                r"numerical 2\b"):
        ag.gradcheck(lambda a: WrongSquare()(a), [x])


def test_gradcheck_error_names_the_right_input_and_a_multi_dimensional_index():
    x = f64(np.ones((2, 3)))
    y = f64([[0.0, 0.0, 0.0], [0.0, 0.0, 2.5]])

    def fn(a, b):
        return (a * 1.0).sum() + WrongSquare()(b).sum()

    with pytest.raises(ag.GradcheckError, match=r"input 1 at element \(1, 2\).*analytical 2.5, "
                                                r"numerical 5\b"):
        ag.gradcheck(fn, [x, y])


def test_gradcheck_error_is_a_runtime_error_subclass():
    assert issubclass(ag.GradcheckError, RuntimeError)
    with pytest.raises(RuntimeError, match="gradient mismatch"):
        ag.gradcheck(lambda a: BrokenScale()(a).sum(), [f64([1.0])])


def test_gradcheck_warns_on_float32_inputs():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="input 0 is float32, not float64; finite differences"):
        ag.gradcheck(lambda a: a * 2.0, [x], eps=1e-2, atol=1e-2)


def test_gradcheck_without_any_input_requiring_grad_raises():
    with pytest.raises(ValueError, match="no input requires grad"):
        ag.gradcheck(lambda a: a * 2.0, [f64([1.0], requires_grad=False)])


def test_gradcheck_leaves_inputs_and_their_grads_unchanged():
    x = f64([0.3, -0.7])
    before = x.data.copy()
    ag.gradcheck(lambda a: ag.exp(a).sum(), [x])
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_tolerances_are_respected():
    # A VJP that is off by 1e-4 relative passes a loose check and fails a strict one.
    class AlmostIdentity(Function):
        def forward(self, x):
            return x.copy()

        def vjp(self, F, g, x):
            return (g * (1.0 + 1e-4),)

    x = f64([1.0, 2.0])
    assert ag.gradcheck(lambda a: AlmostIdentity()(a), [x], rtol=1e-3)
    with pytest.raises(ag.GradcheckError, match=r"analytical 1.0001, numerical 1\b"):
        ag.gradcheck(lambda a: AlmostIdentity()(a), [x], rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# gradgradcheck


def test_gradgradcheck_passes_for_correct_functions():
    rng = np.random.default_rng(1)
    x = f64(rng.standard_normal(3))
    m = f64(rng.standard_normal((3, 3)))
    assert ag.gradgradcheck(lambda a: a ** 3, [x])
    assert ag.gradgradcheck(lambda a, b: ag.tanh(b @ a), [x, m])
    assert ag.gradgradcheck(lambda a: ag.sigmoid(a).sum(), x)


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable():
    x = f64([0.5, -1.5])
    assert ag.gradcheck(lambda a: ConstantSlopeSquare()(a), [x])  # first order is right
    with pytest.raises(ag.GradcheckError, match=r"^gradgradcheck: gradient mismatch for input 0"):
        ag.gradgradcheck(lambda a: ConstantSlopeSquare()(a), [x])


def test_gradgradcheck_with_given_grad_outputs():
    x = f64([1.0, 2.0])
    v = f64([1.0, -1.0])
    assert ag.gradgradcheck(lambda a: ag.sin(a) * a, [x], grad_outputs=[v])


# ---------------------------------------------------------------------------------------------
# check_graph


def mlp(x, w1, b1, w2, b2, scale_op=None):
    h = ag.relu(x @ w1 + b1)
    if scale_op is not None:
        h = scale_op(h)
    logits = h @ w2 + b2
    return ag.log_softmax(logits, axis=-1).mean() + (w1 * w1).sum() * 1e-3


def mlp_params(dtype=np.float32):
    rng = np.random.default_rng(3)
    shapes = [(8, 5), (5, 6), (6,), (6, 3), (3,)]
    x, w1, b1, w2, b2 = (ag.tensor(rng.standard_normal(s).astype(dtype)) for s in shapes)
    for p in (w1, b1, w2, b2):
        p.requires_grad_()
    return x, w1, b1, w2, b2


def test_check_graph_passes_on_a_correct_mlp_graph():
    loss = mlp(*mlp_params())
    n = ag.check_graph(loss)
    assert n == len(ag.toposort([loss.grad_fn]))
    assert n >= 8


def test_check_graph_works_after_backward_and_in_float64():
    loss = mlp(*mlp_params(np.float64))
    loss.backward()
    assert ag.check_graph(loss) > 0


def test_check_graph_names_the_broken_custom_op():
    loss = mlp(*mlp_params(), scale_op=lambda h: BrokenScale()(h))
    order = ag.toposort([loss.grad_fn])[::-1]
    position = next(i for i, node in enumerate(order) if node.name == "brokenscale") + 1
    expected = (rf"check_graph: the VJP of 'brokenscale' \(op {position} of {len(order)} in "
                r"forward order, inputs of shapes \(8, 6\)\) is wrong for input 0")
    with pytest.raises(ag.GradcheckError, match=expected):
        ag.check_graph(loss)


def test_check_graph_reports_the_first_wrong_op_in_forward_order():
    x = f64([0.5, 1.5])
    y = WrongSquare()(BrokenScale()(x))
    with pytest.raises(ag.GradcheckError, match="'brokenscale' \\(op 1 of 3"):
        ag.check_graph(y.sum())


def test_check_graph_on_a_leaf_raises():
    with pytest.raises(ValueError, match="no recorded graph"):
        ag.check_graph(f64([1.0]))
