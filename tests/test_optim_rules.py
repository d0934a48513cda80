"""Each optimizer's trajectory against its update rule written out in numpy.

The references below are deliberately plain (out-of-place, one line per equation of the
docstrings), so they check the in-place implementations rather than repeat them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optim
from autograd import Tensor

SHAPES = [(3, 4), (5,)]
STEPS = 6


def gradient_sequence(seed: int = 0, dtype: type = np.float64) -> list[list[np.ndarray | None]]:
    """Random gradients for STEPS steps; one step without a gradient for the second parameter
    and one exact zero gradient, so skipping and zero-gradient updates are exercised too."""
    rng = np.random.default_rng(seed)
    seq: list[list[np.ndarray | None]] = [
        [rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    seq[2][1] = None
    seq[3][0] = np.zeros(SHAPES[0], dtype)
    return seq


def initial(seed: int = 1, dtype: type = np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def run(make, grads, p0) -> list[np.ndarray]:
    ps = [Tensor(p.copy(), requires_grad=True) for p in p0]
    opt = make(ps)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = None if g is None else Tensor(g.copy())
        opt.step()
    return [p.data for p in ps]


def reference(rule, grads, p0, **options) -> list[np.ndarray]:
    """Apply `rule(p, g, state, t, **options) -> p` per parameter (t = 1, 2, ... its updates)."""
    out = []
    for i, p in enumerate(p0):
        state: dict = {}
        t = 0
        for gs in grads:
            g = gs[i]
            if g is None:
                continue
            t += 1
            p = rule(p, g, state, t, **options)
        out.append(p)
    return out


# ------------------------------------------------------------------------------ the rules

def sgd_rule(p, g, s, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
             maximize=False):
    if maximize:
        g = -g
    g = g + weight_decay * p
    if momentum != 0:
        s["b"] = g if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adagrad_rule(p, g, s, t, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    if maximize:
        g = -g
    g = g + weight_decay * p
    s["sum"] = s.get("sum", np.full_like(p, initial_accumulator_value)) + g ** 2
    clr = lr / (1 + (t - 1) * lr_decay)
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def rmsprop_rule(p, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
    if maximize:
        g = -g
    g = g + weight_decay * p
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g ** 2
    if centered:
        s["m"] = alpha * s.get("m", 0.0) + (1 - alpha) * g
        denom = np.sqrt(s["v"] - s["m"] ** 2) + eps
    else:
        denom = np.sqrt(s["v"]) + eps
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0.0) + g / denom
        return p - lr * s["b"]
    return p - lr * g / denom


def adam_rule(p, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              amsgrad=False, maximize=False, decoupled=False):
    b1, b2 = betas
    if maximize:
        g = -g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g ** 2
    v = s["v"]
    if amsgrad:
        s["vmax"] = v = np.maximum(s.get("vmax", 0.0), v)
    m_hat = s["m"] / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


CASES = [
    ("SGD plain", optim.SGD, sgd_rule, dict(lr=0.1)),
    ("SGD weight decay", optim.SGD, sgd_rule, dict(lr=0.1, weight_decay=0.2)),
    ("SGD momentum", optim.SGD, sgd_rule, dict(lr=0.1, momentum=0.9)),
    ("SGD dampening", optim.SGD, sgd_rule,
     dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD nesterov", optim.SGD, sgd_rule,
     dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD maximize", optim.SGD, sgd_rule,
     dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", optim.Adagrad, adagrad_rule, dict(lr=0.1)),
    ("Adagrad all options", optim.Adagrad, adagrad_rule,
     dict(lr=0.1, lr_decay=0.2, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6,
          maximize=True)),
    ("RMSprop", optim.RMSprop, rmsprop_rule, dict(lr=0.01)),
    ("RMSprop centered", optim.RMSprop, rmsprop_rule, dict(lr=0.01, centered=True)),
    ("RMSprop momentum", optim.RMSprop, rmsprop_rule,
     dict(lr=0.01, alpha=0.9, momentum=0.7, weight_decay=0.1)),
    ("RMSprop centered momentum maximize", optim.RMSprop, rmsprop_rule,
     dict(lr=0.01, momentum=0.5, centered=True, maximize=True)),
    ("Adam", optim.Adam, adam_rule, dict(lr=0.01)),
    ("Adam weight decay", optim.Adam, adam_rule, dict(lr=0.01, weight_decay=0.1)),
    ("Adam amsgrad", optim.Adam, adam_rule, dict(lr=0.01, betas=(0.8, 0.9), amsgrad=True)),
    ("Adam maximize", optim.Adam, adam_rule, dict(lr=0.01, maximize=True, eps=1e-3)),
]


@pytest.mark.parametrize("name, cls, rule, options", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_the_rule(name, cls, rule, options) -> None:
    grads, p0 = gradient_sequence(), initial()
    got = run(lambda ps: cls(ps, **options), grads, p0)
    want = reference(rule, grads, p0, **options)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3),
                                     dict(lr=0.02, weight_decay=0.1, amsgrad=True,
                                          maximize=True)])
def test_adamw_decouples_weight_decay(options) -> None:
    grads, p0 = gradient_sequence(seed=2), initial(seed=3)
    got = run(lambda ps: optim.AdamW(ps, **options), grads, p0)
    want = reference(adam_rule, grads, p0, decoupled=True,
                     **{"weight_decay": 1e-2, **options})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_defaults_are_pytorchs() -> None:
    p = [Tensor(np.zeros(2), requires_grad=True)]
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0.0, dampening=0.0,
                                         weight_decay=0.0, nesterov=False, maximize=False)
    assert optim.Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                                             initial_accumulator_value=0.0, eps=1e-10,
                                             maximize=False)
    assert optim.RMSprop(p).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                                             momentum=0.0, centered=False, maximize=False)
    assert optim.Adam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                          weight_decay=0.0, amsgrad=False, maximize=False,
                                          decoupled_weight_decay=False)
    adamw = optim.AdamW(p).defaults
    assert adamw["weight_decay"] == 1e-2 and adamw["decoupled_weight_decay"] is True
    assert adamw["lr"] == 1e-3 and adamw["eps"] == 1e-8
    assert optim.Momentum(p, lr=0.1).defaults == dict(lr=0.1, beta=0.9, debias=False,
                                                      nesterov=False)


def test_float32_trajectories_follow_the_float64_rule() -> None:
    grads64, p064 = gradient_sequence(), initial()
    grads32 = [[None if g is None else g.astype(np.float32) for g in gs] for gs in grads64]
    p032 = [p.astype(np.float32) for p in p064]
    for cls, rule, options in [(optim.SGD, sgd_rule, dict(lr=0.1, momentum=0.9)),
                               (optim.Adam, adam_rule, dict(lr=0.01, amsgrad=True)),
                               (optim.RMSprop, rmsprop_rule, dict(lr=0.01, centered=True))]:
        got = run(lambda ps, cls=cls, options=options: cls(ps, **options), grads32, p032)
        want = reference(rule, grads64, p064, **options)
        for g, w in zip(got, want):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@given(lr=st.floats(0.0, 1.0), momentum=st.floats(0.0, 0.99), dampening=st.floats(0.0, 1.0),
       weight_decay=st.floats(0.0, 1.0), maximize=st.booleans())
def test_sgd_rule_for_any_options(lr, momentum, dampening, weight_decay, maximize) -> None:
    grads, p0 = gradient_sequence(seed=4), initial(seed=5)
    options = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   maximize=maximize)
    got = run(lambda ps: optim.SGD(ps, **options), grads, p0)
    for g, w in zip(got, reference(sgd_rule, grads, p0, **options)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@given(lr=st.floats(0.0, 0.5), b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.999),
       eps=st.sampled_from([1e-8, 1e-3, 0.5]), weight_decay=st.floats(0.0, 0.5),
       amsgrad=st.booleans())
def test_adam_rule_for_any_options(lr, b1, b2, eps, weight_decay, amsgrad) -> None:
    grads, p0 = gradient_sequence(seed=6), initial(seed=7)
    options = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    got = run(lambda ps: optim.Adam(ps, **options), grads, p0)
    for g, w in zip(got, reference(adam_rule, grads, p0, **options)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
