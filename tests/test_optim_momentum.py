"""Momentum as the course notes write it, on their example f(x, y) = x^2 + 2 y^2."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optim
from autograd import Tensor

CURVATURE = np.array([2.0, 4.0])  # grad f = (2x, 4y) for f = x^2 + 2y^2


def f(theta: Tensor) -> Tensor:
    return theta[0] ** 2 + 2.0 * theta[1] ** 2


def trajectory(opt_factory, steps: int, start=(1.0, 1.0)) -> np.ndarray:
    theta = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = opt_factory([theta])
    path = [theta.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(theta).backward()
        opt.step()
        path.append(theta.data.copy())
    return np.array(path)


def closed_form(A_of_c, steps: int) -> np.ndarray:
    """Each coordinate's (x_t, u_t) evolves linearly, s_{t+1} = A s_t from s_0 = (1, 0), so
    x_t is the first entry of A^t s_0."""
    path = np.zeros((steps + 1, 2))
    for j, c in enumerate(CURVATURE):
        A = A_of_c(c)
        for t in range(steps + 1):
            path[t, j] = (np.linalg.matrix_power(A, t) @ np.array([1.0, 0.0]))[0]
    return path


def test_notes_example_averaged_momentum_matches_the_closed_form() -> None:
    """u_{t+1} = b u_t + (1-b) c x_t,  x_{t+1} = x_t - a u_{t+1}, lr a = 0.1, b = 0.9."""
    a, b = 0.1, 0.9
    got = trajectory(lambda ps: optim.Momentum(ps, lr=a, beta=b), 60)
    want = closed_form(lambda c: np.array([[1 - a * (1 - b) * c, -a * b],
                                           [(1 - b) * c, b]]), 60)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    # It oscillates (complex eigenvalues: the y coordinate overshoots 0) and converges.
    assert got[:, 1].min() < 0
    assert np.abs(got[-1]).max() < 0.05


def test_notes_example_heavy_ball_sgd_matches_the_closed_form() -> None:
    """SGD(momentum=0.9): b_{t+1} = m b_t + c x_t,  x_{t+1} = x_t - a b_{t+1}."""
    a, m = 0.1, 0.9
    got = trajectory(lambda ps: optim.SGD(ps, lr=a, momentum=m), 60)
    want = closed_form(lambda c: np.array([[1 - a * c, -a * m], [c, m]]), 60)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_first_values_of_the_notes_example() -> None:
    got = trajectory(lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9), 2)
    # u_1 = 0.1 * (2, 4) = (0.2, 0.4); theta_1 = (1, 1) - 0.1 u_1 = (0.98, 0.96)
    # u_2 = 0.9 u_1 + 0.1 * (1.96, 3.84) = (0.376, 0.744); theta_2 = (0.9424, 0.8856)
    np.testing.assert_allclose(got, [[1.0, 1.0], [0.98, 0.96], [0.9424, 0.8856]], rtol=1e-14)


def test_debiased_first_step_equals_plain_gradient_descent() -> None:
    gd = trajectory(lambda ps: optim.SGD(ps, lr=0.1), 1)
    debiased = trajectory(lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9, debias=True), 1)
    biased = trajectory(lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9), 1)
    step_gd = gd[1] - gd[0]
    np.testing.assert_allclose(debiased[1] - debiased[0], step_gd, rtol=1e-14)
    np.testing.assert_allclose(biased[1] - biased[0], (1 - 0.9) * step_gd, rtol=1e-14)
    np.testing.assert_allclose(step_gd, [-0.2, -0.4], rtol=1e-14)


@given(beta=st.floats(0.0, 0.99), lr=st.floats(1e-3, 0.2), debias=st.booleans())
def test_momentum_trajectory_matches_the_notes_loop(beta, lr, debias) -> None:
    steps = 8
    got = trajectory(lambda ps: optim.Momentum(ps, lr=lr, beta=beta, debias=debias), steps)
    theta, u = np.array([1.0, 1.0]), np.zeros(2)
    for t in range(steps):  # t counts the updates made so far, as in the docstring
        u = beta * u + (1 - beta) * CURVATURE * theta
        v = u / (1 - beta ** (t + 1)) if debias else u
        theta = theta - lr * v
        np.testing.assert_allclose(got[t + 1], theta, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("debias", [False, True])
def test_nesterov_evaluates_the_gradient_at_the_look_ahead_point(debias: bool) -> None:
    """u_{t+1} = b u_t + (1-b) grad f(theta_t - a v_t),  theta_{t+1} = theta_t - a v_{t+1};
    the parameters hold the look-ahead point theta_t - a v_t."""
    a, b, steps = 0.1, 0.9, 40
    got = trajectory(lambda ps: optim.Momentum(ps, lr=a, beta=b, nesterov=True,
                                               debias=debias), steps)
    theta, u, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    for t in range(steps):
        look_ahead = theta - a * v
        np.testing.assert_allclose(got[t], look_ahead, rtol=1e-10, atol=1e-14)
        u = b * u + (1 - b) * CURVATURE * look_ahead
        v = u / (1 - b ** (t + 1)) if debias else u
        theta = theta - a * v
    np.testing.assert_allclose(got[steps], theta - a * v, rtol=1e-10, atol=1e-14)
    assert np.abs(theta).max() < 0.05


def test_nesterov_damps_the_oscillation_of_plain_momentum() -> None:
    plain = trajectory(lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9), 30)
    nesterov = trajectory(lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9, nesterov=True), 30)
    assert np.abs(nesterov[-1]).max() < np.abs(plain[-1]).max()


def test_momentum_state_is_the_average_and_the_step_count() -> None:
    theta = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    opt = optim.Momentum([theta], lr=0.1, beta=0.9)
    f(theta).backward()
    opt.step()
    assert opt.state[theta]["step"] == 1
    np.testing.assert_allclose(opt.state[theta]["momentum_buffer"], [0.2, 0.4], rtol=1e-14)
