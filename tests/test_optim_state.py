"""Optimizer checkpoints: state_dict layout, nn.save/nn.load round trips that resume exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
import optim
from autograd import Tensor
from optim import lr_scheduler

OPTIMIZERS = {
    "SGD nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                         weight_decay=1e-3),
    "SGD dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.5),
    "Momentum debias nesterov": lambda ps: optim.Momentum(ps, lr=0.05, debias=True,
                                                          nesterov=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01,
                                        initial_accumulator_value=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adam amsgrad": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}

X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
Y = np.random.default_rng(1).standard_normal((16, 2)).astype(np.float32)


def model_params() -> list[Tensor]:
    rng = np.random.default_rng(2)
    return [Tensor(rng.standard_normal((3, 5)).astype(np.float32) * 0.5, requires_grad=True),
            Tensor(np.zeros(5, np.float32), requires_grad=True),
            Tensor(rng.standard_normal((5, 2)).astype(np.float32) * 0.5, requires_grad=True),
            Tensor(np.zeros(2, np.float32), requires_grad=True)]


def train(params: list[Tensor], opt: optim.Optimizer, steps: int, sched=None) -> None:
    W1, b1, W2, b2 = params
    for _ in range(steps):
        opt.zero_grad()
        h = autograd.tanh(Tensor(X) @ W1 + b1)
        loss = ((h @ W2 + b2 - Tensor(Y)) ** 2).mean()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_run_resumed_from_a_checkpoint_is_bit_identical(name: str, tmp_path: Path) -> None:
    make = OPTIMIZERS[name]
    params = model_params()
    opt = make(params)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    train(params, opt, 10, sched)

    params_a = model_params()
    opt_a = make(params_a)
    sched_a = lr_scheduler.StepLR(opt_a, step_size=3, gamma=0.5)
    train(params_a, opt_a, 4, sched_a)
    path = tmp_path / "checkpoint"
    nn.save({"params": [p.data for p in params_a], "optimizer": opt_a.state_dict(),
             "scheduler": sched_a.state_dict()}, path)
    train(params_a, opt_a, 3, sched_a)  # later steps must not leak into the saved state

    checkpoint = nn.load(path)
    params_b = [Tensor(a, requires_grad=True) for a in checkpoint["params"]]
    opt_b = make(params_b)
    opt_b.param_groups[0]["lr"] = 123.0  # overwritten by the checkpoint
    opt_b.load_state_dict(checkpoint["optimizer"])
    sched_b = lr_scheduler.StepLR(opt_b, step_size=3, gamma=0.5)
    sched_b.load_state_dict(checkpoint["scheduler"])
    train(params_b, opt_b, 6, sched_b)

    for p, q in zip(params, params_b):
        assert q.dtype == np.float32
        assert p.data.tobytes() == q.data.tobytes()
    for p, q in zip(params, params_b):
        for key, value in opt.state[p].items():
            other = opt_b.state[q][key]
            if isinstance(value, np.ndarray):
                assert other.dtype == value.dtype and other.tobytes() == value.tobytes()
            else:
                assert other == value and type(other) is type(value)
    assert opt_b.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_state_dict_layout_is_pytorchs_with_integer_indices() -> None:
    a, b, c = (Tensor(np.ones(n, np.float32), requires_grad=True) for n in (2, 3, 4))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    a.grad = Tensor(np.ones(2, np.float32))
    c.grad = Tensor(np.ones(4, np.float32))
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2]  # b had no gradient, so no state
    assert sd["state"][0]["step"] == 1 and type(sd["state"][0]["step"]) is int
    assert set(sd["state"][2]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)

    def no_tensors(obj) -> bool:
        if isinstance(obj, dict):
            return all(no_tensors(v) for v in obj.values())
        if isinstance(obj, (list, tuple)):
            return all(no_tensors(v) for v in obj)
        return not isinstance(obj, Tensor)

    assert no_tensors(sd)
    # A snapshot: later steps do not change it.
    saved = sd["state"][0]["exp_avg"].copy()
    a.grad = Tensor(np.ones(2, np.float32))
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)


def test_loading_does_not_alias_the_state_dict() -> None:
    a = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = Tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    opt2 = optim.SGD([a], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    opt2.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], [1.0, 1.0])


def test_load_state_dict_errors() -> None:
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(3))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match=r"different number of parameter groups \(1 saved, 2 "
                                         r"in this optimizer\)"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"doesn't match the size of optimizer's group \(group "
                                         r"0: 2 saved parameters, 1 here\)"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"'momentum_buffer' for parameter 0 has shape \(2,\), "
                                         r"but the parameter has shape \(3,\)"):
        optim.SGD([b, a], lr=0.1).load_state_dict(sd)
    bad = {"state": {5: {"step": 1}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="state for parameter index 5, which no parameter group"):
        optim.SGD([a, b], lr=0.1).load_state_dict(bad)
    bad = {"state": {}, "param_groups": [{**sd["param_groups"][0], "lr": -1.0}]}
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        optim.SGD([a, b], lr=0.1).load_state_dict(bad)


def test_state_is_cast_to_the_parameter_dtype() -> None:
    a = Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    a.grad = Tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt32 = optim.Adam([b], lr=0.1)
    opt32.load_state_dict(sd)
    assert opt32.state[b]["exp_avg"].dtype == np.float32
    b.grad = Tensor(np.ones(2, np.float32))
    opt32.step()
    assert b.dtype == np.float32 and opt32.state[b]["step"] == 2
