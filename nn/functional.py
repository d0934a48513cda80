"""Every layer and loss as a function of Tensors (`torch.nn.functional`'s names).

Everything here is composed of autograd ops, so no function has a backward of its own: the
engine differentiates the composition. Modules in `nn.layers` and `nn.losses` hold the
parameters and settings and call these.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd
from autograd import (
    Tensor,
    elu,
    leaky_relu,
    linear,
    log_softmax,
    no_grad,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from autograd.ops import constant
from autograd.ops.nn_ops import int_pair as _pair

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "softplus", "softmax",
    "log_softmax", "linear", "dropout", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm",
    "layer_norm", "mse_loss", "l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss",
    "multi_margin_loss", "kl_div",
]

IntPair = int | tuple[int, int]

# ---------------------------------------------------------------------------------------------
# activations (sigmoid, tanh, relu, leaky_relu, elu, softmax, log_softmax are the engine's own)


def softplus(x: Any, beta: float = 1.0) -> Tensor:
    """y = log(1 + exp(beta * x)) / beta, a smooth ReLU; dy/dx = sigmoid(beta * x)."""
    if beta == 1.0:
        return autograd.softplus(x)
    return autograd.softplus(constant(x) * float(beta)) / float(beta)


def prelu(x: Any, weight: Tensor) -> Tensor:
    """y = x if x > 0 else a * x, with a learnable slope `a`: one value, or one per channel
    (axis 1) when `weight` has C entries."""
    x = constant(x)
    w = weight
    if weight.size > 1:
        if x.ndim < 2 or x.shape[1] != weight.size:
            raise ValueError(f"prelu: {weight.size} slopes need an input with {weight.size} "
                             f"channels on axis 1, got shape {x.shape}")
        w = weight.reshape((weight.size,) + (1,) * (x.ndim - 2))
    return autograd.where(x.data > 0, x, x * w)


# ---------------------------------------------------------------------------------------------
# dropout


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: y = x * m / (1 - p), m_i ~ Bernoulli(1 - p), so E[y] = x.

    Identity when not training (or p = 0); masks come from `autograd.get_generator()`.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = constant(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    dt = x.dtype
    u = autograd.get_generator().random(x.shape, dtype=np.float32 if dt == np.float32
                                        else np.float64)
    mask = (u >= p) * np.asarray(1.0 / (1.0 - p), dtype=dt)
    return x * mask


# ---------------------------------------------------------------------------------------------
# convolution and pooling (NCHW)


def _check_4d(x: Tensor, who: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{who}: expected a 4-D input (N, C, H, W), got shape {x.shape}")


def conv2d(x: Any, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), NCHW:

        y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x_pad[n, c, i*sh + u, j*sw + v]

    Computed as im2col: the windows (`sliding_window_view`, strided by slicing) become the rows
    of one (N*OH*OW, kh*kw*C) matrix, multiplied by the weight reshaped to (out, kh*kw*C) in
    one `linear`.
    """
    x = constant(x)
    _check_4d(x, "conv2d")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError(f"conv2d: stride must be positive and padding non-negative, got "
                         f"stride={stride}, padding={padding}")
    out_c, in_c, kh, kw = weight.shape
    n, c = x.shape[:2]
    if c != in_c:
        raise ValueError(f"conv2d: input has {c} channels but the weight of shape "
                         f"{weight.shape} expects {in_c}")
    # Work channels-last (a view, no copy): each im2col row then gathers runs of C values and
    # the backward's col2im adds whole runs back, faster than element-by-element gathers.
    # Conv2d's own output is channels-last in memory, so in a stack of convolutions those
    # runs are contiguous.
    x = x.transpose(0, 2, 3, 1)
    if ph or pw:
        x = autograd.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    h, w = x.shape[1:3]
    if kh > h or kw > w:
        raise ValueError(f"conv2d: kernel size ({kh}, {kw}) can't be greater than the padded "
                         f"input size ({h}, {w})")
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    cols = autograd.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    if sh > 1 or sw > 1:
        cols = cols[:, ::sh, ::sw]
    if c == 1 and not x.requires_grad:
        # One channel and no gradient to send back (a first layer): gather the matrix
        # transposed, one row per window offset, each a shifted copy of the images (runs of OW
        # numbers instead of kw), 4x faster for 28x28 digits; its transpose is a view, which
        # the matrix product reads as it is.
        cols = cols.transpose(4, 5, 3, 0, 1, 2).reshape(kh * kw, n * oh * ow).T
    else:
        cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c)
    w2 = weight.transpose(0, 2, 3, 1).reshape(out_c, kh * kw * c)  # columns ordered (u, v, c)
    y = linear(cols, w2, bias)
    return y.reshape(n, oh, ow, out_c).transpose(0, 3, 1, 2)


