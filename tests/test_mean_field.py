"""nn.mean_field: the length map, its fixed point q*, chi_1 and the edge of chaos."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from nn import mean_field
from nn.mean_field import (
    chi1,
    critical_line,
    critical_point,
    gaussian_expectation,
    length_map,
    q_star,
)

# An independent quadrature for the checks: the trapezoid rule on a fine grid (a power-of-two
# step, so the nodes and the step are exact).
_H = 2.0**-10
_Z = np.arange(-14 * 1024, 14 * 1024 + 1) * _H
_W = np.exp(-0.5 * _Z**2) / math.sqrt(2.0 * math.pi) * _H


def expect_ref(f, q: float) -> float:
    return float(np.dot(_W, f(math.sqrt(q) * _Z)))


def tanh2(x):
    return np.tanh(x) ** 2


def sech4(x):
    return (1.0 - np.tanh(x) ** 2) ** 2


# --------------------------------------------------------------------------- quadrature


@pytest.mark.parametrize("q", [0.0, 0.3, 1.0, 1.7, 4.0, 30.0, 400.0])
def test_gaussian_expectation_matches_a_fine_reference(q: float) -> None:
    for f in (tanh2, sech4):
        assert gaussian_expectation(f, q) == pytest.approx(expect_ref(f, q), abs=1e-13)


@pytest.mark.parametrize("q", [0.5, 1.0, 2.5, 9.0])
def test_gaussian_expectation_of_polynomials_is_exact(q: float) -> None:
    assert gaussian_expectation(lambda x: np.ones_like(x), q) == pytest.approx(1.0, abs=1e-14)
    assert gaussian_expectation(lambda x: x**2, q) == pytest.approx(q, rel=1e-13)
    assert gaussian_expectation(lambda x: x**4, q) == pytest.approx(3 * q**2, rel=1e-12)
    assert gaussian_expectation(lambda x: x**3, q) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- q* and chi_1


@pytest.mark.parametrize("sigma_w2, sigma_b2", [
    (1.0, 0.05), (1.76, 0.05), (0.5, 0.3), (4.0, 0.0), (2.0, 0.0), (1.01, 0.0), (3.0, 1.0),
    (25.0, 0.1), (0.0, 0.7),
])
def test_q_star_is_a_fixed_point_of_the_length_map(sigma_w2: float, sigma_b2: float) -> None:
    q = q_star("tanh", sigma_w2, sigma_b2)
    assert q > 0.0
    assert length_map("tanh", q, sigma_w2, sigma_b2) == pytest.approx(q, abs=1e-10)
    # ... checked with the independent quadrature too.
    assert sigma_w2 * expect_ref(tanh2, q) + sigma_b2 == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.5, 0.05), (0.8, 0.2), (3.0, 0.0), (1.2, 0.0)])
def test_iterating_the_length_map_converges_to_q_star(sigma_w2: float, sigma_b2: float) -> None:
    """q* is where a deep network's squared length settles, from small and large inputs."""
    expected = q_star("tanh", sigma_w2, sigma_b2)
    for q in (0.01, 5.0):
        for _ in range(300):
            q = length_map("tanh", q, sigma_w2, sigma_b2)
        assert q == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("sigma_w2", [0.3, 0.9, 1.0])
def test_without_bias_tanh_signals_die_out_below_sigma_w2_one(sigma_w2: float) -> None:
    assert q_star("tanh", sigma_w2, 0.0) == 0.0
    assert chi1("tanh", sigma_w2, 0.0) == pytest.approx(sigma_w2, abs=1e-15)


def test_just_above_sigma_w2_one_q_star_grows_linearly() -> None:
    # V(q) ~ sigma_w^2 (q - 2 q^2) near 0, so q* ~ (sigma_w^2 - 1) / (2 sigma_w^2).
    q = q_star("tanh", 1.001, 0.0)
    assert q == pytest.approx(0.001 / 2.002, rel=0.01)
    assert length_map("tanh", q, 1.001, 0.0) == pytest.approx(q, abs=1e-14)


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.5, 0.05), (4.0, 0.3), (1.0, 0.5)])
def test_chi1_is_the_mean_squared_slope_at_q_star(sigma_w2: float, sigma_b2: float) -> None:
    q = q_star("tanh", sigma_w2, sigma_b2)
    expected = sigma_w2 * expect_ref(sech4, q)
    assert chi1("tanh", sigma_w2, sigma_b2) == pytest.approx(expected, abs=1e-10)
    assert chi1("tanh", sigma_w2, sigma_b2, q=0.25) == pytest.approx(
        sigma_w2 * expect_ref(sech4, 0.25), abs=1e-12)


