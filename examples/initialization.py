"""Initialization: why the weight variance must be 2/n for a deep ReLU network (Kaiming).

    python -m examples.initialization         # writes runs/initialization/
    python -m examples.initialization --help

What it reproduces (CMU Deep Learning Systems, lecture "Fully connected networks, optimization,
initialization"): a 50-layer fully connected ReLU network with 100 units per layer, on MNIST
digits, with every weight drawn from N(0, sigma^2 / n) (n = the layer's fan-in) and zero
biases. A ReLU zeroes half of its input on average, so each layer multiplies the squared norm
of the activations by about sigma^2 / 2:

- sigma^2 = 1: the norm shrinks by 2^(-1/2) per layer, to about 1e-7 after 49 layers; the
  output is a constant, the gradient of every weight matrix is about 1e-8 (the backward
  signal shrinks just as the forward one does), and the loss stays at log 10 = 2.30;
- sigma^2 = 2 (Kaiming/He): the norm stays the same through all 50 layers, gradients of
  order one reach every layer, and the network trains;
- sigma^2 = 3: the norm grows by 1.5^(1/2) per layer, to about 1e4 times the input's; the
  loss at initialization is in the thousands, the gradients too, and gradient descent
  diverges (NaN).

(The weight gradient dL/dW_l = delta_l a_{l-1}^T is the product of a backward signal that
shrinks towards the input and a forward one that grows towards it, so its profile over depth
is flat; what sigma^2 sets is its level, (sigma^2 / 2)^(depth / 2) up to a constant.)

It also shows the notes' remark that training moves the weights only a little away from where
they started, so the initialization shapes the trained network too (`weight change`: the
relative distance ||W - W_0|| / ||W_0||, averaged over the layers).

Then the same depth with the standard recipes: Xavier/Glorot (Var(w) = 2 / (fan_in + fan_out),
designed for tanh-like units) against Kaiming (Var(w) = gain^2 / fan_in, gain sqrt(2) for
ReLU and 5/3 for tanh), each with tanh and with ReLU.

Output: `sigma.png` (activation norm and weight-gradient norm against depth at
initialization, and the training loss, for each sigma^2) and `xavier_kaiming.png` (the same
two profiles for the four activation/initialization pairs).

What to look for: the flat activation line for sigma^2 = 2 between a falling one (1) and a
rising one (3), gradient levels eight orders of magnitude apart, and the printed loss after
training: only sigma^2 = 2 learns. In the second table, Xavier with ReLU behaves like
sigma^2 = 1 (it is sigma^2 = 1 for square layers) while Kaiming with ReLU stays level; with
tanh, Xavier keeps the signal (slowly shrinking) and Kaiming's gain 5/3 overshoots: the
activations stay level but the gradients grow towards the input (tanh's chaotic phase, see
examples/mean_field.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
import nn

from . import _common

SIGMA2 = (1.0, 2.0, 3.0)


def deep_mlp(depth: int, width: int, activation: str,
             init: Callable[[ag.Tensor], Any]) -> nn.MLP:
    """`depth` Linear layers (784 -> width -> ... -> width -> 10) with `activation` between
    them; every weight filled by `init`, every bias zero."""
    model = nn.MLP([784] + [width] * (depth - 1) + [10], activation=activation)
    for layer in model:
        if isinstance(layer, nn.Linear):
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def gaussian(sigma2: float) -> Callable[[ag.Tensor], Any]:
    """w ~ N(0, sigma2 / fan_in)."""
    return lambda w: nn.init.normal_(w, 0.0, math.sqrt(sigma2 / w.shape[1]))


def profile(model: nn.MLP, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """One forward and backward pass on a batch: the norm of each hidden layer's output (mean
    over the batch of ||a_l||), each Linear weight's gradient norm, and the loss."""
    with nn.Monitor(model) as monitor, np.errstate(all="ignore"):
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        monitor.record_gradients()
    record = monitor.last()
    acts = [s["norm"] for s in record["layers"].values() if s["type"] != "Linear"]
    grads = [g for name, g in record["grad_norms"].items() if name.endswith("weight")]
    model.zero_grad()
    return {"act": np.array(acts), "grad": np.array(grads), "loss": loss.item(),
            "saturated": np.array([s.get("saturated_fraction", np.nan)
                                   for s in record["layers"].values() if s["type"] == "Tanh"])}


