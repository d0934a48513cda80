"""Capacity and regularization: decision boundaries on two noisy spirals (CS231n's figures).

    python -m examples.capacity               # writes runs/capacity/
    python -m examples.capacity --help

What it reproduces (CS231n, "Neural Networks Part 1", the figures of 3, 6 and 20 hidden
neurons and of regularization strengths 0.001, 0.01, 0.1): a network with one hidden layer of
3, 6 or 20 ReLU units is trained on the same 120 points of two interleaved spirals with noisy
angles. More hidden units can represent more complicated functions: the 20-unit net bends
its boundary around individual noisy points and gets the highest training accuracy, but not
the highest test accuracy -- it is fitting the noise (overfitting). The notes' advice is not
to use a smaller network but a stronger regularization: with 20 units and an L2 penalty
(1/2) lam sum W^2 on the weights, the boundary gets smoother as lam grows, and the training
accuracy falls.

Output: `boundaries.png`, two rows of three panels (top: 3 / 6 / 20 units, no penalty;
bottom: 20 units at lam = 0.001 / 0.01 / 0.1), each titled with its train and test accuracy.
The test accuracy is measured on 1,000 fresh points from the same distribution.

What to look for: train accuracy rising with the number of units while test accuracy lags
behind it (the gap is the overfitting); along the bottom row, boundaries that get smoother and
simpler as lam grows, with lower train accuracy and a smaller weight norm |W|. A small penalty
(0.001) narrows the gap; too strong a penalty (0.1) underfits, nearly a straight line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
import viz

from . import _common

HIDDEN = (3, 6, 20)
PENALTIES = (0.001, 0.01, 0.1)


def train(X: np.ndarray, y: np.ndarray, hidden: int, lam: float, steps: int, lr: float,
          seed: int) -> tuple[nn.MLP, float]:
    """A [2, hidden, 2] ReLU net trained by full-batch Adam on cross-entropy + (lam/2) sum W^2.
    Returns the net and its final training loss (penalty included)."""
    ag.manual_seed(seed)
    model = nn.MLP([2, hidden, 2])
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        if lam:
            loss = loss + (0.5 * lam) * nn.l2_penalty(weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, loss.item()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("capacity", __doc__)
    p.add_argument("--steps", type=int, default=None,
                   help="full-batch Adam steps per network (3000; 300 with --quick)")
    p.add_argument("--lr", type=float, default=0.02, help="Adam's learning rate (0.02)")
    p.add_argument("--noise", type=float, default=0.6,
                   help="standard deviation of the spirals' angle noise (0.6)")
    args = p.parse_args(argv)
    out = _common.start(args)
    steps = args.steps or (300 if args.quick else 3000)

    X, y = nn.datasets.spiral(2, 60, noise=args.noise, seed=args.seed)
    X_test, y_test = nn.datasets.spiral(2, 500, noise=args.noise, seed=args.seed + 1000)
    runs = [(h, 0.0) for h in HIDDEN] + [(20, lam) for lam in PENALTIES]
    print(f"two spirals: {len(y)} training points, {len(y_test)} test points, angle noise "
          f"{args.noise:g}; [2, H, 2] ReLU nets, {steps} full-batch Adam steps, lr={args.lr:g}")
    print(f"{'hidden':>6}  {'L2 lam':>7}  {'loss':>7}  {'train acc':>9}  {'test acc':>8}  "
          f"{'|W|':>6}")

    fig, axes = _common.figure(2, 3, (12.0, 8.2))
    results = []
    for k, (hidden, lam) in enumerate(runs):
        model, loss = train(X, y, hidden, lam, steps, args.lr, args.seed)
        train_acc = _common.accuracy(model, X, y)
        test_acc = _common.accuracy(model, X_test, y_test)
        norm = float(np.sqrt(sum(float((p.data ** 2).sum()) for name, p in
                                 model.named_parameters() if name.endswith("weight"))))
        results.append({"hidden": hidden, "lam": lam, "loss": loss, "train_acc": train_acc,
                        "test_acc": test_acc, "weight_norm": norm})
        print(f"{hidden:>6}  {lam:>7g}  {loss:>7.3f}  {train_acc:>9.1%}  {test_acc:>8.1%}  "
              f"{norm:>6.2f}")
        what = f"{hidden} hidden units" + (f", L2 lam = {lam:g}" if lam else "")
        viz.plot_decision_boundary(model, X, y, ax=axes[k // 3, k % 3], resolution=150,
                                   title=f"{what}\ntrain {train_acc:.0%}, test {test_acc:.0%}")
    fig.suptitle("more units: more complicated boundaries; stronger L2: smoother ones")
    files = [_common.save(fig, out, "boundaries.png")]
    return {"runs": results, "train_acc": {(r["hidden"], r["lam"]): r["train_acc"]
                                           for r in results},
            "files": files}


if __name__ == "__main__":
    main()
