"""nn.utils: weight penalties, parameter vectors and the training Monitor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import nn
import optim
from nn.utils import Monitor, l1_penalty, l2_penalty, parameters_to_vector, vector_to_parameters


def params64(*shapes: tuple[int, ...], seed: int = 1) -> list[autograd.Tensor]:
    rng = np.random.default_rng(seed)
    return [autograd.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


# --------------------------------------------------------------------------- penalties


def test_l1_and_l2_values_and_gradients() -> None:
    ps = params64((3, 4), (4,), ())
    ps[1].data[0] = 0.0
    l1 = l1_penalty(ps)
    l2 = l2_penalty(ps)
    assert l1.shape == l2.shape == ()
    assert l1.item() == pytest.approx(sum(np.abs(p.data).sum() for p in ps), rel=1e-14)
    assert l2.item() == pytest.approx(sum((p.data**2).sum() for p in ps), rel=1e-14)
    (l1 + l2).backward()
    for p in ps:
        np.testing.assert_allclose(p.grad.data, np.sign(p.data) + 2.0 * p.data, rtol=1e-14)
    assert ps[1].grad.data[0] == 0.0  # the subgradient of |p| at 0 is taken as 0


@given(a=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4),
                    elements=st.floats(0.1, 3.0).map(lambda v: v * (-1) ** int(v * 10))),
       lam1=st.floats(0.0, 2.0), lam2=st.floats(0.0, 2.0))
def test_elastic_net_gradcheck(a: np.ndarray, lam1: float, lam2: float) -> None:
    p = autograd.Tensor(a, requires_grad=True)
    # |a| >= 0.1, so q stays at least 0.02 away from |q|'s kink at 0 (with + 0.05, a = -0.1
    # put q within a rounding error of it, where finite differences straddle the kink).
    q = autograd.Tensor(a[..., ::-1].copy() * 0.5 + 0.03, requires_grad=True)
    assert autograd.gradcheck(
        lambda x, y: lam1 * l1_penalty([x, y]) + lam2 * l2_penalty([x, y]), (p, q))


def test_penalties_keep_float32() -> None:
    layer = nn.Linear(3, 2)
    assert l1_penalty(layer.parameters()).dtype == np.float32
    assert l2_penalty(layer.parameters()).dtype == np.float32
    assert l2_penalty(layer.weight).item() == pytest.approx(
        float((layer.weight.data.astype(np.float64) ** 2).sum()), rel=1e-6)


def test_half_lambda_l2_is_sgd_weight_decay() -> None:
    """0.5 * lam * l2_penalty has gradient lam * w: one SGD step with it equals SGD's
    weight_decay=lam on the data loss alone."""
    autograd.manual_seed(3)
    x, y = autograd.randn(8, 3), autograd.randn(8, 2)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    lam = 0.1

    loss = ((a(x) - y) ** 2).mean() + 0.5 * lam * l2_penalty(a.parameters())
    loss.backward()
    optim.SGD(a.parameters(), lr=0.5).step()

    ((b(x) - y) ** 2).mean().backward()
    optim.SGD(b.parameters(), lr=0.5, weight_decay=lam).step()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7)


def test_penalty_argument_errors() -> None:
    with pytest.raises(TypeError, match="l2_penalty: expected Tensors, got the module Linear; "
                                        "pass model.parameters()"):
        l2_penalty(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="l1_penalty: expected Tensors, got ndarray at position 1"):
        l1_penalty([autograd.Tensor(np.ones(2)), np.ones(2)])
    with pytest.raises(ValueError, match="l1_penalty: got no parameters"):
        l1_penalty(iter([]))


# --------------------------------------------------------------------------- parameter vectors


def test_parameters_to_vector_and_back() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    params = list(model.parameters())
    vec = parameters_to_vector(params)
    assert vec.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vec.data, np.concatenate([p.data.ravel() for p in params]))

    new = np.arange(vec.size, dtype=np.float64)
    kept = [id(p) for p in params]
    vector_to_parameters(new, model.parameters())
    assert [id(p) for p in model.parameters()] == kept
    assert all(p.dtype == np.float32 for p in model.parameters())
    np.testing.assert_array_equal(model[0].weight.data, np.arange(12).reshape(4, 3))
    np.testing.assert_array_equal(model[2].bias.data, [24, 25])
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).data, new)


def test_parameters_to_vector_is_differentiable() -> None:
    ps = params64((2, 3), (3,))
    v = parameters_to_vector(ps)
    (v * v).sum().backward()
    for p in ps:
        np.testing.assert_allclose(p.grad.data, 2.0 * p.data)


def test_vector_to_parameters_size_mismatch() -> None:
    with pytest.raises(ValueError, match=r"expected a 1-d vector of 8 elements .* got shape "
                                         r"\(7,\)"):
        vector_to_parameters(np.zeros(7), nn.Linear(3, 2).parameters())


# --------------------------------------------------------------------------- Monitor


def make_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6), nn.Tanh(),
                         nn.Linear(6, 3), nn.Sigmoid())


def forward_by_hand(net: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Each layer's output, computed with numpy from the layers' parameters."""
    w = [net[i].weight.data for i in (0, 2, 4)]
    b = [net[i].bias.data for i in (0, 2, 4)]
    a0 = x @ w[0].T + b[0]
    a1 = np.maximum(a0, 0)
    a2 = a1 @ w[1].T + b[1]
    a3 = np.tanh(a2)
    a4 = a3 @ w[2].T + b[2]
    a5 = 1 / (1 + np.exp(-a4))
    return [a0, a1, a2, a3, a4, a5]


