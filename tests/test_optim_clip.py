"""optim.clip_grad_norm_ and optim.clip_grad_value_: values, returned norms, non-finite input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import optim
from autograd import Tensor


def with_grads(*grads, dtype=np.float64) -> list[Tensor]:
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = Tensor(np.array(g, dtype=dtype))
        params.append(p)
    return params


def test_two_norm_is_returned_and_the_gradients_are_scaled() -> None:
    params = with_grads([3.0, 0.0], [[4.0]])  # joint 2-norm 5
    total = optim.clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, Tensor) and total.item() == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.data, [3.0 * coef, 0.0], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.data, [[4.0 * coef]], rtol=1e-15)
    # After clipping, the joint norm is max_norm (up to the 1e-6 guard).
    assert optim.clip_grad_norm_(params, 10.0).item() == pytest.approx(1.0, abs=1e-6)


def test_gradients_within_the_limit_are_untouched() -> None:
    params = with_grads([0.3, -0.4])
    before = params[0].grad.data.copy()
    assert optim.clip_grad_norm_(params, max_norm=0.5).item() == pytest.approx(0.5)
    # coef = 0.5 / (0.5 + 1e-6) < 1: still scaled, by a hair, as PyTorch does.
    np.testing.assert_allclose(params[0].grad.data, before * 0.5 / (0.5 + 1e-6), rtol=1e-15)
    params = with_grads([0.3, -0.4])
    optim.clip_grad_norm_(params, max_norm=0.6)
    assert params[0].grad.data.tobytes() == before.tobytes()


def test_inf_norm() -> None:
    params = with_grads([1.0, -7.0], [2.0, 3.0])
    total = optim.clip_grad_norm_(params, max_norm=3.5, norm_type=math.inf)
    assert total.item() == 7.0
    coef = 3.5 / (7.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.data, [coef, -7.0 * coef], rtol=1e-15)
    assert optim.clip_grad_norm_(with_grads([1.0, -7.0]), 100.0, norm_type="inf").item() == 7.0


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)),
       st.sampled_from([1.0, 2.0, 3.0, math.inf]), st.floats(0.01, 20.0))
def test_any_norm_matches_numpy(g1, g2, p, max_norm) -> None:
    params = with_grads(g1, g2)
    total = optim.clip_grad_norm_(params, max_norm, norm_type=p).item()
    want = np.linalg.norm(np.concatenate([g1, g2]), ord=p)
    assert total == pytest.approx(want, rel=1e-12, abs=1e-300)
    coef = max_norm / (want + 1e-6)
    scale = coef if coef < 1 else 1.0
    np.testing.assert_allclose(params[0].grad.data, g1 * scale, rtol=1e-12)
    np.testing.assert_allclose(params[1].grad.data, g2 * scale, rtol=1e-12)


def test_parameters_without_gradients_are_skipped_and_a_single_tensor_works() -> None:
    p, q = with_grads([6.0, 8.0], [1.0])
    q.grad = None
    assert optim.clip_grad_norm_([p, q], 5.0).item() == 10.0
    assert q.grad is None
    assert optim.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0, rel=1e-6)
    assert optim.clip_grad_norm_([q], 1.0).item() == 0.0


def test_float32_stays_float32() -> None:
    params = with_grads([3.0, 4.0], dtype=np.float32)
    total = optim.clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32
    np.testing.assert_allclose(params[0].grad.data, [0.6, 0.8], rtol=1e-6)


def test_non_finite_gradients_are_not_turned_into_finite_ones() -> None:
    params = with_grads([np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        total = optim.clip_grad_norm_(params, 1.0)
    assert total.item() == math.inf
    assert np.isnan(params[0].grad.data[0])  # inf * 0 = NaN, as in PyTorch
    params = with_grads([np.nan, 1.0])
    assert math.isnan(optim.clip_grad_norm_(params, 1.0).item())
    assert np.isnan(params[0].grad.data).all()
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 .* is non-finite \(nan\)"):
        optim.clip_grad_norm_(with_grads([np.nan]), 1.0, error_if_nonfinite=True)


def test_clip_grad_value() -> None:
    p, q = with_grads([-3.0, 0.5, 2.0, np.nan], [[0.1, -0.2]])
    optim.clip_grad_value_([p, q], 1.0)
    np.testing.assert_array_equal(p.grad.data, [-1.0, 0.5, 1.0, np.nan])
    np.testing.assert_array_equal(q.grad.data, [[0.1, -0.2]])
    r = with_grads([5.0], dtype=np.float32)[0]
    optim.clip_grad_value_(r, 0.25)
    assert r.grad.dtype == np.float32 and r.grad.item() == 0.25


def test_bad_arguments() -> None:
    params = with_grads([1.0])
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1"):
        optim.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        optim.clip_grad_norm_(params, 1.0, norm_type=0)
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -0.5"):
        optim.clip_grad_value_(params, -0.5)
