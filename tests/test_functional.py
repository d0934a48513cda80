"""autograd.functional: vjp, jvp, jacobian, hessian, hvp with PyTorch's return structures."""

import numpy as np
import pytest

import autograd as ag
from autograd import functional as AF

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
S = RNG.standard_normal((4, 4))
S = S + S.T


def f64(values, requires_grad=False):
    return ag.tensor(values, dtype=np.float64, requires_grad=requires_grad)


def linear_tanh(x):
    """y = tanh(A x);  J = diag(1 - y^2) A"""
    return ag.tanh(f64(A) @ x)


def jac_linear_tanh(xv):
    y = np.tanh(A @ xv)
    return (1 - y ** 2)[:, None] * A


def quadratic(x):
    """f = x^T S x / 2 + sum(x^3);  grad = S x + 3 x^2,  H = S + diag(6 x)"""
    return (x * (f64(S) @ x)).sum() * 0.5 + (x ** 3).sum()


def hess_quadratic(xv):
    return S + np.diag(6 * xv)


def two_in_one_out(x, y):
    """f = sum(x^2 * y);  df/dx = 2 x y,  df/dy = x^2"""
    return (x * x * y).sum()


def one_in_two_out(x):
    """(sin x, x.sum()^2)"""
    return ag.sin(x), x.sum() ** 2


XV = RNG.standard_normal(4)


# ---------------------------------------------------------------------------------------------
# vjp


def test_vjp_single_input_single_output():
    v = RNG.standard_normal(3)
    out, g = AF.vjp(linear_tanh, f64(XV), f64(v))
    assert isinstance(out, ag.Tensor) and isinstance(g, ag.Tensor)
    np.testing.assert_allclose(out.data, np.tanh(A @ XV), rtol=1e-12)
    np.testing.assert_allclose(g.data, v @ jac_linear_tanh(XV), rtol=1e-12)
    assert out.grad_fn is None and g.grad_fn is None


def test_vjp_of_a_scalar_function_defaults_v_to_one():
    out, g = AF.vjp(quadratic, f64(XV))
    np.testing.assert_allclose(out.item(), 0.5 * XV @ S @ XV + (XV ** 3).sum(), rtol=1e-12)
    np.testing.assert_allclose(g.data, S @ XV + 3 * XV ** 2, rtol=1e-12)


def test_vjp_tuple_inputs_give_a_tuple_of_gradients():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    out, gs = AF.vjp(two_in_one_out, (x, y), f64(1.0))
    assert isinstance(out, ag.Tensor)
    assert isinstance(gs, tuple) and len(gs) == 2
    np.testing.assert_allclose(gs[0].data, [6.0, -4.0])
    np.testing.assert_allclose(gs[1].data, [1.0, 4.0])


def test_vjp_tuple_outputs_take_a_tuple_of_vectors():
    x = f64([0.5, 1.0, 2.0])
    outs, g = AF.vjp(one_in_two_out, x, (f64([1.0, 0.0, 2.0]), f64(3.0)))
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_allclose(outs[0].data, np.sin(x.data))
    assert outs[1].item() == pytest.approx(3.5 ** 2)
    expected = np.cos(x.data) * [1.0, 0.0, 2.0] + 3.0 * 2 * 3.5
    np.testing.assert_allclose(g.data, expected, rtol=1e-12)


def test_vjp_leaves_the_callers_tensors_alone():
    x = f64(XV, requires_grad=True)
    AF.vjp(quadratic, x)
    assert x.grad is None


def test_vjp_without_v_for_a_non_scalar_output_raises():
    with pytest.raises(RuntimeError, match="v can be omitted only when the output is a scalar"):
        AF.vjp(linear_tanh, f64(XV))


def test_vjp_of_an_unused_input_is_zero():
    out, gs = AF.vjp(lambda x, y: (x * 2.0).sum(), (f64([1.0]), f64([1.0, 2.0])))
    np.testing.assert_array_equal(gs[1].data, [0.0, 0.0])