def test_phases_on_either_side_of_the_critical_line() -> None:
    assert chi1("tanh", 1.2, 0.05) < 1.0 < chi1("tanh", 2.5, 0.05)


def test_relu_and_linear_have_closed_forms() -> None:
    assert chi1("relu", 2.0, 0.3) == 1.0
    assert chi1("relu", 1.0, 0.0) == 0.5
    assert chi1("linear", 0.8, 0.1) == 0.8
    assert q_star("relu", 1.0, 0.3) == pytest.approx(0.6)  # 0.3 / (1 - 1/2)
    assert q_star("linear", 0.5, 0.3) == pytest.approx(0.6)
    assert q_star("relu", 1.5, 0.0) == 0.0
    assert math.isnan(q_star("relu", 2.0, 0.0))  # every length is a fixed point
    assert q_star("relu", 2.0, 0.1) == math.inf
    assert q_star("relu", 3.0, 0.0) == math.inf
    assert length_map("relu", 4.0, 2.0, 0.0) == pytest.approx(4.0)
    assert length_map("relu", 4.0, 1.0, 0.5) == pytest.approx(2.5)


def test_length_map_takes_arrays() -> None:
    qs = np.array([[0.0, 0.5], [1.0, 3.0]])
    out = length_map("tanh", qs, 2.0, 0.1)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[2.0 * expect_ref(tanh2, q) + 0.1 for q in row]
                                     for row in qs], atol=1e-12)
    assert isinstance(length_map("tanh", 0.5, 2.0, 0.1), float)


# --------------------------------------------------------------------------- the edge of chaos


def test_tanh_without_bias_is_critical_at_sigma_w2_one() -> None:
    point = critical_point("tanh", 0.0)
    assert point == (1.0, 0.0, 0.0, 1.0)
    assert (point.sigma_w2, point.sigma_b2, point.q_star, point.chi1) == (1.0, 0.0, 0.0, 1.0)


@given(sigma_b2=st.floats(1e-4, 3.0))
def test_critical_point_has_chi1_one_at_its_fixed_point(sigma_b2: float) -> None:
    point = critical_point("tanh", sigma_b2)
    assert point.sigma_b2 == sigma_b2
    assert point.chi1 == pytest.approx(1.0, abs=1e-9)
    assert chi1("tanh", point.sigma_w2, sigma_b2) == pytest.approx(1.0, abs=1e-6)
    assert q_star("tanh", point.sigma_w2, sigma_b2) == pytest.approx(point.q_star, rel=1e-8)
    # Independent quadrature: q* = V(q*) and chi_1 = 1.
    assert point.sigma_w2 * expect_ref(tanh2, point.q_star) + sigma_b2 == pytest.approx(
        point.q_star, abs=1e-9)
    assert point.sigma_w2 * expect_ref(sech4, point.q_star) == pytest.approx(1.0, abs=1e-9)


def test_tanh_critical_values() -> None:
    point = critical_point("tanh", 0.05)
    assert point.sigma_w2 == pytest.approx(1.76095464, abs=1e-8)
    assert point.q_star == pytest.approx(0.57004788, abs=1e-8)


def test_the_documented_table_is_what_the_module_computes() -> None:
    rows = re.findall(r"^\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s*$", mean_field.__doc__,
                      flags=re.M)
    assert len(rows) >= 6
    for sigma_b2, sigma_w2, q in rows:
        point = critical_point("tanh", float(sigma_b2))
        assert point.sigma_w2 == pytest.approx(float(sigma_w2), abs=1e-8), sigma_b2
        assert point.q_star == pytest.approx(float(q), abs=1e-8), sigma_b2


