"""Optimizers: gradient descent, momentum, Nesterov, Adam and Newton's method side by side.

    python -m examples.optimizers             # writes runs/optimizers/
    python -m examples.optimizers --help

What it reproduces (CMU Deep Learning Systems, lecture "Optimization"): on the ill-conditioned
quadratic f(x, y) = (x^2 + 50 y^2) / 2 (curvature 1 along x, L = 50 along y, condition
number 50), started at (-8, 1.5):

- gradient descent with a small step crawls along the flat x direction; near the stability
  limit lr = 2/L it zig-zags across the steep y direction; beyond 2/L it diverges;
- momentum (an average of past gradients, u = beta u + (1 - beta) g) damps the zig-zag and
  keeps moving along x, so at the same learning rate it gets much further;
- debiased momentum divides the average by 1 - beta^(t+1), so its first steps are as large as
  gradient descent's instead of (1 - beta) times smaller;
- Nesterov momentum evaluates the gradient at the look-ahead point and overshoots less;
- Adam scales each coordinate by its own gradient size, so it heads to the minimum almost
  independently of the curvature in each direction;
- Newton's method, theta - H^-1 grad, jumps to the minimum of a quadratic in one step --
  at the cost of forming and solving with the n x n Hessian, which is why it is not used to
  train networks (the MNIST net below has 13,002 parameters: a 13,002 x 13,002 Hessian).

Then the same first-order optimizers train the 784-16-16-10 MNIST network from the same
initial weights, and their training-loss curves are compared.

Output: `quadratic_gd.png` (gradient descent at four learning rates), `quadratic.png` (the
other methods) -- trajectories over the contour lines -- and `mnist.png` (loss curves).

What to look for: the printed f after the last step for each method (Newton 0 after one
step; momentum variants, Nesterov and Adam well below gradient descent at the same learning
rate) and the first step lengths (debiased momentum's equals gradient descent's, plain
averaged momentum's is 1 - beta = 10% of it). On MNIST the differences are smaller than on the
quadratic: with minibatch noise, the averaged momentum variants at SGD's learning rate end
close to SGD, Adam drops fastest in the first epoch, and SGD with a ten times smaller
learning rate lags far behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
import viz

from . import _common

CURVATURE = np.array([1.0, 50.0])  # f(x, y) = (x^2 + 50 y^2) / 2
START = (-8.0, 1.5)
BETA = 0.9


def quadratic(theta: ag.Tensor) -> ag.Tensor:
    """f(theta) = 1/2 sum_i c_i theta_i^2 (differentiable twice, for Newton's method)."""
    return 0.5 * (CURVATURE * theta * theta).sum()


def f2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same function on coordinate grids, for the contour lines."""
    return 0.5 * (CURVATURE[0] * x * x + CURVATURE[1] * y * y)


def descend(make: Callable[[list[ag.Tensor]], optim.Optimizer], steps: int,
            newton: bool = False) -> np.ndarray:
    """The points visited by an optimizer from START, shape (steps + 1, 2)."""
    theta = ag.tensor(START, requires_grad=True, dtype="float64")
    opt = make([theta])
    path = [theta.data.copy()]
    with np.errstate(all="ignore"):  # a diverging learning rate overflows on purpose
        for _ in range(steps):
            if newton:
                opt.step(lambda: quadratic(theta))
            else:
                loss = quadratic(theta)
                opt.zero_grad()
                loss.backward()
                opt.step()
            path.append(theta.data.copy())
    return np.array(path)


def quadratic_methods(lr: float, adam_lr: float) -> dict[str, tuple[Callable, bool]]:
    return {
        f"GD lr={lr:g}": (lambda p: optim.SGD(p, lr=lr), False),
        f"momentum beta={BETA:g}": (lambda p: optim.Momentum(p, lr=lr, beta=BETA), False),
        "debiased momentum": (lambda p: optim.Momentum(p, lr=lr, beta=BETA, debias=True),
                              False),
        "Nesterov momentum": (lambda p: optim.Momentum(p, lr=lr, beta=BETA, nesterov=True),
                              False),
        f"Adam lr={adam_lr:g}": (lambda p: optim.Adam(p, lr=adam_lr), False),
        "Newton": (lambda p: optim.Newton(p), True),
    }


def mnist_methods() -> dict[str, Callable[[Any], optim.Optimizer]]:
    return {
        "SGD lr=0.01": lambda p: optim.SGD(p, lr=0.01),
        "SGD lr=0.1": lambda p: optim.SGD(p, lr=0.1),
        "momentum": lambda p: optim.Momentum(p, lr=0.1, beta=BETA),
        "debiased momentum": lambda p: optim.Momentum(p, lr=0.1, beta=BETA, debias=True),
        "Nesterov": lambda p: optim.Momentum(p, lr=0.1, beta=BETA, nesterov=True),
        "Adam lr=0.002": lambda p: optim.Adam(p, lr=0.002),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("optimizers", __doc__)
    p.add_argument("--steps", type=int, default=100, help="steps on the quadratic (100)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs of MNIST training per optimizer (10; 2 with --quick)")
    args = p.parse_args(argv)
    out = _common.start(args)
    epochs = args.epochs or (2 if args.quick else 10)
    L = float(CURVATURE.max())
    lr = 1.9 / L

    # 1. the quadratic
    print(f"f(x, y) = (x^2 + {CURVATURE[1]:g} y^2) / 2 from {START}, {args.steps} steps; "
          f"gradient descent is stable for lr < 2/L = {2 / L:g}")
    gd_paths: dict[str, np.ndarray] = {}
    for factor in (0.25, 1.0, 1.9, 2.04):
        step = factor / L
        gd_paths[f"GD lr={step:g} ({factor:g}/L)"] = descend(
            lambda q, step=step: optim.SGD(q, lr=step), args.steps)
    paths = {name: descend(make, args.steps, newton)
             for name, (make, newton) in quadratic_methods(lr, adam_lr=0.5).items()}
    final = {}
    print(f"{'method':<28}  {'f after last step':>17}  {'steps to f < 1e-2':>17}")
    for name, path in {**gd_paths, **paths}.items():
        values = f2d(path[:, 0], path[:, 1])
        below = np.flatnonzero(values < 1e-2)
        final[name] = float(values[-1])
        reached = str(below[0]) if below.size else "-"
        print(f"{name:<28}  {values[-1]:>17.3g}  {reached:>17}")
    first = {name: float(np.linalg.norm(path[1] - path[0])) for name, path in paths.items()}
    print(f"first step length: GD {first[f'GD lr={lr:g}']:.3g}, momentum "
          f"{first[f'momentum beta={BETA:g}']:.3g}, debiased momentum "
          f"{first['debiased momentum']:.3g}")

    limits = {"xlim": (-9.0, 2.0), "ylim": (-2.5, 2.5)}
    shown = {name: _within(path, limits["ylim"][1]) for name, path in gd_paths.items()}
    files = [_common.save(viz.plot_trajectories(f2d, shown, **limits,
                                                title="gradient descent: the learning rate"),
                          out, "quadratic_gd.png")]
    files.append(_common.save(viz.plot_trajectories(
        f2d, paths, **limits, title=f"same learning rate {lr:g}; Adam and Newton their own"),
        out, "quadratic.png"))

    # 2. the MNIST network
    n_train = 1000 if args.quick else None
    (x, y), (x_test, y_test) = _common.mnist_subset(n_train, seed=args.seed)
    print()
    print(f"MNIST 784-16-16-10 (ReLU), {len(y)} training digits, batch 32, {epochs} epochs, "
          "the same initial weights for every optimizer")
    ag.manual_seed(args.seed)
    initial = nn.MLP([784, 16, 16, 10]).state_dict()
    with ag.no_grad():
        start_loss = nn.CrossEntropyLoss()(_load(initial)(x), y).item()
    curves: dict[str, list[float]] = {}
    test_acc = {}
    print(f"{'optimizer':<20}  {'loss per epoch (from ' + format(start_loss, '.3f') + ')':<44}"
          f"  {'test acc':>8}")
    for name, make in mnist_methods().items():
        model = _load(initial)
        losses = _common.train_epochs(model, make(model.parameters()), x, y, epochs,
                                      seed=args.seed)
        curves[name] = [start_loss] + losses
        test_acc[name] = _common.accuracy(model, x_test, y_test)
        shown = _common.fmt(losses[:3]) + (", ..., " + _common.fmt(losses[-1:])
                                           if len(losses) > 3 else "")
        print(f"{name:<20}  {shown:<44}  {test_acc[name]:>8.1%}")
    print(f"Newton's method is left out: {nn.MLP([784, 16, 16, 10]).num_parameters():,} "
          "parameters would need a Hessian of 13,002^2 = 169 million entries per step")

    fig, axes = _common.figure(1, 1, (7.0, 4.4))
    ax = axes[0, 0]
    for name, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, marker="o", markersize=3, label=name)
    _common.style(ax, "epoch", "the MNIST network, same initial weights",
                  ylabel="training loss (mean over the epoch)", log=True)
    files.append(_common.save(fig, out, "mnist.png"))
    return {"quadratic": final, "first_step": first, "mnist_loss": curves,
            "mnist_test_acc": test_acc, "lr": lr, "files": files}


def _within(path: np.ndarray, bound: float) -> np.ndarray:
    """The path up to its first point beyond |y| > bound (a diverging run leaves the picture
    there instead of filling it)."""
    outside = np.flatnonzero(~(np.abs(path[:, 1]) <= bound))
    return path if not outside.size else path[:outside[0] + 1]


def _load(state: dict[str, Any]) -> nn.MLP:
    """A fresh 784-16-16-10 network holding a copy of the given weights."""
    model = nn.MLP([784, 16, 16, 10])
    model.load_state_dict(state)
    return model


if __name__ == "__main__":
    main()
