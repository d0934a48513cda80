"""Depth and residual connections: the gradient reaches the first layers through the skips.

    python -m examples.residual               # writes runs/residual/
    python -m examples.residual --help

What it reproduces (the blog's ResNet argument): in a deep plain network the gradient of an
early layer is a product of one Jacobian per layer above it, and with the usual
initialization each factor shrinks it, so the first layers get almost no gradient and the
network does not learn. A residual block computes h + f(h), whose Jacobian is I + f'(h): the
identity term carries the gradient straight down, so every layer gets a gradient of the same
order however deep the stack, and the deep network trains.

Three networks with 32 Linear layers (784 -> 64, then 30 hidden layers of 64 units, -> 10;
ReLU), trained on MNIST with the same optimizer (SGD, momentum 0.9, batch 64):

- plain, default initialization (nn.Linear's, PyTorch's U(-1/sqrt(n), 1/sqrt(n)));
- plain, Kaiming initialization N(0, 2/n) (the fix of examples/initialization.py);
- residual: nn.ResidualMLP, every hidden layer a block h + relu(W h + b), default
  initialization with the blocks' weights and biases scaled by --branch-scale (0.2), so each
  block starts close to the identity (the practice of Fixup and SkipInit, and of ResNets'
  zero-initialized last normalization layer). With the default scale (--branch-scale 1) the 30
  branches add up: the signal grows about 200-fold through the stack, the loss starts near
  90 and the network does not learn.

Output: `gradients.png` (each layer's weight-gradient norm at initialization, log scale) and
`loss.png` (training loss against steps).

What to look for: the plain default network's first-layer gradient is about 1e-12 -- ten
orders of magnitude below its last layer's -- while the residual network's first layer gets a
gradient as large as its last; the residual network's loss falls fastest, the plain default
one's not at all. Kaiming initialization rescues the plain network's gradients at this depth,
but it still trains more slowly than the residual one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
import nn

from . import _common


def plain(depth: int, width: int, kaiming: bool) -> nn.MLP:
    """784 -> width, `depth` hidden width -> width layers, width -> 10, with ReLU."""
    model = nn.MLP([784] + [width] * (depth + 1) + [10])
    if kaiming:
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return model


def residual(depth: int, width: int, branch_scale: float) -> nn.ResidualMLP:
    """784 -> width, `depth` blocks h + relu(W h + b), width -> 10; the blocks' W and b are
    nn.Linear's default times `branch_scale`."""
    model = nn.ResidualMLP(784, width, depth, 10)
    with ag.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Residual):
                for p in module.parameters():
                    p.mul_(branch_scale)
    return model


def weight_gradients(model: nn.Module, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dW|| of every Linear weight, input to output, on one batch."""
    with np.errstate(all="ignore"):
        nn.CrossEntropyLoss()(model(x), y).backward()
    norms = np.array([float(np.linalg.norm(p.grad.data))
                      for name, p in model.named_parameters() if name.endswith("weight")])
    model.zero_grad()
    return norms


def smooth(values: list[float], k: int = 10) -> np.ndarray:
    """Moving average over k steps (the minibatch losses are noisy)."""
    v = np.asarray(values, dtype=float)
    if len(v) < k:
        return v
    return np.convolve(v, np.ones(k) / k, mode="valid")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("residual", __doc__)
    p.add_argument("--depth", type=int, default=30, help="hidden layers / residual blocks (30)")
    p.add_argument("--width", type=int, default=64, help="units per hidden layer (64)")
    p.add_argument("--steps", type=int, default=None,
                   help="SGD steps per network (300; 60 with --quick)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--branch-scale", type=float, default=0.2,
                   help="scale of the residual blocks' initial weights (0.2)")
    args = p.parse_args(argv)
    out = _common.start(args)
    steps = args.steps or (60 if args.quick else 300)
    (x, y), (x_test, y_test) = _common.mnist_subset(seed=args.seed)

    nets = {
        "plain (default init)": lambda: plain(args.depth, args.width, kaiming=False),
        "plain (Kaiming init)": lambda: plain(args.depth, args.width, kaiming=True),
        "residual": lambda: residual(args.depth, args.width, args.branch_scale),
    }
    print(f"{args.depth + 2} Linear layers ({args.depth} hidden of {args.width} units), ReLU; "
          f"{steps} SGD steps, lr={args.lr:g}, momentum 0.9, batch 64")
    print(f"{'network':<22}  {'|dW| first':>10}  {'|dW| middle':>11}  {'|dW| last':>9}  "
          f"{'loss at start':>13}  {'loss at end':>11}  {'test acc':>8}")
    results: dict[str, dict[str, Any]] = {}
    for name, make in nets.items():
        ag.manual_seed(args.seed)
        model = make()
        grads = weight_gradients(model, x[:256], y[:256])
        losses = _common.train_steps(model, x, y, steps, args.lr, args.seed)
        r = {"grads": grads, "losses": losses, "start_loss": float(np.mean(losses[:10])),
             "final_loss": float(np.mean(losses[-20:])),
             "test_acc": _common.accuracy(model, x_test, y_test)}
        results[name] = r
        print(f"{name:<22}  {grads[0]:>10.3g}  {grads[len(grads) // 2]:>11.3g}  "
              f"{grads[-1]:>9.3g}  {r['start_loss']:>13.3f}  {r['final_loss']:>11.3f}  "
              f"{r['test_acc']:>8.1%}")
    print("(losses: means over the first 10 and the last 20 minibatches)")

    fig, axes = _common.figure(1, 1, (6.5, 4.2))
    ax = axes[0, 0]
    for name, r in results.items():
        ax.plot(np.arange(1, len(r["grads"]) + 1), r["grads"], marker="o", markersize=3,
                label=name)
    _common.style(ax, "layer (input to output)", "gradient norm per layer",
                  ylabel="||dL/dW|| at initialization", log=True)
    files = [_common.save(fig, out, "gradients.png")]
    fig, axes = _common.figure(1, 1, (6.5, 4.2))
    ax = axes[0, 0]
    for name, r in results.items():
        curve = smooth(r["losses"])
        ax.plot(np.arange(len(curve)) + 1, curve, label=name)
    ax.set_ylim(0.0, 3.0)
    _common.style(ax, "SGD step", f"training a {args.depth + 2}-layer network",
                  ylabel="training loss (10-step moving average)")
    files.append(_common.save(fig, out, "loss.png"))
    return {name: {k: r[k] for k in ("grads", "start_loss", "final_loss", "test_acc")}
            for name, r in results.items()} | {"files": files}


if __name__ == "__main__":
    main()
