"""Signal propagation through deep random networks: the mean-field theory of Poole et al. (2016,
"Exponential expressivity in deep neural networks through transient chaos") and Schoenholz et
al. (2017, "Deep information propagation").

Take a deep fully connected network h^l = W^l phi(h^{l-1}) + b^l with N-wide layers, weights
W_ij ~ N(0, sigma_w^2 / N) and biases b_i ~ N(0, sigma_b^2). For large N the pre-activations of
layer l are Gaussian with second moment q_l (the squared length of the signal per unit), and

    length map      q_l = V(q_{l-1}) = sigma_w^2 E_z[phi(sqrt(q_{l-1}) z)^2] + sigma_b^2,

with z ~ N(0, 1). Iterated over depth, q_l converges to a fixed point q* = V(q*) (here: the
stable one). Two inputs at that length with correlation c keep a correlation whose slope at
c = 1 is

    chi_1 = sigma_w^2 E_z[phi'(sqrt(q*) z)^2].

chi_1 < 1 is the *ordered* phase (nearby inputs converge, gradients vanish with depth),
chi_1 > 1 the *chaotic* phase (nearby inputs decorrelate, gradients explode); at chi_1 = 1,
the *edge of chaos*, signals and gradients travel through many layers, which is where very deep
networks can be trained from a random start. `critical_point` finds the sigma_w^2 with chi_1 = 1
for a given sigma_b^2; `critical_line` traces it for plotting the phase diagram.

Numbers for tanh (computed by this module; q* and chi_1 at the critical point)::

    sigma_b^2   critical sigma_w^2   q*
    0           1                    0          (the signal dies out: q* = 0)
    0.001       1.18918959           0.10729236
    0.01        1.42420529           0.27330091
    0.05        1.76095464           0.57004788
    0.1         1.98607264           0.80579918
    0.2         2.28515247           1.16449629
    0.5         2.84316746           1.97103061
    1.0         3.44321091           3.03639639

So with tanh and no bias, Xavier's sigma_w^2 = 1 (fan_in = fan_out, gain 1) is exactly
critical, though with q* = 0: the signal's length shrinks towards zero with depth. Any bias moves
the critical point to larger weights, e.g. sigma_b^2 = 0.05 needs sigma_w^2 ~ 1.76. The tanh gain
5/3 of `calculate_gain` gives sigma_w^2 = 25/9 ~ 2.78: chaotic, chi_1 ~ 1.21 (q* ~ 1.18) at
sigma_b^2 = 0.

ReLU and linear networks are homogeneous: E[phi(sqrt(q) z)^2] = g q and E[phi'^2] = g with
g = 1/2 (ReLU) or 1 (linear), so V(q) = sigma_w^2 g q + sigma_b^2 is linear and chi_1 =
sigma_w^2 g does not depend on q. The critical point is sigma_w^2 = 1/g: 2 for ReLU (He
initialization), 1 for linear, whatever sigma_b^2. There q* is degenerate: at sigma_b^2 = 0
every length is a fixed point (the network keeps the input's length, reported as q* = nan),
and for sigma_b^2 > 0 the length grows without bound (q* = inf).

Gaussian expectations E_z[f(sqrt(q) z)] use 200-point Gauss-Hermite quadrature
(`numpy.polynomial.hermite_e.hermegauss`) for q <= 1, where it is exact to double precision for
these integrands. For larger q, tanh(sqrt(q) z) has poles at z = +-i pi / (2 sqrt(q)), closer
to the real axis as q grows, which fixed Hermite nodes cannot resolve (and numpy's hermegauss
is unstable beyond about 300 nodes): there the trapezoid rule on |z| <= 12 with a step
h = min(0.05, 0.25 / sqrt(q)) is used, whose error for such analytic, fast-decaying integrands
is about exp(-pi^2 / (h sqrt(q))) < 1e-17.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

__all__ = ["ACTIVATIONS", "CriticalLine", "CriticalPoint", "chi1", "critical_line",
           "critical_point", "gaussian_expectation", "length_map", "q_star"]

#: The activations this module knows.
ACTIVATIONS = ("tanh", "relu", "linear")

# Homogeneous activations: E[phi(sqrt(q) z)^2] = g q and E[phi'(sqrt(q) z)^2] = g.
_GAIN = {"relu": 0.5, "linear": 1.0}

_HERMITE_POINTS = 200
_HERMITE_MAX_Q = 1.0
_TRAPEZOID_HALF_WIDTH = 12.0  # N(0, 1) density at 12 is 5e-32
_TRAPEZOID_MIN_STEP = 1e-4  # at most 240,001 nodes; accuracy degrades beyond q ~ 1e6
_EPS = float(np.finfo(np.float64).eps)


class CriticalPoint(NamedTuple):
    """The edge of chaos for one sigma_b^2: chi_1(sigma_w2, sigma_b2) = 1 at length q*."""

    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi1: float


class CriticalLine(NamedTuple):
    """Critical points along sigma_b^2 (arrays of the same length, for plotting)."""

    sigma_b2: np.ndarray
    sigma_w2: np.ndarray
    q_star: np.ndarray


# ---------------------------------------------------------------------------------------------
# Gaussian expectations
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _hermite_rule() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = hermegauss(_HERMITE_POINTS)
    # hermegauss integrates against exp(-z^2 / 2); divide by sqrt(2 pi) for the N(0, 1) density.
    return nodes, weights / math.sqrt(2.0 * math.pi)


@lru_cache(maxsize=64)
def _trapezoid_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    step = _TRAPEZOID_HALF_WIDTH / n
    nodes = np.arange(-n, n + 1) * step
    return nodes, step * np.exp(-0.5 * nodes * nodes) / math.sqrt(2.0 * math.pi)


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """E_z[f(sqrt(q) z)] for z ~ N(0, 1), with `f` a vectorized numpy function (q >= 0).

    Gauss-Hermite quadrature (200 nodes) for q <= 1, the trapezoid rule with a step shrinking
    like 1 / sqrt(q) above (see the module docstring).
    """
    if q <= _HERMITE_MAX_Q:
        nodes, weights = _hermite_rule()
    else:
        step = max(min(0.05, 0.25 / math.sqrt(q)), _TRAPEZOID_MIN_STEP)
        # Round the number of nodes up to a power of two, so few distinct rules are cached.
        n = 1 << math.ceil(math.log2(_TRAPEZOID_HALF_WIDTH / step))
        nodes, weights = _trapezoid_rule(n)
    return float(np.dot(weights, f(math.sqrt(q) * nodes)))


def _tanh_sq(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return t * t


def _dtanh_sq(x: np.ndarray) -> np.ndarray:
    # tanh'(x) = 1 - tanh(x)^2 = sech(x)^2; its square is sech(x)^4.
    t = np.tanh(x)
    d = 1.0 - t * t
    return d * d


def _second_moments(activation: str, q: float) -> tuple[float, float]:
    """(E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2])."""
    if activation in _GAIN:
        g = _GAIN[activation]
        return g * q, g
    return gaussian_expectation(_tanh_sq, q), gaussian_expectation(_dtanh_sq, q)


# ---------------------------------------------------------------------------------------------
# argument checks and root finding
# ---------------------------------------------------------------------------------------------


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of "
                         + ", ".join(repr(a) for a in ACTIVATIONS))
    return activation


def _check_variance(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _brentq(f: Callable[[float], float], a: float, b: float, fa: float, fb: float,
            xtol: float, max_iter: int, what: str) -> float:
    """A root of `f` in [a, b] (f(a), f(b) of opposite signs) by Brent's method: inverse
    quadratic interpolation or secant steps while they shrink the bracket fast enough,
    bisection otherwise. Stops when the bracket is below xtol + 4 eps |x|."""
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    xpre, xcur, fpre, fcur = a, b, fa, fb
    xblk, fblk, spre, scur = 0.0, 0.0, 0.0, 0.0
    for _ in range(max_iter):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0.0) != (fcur < 0.0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = 0.5 * (xtol + 4.0 * _EPS * abs(xcur))
        sbis = 0.5 * (xblk - xcur)
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # secant
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # inverse quadratic interpolation
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0.0 else -delta)
        fcur = f(xcur)
    raise RuntimeError(f"{what}: no convergence in {max_iter} iterations (bracket around "
                       f"{xcur!r}); raise max_iter or tol")


# ---------------------------------------------------------------------------------------------
# the length map, its fixed point, chi_1
# ---------------------------------------------------------------------------------------------


def length_map(activation: str, q: float | np.ndarray, sigma_w2: float,
               sigma_b2: float) -> float | np.ndarray:
    """One layer of the length map: V(q) = sigma_w^2 E_z[phi(sqrt(q) z)^2] + sigma_b^2.

    `q` may be an array (e.g. to plot V against the identity and see the fixed point).
    """
    _check_activation(activation)
    sigma_w2 = _check_variance("sigma_w2", sigma_w2)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)
    qs = np.asarray(q, dtype=np.float64)
    if np.any(qs < 0.0) or not np.all(np.isfinite(qs)):
        raise ValueError("length_map: q must be finite and >= 0")
    out = np.array([sigma_w2 * _second_moments(activation, float(v))[0] + sigma_b2
                    for v in qs.ravel()]).reshape(qs.shape)
    return float(out) if out.ndim == 0 else out


def q_star(activation: str, sigma_w2: float, sigma_b2: float, tol: float = 1e-10,
           max_iter: int = 200) -> float:
    """The stable fixed point q* = V(q*) of the length map: the squared length per unit that
    the pre-activations of a deep network settle at, from any nonzero input.

    For tanh, V is increasing and concave with V(0) = sigma_b^2, so for sigma_b^2 > 0 the fixed
    point is unique (found by Brent's method to `tol`, absolute, in at most `max_iter` steps).
    With sigma_b^2 = 0, q = 0 is a fixed point; it is the stable one when sigma_w^2 <= 1 (then
    q* = 0) and unstable otherwise (then q* is the positive root).

    For ReLU/linear (V(q) = sigma_w^2 g q + sigma_b^2, g = 1/2 or 1): q* = sigma_b^2 /
    (1 - sigma_w^2 g) when sigma_w^2 g < 1; inf when the length grows without bound
    (sigma_w^2 g > 1, or = 1 with sigma_b^2 > 0); nan at sigma_w^2 g = 1 with sigma_b^2 = 0,
    where every length is a fixed point.
    """
    _check_activation(activation)
    sigma_w2 = _check_variance("sigma_w2", sigma_w2)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)
    if activation in _GAIN:
        slope = sigma_w2 * _GAIN[activation]
        if slope < 1.0:
            return sigma_b2 / (1.0 - slope)
        return math.nan if slope == 1.0 and sigma_b2 == 0.0 else math.inf
    if sigma_w2 == 0.0:
        return sigma_b2

    def gap(q: float) -> float:
        return sigma_w2 * gaussian_expectation(_tanh_sq, q) + sigma_b2 - q

    # tanh^2 < 1, so V(q) < sigma_w^2 + sigma_b^2 = hi <= q for q >= hi: the root lies below hi.
    hi = sigma_w2 + sigma_b2
    lo, g_lo = 0.0, sigma_b2
    if sigma_b2 == 0.0:
        # tanh(x)^2 < x^2 makes V(q) < sigma_w^2 q <= q for every q > 0 when sigma_w^2 <= 1.
        if sigma_w2 <= 1.0:
            return 0.0
        # Otherwise V(q) - q ~ (sigma_w^2 - 1) q > 0 near 0: walk down to a positive gap.
        lo = hi
        g_lo = gap(lo)
        while g_lo <= 0.0:
            lo *= 0.5
            if lo < 1e-300:
                return 0.0
            g_lo = gap(lo)
    return _brentq(gap, lo, hi, g_lo, gap(hi), tol, max_iter, "q_star")


def chi1(activation: str, sigma_w2: float, sigma_b2: float, q: float | None = None) -> float:
    """chi_1 = sigma_w^2 E_z[phi'(sqrt(q) z)^2] at the fixed point q = q* (or at a given `q`).

    chi_1 < 1: ordered phase (gradients vanish with depth); > 1: chaotic (they explode);
    = 1: critical. For ReLU/linear it is sigma_w^2 / 2 and sigma_w^2, at any q.
    """
    _check_activation(activation)
    sigma_w2 = _check_variance("sigma_w2", sigma_w2)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)
    if activation in _GAIN:
        return sigma_w2 * _GAIN[activation]
    length = q_star(activation, sigma_w2, sigma_b2) if q is None else _check_variance("q", q)
    return sigma_w2 * gaussian_expectation(_dtanh_sq, length)


# ---------------------------------------------------------------------------------------------
# the edge of chaos
# ---------------------------------------------------------------------------------------------


def critical_point(activation: str = "tanh", sigma_b2: float = 0.0) -> CriticalPoint:
    """The weight variance sigma_w^2 at which chi_1 = 1 for this bias variance.

    For tanh the two conditions q* = V(q*) and chi_1 = 1 reduce to one equation in q: with
    sigma_w^2(q) = 1 / E[phi'(sqrt(q) z)^2],

        q = E[phi(sqrt(q) z)^2] / E[phi'(sqrt(q) z)^2] + sigma_b^2,

    solved by Brent's method (the right side minus q is sigma_b^2 > 0 at q = 0 and negative
    for large q). At sigma_b^2 = 0 the solution is q* = 0, sigma_w^2 = 1 / tanh'(0)^2
    = 1. The returned `chi1` is recomputed from scratch (`chi1(activation, sigma_w2,
    sigma_b2)`, through `q_star`), as a check; it is 1 to about 1e-10 (the tolerance of `q_star`).

    For ReLU (linear) the critical sigma_w^2 is 2 (1) and q* is nan (sigma_b^2 = 0) or inf;
    see the module docstring. Critical values for tanh are tabulated there.
    """
    _check_activation(activation)
    sigma_b2 = _check_variance("sigma_b2", sigma_b2)
    if activation in _GAIN:
        sigma_w2 = 1.0 / _GAIN[activation]
        return CriticalPoint(sigma_w2, sigma_b2, q_star(activation, sigma_w2, sigma_b2), 1.0)
    if sigma_b2 == 0.0:
        return CriticalPoint(1.0, 0.0, 0.0, 1.0)

    def gap(q: float) -> float:
        phi2, dphi2 = _second_moments(activation, q)
        return phi2 / dphi2 + sigma_b2 - q

    hi = max(1.0, 2.0 * sigma_b2)
    g_hi = gap(hi)
    for _ in range(200):
        if g_hi < 0.0:
            break
        hi *= 2.0
        g_hi = gap(hi)
    else:
        raise RuntimeError(f"critical_point: no critical point found for sigma_b2={sigma_b2}")
    q = _brentq(gap, 0.0, hi, sigma_b2, g_hi, 1e-15, 200, "critical_point")
    sigma_w2 = 1.0 / _second_moments(activation, q)[1]
    return CriticalPoint(sigma_w2, sigma_b2, q, chi1(activation, sigma_w2, sigma_b2))


def critical_line(activation: str, sigma_b2_values: np.ndarray | list[float]) -> CriticalLine:
    """`critical_point` for each sigma_b^2: the line in the (sigma_w^2, sigma_b^2) plane between
    the ordered phase (smaller sigma_w^2, chi_1 < 1) and the chaotic phase (larger, chi_1 > 1)."""
    sigma_b2 = np.asarray(sigma_b2_values, dtype=np.float64).ravel()
    points = [critical_point(activation, float(b)) for b in sigma_b2]
    return CriticalLine(sigma_b2.copy(), np.array([p.sigma_w2 for p in points]),
                        np.array([p.q_star for p in points]))
