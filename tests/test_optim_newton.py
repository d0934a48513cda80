"""optim.Newton: the damped Newton step with the engine's Hessian."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import optim
from autograd import Tensor


def quadratic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random positive-definite P and a q: the minimum of 1/2 t^T P t + q^T t is -P^-1 q."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    return A @ A.T + 0.5 * np.eye(n), rng.standard_normal(n)


def split_params(n: int, dtype: type, seed: int) -> list[Tensor]:
    """n parameter entries spread over a (2, 2) matrix and a vector, to exercise flattening."""
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal((2, 2)).astype(dtype), requires_grad=True),
            Tensor(rng.standard_normal(n - 4).astype(dtype), requires_grad=True)]


def quadratic_loss(params: list[Tensor], P: np.ndarray, q: np.ndarray) -> Tensor:
    dtype = params[0].dtype
    t = autograd.concatenate([autograd.reshape(p, (-1,)) for p in params])
    return 0.5 * (t * (Tensor(P.astype(dtype)) @ t)).sum() + (Tensor(q.astype(dtype)) * t).sum()


def flat(params: list[Tensor]) -> np.ndarray:
    return np.concatenate([p.data.reshape(-1) for p in params])


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("style", ["returns the loss", "calls backward(create_graph=True)"])
def test_one_step_reaches_the_minimum_of_a_convex_quadratic(dtype, tol, style) -> None:
    n = 7
    P, q = quadratic(n, seed=1)
    params = split_params(n, dtype, seed=2)
    opt = optim.Newton(params)

    def closure() -> Tensor:
        loss = quadratic_loss(params, P, q)
        if style != "returns the loss":
            opt.zero_grad()
            loss.backward(create_graph=True)
        return loss

    before = flat(params).astype(np.float64)
    loss = opt.step(closure)
    minimum = np.linalg.solve(P, -q)
    np.testing.assert_allclose(flat(params), minimum, rtol=tol, atol=tol)
    assert all(p.dtype == dtype for p in params)
    assert loss.item() == pytest.approx(0.5 * before @ P @ before + q @ before, rel=tol * 10)
    if style != "returns the loss":
        # .grad is the closure's (the gradient at the old point), not doubled by step().
        np.testing.assert_allclose(flat([p.grad for p in params]), P @ before + q,
                                   rtol=tol * 10, atol=tol * 10)
    else:
        assert all(p.grad is None for p in params)


@given(seed=st.integers(0, 10_000), n=st.integers(5, 9))
def test_one_step_convergence_for_random_quadratics(seed: int, n: int) -> None:
    P, q = quadratic(n, seed)
    params = split_params(n, np.float64, seed + 1)
    optim.Newton(params).step(lambda: quadratic_loss(params, P, q))
    np.testing.assert_allclose(flat(params), np.linalg.solve(P, -q), rtol=1e-8, atol=1e-8)


def test_damped_step_with_a_learning_rate_matches_the_formula() -> None:
    """f(t) = sum(exp(t)) + 1/2 t^T P t: g = exp(t) + P t, H = diag(exp(t)) + P."""
    n = 5
    P, _ = quadratic(n, seed=3)
    t = Tensor(np.random.default_rng(4).standard_normal(n), requires_grad=True)
    t0 = t.data.copy()
    opt = optim.Newton([t], lr=0.5, damping=0.3)
    opt.step(lambda: autograd.exp(t).sum() + 0.5 * (t * (Tensor(P) @ t)).sum())
    g = np.exp(t0) + P @ t0
    H = np.diag(np.exp(t0)) + P
    want = t0 - 0.5 * np.linalg.solve(H + 0.3 * np.eye(n), g)
    np.testing.assert_allclose(t.data, want, rtol=1e-12)


def test_newton_converges_on_a_non_quadratic_convex_function() -> None:
    t = Tensor(np.array([2.0, -1.5]), requires_grad=True)
    opt = optim.Newton([t])
    for _ in range(8):
        # f = sum(log(1 + exp(t)) - 0.3 t) + 0.1 |t|^2, strictly convex
        opt.step(lambda: (autograd.softplus(t) - 0.3 * t + 0.1 * t * t).sum())
    g = 1 / (1 + np.exp(-t.data)) - 0.3 + 0.2 * t.data
    np.testing.assert_allclose(g, 0.0, atol=1e-12)


def test_too_many_parameters_raise_with_the_cost_explained() -> None:
    w = Tensor(np.zeros((50, 50)), requires_grad=True)
    with pytest.raises(ValueError, match=r"full n x n Hessian \(O\(n\^2\) memory, O\(n\^3\) "
                                         r"time\); these parameters have n = 2500 entries, more "
                                         r"than max_params = 2000"):
        optim.Newton([w])
    opt = optim.Newton([w], max_params=2500)
    assert opt.param_groups[0]["max_params"] == 2500
    with pytest.raises(ValueError, match="n = 10 entries, more than max_params = 9"):
        optim.Newton([Tensor(np.zeros(10), requires_grad=True)], max_params=9)
    with pytest.raises(ValueError, match="Invalid max_params: 0"):
        optim.Newton([w], max_params=0)


def test_a_singular_hessian_without_damping_suggests_damping() -> None:
    a = Tensor(np.array([1.0]), requires_grad=True)
    b = Tensor(np.array([2.0]), requires_grad=True)

    def loss() -> Tensor:
        return ((a + b) ** 2).sum()  # H = [[2, 2], [2, 2]] is singular

    with pytest.raises(RuntimeError, match=r"the Hessian is singular .* pass damping > 0"):
        optim.Newton([a, b]).step(loss)
    np.testing.assert_array_equal([a.item(), b.item()], [1.0, 2.0])
    optim.Newton([a, b], damping=1.0).step(loss)
    # (H + I)^-1 g with g = (6, 6): H + I has eigenvalue 5 along (1, 1), so the step is 6/5.
    np.testing.assert_allclose([a.item(), b.item()], [1.0 - 1.2, 2.0 - 1.2], rtol=1e-12)


def test_parameters_the_loss_does_not_use_are_left_alone() -> None:
    used = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    unused = Tensor(np.array([5.0]), requires_grad=True)
    frozen = Tensor(np.array([7.0]))
    optim.Newton([used, unused, frozen]).step(lambda: (used * used).sum() + frozen.sum())
    np.testing.assert_allclose(used.data, [0.0, 0.0], atol=1e-15)
    assert unused.item() == 5.0 and frozen.item() == 7.0


def test_a_linear_loss_has_a_zero_hessian_and_needs_damping() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="singular"):
        optim.Newton([w]).step(lambda: (w * np.array([3.0, 4.0])).sum())
    optim.Newton([w], damping=2.0).step(lambda: (w * np.array([3.0, 4.0])).sum())
    np.testing.assert_allclose(w.data, [1.0 - 1.5, 2.0 - 2.0])


def test_closure_errors() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Newton([w])
    with pytest.raises(ValueError, match="Newton.step needs a closure"):
        opt.step()
    with pytest.raises(ValueError, match="must return the loss as a one-element Tensor"):
        opt.step(lambda: w * w)
    with pytest.raises(ValueError, match="does not depend on any parameter"):
        opt.step(lambda: Tensor(np.array(1.0)))

    def freed() -> Tensor:
        loss = (w ** 3).sum()
        loss.backward()  # without create_graph the graph is freed
        return loss

    with pytest.raises(RuntimeError, match=r"use loss.backward\(create_graph=True\)"):
        opt.step(freed)


def test_only_one_parameter_group() -> None:
    a = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="Newton takes a single parameter group"):
        optim.Newton([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="Newton takes a single parameter group"):
        optim.Newton([a]).add_param_group({"params": [b]})
    with pytest.raises(ValueError, match="Invalid damping value: -1"):
        optim.Newton([a], damping=-1)


def test_a_non_finite_loss_turns_the_parameters_into_nan() -> None:
    w = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        optim.Newton([w]).step(lambda: (autograd.log(w) ** 2).sum())
    assert np.isnan(w.data).all()


def test_lr_zero_leaves_the_parameters_bit_identical() -> None:
    P, q = quadratic(6, seed=5)
    params = split_params(6, np.float32, seed=6)
    before = [p.data.copy() for p in params]
    optim.Newton(params, lr=0.0).step(lambda: quadratic_loss(params, P, q))
    assert all(p.data.tobytes() == b.tobytes() for p, b in zip(params, before))