def _pool(x: Any, kernel_size: IntPair, stride: IntPair | None, padding: IntPair, fill: float,
          reduce: str, who: str) -> Tensor:
    x = constant(x)
    _check_4d(x, who)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{who}: kernel_size and stride must be positive and padding "
                         f"non-negative, got kernel_size={kernel_size}, stride={stride}, "
                         f"padding={padding}")
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{who}: pad should be at most half of kernel size, but got "
                         f"padding={padding} and kernel_size={kernel_size}")
    if ph or pw:
        x = autograd.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    n, c, h, w = x.shape
    if kh > h or kw > w:
        raise ValueError(f"{who}: kernel size ({kh}, {kw}) can't be greater than the padded "
                         f"input size ({h}, {w})")
    if reduce == "max":
        return autograd.max_pool2d(x, (kh, kw), (sh, sw))
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    # Element (u, v) of every window at once is a strided slice of x, so the pool is a sum of
    # kh * kw slices: much faster in numpy than reducing a window view over two short axes.
    out = None
    for u in range(kh):
        for v in range(kw):
            part = x[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw]
            out = part if out is None else out + part
    assert out is not None
    return out * (1.0 / (kh * kw))


def max_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0) -> Tensor:
    """y[n, c, i, j] = max over the (kh, kw) window at (i*sh, j*sw) of x padded with -inf.

    `stride` defaults to `kernel_size`. One `autograd.max_pool2d` node. At ties the gradient is
    shared among the tied elements (PyTorch gives it all to one of them); either is a valid
    subgradient.
    """
    return _pool(x, kernel_size, stride, padding, -math.inf, "max", "max_pool2d")


def avg_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0) -> Tensor:
    """y[n, c, i, j] = mean over the (kh, kw) window at (i*sh, j*sw) of x padded with zeros
    (the zeros count, PyTorch's count_include_pad=True)."""
    return _pool(x, kernel_size, stride, padding, 0.0, "mean", "avg_pool2d")


# ---------------------------------------------------------------------------------------------
# normalization