@pytest.mark.parametrize("sigma_b2", [0.0, 0.1, 1.0])
def test_relu_is_critical_at_he_initialization(sigma_b2: float) -> None:
    point = critical_point("relu", sigma_b2)
    assert point.sigma_w2 == 2.0
    assert point.chi1 == 1.0
    assert chi1("relu", point.sigma_w2, sigma_b2) == 1.0
    assert math.isnan(point.q_star) if sigma_b2 == 0.0 else point.q_star == math.inf
    assert critical_point("linear", sigma_b2).sigma_w2 == 1.0


def test_critical_line_is_increasing() -> None:
    line = critical_line("tanh", np.linspace(0.0, 2.0, 15))
    assert line.sigma_b2.shape == line.sigma_w2.shape == line.q_star.shape == (15,)
    assert line.sigma_w2[0] == 1.0 and line.q_star[0] == 0.0
    assert np.all(np.diff(line.sigma_w2) > 0)
    assert np.all(np.diff(line.q_star) > 0)
    assert line.sigma_w2[-1] == pytest.approx(critical_point("tanh", 2.0).sigma_w2)
    relu = critical_line("relu", [0.0, 0.5])
    np.testing.assert_array_equal(relu.sigma_w2, [2.0, 2.0])


def test_a_wide_random_network_follows_the_theory() -> None:
    """Finite-width check: a 500-unit tanh network at the critical point settles at q*, and two
    nearby inputs converge in the ordered phase and separate in the chaotic one."""
    rng = np.random.default_rng(0)
    n, depth = 500, 20

    def run(sigma_w2: float, sigma_b2: float, inputs: np.ndarray) -> tuple[list, np.ndarray]:
        h = inputs
        lengths = []
        for _ in range(depth):
            w = rng.standard_normal((n, n)) * math.sqrt(sigma_w2 / n)
            b = rng.standard_normal(n) * math.sqrt(sigma_b2)
            h = np.tanh(h) @ w.T + b
            lengths.append(float(np.mean(h[0] ** 2)))
        return lengths, h

    x = rng.standard_normal(n) * 2.0
    nearby = np.stack([x, x + 1e-3 * rng.standard_normal(n)])
    point = critical_point("tanh", 0.05)
    lengths, _ = run(point.sigma_w2, 0.05, nearby)
    assert np.mean(lengths[-10:]) == pytest.approx(point.q_star, rel=0.1)

    def separation(sigma_w2: float) -> float:
        _, h = run(sigma_w2, 0.05, nearby)
        return float(np.linalg.norm(h[0] - h[1]))

    start = float(np.linalg.norm(nearby[0] - nearby[1]))
    assert chi1("tanh", 1.0, 0.05) < 1.0 and separation(1.0) < 0.1 * start
    assert chi1("tanh", 6.0, 0.05) > 1.0 and separation(6.0) > 10.0 * start


def test_init_reexports_the_helpers() -> None:
    assert nn.init.critical_point is critical_point
    assert nn.init.q_star is q_star
    assert nn.init.chi1 is chi1


# --------------------------------------------------------------------------- errors


def test_unknown_activation() -> None:
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'; expected one of 'tanh'"):
        critical_point("sigmoid")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        q_star("gelu", 1.0, 0.0)


@pytest.mark.parametrize("call, message", [
    (lambda: q_star("tanh", -1.0, 0.0), "sigma_w2 must be a finite number >= 0, got -1.0"),
    (lambda: chi1("tanh", 1.0, math.nan), "sigma_b2 must be a finite number >= 0, got nan"),
    (lambda: critical_point("tanh", math.inf), "sigma_b2 must be a finite number >= 0, got inf"),
    (lambda: chi1("tanh", 1.0, 0.0, q=-0.5), "q must be a finite number >= 0, got -0.5"),
    (lambda: length_map("tanh", [1.0, -2.0], 1.0, 0.0), "q must be finite and >= 0"),
])
def test_invalid_variances(call, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_q_star_reports_non_convergence() -> None:
    with pytest.raises(RuntimeError, match="q_star: no convergence in 1 iterations"):
        q_star("tanh", 2.0, 0.1, tol=1e-15, max_iter=1)
