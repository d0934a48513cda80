"""nn layers: forward values against direct numpy formulas (loops for convolution and pooling),
gradients by finite differences in float64, training/evaluation behaviour, and errors."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F

# ---------------------------------------------------------------------------------------------
# references


def conv2d_loops(x, w, b, stride, padding):
    """The definition, one output element at a time."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(n):
        for j in range(o):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * sh:r * sh + kh, s * sw:s * sw + kw]
                    y[i, j, r, s] = np.sum(patch * w[j]) + (0.0 if b is None else b[j])
    return y


def pool_loops(x, k, stride, padding, how):
    (kh, kw), (sh, sw), (ph, pw) = k, stride, padding
    n, c, h, wd = x.shape
    fill = -np.inf if how == "max" else 0.0
    xp = np.full((n, c, h + 2 * ph, wd + 2 * pw), fill)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            win = xp[:, :, r * sh:r * sh + kh, s * sw:s * sw + kw]
            y[:, :, r, s] = win.max(axis=(2, 3)) if how == "max" else win.mean(axis=(2, 3))
    return y


def f64():
    ag.set_default_dtype(np.float64)


def leaf(rng, *shape):
    return ag.Tensor(rng.standard_normal(shape), requires_grad=True)


# ---------------------------------------------------------------------------------------------
# Linear, Identity, Flatten


def test_linear_forward_shapes_and_default_init():
    fc = nn.Linear(5, 3)
    assert fc.weight.shape == (3, 5) and fc.bias.shape == (3,)
    assert fc.weight.dtype == np.float32 and fc.bias.dtype == np.float32
    bound = 1 / math.sqrt(5)
    assert np.abs(fc.weight.data).max() <= bound and np.abs(fc.bias.data).max() <= bound
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(fc(x).data, x @ fc.weight.data.T + fc.bias.data, rtol=1e-5)
    assert fc(ag.randn(2, 7, 5)).shape == (2, 7, 3)


def test_linear_without_bias_and_in_the_default_dtype():
    f64()
    fc = nn.Linear(4, 2, bias=False)
    assert fc.bias is None and fc.weight.dtype == np.float64
    assert [n for n, _ in fc.named_parameters()] == ["weight"]
    x = ag.randn(3, 4)
    np.testing.assert_allclose(fc(x).data, x.data @ fc.weight.data.T)


def test_linear_rejects_the_wrong_width():
    with pytest.raises(ValueError, match=r"input of shape \(2, 4\) does not fit a weight"):
        nn.Linear(3, 2)(ag.randn(2, 4))


def test_identity_and_flatten():
    x = ag.randn(2, 3, 4, 5)
    assert nn.Identity(7, key=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.data.reshape(2, 60))
    with pytest.raises(ValueError, match="start_axis 2 comes after end_axis 1"):
        nn.Flatten(2, 1)(x)


# ---------------------------------------------------------------------------------------------
# Conv2d


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 0), (1, 1), (2, 2), ((1, 2), (2, 1)),
                                            (3, 1)])
def test_conv2d_matches_the_loop_definition(stride, padding):
    f64()
    rng = np.random.default_rng(1)
    conv = nn.Conv2d(3, 4, (3, 2), stride=stride, padding=padding)
    x = rng.standard_normal((2, 3, 7, 6))
    y = conv(x)
    ref = conv2d_loops(x, conv.weight.data, conv.bias.data, conv.stride, conv.padding)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, atol=1e-12)


@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(3, 7),
       w=st.integers(3, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
       bias=st.booleans())
def test_conv2d_matches_loops_for_random_shapes(n, c, o, h, w, k, s, p, bias):
    f64()
    rng = np.random.default_rng(n + 10 * c + 100 * h)
    conv = nn.Conv2d(c, o, k, stride=s, padding=p, bias=bias)
    x = rng.standard_normal((n, c, h, w))
    ref = conv2d_loops(x, conv.weight.data, None if conv.bias is None else conv.bias.data,
                       conv.stride, conv.padding)
    np.testing.assert_allclose(conv(x).data, ref, atol=1e-12)


def test_conv2d_parameters_follow_pytorch_shapes_and_init():
    conv = nn.Conv2d(3, 8, 5)
    assert conv.weight.shape == (8, 3, 5, 5) and conv.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 25)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound
    assert repr(conv) == ("Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1))  "
                          "# 608 parameters")