def batch_norm(x: Any, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over axis 1 (channels), statistics over every other axis:

        y = (x - mu) / sqrt(var + eps) * weight + bias

    In training, mu and var are the batch's mean and biased variance, and the running
    statistics (when given) move towards them in place:
    running = (1 - momentum) * running + momentum * batch_stat, with the unbiased variance
    var * n / (n - 1) for running_var. Otherwise mu and var are the running statistics.
    """
    x = constant(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with a channel axis (N, C, ...), got "
                         f"shape {x.shape}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // c if c else 0
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        y = xc * (var + float(eps)) ** -0.5
        if running_mean is not None and running_var is not None:
            m = float(momentum)
            with no_grad():
                running_mean.mul_(1.0 - m).add_(mean.data.reshape(c) * m)
                running_var.mul_(1.0 - m).add_(var.data.reshape(c) * (m * n / (n - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        inv = (running_var.data + float(eps)) ** -0.5
        y = (x - running_mean.data.reshape(shape)) * inv.reshape(shape)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def layer_norm(x: Any, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalization over the last axes (those of `normalized_shape`), per sample:

        y = (x - mean) / sqrt(var + eps) * weight + bias   (biased variance)
    """
    x = constant(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"layer_norm: expected input with shape (*, {', '.join(map(str, shape))})"
                         f", but got input of shape {x.shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - x.mean(axis=axes, keepdims=True)
    y = xc * ((xc * xc).mean(axis=axes, keepdims=True) + float(eps)) ** -0.5
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ---------------------------------------------------------------------------------------------
# losses

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    """Raise ValueError unless `reduction` is one of `allowed`."""
    if reduction not in allowed:
        names = ", ".join(f"'{r}'" for r in allowed)
        raise ValueError(f"{reduction!r} is not a valid value for reduction; expected one of "
                         f"{names}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair_of(input: Any, target: Any, who: str) -> tuple[Tensor, Tensor]:
    x, t = constant(input), constant(target)
    if x.shape != t.shape:
        warnings.warn(f"{who}: using a target size {t.shape} that is different to the input "
                      f"size {x.shape}; this will likely lead to incorrect results due to "
                      "broadcasting", UserWarning, stacklevel=3)
    return x, t


def _class_indices(target: Any, x: Tensor, who: str) -> np.ndarray:
    """Integer class indices for (N, C) scores, checked for shape and range."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class indices, got dtype {t.dtype}")
    if x.ndim != 2 or t.shape != x.shape[:1]:
        raise ValueError(f"{who}: input of shape {x.shape} needs (N, C) with N class indices, "
                         f"got a target of shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= x.shape[1]):
        raise ValueError(f"{who}: target class indices must be in [0, {x.shape[1]}), got "
                         f"values from {t.min()} to {t.max()}")
    return t.astype(np.intp, copy=False)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = (x_i - y_i)^2"""
    check_reduction(reduction)
    x, t = _pair_of(input, target, "mse_loss")
    d = x - t
    return _reduce(d * d, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = |x_i - y_i|"""
    check_reduction(reduction)
    x, t = _pair_of(input, target, "l1_loss")
    return _reduce(autograd.abs(x - t), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """l_i = d^2 / 2 if |d| < delta else delta * (|d| - delta / 2),  d = x_i - y_i

    Quadratic near zero, linear (gradient +-delta) for outliers.
    """
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _pair_of(input, target, "huber_loss")
    d = x - t
    a = autograd.abs(d)
    delta = float(delta)
    loss = autograd.where(a.data < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def cross_entropy(input: Any, target: Any, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of (N, C) logits z against class indices or probability rows:

        l_i = -sum_c q_ic log softmax(z_i)_c,  q_i = (1 - s) y_i + s / C

    with y_i the one-hot row of class t_i (index targets, an integer array or Tensor) or the
    given probability row, and s = `label_smoothing`. log softmax is computed as
    z - logsumexp(z), shifted by the row maximum, so logits of +-1000 give finite values and
    gradients. Without smoothing, index targets use the engine's fused `cross_entropy` op.
    """
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    z = constant(input)
    s = float(label_smoothing)
    t_raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t_raw.dtype.kind in "iu":
        if s == 0.0:
            # The fused op checks the targets' shape and range itself (same messages).
            return autograd.cross_entropy(z, t_raw, reduction=reduction)
        t = _class_indices(t_raw, z, "cross_entropy")
        logp = log_softmax(z, axis=1)
        nll = -logp[np.arange(len(t)), t]
        return _reduce(nll * (1.0 - s) - logp.mean(axis=1) * s, reduction)
    if t_raw.dtype.kind != "f":
        raise TypeError(f"cross_entropy: target must be class indices (integers) or "
                        f"probabilities (floats), got dtype {t_raw.dtype}")
    if t_raw.shape != z.shape or z.ndim != 2:
        raise ValueError(f"cross_entropy: probability targets must have the logits' (N, C) "
                         f"shape {z.shape}, got {t_raw.shape}")
    q = constant(target)
    if s:
        q = q * (1.0 - s) + s / z.shape[1]
    loss = -(q * log_softmax(z, axis=1)).sum(axis=1)
    return _reduce(loss, reduction)


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = -x[i, t_i] for (N, C) log-probabilities x (log_softmax's output) and indices t."""
    check_reduction(reduction)
    x = constant(input)
    t = _class_indices(target, x, "nll_loss")
    return _reduce(-x[np.arange(len(t)), t], reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100), with a finite gradient at p = 0 (PyTorch's clamp of BCE's logs)."""
    positive = p.data > 0
    safe = autograd.where(positive, p, 1.0)
    return autograd.where(positive, autograd.clip(autograd.log(safe), -100.0, None), -100.0)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = -(y_i log p_i + (1 - y_i) log(1 - p_i)), each log clamped at -100 as in PyTorch,
    so p = 0 or 1 gives a finite loss. `input` holds probabilities (a sigmoid's output).

    The gradient is that of the clamped function: (p - y) / (p (1 - p)) where neither log is
    clamped, and no contribution from a clamped log (PyTorch instead divides by
    max(p (1 - p), 1e-12) there). Prefer `binary_cross_entropy_with_logits` for training.
    """
    check_reduction(reduction)
    p, y = _pair_of(input, target, "binary_cross_entropy")
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = -(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))) from logits z, computed stably:

        l_i = max(z, 0) - z y + log(1 + exp(-|z|)) = softplus(z) - z y

    (softplus is evaluated as logaddexp(0, z)); the gradient is sigmoid(z) - y.
    """
    check_reduction(reduction)
    z, y = _pair_of(input, target, "binary_cross_entropy_with_logits")
    return _reduce(autograd.softplus(z) - z * y, reduction)


def hinge_loss(input: Any, target: Any, reduction: str = "mean", margin: float = 1.0) -> Tensor:
    """Binary SVM loss: l_i = max(0, margin - y_i z_i) for scores z and labels y in {-1, +1}."""
    check_reduction(reduction)
    z, y = _pair_of(input, target, "hinge_loss")
    labels = y.data
    if labels.size and not np.all((labels == 1) | (labels == -1)):
        raise ValueError("hinge_loss: labels must be -1 or +1 (convert 0/1 labels with 2*y - 1)")
    return _reduce(relu(float(margin) - z * y), reduction)


def multi_margin_loss(input: Any, target: Any, reduction: str = "mean",
                      margin: float = 1.0) -> Tensor:
    """Multi-class SVM loss for (N, C) scores z and class indices t (PyTorch's definition):

        l_i = sum_{j != t_i} max(0, margin - z[i, t_i] + z[i, j]) / C

    which is CS231n's per-sample SVM loss divided by the number of classes C.
    """
    check_reduction(reduction)
    z = constant(input)
    t = _class_indices(target, z, "multi_margin_loss")
    n, c = z.shape
    rows = np.arange(n)
    correct = z[rows, t].reshape(n, 1)
    others = np.ones((n, c), dtype=z.dtype)
    others[rows, t] = 0
    loss = (relu(z - correct + float(margin)) * others).sum(axis=1) * (1.0 / c)
    return _reduce(loss, reduction)


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with PyTorch's argument order: `input` holds log q (log
    probabilities of the model), `target` holds p (or log p with `log_target=True`):

        l_i = p_i (log p_i - log q_i)   (natural log; 0 where p_i = 0)

    'batchmean' divides the sum by the batch size N, the true KL divergence per sample;
    'mean' (PyTorch's default) divides by the number of elements.
    """
    check_reduction(reduction, _REDUCTIONS + ("batchmean",))
    logq, t = _pair_of(input, target, "kl_div")
    if log_target:
        loss = autograd.exp(t) * (t - logq)
    else:
        positive = t.data > 0
        p_log_p = autograd.where(positive, t * autograd.log(autograd.where(positive, t, 1.0)),
                                 0.0)
        loss = p_log_p - t * logq
    if reduction == "batchmean":
        return loss.sum() * (1.0 / (loss.shape[0] if loss.ndim else 1))
    return _reduce(loss, reduction)