def test_monitor_records_each_layers_statistics() -> None:
    net = make_net()
    x = autograd.randn(32, 4)
    monitor = Monitor(net)
    assert monitor.layer_names == ["0", "1", "2", "3", "4", "5"]
    assert monitor.param_names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                   "4.bias"]
    out = net(x)
    record = monitor.last()
    assert record["step"] == 0 and record["training"] is True
    assert list(record["layers"]) == monitor.layer_names
    expected = forward_by_hand(net, x.data)
    np.testing.assert_allclose(out.data, expected[-1], rtol=1e-5)
    types = ["Linear", "ReLU", "Linear", "Tanh", "Linear", "Sigmoid"]
    for name, kind, a in zip(monitor.layer_names, types, expected):
        stats = record["layers"][name]
        assert stats["type"] == kind
        assert stats["shape"] == a.shape
        assert stats["mean"] == pytest.approx(a.mean(), rel=1e-4, abs=1e-6)
        assert stats["std"] == pytest.approx(a.std(), rel=1e-4)
        assert stats["norm"] == pytest.approx(np.linalg.norm(a, axis=1).mean(), rel=1e-4)
        assert all(type(v) is float for k, v in stats.items() if k not in ("type", "shape"))
    assert "dead_fraction" in record["layers"]["1"]
    assert "saturated_fraction" in record["layers"]["3"]
    assert "saturated_fraction" in record["layers"]["5"]
    assert "dead_fraction" not in record["layers"]["0"]


def test_dead_relu_units_are_zero_for_the_whole_batch() -> None:
    net = make_net()
    with autograd.no_grad():
        net[0].bias.data[:5] = -100.0  # units 0-4 are dead for every input
        net[0].weight.data[5] = 0.0
        net[0].bias.data[5] = 0.0  # unit 5 outputs exactly 0 too: dead
        net[0].weight.data[6] = [1.0, 0.0, 0.0, 0.0]
        net[0].bias.data[6] = 0.0  # unit 6 is zero only for samples with x_0 <= 0: alive
        net[0].bias.data[7:] = 100.0  # the rest are always active
    x = autograd.randn(64, 4)
    monitor = Monitor(net)
    net(x)
    assert monitor.last()["layers"]["1"]["dead_fraction"] == 6 / 16


def test_saturated_tanh_and_sigmoid_units() -> None:
    net = make_net()
    with autograd.no_grad():
        net[2].weight.data[:] = 0.0
        net[2].bias.data[:] = [5.0, -3.0, 2.6, 2.0, 0.0, -2.7]  # |tanh| > 0.99 iff |b| > 2.647
        net[4].weight.data[:] = 0.0
        net[4].bias.data[:] = [-5.0, 5.0, 4.0]  # sigmoid 0.0067, 0.9933, 0.982
    monitor = Monitor(net)
    net(autograd.randn(10, 4))
    layers = monitor.last()["layers"]
    assert layers["3"]["saturated_fraction"] == pytest.approx(3 / 6)
    assert layers["5"]["saturated_fraction"] == pytest.approx(2 / 3)

    strict = Monitor(net, saturation=0.999)
    net(autograd.randn(10, 4))
    assert strict.last()["layers"]["3"]["saturated_fraction"] == pytest.approx(1 / 6)
    assert strict.last()["layers"]["5"]["saturated_fraction"] == 0.0


def test_dead_fraction_of_conv_units_matches_numpy() -> None:
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU())
    with autograd.no_grad():
        net[0].bias.data[:] = [-0.5, 0.0, 0.5]
    seen = []
    net[1].register_forward_hook(lambda m, i, o: seen.append(o.data))
    monitor = Monitor(net)
    net(autograd.randn(4, 1, 6, 6))
    expected = np.all(seen[0] == 0, axis=0).mean()
    assert 0.0 < expected < 1.0
    assert monitor.last()["layers"]["1"]["dead_fraction"] == pytest.approx(expected)


def test_record_gradients() -> None:
    net = make_net()
    net[4].bias.requires_grad = False  # a frozen parameter has no gradient
    monitor = Monitor(net)
    loss = (net(autograd.randn(8, 4)) ** 2).mean()
    loss.backward()
    norms = monitor.record_gradients()
    record = monitor.last()
    assert len(monitor.history) == 1 and record["step"] == 0
    assert record["grad_norms"] is norms
    assert norms["4.bias"] is None
    squares = 0.0
    for name, p in net.named_parameters():
        assert record["param_norms"][name] == pytest.approx(np.linalg.norm(p.data), rel=1e-6)
        if p.grad is not None:
            assert norms[name] == pytest.approx(np.linalg.norm(p.grad.data), rel=1e-6)
            squares += norms[name] ** 2
    assert record["grad_norm"] == pytest.approx(math.sqrt(squares))
    # Without a new forward pass, gradients start a step of their own.
    monitor.record_gradients()
    assert len(monitor.history) == 2 and monitor.last()["layers"] == {}


