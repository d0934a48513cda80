"""Losses against their formulas (numpy), in module and functional form: reductions, extreme
logits, targets as indices or probabilities, gradients by finite differences, errors."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def f64():
    ag.set_default_dtype(np.float64)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


RNG = np.random.default_rng(0)
Z = RNG.standard_normal((6, 4)) * 2          # scores / logits
T = np.array([0, 3, 1, 1, 2, 0])              # class indices
Y = RNG.standard_normal((6, 4))               # regression targets
P = RNG.uniform(0.05, 0.95, (6, 4))          # probabilities
B = (RNG.random((6, 4)) > 0.5).astype(float)  # binary labels


def ref_multi_margin(z, t, margin=1.0):
    n, c = z.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != t[i]:
                out[i] += max(0.0, margin - z[i, t[i]] + z[i, j])
    return out / c


# (module, functional call, elementwise/per-sample reference, input, target)
CASES = {
    "mse": (nn.MSELoss, F.mse_loss, lambda x, y: (x - y) ** 2, Z, Y),
    "l1": (nn.L1Loss, F.l1_loss, lambda x, y: np.abs(x - y), Z, Y),
    "huber": (nn.HuberLoss, F.huber_loss,
              lambda x, y: np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2, np.abs(x - y) - 0.5),
              Z, Y),
    "cross_entropy": (nn.CrossEntropyLoss, F.cross_entropy,
                      lambda z, t: -log_softmax(z)[np.arange(len(t)), t], Z, T),
    "cross_entropy_probs": (nn.CrossEntropyLoss, F.cross_entropy,
                            lambda z, q: -(q * log_softmax(z)).sum(1), Z, softmax(Y)),
    "nll": (nn.NLLLoss, F.nll_loss, lambda x, t: -x[np.arange(len(t)), t], log_softmax(Z), T),
    "bce": (nn.BCELoss, F.binary_cross_entropy,
            lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)), P, B),
    "bce_logits": (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits,
                   lambda z, y: -(y * np.log(1 / (1 + np.exp(-z)))
                                  + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z)))), Z, B),
    "hinge": (nn.HingeLoss, F.hinge_loss, lambda z, y: np.maximum(0, 1 - y * z), Z,
              np.where(B > 0, 1.0, -1.0)),
    "multi_margin": (nn.MultiMarginLoss, F.multi_margin_loss, ref_multi_margin, Z, T),
    "kl_div": (nn.KLDivLoss, F.kl_div, lambda lq, p: p * (np.log(p) - lq), log_softmax(Z),
               softmax(Y)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_formulas_in_every_reduction(name, reduction):
    f64()
    module, fn, ref, x, y = CASES[name]
    expect = ref(x, y)
    expect = {"mean": expect.mean(), "sum": expect.sum(), "none": expect}[reduction]
    np.testing.assert_allclose(module(reduction=reduction)(x, y).data, expect, rtol=1e-10)
    np.testing.assert_allclose(fn(x, y, reduction=reduction).data, expect, rtol=1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_loss_gradients(name):
    f64()
    module, fn, ref, x, y = CASES[name]
    xt = ag.Tensor(x.copy(), requires_grad=True)
    assert ag.gradcheck(lambda x: fn(x, y, reduction="sum"), (xt,))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_reduction_is_a_value_error(name):
    module, fn, ref, x, y = CASES[name]
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        module(reduction="avg")
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        fn(x, y, reduction="avg")


def test_losses_keep_float32():
    x = ag.randn(4, 3)
    assert nn.MSELoss()(x, np.zeros((4, 3), dtype=np.float32)).dtype == np.float32
    assert nn.CrossEntropyLoss()(x, np.array([0, 1, 2, 0])).dtype == np.float32
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, np.array([0, 1, 2, 0])).dtype == np.float32


def test_mse_warns_about_broadcasting_targets():
    with pytest.warns(UserWarning, match=r"target size \(4,\) that is different to the input "
                                         r"size \(4, 1\)"):
        F.mse_loss(ag.randn(4, 1), np.zeros(4, dtype=np.float32))


def test_huber_delta():
    f64()
    d = np.array([-3.0, -0.5, 0.2, 2.5])
    expect = np.where(np.abs(d) < 2, 0.5 * d ** 2, 2 * (np.abs(d) - 1))
    np.testing.assert_allclose(nn.HuberLoss("none", delta=2.0)(d, np.zeros(4)).data, expect)
    with pytest.raises(ValueError, match="delta must be positive, got 0"):
        F.huber_loss(d, d, delta=0)


# ---------------------------------------------------------------------------------------------
# cross-entropy


def test_cross_entropy_with_extreme_logits_is_finite_and_exact():
    f64()
    z = ag.Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]]),
                  requires_grad=True)
    loss = nn.CrossEntropyLoss(reduction="none")(z, np.array([0, 0, 1]))
    np.testing.assert_allclose(loss.data, [0.0, 2000.0, np.log(2)])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.data, [[0, 0], [-1, 1], [0.5, -0.5]])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_extreme_logits_float32(smoothing):
    z = ag.Tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(z, np.array([1]), label_smoothing=smoothing)
    expect = 2000.0 * (1 - smoothing) + smoothing * (0 + 2000 + 1000) / 3
    np.testing.assert_allclose(loss.item(), expect, rtol=1e-6)
    loss.backward()
    assert np.all(np.isfinite(z.grad.data))
    np.testing.assert_allclose(z.grad.data, [[1 - smoothing / 3, -(1 - smoothing) - smoothing / 3,
                                              -smoothing / 3]], atol=1e-6)


def test_cross_entropy_label_smoothing_formula():
    f64()
    s, c = 0.2, Z.shape[1]
    q = np.full(Z.shape, s / c)
    q[np.arange(len(T)), T] += 1 - s
    expect = -(q * log_softmax(Z)).sum(1).mean()
    np.testing.assert_allclose(F.cross_entropy(Z, T, label_smoothing=s).item(), expect)
    np.testing.assert_allclose(F.cross_entropy(Z, np.eye(c)[T], label_smoothing=s).item(),
                               expect)
    xt = ag.Tensor(Z.copy(), requires_grad=True)
    assert ag.gradcheck(lambda x: F.cross_entropy(x, T, label_smoothing=s), (xt,))


def test_cross_entropy_accepts_integer_tensors_and_lists():
    f64()
    expect = F.cross_entropy(Z, T).item()
    assert F.cross_entropy(Z, ag.Tensor(T)).item() == expect
    assert F.cross_entropy(Z, T.tolist()).item() == expect
    assert F.cross_entropy(Z, T.astype(np.uint8)).item() == expect


def test_cross_entropy_target_errors():
    with pytest.raises(ValueError, match=r"target class indices must be in \[0, 4\), got values "
                                         r"from 0 to 4"):
        F.cross_entropy(Z, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"input of shape \(6, 4\) needs \(N, C\) with N class "
                                         r"indices, got a target of shape \(5,\)"):
        F.cross_entropy(Z, T[:5])
    with pytest.raises(ValueError, match=r"probability targets must have the logits' \(N, C\) "
                                         r"shape \(6, 4\), got \(6, 3\)"):
        F.cross_entropy(Z, np.ones((6, 3)) / 3)
    with pytest.raises(TypeError, match="target must be class indices .* got dtype bool"):
        F.cross_entropy(Z, T > 0)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(Z, T, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got -0.1"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices"):
        F.nll_loss(Z, Y[:, 0])


def test_cross_entropy_equals_nll_of_log_softmax():
    f64()
    np.testing.assert_allclose(F.cross_entropy(Z, T).item(),
                               F.nll_loss(ag.log_softmax(Z, axis=1), T).item())


# ---------------------------------------------------------------------------------------------
# binary losses


def test_bce_clamps_logs_at_minus_100():
    f64()
    p = ag.Tensor(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = nn.BCELoss(reduction="none")(p, y)
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 0.0, 0.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.data))
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0, 1.0, -1.0, 0.0])


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.array([1.0, 0.0]))


def test_bce_with_logits_is_stable_for_extreme_logits():
    for dtype in (np.float32, np.float64):
        z = ag.Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype=dtype),
                      requires_grad=True)
        y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0, np.log(2)], rtol=1e-6)
        loss.sum().backward()
        np.testing.assert_allclose(z.grad.data, [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-7)


def test_bce_with_logits_equals_bce_of_sigmoid():
    f64()
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(Z, B).item(),
                               F.binary_cross_entropy(ag.sigmoid(Z), B).item(), rtol=1e-12)


def test_hinge_loss_needs_plus_minus_one_labels():
    np.testing.assert_allclose(
        nn.HingeLoss(reduction="none")(np.array([2.0, 0.5, -0.3]), np.array([1.0, 1.0, -1.0])).data,
        [0.0, 0.5, 0.7], rtol=1e-6)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        F.hinge_loss(np.array([0.2, 0.1]), np.array([0.0, 1.0]))


# ---------------------------------------------------------------------------------------------
# multi-class SVM and KL divergence


def test_multi_margin_is_cs231n_svm_divided_by_the_number_of_classes():
    # CS231n's worked example: scores of one cat image, cat is the correct class.
    scores = np.array([[3.2, 5.1, -1.7]])
    cs231n = max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1)  # 2.9
    loss = nn.MultiMarginLoss()(scores, np.array([0]))
    np.testing.assert_allclose(loss.item() * 3, cs231n, rtol=1e-6)
    assert "divided by the number of" in nn.MultiMarginLoss.__doc__.replace("\n", " ")


def test_multi_margin_custom_margin():
    f64()
    np.testing.assert_allclose(F.multi_margin_loss(Z, T, reduction="none", margin=2.0).data,
                               ref_multi_margin(Z, T, 2.0))


def test_kl_div_batchmean_log_target_and_zero_probabilities():
    f64()
    logq = log_softmax(Z)
    p = softmax(Y)
    p[0] = [0.5, 0.5, 0.0, 0.0]
    pointwise = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0) - p * logq
    np.testing.assert_allclose(F.kl_div(logq, p, reduction="batchmean").item(),
                               pointwise.sum() / 6)
    np.testing.assert_allclose(nn.KLDivLoss(reduction="batchmean")(logq, p).item(),
                               pointwise.sum() / 6)
    q = softmax(Y)
    np.testing.assert_allclose(
        F.kl_div(logq, np.log(q), reduction="sum", log_target=True).item(),
        (q * (np.log(q) - logq)).sum())
    xt = ag.Tensor(logq.copy(), requires_grad=True)
    assert ag.gradcheck(lambda x: F.kl_div(x, p, reduction="batchmean"), (xt,))
    with pytest.raises(ValueError, match="'batchmean' is not a valid value for reduction"):
        nn.MSELoss(reduction="batchmean")


def test_kl_div_of_a_distribution_with_itself_is_zero():
    f64()
    q = softmax(Z)
    np.testing.assert_allclose(F.kl_div(np.log(q), q, reduction="sum").item(), 0.0, atol=1e-12)


def test_loss_repr():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean')"