def test_vjp_create_graph_is_differentiable():
    x = f64(XV)
    _, g = AF.vjp(quadratic, x, create_graph=True)
    assert g.requires_grad
    _, hv = AF.vjp(lambda x_: AF.vjp(quadratic, x_, create_graph=True)[1], x, f64(np.ones(4)))
    np.testing.assert_allclose(hv.data, hess_quadratic(XV) @ np.ones(4), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# jvp


def test_jvp_single_input_single_output():
    u = RNG.standard_normal(4)
    out, jv = AF.jvp(linear_tanh, f64(XV), f64(u))
    np.testing.assert_allclose(out.data, np.tanh(A @ XV), rtol=1e-12)
    np.testing.assert_allclose(jv.data, jac_linear_tanh(XV) @ u, rtol=1e-12)
    assert jv.shape == (3,)


def test_jvp_tuple_inputs_and_outputs():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    u, w = f64([1.0, 0.0]), f64([0.0, 1.0])
    out, jv = AF.jvp(lambda a, b: (a * b, (a ** 2).sum()), (x, y), (u, w))
    assert isinstance(out, tuple) and isinstance(jv, tuple) and len(jv) == 2
    # d(a*b) = u*b + a*w,  d(sum a^2) = 2 a . u
    np.testing.assert_allclose(jv[0].data, [3.0, 2.0])
    assert jv[1].item() == pytest.approx(2.0)


def test_jvp_of_a_scalar_input_defaults_v_to_one():
    out, jv = AF.jvp(lambda x: x ** 3, f64(2.0))
    assert out.item() == 8.0
    assert jv.item() == pytest.approx(12.0)


def test_jvp_without_v_for_a_non_scalar_input_raises():
    with pytest.raises(RuntimeError, match="v can be omitted only when the input is a scalar"):
        AF.jvp(linear_tanh, f64(XV))


# ---------------------------------------------------------------------------------------------
# jacobian


def test_jacobian_single_input_single_output():
    j = AF.jacobian(linear_tanh, f64(XV))
    assert isinstance(j, ag.Tensor)
    assert j.shape == (3, 4)
    np.testing.assert_allclose(j.data, jac_linear_tanh(XV), rtol=1e-12)
    assert j.requires_grad is False


def test_jacobian_shape_is_output_shape_then_input_shape():
    x = f64(RNG.standard_normal((2, 3)))
    j = AF.jacobian(lambda t: t.T * 2.0, x)
    assert j.shape == (3, 2, 2, 3)
    expected = np.zeros((3, 2, 2, 3))
    for i in range(3):
        for k in range(2):
            expected[i, k, k, i] = 2.0
    np.testing.assert_array_equal(j.data, expected)


def test_jacobian_tuple_inputs_give_a_tuple():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    jx, jy = AF.jacobian(lambda a, b: a * b, (x, y))
    np.testing.assert_array_equal(jx.data, np.diag([3.0, -1.0]))
    np.testing.assert_array_equal(jy.data, np.diag([1.0, 2.0]))


def test_jacobian_tuple_outputs_give_a_tuple():
    x = f64([0.5, 1.0, 2.0])
    j_sin, j_sq = AF.jacobian(one_in_two_out, x)
    np.testing.assert_allclose(j_sin.data, np.diag(np.cos(x.data)), rtol=1e-12)
    assert j_sq.shape == (3,)
    np.testing.assert_allclose(j_sq.data, np.full(3, 7.0))


def test_jacobian_tuple_inputs_and_outputs_give_a_tuple_of_tuples():
    x, y = f64([1.0, 2.0]), f64(3.0)
    j = AF.jacobian(lambda a, b: (a * b, a.sum() + b), (x, y))
    assert isinstance(j, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in j)
    np.testing.assert_array_equal(j[0][0].data, np.diag([3.0, 3.0]))
    np.testing.assert_array_equal(j[0][1].data, [1.0, 2.0])
    np.testing.assert_array_equal(j[1][0].data, [1.0, 1.0])
    assert j[1][1].item() == 1.0


def test_jacobian_of_an_unused_input_is_zero():
    jx, jy = AF.jacobian(lambda a, b: a * 2.0, (f64([1.0, 2.0]), f64([5.0])))
    np.testing.assert_array_equal(jy.data, np.zeros((2, 1)))


def test_jacobian_create_graph():
    x = f64([1.0, 2.0], requires_grad=True)
    j = AF.jacobian(lambda t: t ** 3, x, create_graph=True)
    assert j.requires_grad
    (g,) = ag.grad(j.sum(), x)
    np.testing.assert_allclose(g.data, 6 * x.data)


# ---------------------------------------------------------------------------------------------
# hessian and hvp


def test_hessian_single_input():
    h = AF.hessian(quadratic, f64(XV))
    assert isinstance(h, ag.Tensor)
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h.data, hess_quadratic(XV), rtol=1e-12, atol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_in_in():
    x = f64(RNG.standard_normal((2, 2)))
    h = AF.hessian(lambda t: (t ** 2).sum(), x)
    assert h.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(h.data.reshape(4, 4), 2 * np.eye(4))


def test_hessian_tuple_inputs_give_a_tuple_of_tuples():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    h = AF.hessian(two_in_one_out, (x, y))
    # f = sum x^2 y: d2/dx2 = diag(2y), d2/dxdy = diag(2x), d2/dy2 = 0
    np.testing.assert_allclose(h[0][0].data, np.diag([6.0, -2.0]))
    np.testing.assert_allclose(h[0][1].data, np.diag([2.0, 4.0]))
    np.testing.assert_allclose(h[1][0].data, np.diag([2.0, 4.0]))
    np.testing.assert_allclose(h[1][1].data, np.zeros((2, 2)))


def test_hessian_of_a_non_scalar_function_raises():
    with pytest.raises(RuntimeError, match="must return a single scalar Tensor"):
        AF.hessian(linear_tanh, f64(XV))


def test_hvp_returns_the_value_and_the_product():
    v = RNG.standard_normal(4)
    value, hv = AF.hvp(quadratic, f64(XV), f64(v))
    assert isinstance(value, ag.Tensor) and isinstance(hv, ag.Tensor)
    np.testing.assert_allclose(value.item(), 0.5 * XV @ S @ XV + (XV ** 3).sum(), rtol=1e-12)
    np.testing.assert_allclose(hv.data, hess_quadratic(XV) @ v, rtol=1e-12)
    assert value.grad_fn is None and hv.grad_fn is None


def test_hvp_tuple_inputs():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    u, w = f64([1.0, 1.0]), f64([0.0, 2.0])
    value, (hx, hy) = AF.hvp(two_in_one_out, (x, y), (u, w))
    assert value.item() == pytest.approx(3.0 - 4.0)
    # H = [[diag(2y), diag(2x)], [diag(2x), 0]]
    np.testing.assert_allclose(hx.data, [6.0 * 1 + 2.0 * 0, -2.0 * 1 + 4.0 * 2])
    np.testing.assert_allclose(hy.data, [2.0 * 1, 4.0 * 1])


def test_hvp_of_a_non_scalar_function_raises():
    with pytest.raises(RuntimeError, match="must return a single scalar Tensor"):
        AF.hvp(linear_tanh, f64(XV), f64(np.ones(4)))


def test_functional_transforms_keep_float32():
    x = ag.tensor([1.0, 2.0])
    j = AF.jacobian(lambda t: t * t, x)
    assert j.dtype == np.float32
    _, hv = AF.hvp(lambda t: (t ** 3).sum(), x, ag.ones(2))
    assert hv.dtype == np.float32
    np.testing.assert_allclose(hv.data, [6.0, 12.0])


def test_hvp_of_a_scalar_input_defaults_v_to_one():
    value, hv = AF.hvp(lambda t: t ** 3, f64(2.0))
    assert value.item() == 8.0
    assert hv.item() == pytest.approx(12.0)
    with pytest.raises(RuntimeError, match="v can be omitted only when the input is a single "
                                           "scalar"):
        AF.hvp(quadratic, f64(XV))


def test_hvp_create_graph_is_differentiable_with_respect_to_the_inputs():
    x = f64([1.0, 2.0], requires_grad=True)
    value, hv = AF.hvp(lambda t: (t ** 3).sum(), x, f64([1.0, 1.0]), create_graph=True)
    assert value.requires_grad and hv.requires_grad
    np.testing.assert_allclose(hv.data, [6.0, 12.0])
    hv.sum().backward()  # d/dx sum(6 x) = 6
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])


def test_nested_transforms_differentiate_through_each_other():
    x = f64(XV)

    def gradient(t):
        return AF.vjp(quadratic, t, create_graph=True)[1]

    np.testing.assert_allclose(AF.jacobian(gradient, x).data, hess_quadratic(XV), rtol=1e-12,
                               atol=1e-12)
