"""Workload 4: one SGD step of a LeNet-5-like CNN, batch 64 of 1x28x28, float32.

    conv 6@5x5 pad 2 - relu - maxpool 2 - conv 16@5x5 - relu - maxpool 2 - flatten
    - fc 120 - relu - fc 84 - relu - fc 10,  mean cross-entropy, SGD

Implementations: this project through nn.Conv2d / nn.MaxPool2d / nn.Linear with optim.SGD,
PyTorch's nn + optim, and a hand-written numpy reference that is as good as one writes by hand:
channels-last activations, im2col from strided views (`sliding_window_view`, one copy per
convolution into the matrix), one matrix product per convolution forward and two backward, 2x2
max-pooling as the maximum of four strided slices, and col2im as shifted-slice additions of
whole window rows, K*C contiguous numbers each (never `np.add.at`, which is an order of
magnitude slower). Weights use PyTorch's layout, so all three start from the same numbers and
are compared after one step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import harness
from .harness import Config, Result

NAME = "cnn"
LR = 0.05
K = 5  # kernel size of both convolutions


@dataclass
class Problem:
    """Initial weights (conv1.w, conv1.b, conv2.w, conv2.b, fc1.w, ..., fc3.b) and one batch."""

    x: np.ndarray  # (N, 1, H, W)
    y: np.ndarray
    init: list[np.ndarray]
    lr: float = LR

    @property
    def title(self) -> str:
        n, c, h, w = self.x.shape
        return f"LeNet-5-like CNN SGD step, batch {n}, {c}x{h}x{w}"


def problem(batch: int = 64, size: int = 28, seed: int = 0) -> Problem:
    """PyTorch's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and a random batch."""
    rng = np.random.default_rng(seed)
    # conv2's output is ((size / 2) - 4), pooled to half of it.
    side = (size // 2 - K + 1) // 2
    shapes = [(6, 1, K, K), (16, 6, K, K), (120, 16 * side * side), (84, 120), (10, 84)]
    init = []
    for shape in shapes:
        bound = 1.0 / np.sqrt(np.prod(shape[1:]))
        init.append(rng.uniform(-bound, bound, shape).astype(np.float32))
        init.append(rng.uniform(-bound, bound, shape[0]).astype(np.float32))
    x = rng.standard_normal((batch, 1, size, size)).astype(np.float32)
    return Problem(x, rng.integers(0, 10, batch), init)


# ---------------------------------------------------------------------------------------------
# hand-written numpy


def _im2col(x: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N*OH*OW, K*K*C): the K x K windows as rows, columns ordered (u, v, c).
    With one channel, the matrix is gathered transposed (one row per window offset, runs of OW
    numbers instead of K) and returned as its transpose, a view the matrix products read."""
    n, h, w, c = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(1, 2))  # (N,OH,OW,C,K,K)
    oh, ow = h - K + 1, w - K + 1
    if c == 1:
        return win.transpose(4, 5, 3, 0, 1, 2).reshape(K * K, n * oh * ow).T
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, K * K * c)


def _col2im(dcols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Adjoint of _im2col: add the windows back into place, one window row at a time (kernel
    row u of the windows at output column j): its K*C values are contiguous in both arrays, so
    numpy adds runs of K*C numbers instead of the C of a per-offset slice."""
    n, h, w, c = shape
    oh, ow = h - K + 1, w - K + 1
    d = dcols.reshape(n, oh, ow, K, K, c)
    dx = np.zeros(shape, dtype=dcols.dtype)
    for u in range(K):
        for j in range(ow):
            dx[:, u:u + oh, j:j + K, :] += d[:, :, j, u]
    return dx


#: The four offsets of a 2x2 window, as strided slices of an (N, H, W, C) array.
_OFFSETS = [(slice(None), slice(u, None, 2), slice(v, None, 2)) for u in (0, 1) for v in (0, 1)]


def _pool(h: np.ndarray) -> np.ndarray:
    """2x2 max-pooling of (N, H, W, C) (even H and W): the elementwise maximum of the four
    strided slices, one per window offset (much faster than a max over two strided axes)."""
    p = np.maximum(h[_OFFSETS[0]], h[_OFFSETS[1]])
    for s in _OFFSETS[2:]:
        np.maximum(p, h[s], out=p)
    return p


def _unpool(g: np.ndarray, h: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Route each pooled gradient to the window's maximum. Ties only occur among ReLU's zeros,
    whose gradient the ReLU mask zeroes anyway."""
    dh = np.empty_like(h)
    for s in _OFFSETS:
        np.multiply(g, h[s] == p, out=dh[s])
    return dh


def numpy_impl(p: Problem) -> tuple[Callable[[], Any], Callable[[], list[np.ndarray]]]:
    """The reference: forward, closed-form backward and in-place SGD, channels-last."""
    params = [a.copy() for a in p.init]
    n = len(p.x)
    x = p.x.reshape(n, p.x.shape[2], p.x.shape[3], 1)  # NCHW with C = 1 is NHWC already
    y, lr, rows = p.y, p.lr, np.arange(n)

    def conv_relu(inp: np.ndarray, w: np.ndarray,
                  b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """relu(conv(inp)) in NHWC, and the im2col matrix the backward pass needs."""
        cols = _im2col(inp)
        wm = w.transpose(0, 2, 3, 1).reshape(len(w), -1)  # (O, K*K*C), columns (u, v, c)
        out = cols @ wm.T
        out += b
        np.maximum(out, 0.0, out=out)
        nn_, hh, ww, _ = inp.shape
        return out.reshape(nn_, hh - K + 1, ww - K + 1, len(w)), cols

    def conv_grads(g: np.ndarray, cols: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """g as the (N*OH*OW, O) matrix, dL/dw in PyTorch's layout, dL/db."""
        g2 = g.reshape(-1, len(w))
        gw = (g2.T @ cols).reshape(len(w), K, K, -1).transpose(0, 3, 1, 2)
        return g2, gw, g2.sum(axis=0)

    def step() -> Any:
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
        xp = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
        h1, cols1 = conv_relu(xp, w1, b1)
        p1 = _pool(h1)
        h2, cols2 = conv_relu(p1, w2, b2)
        p2 = _pool(h2)
        flat = p2.transpose(0, 3, 1, 2).reshape(n, -1)  # PyTorch flattens (C, H, W)
        a3 = flat @ w3.T
        a3 += b3
        np.maximum(a3, 0.0, out=a3)
        a4 = a3 @ w4.T
        a4 += b4
        np.maximum(a4, 0.0, out=a4)
        z = a4 @ w5.T
        z += b5
        loss, e = harness.numpy_cross_entropy(z, y, rows)
        # fully connected layers, last to first
        da4 = e @ w5
        da4 *= a4 > 0
        da3 = da4 @ w4
        da3 *= a3 > 0
        dflat = da3 @ w3
        # conv2; its input gradient goes on to conv1 (whose own input gradient is not needed)
        dp2 = dflat.reshape(n, p2.shape[3], p2.shape[1], p2.shape[2]).transpose(0, 2, 3, 1)
        dh2 = _unpool(dp2, h2, p2)
        dh2 *= h2 > 0
        g2, gw2, gb2 = conv_grads(dh2, cols2, w2)
        wm2 = w2.transpose(0, 2, 3, 1).reshape(len(w2), -1)
        dh1 = _unpool(_col2im(g2 @ wm2, p1.shape), h1, p1)
        dh1 *= h1 > 0
        _, gw1, gb1 = conv_grads(dh1, cols1, w1)
        grads = [gw1, gb1, gw2, gb2, da3.T @ flat, da3.sum(axis=0), da4.T @ a3,
                 da4.sum(axis=0), e.T @ a4, e.sum(axis=0)]
        for w, g in zip(params, grads):
            g *= lr
            w -= g
        return loss

    return step, lambda: params


# ---------------------------------------------------------------------------------------------
# chainrule and PyTorch: the same nn.Sequential in both (PyTorch's names)


def _lenet(nn: Any, features: int) -> Any:
    return nn.Sequential(
        nn.Conv2d(1, 6, K, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, K), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(features, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def chainrule_nn_impl(p: Problem) -> tuple[Callable[[], Any], Callable[[], list[np.ndarray]]]:
    nn, _ = harness.nn_optim()  # type: ignore[misc]
    model = _lenet(nn, p.init[4].shape[1])
    return harness.chainrule_classifier_step(model, p.init, p.x, p.y, p.lr)


def torch_nn_impl(p: Problem) -> tuple[Callable[[], Any], Callable[[], list[np.ndarray]]]:
    model = _lenet(harness.torch().nn, p.init[4].shape[1])
    return harness.torch_classifier_step(model, p.init, p.x, p.y, p.lr)


IMPLS: harness.Impls = {
    "numpy (hand-written im2col)": ("numpy", numpy_impl, False),
    "chainrule (nn + optim)": ("chainrule", chainrule_nn_impl, True),
    "torch (nn + optim)": ("torch", torch_nn_impl, False),
}
REFERENCE = "numpy (hand-written im2col)"


def run(cfg: Config) -> list[Result]:
    p = problem(4, 12, cfg.seed) if cfg.quick else problem(64, 28, cfg.seed)
    return harness.step_workload(cfg, NAME, "lenet", p.title, IMPLS, REFERENCE, p, cfg.reps(25))
