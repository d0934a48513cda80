"""LeNet-5 on the bundled MNIST subset, against fully connected networks.

    python -m examples.lenet                  # writes runs/lenet/
    python -m examples.lenet --help

What it reproduces (the notes on convolutional networks, LeCun et al. 1998): a convolution
applies the same small filter at every position of the image (local connections, shared
weights), and pooling makes the features tolerant to small shifts. These built-in assumptions
about images let LeNet-5 (conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> 120 -> 84 -> 10,
61,706 parameters, built from the engine's Conv2d and MaxPool2d) read digits better than a
fully connected network trained the same way on the same 4,000 images -- including one with
more parameters.

All three networks are trained with Adam (lr 0.002, batch 64) for the same number of epochs:
LeNet-5, the 3Blue1Brown network 784-16-16-10 (13,002 parameters) and a wider MLP
784-100-100-10 (89,610 parameters).

Output: `history.png` (test accuracy per epoch for the three) and `filters.png` (the six 5x5
filters LeNet's first layer learned).

What to look for: LeNet-5's test accuracy above both MLPs' (the printed table), at the price
of far more computation per image (the seconds column); the filters are small oriented
light/dark patterns that respond to edges and strokes.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
import viz

from . import _common


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("lenet", __doc__)
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs per network (8; 1 with --quick)")
    p.add_argument("--lr", type=float, default=0.002, help="Adam's learning rate (0.002)")
    args = p.parse_args(argv)
    out = _common.start(args)
    epochs = args.epochs or (1 if args.quick else 8)
    n_train = 1000 if args.quick else None
    (x, y), (x_test, y_test) = _common.mnist_subset(n_train, seed=args.seed, flatten=False)
    flat, flat_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)

    nets = {
        "LeNet-5": (nn.LeNet5, x, x_test),
        "MLP 784-16-16-10": (lambda: nn.MLP([784, 16, 16, 10]), flat, flat_test),
        "MLP 784-100-100-10": (lambda: nn.MLP([784, 100, 100, 10]), flat, flat_test),
    }
    print(f"{len(y)} training and {len(y_test)} test digits; Adam lr={args.lr:g}, batch 64, "
          f"{epochs} epochs each")
    print(f"{'network':<20}  {'parameters':>10}  {'final train loss':>16}  {'test acc':>8}  "
          f"{'seconds':>7}")
    history: dict[str, list[float]] = {}
    results: dict[str, dict[str, Any]] = {}
    lenet = None
    for name, (make, inputs, test_inputs) in nets.items():
        ag.manual_seed(args.seed)
        model = make()
        opt = optim.Adam(model.parameters(), lr=args.lr)
        accuracy, losses = [], []
        start = time.perf_counter()
        for epoch in range(epochs):
            losses += _common.train_epochs(model, opt, inputs, y, 1, batch_size=64,
                                           seed=args.seed + epoch)
            accuracy.append(_common.accuracy(model, test_inputs, y_test))
        seconds = time.perf_counter() - start
        history[name] = accuracy
        results[name] = {"parameters": model.num_parameters(), "final_loss": losses[-1],
                         "test_acc": accuracy[-1], "seconds": seconds}
        print(f"{name:<20}  {model.num_parameters():>10,}  {losses[-1]:>16.4f}  "
              f"{accuracy[-1]:>8.1%}  {seconds:>7.1f}")
        if isinstance(model, nn.LeNet5):
            lenet = model

    fig, axes = _common.figure(1, 1, (6.5, 4.2))
    ax = axes[0, 0]
    for name, accuracy in history.items():
        ax.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", markersize=3,
                label=f"{name} ({results[name]['parameters']:,} parameters)")
    _common.style(ax, "epoch", "the same data, optimizer and epochs", ylabel="test accuracy")
    files = [_common.save(fig, out, "history.png")]
    assert lenet is not None
    conv1 = lenet.features[0].weight.data  # (6, 1, 5, 5)
    files.append(_common.save(
        viz.show_weights(np.ascontiguousarray(conv1.reshape(len(conv1), -1)),
                         image_shape=(5, 5), ncols=6,
                         title="LeNet-5's first-layer filters (5x5)"), out, "filters.png"))
    return results | {"files": files}


if __name__ == "__main__":
    main()