def test_history_over_training_steps_and_series() -> None:
    net = make_net()
    opt = optim.SGD(net.parameters(), lr=0.1)
    x, y = autograd.randn(16, 4), autograd.rand(16, 3)
    monitor = Monitor(net)
    losses = []
    for _ in range(4):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        monitor.record_gradients()
        opt.step()
        losses.append(loss.item())
    assert [r["step"] for r in monitor.history] == [0, 1, 2, 3]
    assert losses[-1] < losses[0]
    means = monitor.layer_series("3", "mean")
    assert means.shape == (4,) and means.dtype == np.float64
    assert means[2] == monitor.history[2]["layers"]["3"]["mean"]
    assert np.isnan(monitor.layer_series("0", "dead_fraction")).all()
    grads = monitor.grad_series("0.weight")
    assert grads[1] == monitor.history[1]["grad_norms"]["0.weight"]
    total = monitor.grad_series()
    assert np.all(total >= grads) and total[0] == monitor.history[0]["grad_norm"]


def test_paused_evaluation_is_not_a_step_and_training_flag() -> None:
    net = make_net()
    monitor = Monitor(net)
    net(autograd.randn(4, 4))
    with monitor.paused():
        net.eval()
        net(autograd.randn(4, 4))
    assert len(monitor.history) == 1
    net(autograd.randn(4, 4))
    assert [r["training"] for r in monitor.history] == [True, False]


def test_monitor_does_not_change_outputs_and_detaches() -> None:
    net = make_net()
    x = autograd.randn(5, 4)
    before = net(x).data.copy()
    with Monitor(net) as monitor:
        np.testing.assert_array_equal(net(x).data, before)
    assert all(not m._forward_hooks for m in net.modules())
    net(x)
    assert len(monitor.history) == 1
    assert repr(monitor) == "Monitor(Sequential, detached, 1 steps)"
    monitor.detach()  # a second detach is harmless


def test_monitor_of_a_single_layer_and_nested_models() -> None:
    layer = nn.Linear(3, 2)
    monitor = Monitor(layer)
    assert monitor.layer_names == ["Linear"]
    layer(autograd.randn(4, 3))
    layer(autograd.randn(4, 3))
    assert len(monitor.history) == 2
    assert list(monitor.last()["layers"]) == ["Linear"]

    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1))
    nested = Monitor(model)
    assert nested.layer_names == ["0.0", "0.1", "1"]
    model(autograd.randn(2, 2))
    assert list(nested.last()["layers"]) == ["0.0", "0.1", "1"]
    assert len(nested.history) == 1


class _Total(nn.Module):
    def forward(self, x: autograd.Tensor) -> autograd.Tensor:
        return x.sum()


def test_scalar_and_empty_outputs() -> None:
    model = nn.Sequential(nn.ReLU(), _Total())
    monitor = Monitor(model)
    model(autograd.Tensor(np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)))
    total = monitor.last()["layers"]["1"]
    assert total["shape"] == () and total["mean"] == 5.0 and total["norm"] == 5.0
    assert monitor.last()["layers"]["0"]["dead_fraction"] == 0.0
    model(autograd.zeros(0, 2))
    empty = monitor.last()["layers"]["0"]
    assert empty["shape"] == (0, 2) and math.isnan(empty["mean"]) and math.isnan(empty["norm"])


def test_summary_and_clear() -> None:
    net = make_net()
    monitor = Monitor(net)
    (net(autograd.randn(8, 4)) ** 2).sum().backward()
    monitor.record_gradients()
    text = monitor.summary()
    lines = text.splitlines()
    assert lines[0] == "step 0"
    assert any(line.startswith("1") and "ReLU" in line and "%" in line for line in lines)
    assert lines[-1].startswith("total")
    monitor.clear()
    assert monitor.history == []


def test_monitor_errors() -> None:
    with pytest.raises(TypeError, match="Monitor: expected an nn.Module, got list"):
        Monitor([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match=r"saturation must lie in \(0.5, 1\), got 1.5"):
        Monitor(nn.Tanh(), saturation=1.5)
    monitor = Monitor(make_net())
    with pytest.raises(RuntimeError, match="nothing recorded yet"):
        monitor.last()
    with pytest.raises(KeyError, match="unknown layer '9'"):
        monitor.layer_series("9", "mean")
    with pytest.raises(ValueError, match="unknown statistic 'median'"):
        monitor.layer_series("1", "median")
    with pytest.raises(KeyError, match="unknown parameter 'fc.weight'"):
        monitor.grad_series("fc.weight")