def test_conv2d_float32_stays_float32():
    conv = nn.Conv2d(1, 2, 3)
    y = conv(ag.randn(2, 1, 5, 5))
    assert y.dtype == np.float32 and y.shape == (2, 2, 3, 3)


def test_conv2d_gradients():
    f64()
    rng = np.random.default_rng(2)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = leaf(rng, 2, 2, 5, 4)
    assert ag.gradcheck(lambda x, w, b: conv(x), (x, conv.weight, conv.bias))
    conv1 = nn.Conv2d(2, 2, (2, 3), bias=False)
    assert ag.gradcheck(lambda x, w: conv1(x), (x, conv1.weight))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_of_a_single_channel_input_without_grad(stride, padding):
    # A first layer (one channel, an input that needs no gradient) gathers its im2col matrix
    # transposed; its values and weight gradients equal those of the general path, taken when
    # the input requires grad.
    f64()
    rng = np.random.default_rng(3)
    conv = nn.Conv2d(1, 3, (3, 2), stride=stride, padding=padding)
    x = rng.standard_normal((2, 1, 6, 7))
    assert ag.gradcheck(lambda w, b: conv(x), (conv.weight, conv.bias))
    seed = rng.standard_normal(conv(x).shape)
    grads = []
    for requires_grad in (False, True):
        conv.zero_grad()
        y = conv(ag.tensor(x, requires_grad=requires_grad))
        np.testing.assert_allclose(
            y.data, conv2d_loops(x, conv.weight.data, conv.bias.data, conv.stride, conv.padding),
            atol=1e-12)
        y.backward(seed)
        grads.append((conv.weight.grad.data, conv.bias.grad.data))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_errors():
    conv = nn.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\), got shape "
                                         r"\(3, 5, 5\)"):
        conv(ag.randn(3, 5, 5))
    with pytest.raises(ValueError, match="input has 2 channels but the weight of shape "
                                         r"\(2, 3, 3, 3\) expects 3"):
        conv(ag.randn(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) can't be greater than the "
                                         r"padded input size \(2, 5\)"):
        conv(ag.randn(1, 3, 2, 5))
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair of ints"):
        nn.Conv2d(1, 1, (1, 2, 3))
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(ag.randn(1, 3, 5, 5), conv.weight, stride=0)


# ---------------------------------------------------------------------------------------------
# pooling


@pytest.mark.parametrize("layer", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize("k,stride,padding", [(2, None, 0), (3, None, 0), (3, 2, 1), (3, 1, 1),
                                              ((2, 3), (1, 2), (1, 0)), (2, 1, 0)])
def test_pools_match_the_loop_definition(layer, k, stride, padding):
    f64()
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    pool = layer(k, stride, padding)
    kk = (k, k) if isinstance(k, int) else k
    ss = kk if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    pp = (padding, padding) if isinstance(padding, int) else padding
    ref = pool_loops(x, kk, ss, pp, "max" if layer is nn.MaxPool2d else "mean")
    y = pool(x)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, atol=1e-12)


def test_max_pool_gradient_goes_to_the_maximum():
    x = ag.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("fn", [lambda x: F.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 3, 2, 1),
                                lambda x: F.avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 3, 1, 1),
                                lambda x: F.max_pool2d(x, (2, 1), (1, 2))])
def test_pool_gradients(fn):
    f64()
    x = leaf(np.random.default_rng(4), 2, 2, 5, 4)
    assert ag.gradcheck(fn, (x,))


def test_pool_errors():
    with pytest.raises(ValueError, match=r"pad should be at most half of kernel size, but got "
                                         r"padding=2 and kernel_size=3"):
        F.max_pool2d(ag.randn(1, 1, 6, 6), 3, 1, 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected a 4-D input"):
        nn.AvgPool2d(2)(ag.randn(4, 4))
    with pytest.raises(ValueError, match=r"kernel size \(5, 5\) can't be greater"):
        nn.MaxPool2d(5)(ag.randn(1, 1, 4, 4))
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"


# ---------------------------------------------------------------------------------------------
# BatchNorm and LayerNorm


def test_batchnorm1d_training_normalizes_with_biased_variance_and_updates_unbiased():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((16, 3)) * [1.0, 2.0, 3.0] + [0.0, 1.0, -2.0]).astype(np.float32)
    bn = nn.BatchNorm1d(3)
    y = bn(x)
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(y.data, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.dtype == np.int64
    bn(x)
    np.testing.assert_allclose(bn.running_mean.data, 0.19 * x.mean(0), rtol=1e-5)


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone():
    bn = nn.BatchNorm1d(2)
    with ag.no_grad():
        bn.running_mean.copy_(np.array([1.0, -1.0]))
        bn.running_var.copy_(np.array([4.0, 0.25]))
        bn.weight.copy_(np.array([2.0, 1.0]))
        bn.bias.copy_(np.array([0.5, 0.0]))
    bn.eval()
    x = np.array([[3.0, 0.0], [1.0, -1.0]], dtype=np.float32)
    y = bn(x)
    ref = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 1.0] + [0.5, 0.0]
    np.testing.assert_allclose(y.data, ref, rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, [1.0, -1.0])
    assert bn.num_batches_tracked.item() == 0
    # Train and eval differ on the same batch.
    assert not np.allclose(bn.train()(x).data, y.data)


