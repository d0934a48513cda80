"""Structure vs noise: the same network learns real labels fast and shuffled labels slowly.

    python -m examples.noise_labels           # writes runs/noise_labels/
    python -m examples.noise_labels --help

What it reproduces (3Blue1Brown, the close of "Gradient descent, how neural networks learn",
after Zhang et al. 2017, "Understanding deep learning requires rethinking generalization"):
a network big enough to memorize its training set reaches a low training loss even when the
labels are shuffled at random -- but on randomly labelled data the cost goes down slowly and
almost linearly, while on the real labels, which have structure, it drops fast.

Two copies of the same MLP (784-128-128-10, ReLU, the same initial weights) are trained with
the same optimizer (Adam, batch 32) on the same 4,000 images: one with the real labels, one
with the labels randomly permuted (so each digit class keeps its size, but no label has
anything to do with its image).

Output: `loss.png` (training loss per epoch for both, log scale).

What to look for: the real-label loss falls below 0.2 within a few epochs while the
shuffled-label loss is still near log 10 = 2.3; the shuffled run's training accuracy climbs
slowly as it memorizes, and its test accuracy stays at chance (about 10%) -- memorizing
noise teaches nothing that generalizes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn
import optim

from . import _common


def first_epoch_below(losses: list[float], level: float) -> int | None:
    """The first epoch (counted from 1) whose mean loss is below `level`, or None."""
    below = np.flatnonzero(np.asarray(losses) < level)
    return int(below[0]) + 1 if below.size else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("noise_labels", __doc__)
    p.add_argument("--epochs", type=int, default=None, help="epochs per run (30; 8 with --quick)")
    p.add_argument("--hidden", type=int, default=128, help="units per hidden layer (128)")
    p.add_argument("--lr", type=float, default=0.002, help="Adam's learning rate (0.002)")
    args = p.parse_args(argv)
    out = _common.start(args)
    epochs = args.epochs or (8 if args.quick else 30)
    n_train = 500 if args.quick else None
    (x, y), (x_test, y_test) = _common.mnist_subset(n_train, seed=args.seed)
    shuffled = np.random.default_rng(args.seed).permutation(y)
    print(f"MLP 784-{args.hidden}-{args.hidden}-10, {len(y)} training digits, Adam "
          f"lr={args.lr:g}, batch 32, {epochs} epochs; {np.mean(shuffled == y):.1%} of the "
          "shuffled labels happen to be right")

    ag.manual_seed(args.seed)
    initial = nn.MLP([784, args.hidden, args.hidden, 10]).state_dict()
    curves: dict[str, list[float]] = {}
    results: dict[str, dict[str, Any]] = {}
    print(f"{'labels':<9}  {'loss per epoch':<52}  {'train acc':>9}  {'test acc':>8}  "
          f"{'epochs to < 0.5':>15}")
    for name, labels in (("real", y), ("shuffled", shuffled)):
        model = nn.MLP([784, args.hidden, args.hidden, 10])
        model.load_state_dict(initial)
        losses = _common.train_epochs(model, optim.Adam(model.parameters(), lr=args.lr), x,
                                      labels, epochs, seed=args.seed)
        curves[f"{name} labels"] = losses
        r = {"losses": losses, "train_acc": _common.accuracy(model, x, labels),
             "test_acc": _common.accuracy(model, x_test, y_test),
             "epochs_to_half": first_epoch_below(losses, 0.5)}
        results[name] = r
        every = max(1, len(losses) // 6)
        shown = _common.fmt(losses[::every], ".3f")
        reached = r["epochs_to_half"] if r["epochs_to_half"] is not None else "-"
        print(f"{name:<9}  {shown:<52}  {r['train_acc']:>9.1%}  {r['test_acc']:>8.1%}  "
              f"{reached!s:>15}")
    print(f"(loss every {max(1, epochs // 6)} epochs; test accuracy against the real test "
          "labels)")

    fig, axes = _common.figure(1, 1, (6.5, 4.2))
    ax = axes[0, 0]
    for name, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", markersize=3, label=name)
    _common.style(ax, "epoch", "structure is learned fast, noise is memorized slowly",
                  ylabel="training loss (mean over the epoch)", log=True)
    files = [_common.save(fig, out, "loss.png")]
    return {"real": results["real"], "shuffled": results["shuffled"], "files": files}


if __name__ == "__main__":
    main()
