"""nn.init: PyTorch's gains, fans and variances, in place, from the engine's seeded generator."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init


def weight(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("name,param,gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope slope not a valid number"):
        init.calculate_gain("leaky_relu", "slope")


def test_fans_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(weight(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(weight(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(weight(4))


@pytest.mark.parametrize("fn,std", [
    (init.xavier_uniform_, math.sqrt(2 / (300 + 200))),
    (init.xavier_normal_, math.sqrt(2 / (300 + 200))),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda w: init.kaiming_uniform_(w, mode="fan_out", nonlinearity="tanh"),
     5 / 3 / math.sqrt(200)),
    (init.kaiming_uniform_, math.sqrt(2 / (1 + 0.0)) / math.sqrt(300)),
    (lambda w: init.xavier_uniform_(w, gain=init.calculate_gain("tanh")),
     5 / 3 * math.sqrt(2 / 500)),
])
def test_variance_preserving_initializers_have_their_standard_deviation(fn, std):
    w = weight(200, 300)
    assert fn(w) is w
    assert abs(w.data.std() / std - 1) < 0.02
    assert abs(w.data.mean()) < 0.03 * std


def test_uniform_schemes_stay_inside_their_bound():
    w = weight(100, 50)
    init.xavier_uniform_(w)
    bound = math.sqrt(6 / 150)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.98 * bound
    init.kaiming_uniform_(w, a=math.sqrt(5))  # PyTorch's Linear default: U(+-1/sqrt(fan_in))
    assert np.abs(w.data).max() <= 1 / math.sqrt(50)
    assert np.abs(w.data).max() > 0.98 / math.sqrt(50)


def test_initializers_work_in_place_keep_dtype_and_bump_the_version():
    w = weight(4, 6)
    data, version = w.data, w._version
    init.normal_(w, mean=3.0, std=0.5)
    assert w.data is data and w.dtype == np.float32 and w._version > version
    assert w.requires_grad and w.grad_fn is None
    f64_w = nn.Parameter(np.zeros((3, 3)))
    init.uniform_(f64_w, -2.0, -1.0)
    assert f64_w.dtype == np.float64 and np.all((f64_w.data >= -2) & (f64_w.data < -1))


def test_constant_zeros_ones_and_normal():
    w = weight(50, 40)
    np.testing.assert_array_equal(init.constant_(w, 0.3).data, np.float32(0.3))
    np.testing.assert_array_equal(init.ones_(w).data, 1.0)
    np.testing.assert_array_equal(init.zeros_(w).data, 0.0)
    init.normal_(w, 1.0, 2.0)
    assert abs(w.data.mean() - 1.0) < 0.1 and abs(w.data.std() - 2.0) < 0.1


def test_initializers_are_reproducible_from_the_engine_seed():
    a, b = weight(5, 5), weight(5, 5)
    ag.manual_seed(7)
    init.kaiming_normal_(a)
    ag.manual_seed(7)
    init.kaiming_normal_(b)
    np.testing.assert_array_equal(a.data, b.data)
    ag.manual_seed(7)
    l1, l2 = nn.Linear(3, 3), nn.Linear(3, 3)
    ag.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.data, l1.weight.data)
    assert not np.array_equal(l1.weight.data, l2.weight.data)


def test_mode_error_and_empty_tensors():
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of fan_in, "
                                         "fan_out"):
        init.kaiming_uniform_(weight(2, 2), mode="fan_avg")
    empty = weight(0, 3)
    assert init.kaiming_normal_(empty) is empty and init.xavier_uniform_(empty) is empty


def test_conv_default_init_uses_the_receptive_field():
    conv = nn.Conv2d(4, 6, 3)
    bound = 1 / math.sqrt(4 * 9)
    assert np.abs(conv.weight.data).max() <= bound
    assert conv.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


def test_mean_field_helpers_are_reexported():
    from nn import mean_field
    assert init.critical_point is mean_field.critical_point
    assert init.q_star is mean_field.q_star and init.chi1 is mean_field.chi1
