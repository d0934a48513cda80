"""Ops that neural networks are built from: logsumexp, softmax, log_softmax, two fused ops and
max-pooling.

The exponentials subtract the maximum first, so logits of +-1e4 neither overflow nor give NaN.
The fused ops (`linear`, `cross_entropy`) do in one node what would take several, because these
two are on every training step's hot path; their VJPs are the standard closed forms. Max-pooling
is one node for the same reason: built from `maximum`s of strided slices it would scatter a
full-size zero array per window offset in the backward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..broadcast import sum_leading
from ..function import Function
from ..tensor import Tensor
from .convert import constant
from .reduce import Axis, _Reduction, keepdims_shape


def _stable_lse(x: np.ndarray, axis: Any) -> np.ndarray:
    """log(sum(exp(x), axis, keepdims=True)), shifted by the max (by 0 where that is not finite)."""
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)
    return np.log(np.add.reduce(np.exp(x - m), axis=axis, keepdims=True)) + m


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - logsumexp(x, axis), as (x - m) - log(sum(exp(x - m))) with m the max along `axis`.

    The common case takes five numpy calls and one new array besides the exponentials. When m
    is not finite (a row of -inf, a +inf or a NaN) the sums are NaN, and the rows are computed
    again by `_stable_lse`, which shifts them by 0 instead (NaN only where it must be)."""
    y = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    s = np.add.reduce(np.exp(y), axis=axis, keepdims=True)
    total = np.add.reduce(s, axis=None)
    if total != total:  # NaN: a max was not finite (with a finite max, 1 <= s <= size)
        return x - _stable_lse(x, axis)
    y -= np.log(s, out=s)
    return y


class LogSumExp(_Reduction):
    """y = log(sum(exp(x), axis));  dx = g * exp(x - y) = g * softmax(x)"""

    __slots__ = ()
    saves_output = True

    def forward(self, x):
        self._setup(x)
        self.saved = y = _stable_lse(x, self.axes)
        return y if self.keepdims else np.squeeze(y, axis=self.axes)

    def vjp(self, F, g, x):
        y = self.output(F, x)
        if not self.keepdims:
            y = F.reshape(y, keepdims_shape(self.in_shape, self.axes))
        return (self._kept(F, g) * F.exp(x - y),)


