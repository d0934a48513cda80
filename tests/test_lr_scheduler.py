"""optim.lr_scheduler: each schedule's learning-rate sequence, PyTorch's values to the last bit.

The literal sequences were produced by torch.optim.lr_scheduler 2.13 with the same settings
(SGD with lr=0.1, one `optimizer.step(); scheduler.step()` per epoch, the value after
construction first); the closed-form checks state what the recursions compute.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from pathlib import Path

import numpy as np
import pytest

import nn
import optim
from autograd import Tensor
from optim import lr_scheduler as S


def make_optimizer(lrs: tuple[float, ...] = (0.1,)) -> optim.SGD:
    groups = [{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def sequence(make, steps: int = 12, metrics=None, lrs=(0.1,)) -> list:
    opt = make_optimizer(lrs)
    sched = make(opt)
    out = [sched.get_last_lr() if len(lrs) > 1 else sched.get_last_lr()[0]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lr = sched.get_last_lr()
        assert lr == [g["lr"] for g in opt.param_groups]
        out.append(lr if len(lrs) > 1 else lr[0])
    return out


# ------------------------------------------------------------------ sequences from PyTorch

def test_step_lr() -> None:
    assert sequence(lambda o: S.StepLR(o, 3, gamma=0.5)) == [
        0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625]


def test_multi_step_lr_with_a_repeated_milestone() -> None:
    assert sequence(lambda o: S.MultiStepLR(o, [9, 5, 2, 5], gamma=0.1)) == [
        0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002,
        0.00010000000000000005, 0.00010000000000000005, 0.00010000000000000005,
        0.00010000000000000005, 1.0000000000000006e-05, 1.0000000000000006e-05,
        1.0000000000000006e-05, 1.0000000000000006e-05]


def test_exponential_lr() -> None:
    assert sequence(lambda o: S.ExponentialLR(o, 0.9)) == [
        0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002,
        0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002,
        0.043046721000000024, 0.03874204890000002, 0.03486784401000002, 0.03138105960900001,
        0.028242953648100012]


def test_cosine_annealing_lr_down_and_back_up() -> None:
    assert sequence(lambda o: S.CosineAnnealingLR(o, 5, eta_min=0.01), steps=16) == [
        0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736,
        0.018594235253127367, 0.01, 0.018594235253127367, 0.04109423525312739,
        0.06890576474687267, 0.09140576474687269, 0.10000000000000006, 0.09140576474687272,
        0.06890576474687268, 0.0410942352531274, 0.01859423525312738, 0.01,
        0.018594235253127367]


def test_lambda_lr() -> None:
    def warmup_then_decay(e: int) -> float:
        return 0.95 ** e if e >= 2 else (e + 1) / 3

    assert sequence(lambda o: S.LambdaLR(o, warmup_then_decay)) == [
        0.03333333333333333, 0.06666666666666667, 0.09025, 0.0857375, 0.081450625,
        0.07737809374999999, 0.07350918906249998, 0.06983372960937498, 0.06634204312890622,
        0.0630249409724609, 0.05987369392383787, 0.05688000922764597, 0.05403600876626367]


METRICS = [1.0, 0.9, 0.9, 0.9, 0.9, 0.89999, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]


def test_reduce_lr_on_plateau_min_rel_with_cooldown() -> None:
    got = sequence(lambda o: S.ReduceLROnPlateau(o, patience=2, cooldown=1, factor=0.5,
                                                 min_lr=0.01), steps=16, metrics=METRICS)
    assert got == [0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025,
                   0.025, 0.025, 0.025, 0.0125]


def test_reduce_lr_on_plateau_max_abs_stops_at_min_lr() -> None:
    got = sequence(lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs",
                                                 threshold=0.1, patience=1, min_lr=1e-4),
                   steps=16, metrics=METRICS)
    assert got == [0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002,
                   0.0010000000000000002, 0.0010000000000000002] + [0.00010000000000000003] * 10


# ------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (4, 0.3), (7, 0.9)])
def test_step_lr_closed_form(step_size: int, gamma: float) -> None:
    got = sequence(lambda o: S.StepLR(o, step_size, gamma), steps=30)
    want = [0.1 * gamma ** (e // step_size) for e in range(31)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_multi_step_closed_form() -> None:
    milestones = [3, 7, 7, 20]
    got = sequence(lambda o: S.MultiStepLR(o, milestones, 0.5), steps=25)
    want = [0.1 * 0.5 ** bisect_right(milestones, e) for e in range(26)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_closed_form() -> None:
    got = sequence(lambda o: S.ExponentialLR(o, 0.8), steps=30)
    np.testing.assert_allclose(got, [0.1 * 0.8 ** e for e in range(31)], rtol=1e-12)


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.02), (1, 0.0)])
def test_cosine_closed_form_over_several_periods(T_max: int, eta_min: float) -> None:
    got = sequence(lambda o: S.CosineAnnealingLR(o, T_max, eta_min), steps=4 * T_max + 3)
    want = [eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2
            for e in range(4 * T_max + 4)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)


def test_each_group_follows_its_own_base_lr() -> None:
    got = sequence(lambda o: S.StepLR(o, 2, 0.5), steps=4, lrs=(0.1, 1.0))
    assert got == [[0.1, 1.0], [0.1, 1.0], [0.05, 0.5], [0.05, 0.5], [0.025, 0.25]]
    got = sequence(lambda o: S.LambdaLR(o, [lambda e: 1.0, lambda e: 1 / (e + 1)]), steps=3,
                   lrs=(0.1, 1.0))
    assert got == [[0.1, 1.0], [0.1, 0.5], [0.1, 1 / 3], [0.1, 0.25]]


def test_the_scheduler_sets_the_lr_the_optimizer_uses() -> None:
    w = Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = S.StepLR(opt, 1, gamma=0.5)
    for expected in [1.0, 0.5, 0.25]:
        w.grad = Tensor(np.array([1.0]))
        before = w.item()
        opt.step()
        sched.step()
        assert before - w.item() == expected
    assert opt.param_groups[0]["initial_lr"] == 1.0 and sched.base_lrs == [1.0]
    assert sched.last_epoch == 3


# --------------------------------------------------------------------------- state dicts

@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, 3, 0.5),
    lambda o: S.MultiStepLR(o, [2, 4, 4], 0.5),
    lambda o: S.ExponentialLR(o, 0.9),
    lambda o: S.CosineAnnealingLR(o, 4, 0.01),
    lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)),
    lambda o: S.ReduceLROnPlateau(o, patience=1, cooldown=1),
])
def test_state_dict_round_trip_through_a_file_resumes_the_schedule(make, tmp_path: Path) -> None:
    plateau = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]

    def advance(opt, sched, epochs) -> list[float]:
        out = []
        for e in epochs:
            opt.step()
            sched.step(plateau[e]) if isinstance(sched, S.ReduceLROnPlateau) else sched.step()
            out.append(sched.get_last_lr()[0])
        return out

    opt = make_optimizer()
    sched = make(opt)
    whole = advance(opt, sched, range(10))

    opt = make_optimizer()
    sched = make(opt)
    first = advance(opt, sched, range(5))
    nn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "s")
    checkpoint = nn.load(tmp_path / "s")
    opt2 = make_optimizer((0.7,))
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2 = make(opt2)
    sched2.load_state_dict(checkpoint["scheduler"])
    assert first + advance(opt2, sched2, range(5, 10)) == whole


# ------------------------------------------------------------------------------ bad input

def test_bad_arguments() -> None:
    opt = make_optimizer()
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        S.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max must be a positive number of epochs, got 0"):
        S.CosineAnnealingLR(opt, 0)
    with pytest.raises(ValueError, match=r"Factor should be < 1.0 \(got 1.5\)"):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        S.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="threshold mode 'ratio' is unknown"):
        S.ReduceLROnPlateau(opt, threshold_mode="ratio")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        S.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        S.LambdaLR(opt, 0.5)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], 1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.ReduceLROnPlateau([])
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        S.ExponentialLR(make_optimizer(), 0.9, last_epoch=3)