def test_batchnorm2d_statistics_per_channel():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32) * 3 + 1
    bn = nn.BatchNorm2d(3)
    y = bn(x)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y.data, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    n = 4 * 25
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var.ravel() * n / (n - 1),
                               rtol=1e-5)


def test_batchnorm1d_on_sequences_and_cumulative_momentum():
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal((2, 4, 3, 6))
    bn = nn.BatchNorm1d(3, momentum=None)
    bn(x1)
    bn(x2)
    both = np.concatenate([x1.mean(axis=(0, 2)), x2.mean(axis=(0, 2))]).reshape(2, 3)
    np.testing.assert_allclose(bn.running_mean.data, both.mean(0), rtol=1e-5)


def test_batchnorm_without_running_stats_or_affine():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == [] and bn.num_parameters() == 0
    x = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    expect = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(bn.eval()(x).data, expect, rtol=1e-5)


def test_batchnorm_reset_parameters():
    bn = nn.BatchNorm1d(2)
    bn(np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32))
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.running_mean.data, 0)
    np.testing.assert_array_equal(bn.running_var.data, 1)
    assert bn.num_batches_tracked.item() == 0


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 2D input"):
        nn.BatchNorm2d(3)(ag.randn(4, 3))
    with pytest.raises(ValueError, match="BatchNorm1d: expected 2D or 3D input"):
        nn.BatchNorm1d(3)(ag.randn(4, 3, 2, 2))
    with pytest.raises(ValueError, match="expected 3 channels on axis 1"):
        nn.BatchNorm1d(3)(ag.randn(4, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ag.randn(1, 3))
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(ag.randn(2, 3), None, None, training=False)


def test_batchnorm_gradients_in_training_and_eval():
    f64()
    rng = np.random.default_rng(8)
    bn = nn.BatchNorm2d(2)
    with ag.no_grad():
        bn.weight.copy_(rng.standard_normal(2))
        bn.bias.copy_(rng.standard_normal(2))
    x = leaf(rng, 3, 2, 2, 2)
    assert ag.gradcheck(lambda x, w, b: bn(x), (x, bn.weight, bn.bias))
    bn.eval()
    assert ag.gradcheck(lambda x, w, b: bn(x), (x, bn.weight, bn.bias))
    bn1 = nn.BatchNorm1d(3)
    assert ag.gradcheck(lambda x: bn1(x), (leaf(rng, 4, 3),))


def test_layernorm_matches_formula_and_gradients():
    f64()
    rng = np.random.default_rng(9)
    ln = nn.LayerNorm((3, 4))
    with ag.no_grad():
        ln.weight.copy_(rng.standard_normal((3, 4)))
        ln.bias.copy_(rng.standard_normal((3, 4)))
    x = rng.standard_normal((2, 3, 4))
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, ref, rtol=1e-10)
    assert ag.gradcheck(lambda x, w, b: ln(x), (leaf(rng, 2, 3, 4), ln.weight, ln.bias))
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert plain.num_parameters() == 0
    xs = rng.standard_normal((5, 4))
    np.testing.assert_allclose(plain(xs).data, (xs - xs.mean(1, keepdims=True))
                               / np.sqrt(xs.var(1, keepdims=True) + 1e-5), rtol=1e-10)
    with pytest.raises(ValueError, match=r"expected input with shape \(\*, 3, 4\), but got "
                                         r"input of shape \(2, 4, 3\)"):
        ln(ag.randn(2, 4, 3))


# ---------------------------------------------------------------------------------------------
# Dropout


def test_dropout_is_the_identity_in_eval_mode():
    drop = nn.Dropout(0.5).eval()
    x = ag.randn(10, 10)
    assert drop(x) is x