def _plot_profiles(axes: Any, runs: dict[str, dict[str, Any]]) -> None:
    for label, r in runs.items():
        axes[0].plot(np.arange(1, len(r["act"]) + 1), r["act"], label=label)
        axes[1].plot(np.arange(1, len(r["grad"]) + 1), r["grad"], label=label)
    for ax, what in zip(axes, ("activation norm ||a_l|| at init", "weight gradient norm at init")):
        _common.style(ax, "layer", what, log=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("initialization", __doc__)
    p.add_argument("--depth", type=int, default=50, help="number of Linear layers (50)")
    p.add_argument("--width", type=int, default=100, help="units per hidden layer (100)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per sigma^2 (300; 40 with --quick)")
    p.add_argument("--lr", type=float, default=0.002, help="SGD learning rate (momentum 0.9)")
    args = p.parse_args(argv)
    out = _common.start(args)
    steps = args.steps or (40 if args.quick else 300)
    (x, y), (x_test, y_test) = _common.mnist_subset(seed=args.seed)
    batch = (x[:256], y[:256])

    print(f"{args.depth}-layer ReLU MLP, {args.width} units per layer, weights N(0, sigma^2/n), "
          f"zero biases; statistics on {len(batch[1])} MNIST digits")
    print(f"{'sigma^2':>7}  {'|a_1|':>9}  {'|a_last|':>9}  {'|dW_1|':>9}  {'|dW_last|':>9}  "
          f"{'loss at init':>12}  {'loss after':>10}  {'test acc':>8}  {'weight change':>13}")
    runs: dict[str, dict[str, Any]] = {}
    results: dict[float, dict[str, Any]] = {}
    for sigma2 in SIGMA2:
        ag.manual_seed(args.seed)
        model = deep_mlp(args.depth, args.width, "relu", gaussian(sigma2))
        start = [layer.weight.data.copy() for layer in model if isinstance(layer, nn.Linear)]
        r = profile(model, *batch)
        r["losses"] = _common.train_steps(model, x, y, steps, args.lr, args.seed)
        r["final_loss"] = float(np.mean(r["losses"][-20:]))
        r["test_acc"] = _common.accuracy(model, x_test, y_test)
        moved = [np.linalg.norm(layer.weight.data - w0) / np.linalg.norm(w0)
                 for layer, w0 in zip((m for m in model if isinstance(m, nn.Linear)), start)]
        r["weight_change"] = float(np.mean(moved))
        r["act_ratio"] = float(r["act"][-1] / r["act"][0])
        runs[f"sigma^2 = {sigma2:g}"] = r
        results[sigma2] = r
        print(f"{sigma2:>7g}  {r['act'][0]:>9.3g}  {r['act'][-1]:>9.3g}  {r['grad'][0]:>9.3g}  "
              f"{r['grad'][-1]:>9.3g}  {r['loss']:>12.4g}  {r['final_loss']:>10.4g}  "
              f"{r['test_acc']:>8.1%}  {r['weight_change']:>13.3g}")
    print(f"(loss after: mean of the last 20 of {steps} SGD steps, batch 64, lr={args.lr:g}, "
          "momentum 0.9; nan = diverged)")

    fig, axes = _common.figure(1, 3, (14.0, 4.0))
    _plot_profiles(axes[0, :2], runs)
    for label, r in runs.items():
        axes[0, 2].plot(np.arange(1, len(r["losses"]) + 1), r["losses"], label=label)
    axes[0, 2].set_ylim(0.0, 4.0)
    _common.style(axes[0, 2], "SGD step", "training loss (off the chart: diverged)")
    files = [_common.save(fig, out, "sigma.png")]

    # Xavier vs Kaiming, for tanh and ReLU
    print()
    print(f"{'activation':>10}  {'init':>7}  {'Var(w) * n':>10}  {'|a_last|/|a_1|':>14}  "
          f"{'|dW_1|/|dW_last|':>16}  {'saturated (tanh)':>16}")
    pairs: dict[str, dict[str, Any]] = {}
    for activation in ("tanh", "relu"):
        for name in ("xavier", "kaiming"):
            ag.manual_seed(args.seed)
            if name == "xavier":
                init = nn.init.xavier_normal_
                variance = 1.0  # 2 / (fan_in + fan_out) = 1 / n for square layers
            else:
                gain = nn.init.calculate_gain(activation)
                variance = gain ** 2

                def init(w: ag.Tensor, nonlinearity: str = activation) -> Any:
                    return nn.init.kaiming_normal_(w, nonlinearity=nonlinearity)
            model = deep_mlp(args.depth, args.width, activation, init)
            r = profile(model, *batch)
            r["act_ratio"] = float(r["act"][-1] / r["act"][0])
            r["grad_ratio"] = float(r["grad"][0] / r["grad"][-1])
            saturated = float(np.mean(r["saturated"])) if r["saturated"].size else math.nan
            r["saturated_mean"] = saturated
            pairs[f"{activation} + {name}"] = r
            shown = f"{saturated:.1%}" if math.isfinite(saturated) else "-"
            print(f"{activation:>10}  {name:>7}  {variance:>10.3g}  {r['act_ratio']:>14.3g}  "
                  f"{r['grad_ratio']:>16.3g}  {shown:>16}")
    print("(Var(w) * n for the square hidden layers; ratios between the first and last hidden "
          "layer)")
    fig, axes = _common.figure(1, 2, (10.0, 4.0))
    _plot_profiles(axes[0], pairs)
    fig.suptitle(f"Xavier vs Kaiming in a {args.depth}-layer network", fontsize=11)
    files.append(_common.save(fig, out, "xavier_kaiming.png"))
    return {"sigma2": {s: {k: r[k] for k in ("act_ratio", "loss", "final_loss", "test_acc",
                                            "weight_change")}
                       | {"act": r["act"], "grad": r["grad"]} for s, r in results.items()},
            "pairs": {k: {"act_ratio": r["act_ratio"], "grad_ratio": r["grad_ratio"],
                          "saturated": r["saturated_mean"]} for k, r in pairs.items()},
            "files": files}


if __name__ == "__main__":
    main()
