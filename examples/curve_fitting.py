"""Curve fitting: a small ReLU network fits sin(x) + noise with a piecewise-linear curve.

    python -m examples.curve_fitting          # writes runs/curve_fitting/
    python -m examples.curve_fitting --help

What it reproduces (the blog's regression example): an MLP [1, 10, 10, 1] with ReLU, trained
by gradient descent (Adam, full batch) on the mean squared error, fits 200 noisy samples of
sin(x) on [-10, 10]. A ReLU network computes a continuous piecewise-linear function: each
hidden unit switches on or off at some x, and between two switches the output is a straight
line. The net has no notion of "sine"; it bends a polyline until the squared error is small.

Output: `fit.png` (the data, sin(x), the fit at a few moments of training, and the kinks of
the final fit where a ReLU switches), `loss.png` (the training loss, log scale).

What to look for: the loss falls from about 2 to near the noise variance (noise 0.1, so
0.01 -- a lower value would mean fitting the noise); the printed number of linear pieces
(at most a few dozen for 20 ReLUs); and in the figure the straight segments between kinks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
import viz

from . import _common


def linear_pieces(model: nn.MLP, xs: np.ndarray) -> tuple[int, np.ndarray]:
    """The number of linear pieces of the fit over the sorted points `xs` (shape (N, 1)), and
    the x positions where it bends: wherever the on/off pattern of the hidden ReLUs changes."""
    patterns = []
    h = xs
    with ag.no_grad():
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.Linear) and layer is not model[-1]:
                patterns.append(h.data > 0)
    on = np.concatenate(patterns, axis=1)
    changes = np.flatnonzero(np.any(on[1:] != on[:-1], axis=1))
    kinks = 0.5 * (xs[changes, 0] + xs[changes + 1, 0])
    return len(kinks) + 1, kinks


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("curve_fitting", __doc__)
    p.add_argument("--steps", type=int, default=None,
                   help="full-batch Adam steps (3000; 300 with --quick)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate (0.01)")
    p.add_argument("--noise", type=float, default=0.1, help="noise standard deviation (0.1)")
    args = p.parse_args(argv)
    out = _common.start(args)
    steps = args.steps or (300 if args.quick else 3000)

    x, y = nn.datasets.sine(200, noise=args.noise, seed=args.seed)
    model = nn.MLP([1, 10, 10, 1], activation="relu")
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()
    grid = np.linspace(-10.0, 10.0, 2001, dtype=np.float32).reshape(-1, 1)

    def predict() -> np.ndarray:
        with ag.no_grad():
            return model(grid).data[:, 0].copy()

    snapshots = {0: predict()}
    losses = []
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step in (steps // 20, steps // 4):
            snapshots[step] = predict()
    with ag.no_grad():
        final_loss = loss_fn(model(x), y).item()
    fit = predict()
    snapshots[steps] = fit
    pieces, kinks = linear_pieces(model, grid)
    true_error = float(np.mean((fit - np.sin(grid[:, 0])) ** 2))

    print(f"model: MLP [1, 10, 10, 1] with ReLU, {model.num_parameters()} parameters; "
          f"{steps} full-batch Adam steps, lr={args.lr:g}")
    print(f"training MSE: {losses[0]:.4f} at the start -> {final_loss:.4f} after {steps} steps "
          f"(noise variance {args.noise ** 2:.4f})")
    print(f"MSE against the noiseless sin(x) on [-10, 10]: {true_error:.4f}")
    print(f"the fit is piecewise linear: {pieces} linear pieces, {len(kinks)} kinks where a "
          "hidden ReLU switches on or off")

    fig, axes = _common.figure(1, 1, (9.0, 4.2))
    ax = axes[0, 0]
    ax.scatter(x[:, 0], y[:, 0], s=8, color="#94a3b8", label="data: sin(x) + noise")
    ax.plot(grid[:, 0], np.sin(grid[:, 0]), color="#16a34a", linewidth=1, label="sin(x)")
    for step, values in snapshots.items():
        final = step == steps
        ax.plot(grid[:, 0], values, color="#dc2626" if final else None,
                linewidth=1.8 if final else 0.9, alpha=1.0 if final else 0.6,
                label=f"fit after {step} steps")
    bends = np.interp(kinks, grid[:, 0], fit)
    ax.plot(kinks, bends, "o", color="#dc2626", markersize=3.5, label=f"{len(kinks)} kinks")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("a ReLU network [1, 10, 10, 1] fits sin(x) with a polyline", fontsize=10)
    fig.legend(fontsize=7, loc="outside lower center", ncols=7)
    files = [_common.save(fig, out, "fit.png")]
    files.append(_common.save(viz.plot_history({"loss": losses}, xlabel="step",
                                               title="training loss (MSE)"), out, "loss.png"))
    return {"initial_loss": losses[0], "final_loss": final_loss, "true_error": true_error,
            "pieces": pieces, "kinks": kinks, "steps": steps, "files": files}


if __name__ == "__main__":
    main()