def test_dropout_keeps_the_expectation_and_scales_survivors():
    drop = nn.Dropout(0.3)
    x = ag.ones(200, 500)
    y = drop(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02
    assert y.dtype == np.float32


def test_dropout_gradient_uses_the_same_mask():
    x = ag.ones(50, 40, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_dropout_is_reproducible_from_the_seed_and_edge_probabilities():
    x = ag.ones(8, 8)
    ag.manual_seed(3)
    a = nn.Dropout(0.5)(x).data
    ag.manual_seed(3)
    b = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0.0)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
            nn.Dropout(p)


def test_dropout_gradcheck_with_a_fixed_mask():
    f64()
    x = leaf(np.random.default_rng(10), 4, 5)

    def fn(x):
        ag.manual_seed(1)
        return F.dropout(x, 0.4, training=True)

    assert ag.gradcheck(fn, (x,))


# ---------------------------------------------------------------------------------------------
# activations


ACTIVATIONS = [
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    (nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.Softmax(axis=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (nn.LogSoftmax(axis=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
]


@pytest.mark.parametrize("module,ref", ACTIVATIONS, ids=lambda v: repr(v))
def test_activations_match_formulas_and_gradients(module, ref):
    f64()
    x = np.random.default_rng(11).standard_normal((3, 4)) * 2
    if isinstance(module, nn.PReLU):
        module = nn.PReLU()
        assert module.weight.dtype == np.float64
    np.testing.assert_allclose(module(x).data, ref(x), rtol=1e-10, atol=1e-12)
    xt = ag.Tensor(x, requires_grad=True)
    assert ag.gradcheck(lambda x: module(x), (xt,))


def test_activation_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(axis=1)) == "Softmax(axis=1)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)  # 3 parameters"


def test_prelu_learns_its_slope_per_channel():
    f64()
    rng = np.random.default_rng(12)
    act = nn.PReLU(3, init=0.1)
    x = rng.standard_normal((2, 3, 4))
    w = np.array([0.1, 0.1, 0.1]).reshape(3, 1)
    np.testing.assert_allclose(act(x).data, np.where(x > 0, x, w * x))
    xt = ag.Tensor(x, requires_grad=True)
    assert ag.gradcheck(lambda x, a: act(x), (xt, act.weight))
    act(xt).sum().backward()
    np.testing.assert_allclose(act.weight.grad.data, np.where(x > 0, 0, x).sum(axis=(0, 2)))
    with pytest.raises(ValueError, match="3 slopes need an input with 3 channels on axis 1"):
        act(ag.randn(2, 4))


# ---------------------------------------------------------------------------------------------
# Residual and Maxout


def test_residual_adds_the_input_and_passes_gradient_both_ways():
    f64()
    rng = np.random.default_rng(13)
    fc = nn.Linear(3, 3)
    block = nn.Residual(fc)
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(block(x).data, x @ fc.weight.data.T + fc.bias.data + x)
    xt = ag.Tensor(x, requires_grad=True)
    block(xt).sum().backward()
    np.testing.assert_allclose(xt.grad.data, 1 + fc.weight.data.sum(0) * np.ones((2, 1)))
    assert ag.gradcheck(lambda x, w: block(x), (leaf(rng, 2, 3), fc.weight))


def test_maxout_is_the_max_over_pieces():
    f64()
    rng = np.random.default_rng(14)
    m = nn.Maxout(4, 3, pieces=2)
    assert m.weight.shape == (6, 4) and m.num_parameters() == 30
    x = rng.standard_normal((5, 4))
    z = (x @ m.weight.data.T + m.bias.data).reshape(5, 3, 2)
    np.testing.assert_allclose(m(x).data, z.max(axis=2))
    assert ag.gradcheck(lambda x, w, b: m(x), (leaf(rng, 2, 4), m.weight, m.bias))
    assert repr(m) == "Maxout(in_features=4, out_features=3, pieces=2)  # 30 parameters"
    with pytest.raises(ValueError, match="pieces must be at least 1, got 0"):
        nn.Maxout(2, 2, 0)


def test_linear_and_flatten_gradients():
    f64()
    rng = np.random.default_rng(15)
    fc = nn.Linear(3, 2)
    assert ag.gradcheck(lambda x, w, b: fc(x), (leaf(rng, 4, 3), fc.weight, fc.bias))
    assert ag.gradcheck(lambda x: nn.Flatten()(x) * 2.0, (leaf(rng, 2, 2, 3),))


def test_max_pool_ties_share_the_gradient_evenly():
    x = ag.tensor([[1.0, 1.0, 0.0, 2.0], [0.0, 1.0, 2.0, 2.0]], requires_grad=True)
    y = ag.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, [[1.0, 2.0]])
    (y * ag.tensor([[3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1.0, 1.0, 0.0, 4 / 3], [0.0, 1.0, 4 / 3, 4 / 3]])


def test_max_pool_overlapping_windows_add_up_and_skipped_elements_get_zero():
    f64()
    x = ag.tensor([[0.0, 9.0, 1.0, 2.0, 8.0]], requires_grad=True)
    # windows [0, 9], [9, 1], [1, 2], [2, 8] (stride 1); with stride 3: [0, 9] and [2, 8]
    ag.max_pool2d(x, (1, 2), 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 2.0, 0.0, 1.0, 1.0]])
    x.grad = None
    ag.max_pool2d(x, (1, 2), (1, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 0.0, 0.0, 1.0]])


def test_max_pool_of_a_nan_window_is_nan_and_passes_no_gradient():
    x = ag.tensor([[np.nan, 1.0, 3.0, 4.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ag.max_pool2d(x, (1, 2))
        y.sum().backward()
    assert np.isnan(y.data[0, 0]) and y.data[0, 1] == 4.0
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0, 1.0]])


def test_max_pool_output_and_gradient_keep_a_channels_last_layout():
    # A convolution's output is an NCHW view of channels-last memory; the pool's output and
    # gradient keep that layout, so the next convolution's windows gather runs of channels and
    # the ops before the pool in the backward pass need no transposing copies.
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 4, 4, 3)), requires_grad=True)
    nchw = x.transpose(0, 3, 1, 2)
    seen = []
    nchw.register_hook(lambda g: seen.append(g.data.strides))
    y = ag.max_pool2d(nchw, 2)
    assert y.data.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_array_equal(y.data, x.data.reshape(2, 2, 2, 2, 2, 3).max(axis=(2, 4))
                                  .transpose(0, 3, 1, 2))
    y.sum().backward()
    assert seen == [nchw.data.strides]
    ref = ag.tensor(x.data.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    ag.max_pool2d(ref, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data.transpose(0, 3, 1, 2), ref.grad.data)


def test_max_pool_gradient_from_a_flatten_in_another_memory_order():
    # After the last pool of a CNN, Flatten's gradient comes back NCHW-contiguous while the
    # pool's input is channels-last: the VJP copies it into the input's order first. The
    # result equals the gradient of the same pool on an NCHW-contiguous input.
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 4, 4, 3))
    g = rng.standard_normal((2, 3 * 2 * 2))
    x = ag.tensor(data, requires_grad=True)
    nn.Flatten()(ag.max_pool2d(x.transpose(0, 3, 1, 2), 2)).backward(g)
    ref = ag.tensor(data.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    nn.Flatten()(ag.max_pool2d(ref, 2)).backward(g)
    np.testing.assert_array_equal(x.grad.data.transpose(0, 3, 1, 2), ref.grad.data)
    assert np.count_nonzero(ref.grad.data) == g.size


def test_max_pool_second_derivative_with_ties():
    f64()
    x = ag.tensor([[1.0, 1.0], [0.5, 1.0]], requires_grad=True)
    (g,) = ag.grad((ag.max_pool2d(x, 2) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, [[2 / 3, 2 / 3], [0.0, 2 / 3]])
    # d/dx of sum(g) = 2 * y * dy/dx summed: each tied element's share of d(2y)/dx
    (gg,) = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, [[2 / 3, 2 / 3], [0.0, 2 / 3]])


def test_max_pool_op_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: kernel size \(3, 3\) does not fit the last "
                                         r"two axes of an input of shape \(2, 2\)"):
        ag.max_pool2d(ag.randn(2, 2), 3)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel size \(1, 1\) does not fit the last "
                                         r"two axes of an input of shape \(5,\)"):
        ag.max_pool2d(ag.randn(5), 1)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size and stride must be positive, "
                                         r"got kernel_size=0, stride=None"):
        ag.max_pool2d(ag.randn(2, 2), 0)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size and stride must be positive, "
                                         r"got kernel_size=2, stride=\(1, 0\)"):
        ag.max_pool2d(ag.randn(2, 2), 2, (1, 0))
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be an int or a pair of ints, "
                                         r"got \(1, 2, 3\)"):
        ag.max_pool2d(ag.randn(2, 2), 1, (1, 2, 3))
