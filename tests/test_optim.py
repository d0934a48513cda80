"""optim.Optimizer: groups, validation, zero_grad, skipping, lr=0, non-finite gradients."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import optim
from autograd import Tensor

ALL = {
    "SGD": lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=0.1),
    "SGD-nesterov": lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True),
    "Momentum": lambda ps, lr: optim.Momentum(ps, lr=lr, beta=0.9),
    "Momentum-debias-nesterov": lambda ps, lr: optim.Momentum(ps, lr=lr, debias=True,
                                                              nesterov=True),
    "Adagrad": lambda ps, lr: optim.Adagrad(ps, lr=lr, weight_decay=0.1),
    "RMSprop": lambda ps, lr: optim.RMSprop(ps, lr=lr, momentum=0.5, centered=True),
    "Adam": lambda ps, lr: optim.Adam(ps, lr=lr, weight_decay=0.1, amsgrad=True),
    "AdamW": lambda ps, lr: optim.AdamW(ps, lr=lr),
}


def param(*shape: int, dtype: type = np.float32, seed: int = 0) -> Tensor:
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def set_grad(p: Tensor, g: np.ndarray | None) -> None:
    p.grad = None if g is None else Tensor(np.asarray(g, dtype=p.dtype))


# ------------------------------------------------------------------------------ construction


def test_param_groups_take_the_defaults_for_missing_options() -> None:
    a, b = param(2), param(3)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"][0] is b
    assert opt.defaults["lr"] == 0.1


def test_groups_use_their_own_learning_rate() -> None:
    a, b = param(2, seed=1), param(2, seed=2)
    a0, b0 = a.data.copy(), b.data.copy()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    set_grad(a, [1.0, 2.0])
    set_grad(b, [1.0, 2.0])
    opt.step()
    np.testing.assert_allclose(a.data, a0 - 0.1 * np.array([1, 2]), rtol=1e-6)
    np.testing.assert_allclose(b.data, b0 - 0.5 * np.array([1, 2]), rtol=1e-6)


def test_add_param_group() -> None:
    a, b = param(2), param(3)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_a_generator_of_parameters_is_accepted() -> None:
    ps = [param(2), param(2)]
    opt = optim.SGD((p for p in ps), lr=0.1)
    assert opt.param_groups[0]["params"] == ps


@pytest.mark.parametrize("make, match", [
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD([param(2)], lr=-0.1), r"Invalid learning rate: -0.1 \(it must be >= 0\)"),
    (lambda: optim.SGD([param(2)], lr=float("nan")), "Invalid learning rate: nan"),
    (lambda: optim.SGD([param(2)], lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda: optim.SGD([param(2)], lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda: optim.SGD([param(2)], lr=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.SGD([param(2)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.Momentum([param(2)], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda: optim.Momentum([param(2)], lr=0.1, beta=1.0), r"Invalid beta: 1.0 \(it must be in"),
    (lambda: optim.Momentum([param(2)], lr=0.1, beta=-0.1), "Invalid beta: -0.1"),
    (lambda: optim.Adam([param(2)], betas=(1.0, 0.999)),
     r"Invalid beta parameter at index 0: 1.0 \(it must be in \[0, 1\)\)"),
    (lambda: optim.Adam([param(2)], betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda: optim.Adam([param(2)], betas=(0.9,)), "Invalid betas"),
    (lambda: optim.Adam([param(2)], eps=-1e-8), "Invalid epsilon value"),
    (lambda: optim.AdamW([param(2)], lr=-1e-3), "Invalid learning rate"),
    (lambda: optim.AdamW([param(2)], weight_decay=-1e-2), "Invalid weight_decay value"),
    (lambda: optim.RMSprop([param(2)], momentum=-0.1), "Invalid momentum value"),
    (lambda: optim.RMSprop([param(2)], alpha=-0.1), "Invalid alpha value"),
    (lambda: optim.RMSprop([param(2)], eps=-1.0), "Invalid epsilon value"),
    (lambda: optim.Adagrad([param(2)], lr_decay=-1.0), "Invalid lr_decay value"),
    (lambda: optim.Adagrad([param(2)], initial_accumulator_value=-1.0),
     "Invalid initial_accumulator_value"),
    (lambda: optim.Adagrad([param(2)], eps=-1.0), "Invalid epsilon value"),
])
def test_bad_options_raise_value_error_with_the_reason(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_a_bad_option_in_a_group_is_refused_too() -> None:
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([{"params": [param(2)], "lr": -1}], lr=0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.5"):
        optim.Adam([{"params": [param(2)], "betas": (0.9, 1.5)}])


def test_a_parameter_given_twice_is_refused() -> None:
    a, b = param(2), param(2)
    with pytest.raises(ValueError, match=r"more than once in the parameter group \(positions 0 "
                                         r"and 2\)"):
        optim.SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)


def test_non_leaf_non_floating_and_non_tensor_parameters_are_refused() -> None:
    a = param(2)
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf Tensor \(parameter 1 was "
                                         r"computed by '\w+'\)"):
        optim.SGD([a, a * 2.0], lr=0.1)
    with pytest.raises(ValueError, match="only optimize floating-point Tensors, but parameter 0 "
                                         "has dtype int64"):
        optim.SGD([Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors, but parameter 0 is a ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got a "
                                        "Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {a}}], lr=0.1)


def test_repr_lists_each_group_like_pytorch() -> None:
    opt = optim.SGD([param(2)], lr=0.1, momentum=0.9)
    assert repr(opt) == (
        "SGD (\nParameter Group 0\n    dampening: 0.0\n    lr: 0.1\n    maximize: False\n"
        "    momentum: 0.9\n    nesterov: False\n    weight_decay: 0.0\n)")


# ---------------------------------------------------------------------------------- stepping


def test_zero_grad_sets_none_or_zeros_in_place() -> None:
    a, b = param(2), param(3)
    opt = optim.SGD([a, b], lr=0.1)
    set_grad(a, [1.0, 2.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    set_grad(a, [1.0, 2.0])
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    assert b.grad is None


def test_zero_grad_replaces_a_gradient_that_is_part_of_a_graph() -> None:
    a = param(3, dtype=np.float64)
    (a ** 3).sum().backward(create_graph=True)
    assert a.grad.grad_fn is not None
    optim.SGD([a], lr=0.1).zero_grad(set_to_none=False)
    assert a.grad.grad_fn is None
    np.testing.assert_array_equal(a.grad.data, np.zeros(3))


@pytest.mark.parametrize("name", list(ALL))
def test_parameters_without_a_gradient_are_skipped(name: str) -> None:
    a, b = param(3, seed=1), param(3, seed=2)
    b0 = b.data.copy()
    opt = ALL[name]([a, b], 0.1)
    set_grad(a, [1.0, -1.0, 0.5])
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.data, b0)
    assert b not in opt.state or not opt.state[b]
    assert opt.state[a]


@pytest.mark.parametrize("name", list(ALL))
def test_lr_zero_leaves_parameters_bit_identical(name: str) -> None:
    a = param(4, 3, seed=3)
    a0 = a.data.copy()
    opt = ALL[name]([a], 0.0)
    for k in range(3):
        set_grad(a, np.random.default_rng(k).standard_normal((4, 3)))
        opt.step()
    assert a.data.tobytes() == a0.tobytes()


@pytest.mark.parametrize("name", list(ALL))
def test_float32_parameters_and_state_stay_float32(name: str) -> None:
    a = param(5, seed=4)
    data = a.data
    opt = ALL[name]([a], 0.01)
    for k in range(2):
        set_grad(a, np.random.default_rng(k).standard_normal(5))
        opt.step()
    assert a.data is data and a.dtype == np.float32
    for value in opt.state[a].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("name", list(ALL))
def test_non_finite_gradients_propagate_into_the_parameters(name: str) -> None:
    a = param(3, seed=5)
    opt = ALL[name]([a], 0.1)
    set_grad(a, [np.nan, np.inf, 1.0])
    with np.errstate(invalid="ignore"):  # inf / inf: numpy's warning is expected here
        opt.step()
    assert not np.isfinite(a.data[0]) and not np.isfinite(a.data[1])


@pytest.mark.parametrize("optimizer", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.5),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5),
    lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5),
])
def test_a_zero_gradient_still_applies_weight_decay(optimizer) -> None:
    a = param(3, dtype=np.float64, seed=6)
    a0 = a.data.copy()
    opt = optimizer([a])
    set_grad(a, np.zeros(3))
    opt.step()
    # Each shrinks a towards zero along a itself.
    moved = a0 - a.data
    assert np.all(np.sign(moved) == np.sign(a0)) and np.all(np.abs(moved) > 0)


def test_a_zero_gradient_still_applies_momentum() -> None:
    a = param(2, dtype=np.float64, seed=7)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, -2.0])
    opt.step()
    before = a.data.copy()
    set_grad(a, [0.0, 0.0])
    opt.step()
    np.testing.assert_allclose(a.data, before - 0.1 * 0.9 * np.array([1.0, -2.0]), rtol=1e-12)


def test_step_evaluates_the_closure_with_gradients_on_and_returns_its_loss() -> None:
    a = param(2, dtype=np.float64, seed=8)
    a0 = a.data.copy()
    opt = optim.SGD([a], lr=0.25)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with autograd.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(float(a0 @ a0))
    np.testing.assert_allclose(a.data, a0 - 0.25 * 2 * a0, rtol=1e-12)


def test_a_step_between_forward_and_backward_is_detected() -> None:
    """The update advances the parameter's version, so a stale saved value is not used."""
    a = param(3, seed=9)
    opt = optim.SGD([a], lr=0.1)
    set_grad(a, [1.0, 1.0, 1.0])
    loss = (a * a).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_numpy_scalar_learning_rate_keeps_float32() -> None:
    a = param(3, seed=10)
    opt = optim.Adam([a], lr=np.float64(0.1), betas=np.array([0.9, 0.999]))
    set_grad(a, [1.0, 2.0, 3.0])
    opt.step()
    assert a.dtype == np.float32
    assert opt.state[a]["exp_avg"].dtype == np.float32
