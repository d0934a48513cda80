"""Hyperparameter search: a grid against random search over learning rate and weight decay.

    python -m examples.hyperparameter_search  # writes runs/hyperparameter_search/
    python -m examples.hyperparameter_search --help

What it reproduces (CS231n, "Neural Networks Part 3", after Bergstra & Bengio 2012): search
hyperparameters on a log scale, score them on a validation set (never the test set), and
prefer random search to a grid. When one hyperparameter matters much more than another -- here
the learning rate matters far more than a small weight decay -- a 3 x 3 grid tries only three
learning rates, each three times, while nine random trials try nine different learning rates.

Both searches get the same budget of trials over the same space, learning rate log-uniform in
[1e-3, 1] and weight decay log-uniform in [1e-5, 1e-1], each trial training the 784-16-16-10
network with SGD for a few epochs on 3,200 of the 4,000 training digits and scoring it by its
accuracy on the other 800 (the validation split). The best trial of each search is then
scored once on the test set.

Output: `search.png`: the trials in the (learning rate, weight decay) plane coloured by
validation accuracy, for the grid and for random search, and validation accuracy against the
learning rate alone.

What to look for: the number of distinct learning rates each search tried (the grid's are
0.001, 0.032 and 1, and the good ones lie between 0.1 and 0.5), the best validation accuracy
of each, and in the right panel how the score depends mostly on the learning rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn
import optim

from . import _common

SPACE = {"lr": (1e-3, 1.0), "weight_decay": (1e-5, 1e-1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("hyperparameter_search", __doc__)
    p.add_argument("--trials", type=int, default=None,
                   help="trials per search; the grid uses its square root per axis (9; 4 with "
                        "--quick)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs per trial (4; 1 with --quick)")
    args = p.parse_args(argv)
    out = _common.start(args)
    trials = args.trials or (4 if args.quick else 9)
    side = int(round(trials ** 0.5))
    if side * side != trials:
        p.error(f"--trials must be a square number (the grid is n x n), got {trials}")
    epochs = args.epochs or (1 if args.quick else 4)
    n_train = 1000 if args.quick else None
    (x, y), (x_test, y_test) = _common.mnist_subset(n_train, seed=args.seed)
    n_val = len(y) // 5
    x_val, y_val, x_fit, y_fit = x[:n_val], y[:n_val], x[n_val:], y[n_val:]

    models: dict[tuple[float, float], nn.MLP] = {}

    def train_fn(lr: float, weight_decay: float) -> float:
        ag.manual_seed(args.seed)
        model = nn.MLP([784, 16, 16, 10])
        opt = optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
        with np.errstate(all="ignore"):  # a too large learning rate diverges
            _common.train_epochs(model, opt, x_fit, y_fit, epochs, seed=args.seed)
            score = _common.accuracy(model, x_val, y_val)
        models[(lr, weight_decay)] = model
        return score

    space_grid = {name: optim.LogUniform(low, high, num=side)
                  for name, (low, high) in SPACE.items()}
    space_random = {name: optim.LogUniform(low, high) for name, (low, high) in SPACE.items()}
    print(f"{trials} trials per search; each trains 784-16-16-10 with SGD for {epochs} epochs "
          f"on {len(y_fit)} digits and scores it on {len(y_val)} validation digits")
    searches = {"grid": optim.grid_search(train_fn, space_grid),
                "random": optim.random_search(train_fn, space_random, trials, seed=args.seed)}
    results: dict[str, dict[str, Any]] = {}
    print(f"{'search':<7}  {'distinct lr':>11}  {'best lr':>8}  {'best wd':>8}  "
          f"{'val acc':>7}  {'test acc':>8}")
    for name, search in searches.items():
        best = search.best_params
        assert best is not None
        test_acc = _common.accuracy(models[(best["lr"], best["weight_decay"])], x_test, y_test)
        distinct = len({t[0]["lr"] for t in search.trials})
        results[name] = {"best_params": best, "best_val_acc": search.best_score,
                         "test_acc": test_acc, "distinct_lr": distinct,
                         "trials": search.trials}
        print(f"{name:<7}  {distinct:>11}  {best['lr']:>8.3g}  {best['weight_decay']:>8.2g}  "
              f"{search.best_score:>7.1%}  {test_acc:>8.1%}")
    print("all trials (lr, weight decay -> validation accuracy):")
    for name, search in searches.items():
        print(f"  {name:<6} " + "; ".join(f"{t[0]['lr']:.3g}, {t[0]['weight_decay']:.2g} -> "
                                          f"{t[1]:.0%}" for t in search.trials))

    fig, axes = _common.figure(1, 3, (14.0, 4.0))
    for ax, (name, search) in zip(axes[0, :2], searches.items()):
        lrs = [t[0]["lr"] for t in search.trials]
        wds = [t[0]["weight_decay"] for t in search.trials]
        dots = ax.scatter(lrs, wds, c=[t[1] for t in search.trials], cmap="viridis", vmin=0.0,
                          vmax=1.0, s=60, edgecolors="k")
        ax.set_xscale("log")
        ax.set_yscale("log")
        # A margin of a factor 2, so the grid's corner points are not cut in half.
        ax.set_xlim(SPACE["lr"][0] / 2, SPACE["lr"][1] * 2)
        ax.set_ylim(SPACE["weight_decay"][0] / 2, SPACE["weight_decay"][1] * 2)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("weight decay")
        ax.set_title(f"{name} search: {results[name]['distinct_lr']} distinct learning rates",
                     fontsize=10)
    fig.colorbar(dots, ax=axes[0, 1], label="validation accuracy")
    ax = axes[0, 2]
    for name, search in searches.items():
        ax.scatter([t[0]["lr"] for t in search.trials], [t[1] for t in search.trials],
                   label=name, s=30, marker="s" if name == "grid" else "o")
    ax.set_xscale("log")
    _common.style(ax, "learning rate", "the score depends mostly on the learning rate",
                  ylabel="validation accuracy")
    files = [_common.save(fig, out, "search.png")]
    return results | {"files": files}


if __name__ == "__main__":
    main()