class Softmax(Function):
    """y = exp(x) / sum(exp(x), axis);  dx = y * (g - sum(g * y, axis))"""

    __slots__ = ("axis",)
    saves_output = True

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x):
        self.saved = y = np.exp(x - _stable_lse(x, self.axis))
        return y

    def vjp(self, F, g, x):
        y = self.output(F, x)
        return (y * (g - F.sum(g * y, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y = x - logsumexp(x, axis);  dx = g - softmax(x) * sum(g, axis)"""

    __slots__ = ("axis",)
    saves_output = True
    name = "log_softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x):
        self.saved = y = _log_softmax(x, self.axis)
        return y

    def vjp(self, F, g, x):
        y = self.output(F, x)
        return (g - F.exp(y) * F.sum(g, axis=self.axis, keepdims=True),)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x), axis)), computed without overflow."""
    return LogSumExp(axis, keepdims).__call__(constant(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x), axis), computed without overflow."""
    return Softmax(axis).__call__(constant(x))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x, axis): log-probabilities, stable for extreme logits."""
    return LogSoftmax(axis).__call__(constant(x))


class Linear(Function):
    """y = x @ W^T + b  (x: (..., in), W: (out, in), b: (out,));
    dx = g @ W,  dW = g^T x (summed over the batch axes),  db = sum of g over the batch axes"""

    __slots__ = ()

    def forward(self, x, w, b=None):
        if x.shape[-1:] != w.shape[-1:] or w.ndim != 2:
            raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                             f"{w.shape} (expected (..., {w.shape[-1]}))")
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def vjp(self, F, g, x, w, b=None):
        needs = self.needs
        gx = g @ w if needs[0] else None
        gw = gb = None
        if needs[1]:
            if x.ndim == 2:
                gw = g.T @ x
            else:
                gw = F.reshape(g, (-1, g.shape[-1])).T @ F.reshape(x, (-1, x.shape[-1]))
        if len(needs) > 2 and needs[2]:
            if type(g) is np.ndarray:
                gb = sum_leading(g, g.ndim - 1)
            else:
                gb = g.sum(axis=tuple(range(g.ndim - 1)))
        return gx, gw, gb


class CrossEntropy(Function):
    """l_i = logsumexp(z_i) - z_i[t_i]  (z: (N, C) logits, t: N class indices), then the
    reduction r ('none': l, 'mean': sum(l) / N, 'sum': sum(l));
    dz_i = (softmax(z_i) - onehot(t_i)) * g_i  (g_i = g / N for 'mean', g for 'sum')"""

    __slots__ = ("target", "reduction", "rows")
    name = "cross_entropy"

    def __init__(self, target: Any, reduction: str = "none") -> None:
        t = np.asarray(target)
        if t.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integer class indices, got {t.dtype}")
        # As indices of the platform's width; unsigned ones as wide as that stay unsigned, so a
        # value above the signed range is reported as it is rather than wrapped to a negative.
        wide = t.dtype.kind == "u" and t.dtype.itemsize >= np.dtype(np.intp).itemsize
        self.target = t.astype(np.uintp if wide else np.intp, copy=False)
        self.reduction = reduction

    def forward(self, z):
        t = self.target
        if z.ndim != 2 or t.shape != z.shape[:1]:
            raise ValueError(f"cross_entropy: input of shape {z.shape} needs (N, C) with N class "
                             f"indices, got a target of shape {t.shape}")
        # One reduction checks both ends: read as unsigned, a negative index is above any class.
        if t.size and np.maximum.reduce(t.view(np.uintp)) >= z.shape[1]:
            lo, hi = np.minimum.reduce(t), np.maximum.reduce(t)
            raise ValueError(f"cross_entropy: target class indices must be in "
                             f"[0, {z.shape[1]}), got values from {lo} to {hi}")
        self.saved = logp = _log_softmax(z, 1)
        self.rows = rows = np.arange(len(z))
        picked = logp[rows, t]
        if self.reduction == "none":
            return np.negative(picked, out=picked)
        total = -np.add.reduce(picked)
        return total / max(len(z), 1) if self.reduction == "mean" else total

    def _scale(self, g: Any, n: int) -> Any:
        """The output gradient as a column that multiplies each row of (softmax - onehot)."""
        if self.reduction == "none":
            return g.reshape((-1, 1))
        return g / n if self.reduction == "mean" else g

    def vjp(self, F, g, z):
        n = max(z.shape[0], 1)
        if isinstance(z, Tensor):
            onehot = np.zeros(z.shape, dtype=z.dtype)
            onehot[np.arange(z.shape[0]), self.target] = 1
            return ((F.exp(log_softmax(z, axis=1)) - onehot) * self._scale(g, n),)
        grad = np.exp(self.saved)  # softmax, a fresh array: subtract the one-hot in place
        grad[self.rows, self.target] -= 1
        grad *= self._scale(g, n)
        return (grad,)

    def describe(self) -> str:
        return "cross_entropy" if self.reduction == "none" else f"cross_entropy({self.reduction})"


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight^T + bias in one node (weight has PyTorch's (out_features, in_features) shape)."""
    if bias is None:
        return Linear().__call__(constant(x), constant(weight))
    return Linear().__call__(constant(x), constant(weight), constant(bias))


def cross_entropy(logits: Any, target: Any, reduction: str = "none") -> Tensor:
    """-log softmax(logits)[target] for (N, C) logits and N integer class indices, per sample
    ('none', the default) or reduced over the batch ('mean' or 'sum') in the same node."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"cross_entropy: reduction must be 'none', 'mean' or 'sum', got "
                         f"{reduction!r}")
    t = target.data if isinstance(target, Tensor) else target
    return CrossEntropy(t, reduction).__call__(constant(logits))


class MaxPool2d(Function):
    """y[..., i, j] = max of x[..., i*sh + u, j*sw + v] over the window 0 <= u < kh, 0 <= v < kw;
    dx[..., i*sh + u, j*sw + v] += g[..., i, j] * [x there == y[..., i, j]] / (number of window
    elements equal to y[..., i, j]): each window's gradient goes to its maximum, shared evenly
    at ties (every tied element is a valid subgradient; the even share is the symmetric one)."""

    __slots__ = ("kernel", "stride", "offsets")
    saves_output = True
    name = "max_pool2d"

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int]) -> None:
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        (kh, kw), (sh, sw) = self.kernel, self.stride
        h, w = x.shape[-2:] if x.ndim >= 2 else (0, 0)
        if kh > h or kw > w:
            raise ValueError(f"max_pool2d: kernel size ({kh}, {kw}) does not fit the last two "
                             f"axes of an input of shape {x.shape}")
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        # Element (u, v) of every window at once: one strided slice of x per window offset.
        self.offsets = index = [
            (Ellipsis, slice(u, u + sh * (oh - 1) + 1, sh), slice(v, v + sw * (ow - 1) + 1, sw))
            for u in range(kh) for v in range(kw)]
        # In x's memory order (order="K"): a channels-last conv output pools to a channels-last
        # array, so the next convolution's windows gather runs of channels.
        out = x[index[0]].copy(order="K")
        for i in index[1:]:
            np.maximum(out, x[i], out=out)
        self.saved = out
        return out

    def _shares(self, x: np.ndarray, y: np.ndarray) -> tuple[list, np.ndarray]:
        """Per window offset, where the window's maximum is; and 1 / (how many share it)."""
        masks = [x[i] == y for i in self.offsets]
        count = masks[0].astype(y.dtype)
        for m in masks[1:]:
            count += m
        np.maximum(count, 1.0, out=count)  # a NaN window has no maximum to route to
        return masks, np.reciprocal(count, out=count)

    def vjp(self, F, g, x):
        index = self.offsets
        if isinstance(g, Tensor):
            masks, inv = self._shares(x.data, self.saved)
            gx = None
            for i, m in zip(index, masks):
                part = F.unindex(g * (m * inv), x.shape, i)
                gx = part if gx is None else gx + part
            return (gx,)
        masks, inv = self._shares(x, self.saved)
        if g.strides != inv.strides and 0 not in g.strides:
            # g in another memory order than x (e.g. from a flatten after the pool): one copy
            # into x's order first, so the products below read and write in step.
            g = _in_layout_of(inv, g)
        share = g * inv
        # Same memory layout as x (conv outputs are channels-last in memory), so the ops after
        # this in the backward pass meet arrays of one layout.
        gx = np.zeros_like(x)
        (kh, kw), (sh, sw) = self.kernel, self.stride
        disjoint = sh >= kh and sw >= kw
        for i, m in zip(index, masks):
            if disjoint:
                np.multiply(share, m, out=gx[i])
            else:
                gx[i] += share * m
        return (gx,)

    def describe(self) -> str:
        (kh, kw), (sh, sw) = self.kernel, self.stride
        return f"max_pool2d({kh}x{kw}, stride {sh}x{sw})"


def _in_layout_of(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of `a` in the memory order of `like` (same shape)."""
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def int_pair(value: Any, name: str) -> tuple[int, int]:
    """A kernel size, stride or padding given as an int or a pair of ints, as a pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def max_pool2d(x: Any, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None) -> Tensor:
    """Max over (kh, kw) windows of the last two axes, every (sh, sw) elements (`stride`
    defaults to `kernel_size`); any leading axes are batch axes. No padding: pad first (with
    -inf) for that, as `nn.functional.max_pool2d` does."""
    kernel = int_pair(kernel_size, "max_pool2d: kernel_size")
    step = kernel if stride is None else int_pair(stride, "max_pool2d: stride")
    if min(kernel + step) < 1:
        raise ValueError(f"max_pool2d: kernel_size and stride must be positive, got "
                         f"kernel_size={kernel_size!r}, stride={stride!r}")
    return MaxPool2d(kernel, step).__call__(constant(x))
