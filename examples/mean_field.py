"""Mean field: the edge of chaos of tanh networks, and how deep they train on either side.

    python -m examples.mean_field             # writes runs/mean_field/
    python -m examples.mean_field --help

What it reproduces (the mean-field theory of deep networks in the notes: Poole et al. 2016,
Schoenholz et al. 2017): in a wide tanh network with weights N(0, sigma_w^2 / n) and biases
N(0, sigma_b^2), the pre-activations settle at a squared length q* per unit, and the
backward pass multiplies the squared gradient norm by

    chi_1 = sigma_w^2 E_z[tanh'(sqrt(q*) z)^2]

per layer. chi_1 < 1 (ordered phase) makes gradients vanish towards the input, chi_1 > 1
(chaotic phase) makes them explode; on the critical line chi_1 = 1 (the edge of chaos) they
keep their size over any depth. The gradient changes by a factor e every 1 / |ln chi_1| layers,
so the depth a network can be trained at from a random start grows without bound as
(sigma_w^2, sigma_b^2) approaches the critical line.

The script computes the critical line sigma_w^2(sigma_b^2) with `nn.mean_field`, then at
sigma_b^2 = 0.05 (critical sigma_w^2 = 1.76) takes one point on each side and one on the
line, and for each it
- checks the theory on a random network: the measured squared length of the last hidden
  layer's pre-activations against q*, and the gradient norms per layer;
- trains tanh networks of several depths on MNIST (same steps, learning rate, data).

Output: `phase_diagram.png` (chi_1 over the (sigma_w^2, sigma_b^2) plane, the critical line,
the three points), `depth.png` (weight-gradient norm per layer at initialization for the
deepest network, and test accuracy against depth for the three points).

What to look for: on the printed table, all three points train when shallow, but at the
largest depth only the critical one still does; the gradient profiles fall (ordered), stay
level (critical) or rise (chaotic) towards the input as chi_1 predicts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
import nn

from . import _common

SIGMA_B2 = 0.05
ORDERED, CHAOTIC = 1.0, 4.0


def tanh_net(depth: int, width: int, sigma_w2: float, sigma_b2: float) -> nn.MLP:
    """`depth` Linear layers with tanh between them; W ~ N(0, sigma_w2 / fan_in),
    b ~ N(0, sigma_b2)."""
    model = nn.MLP([784] + [width] * (depth - 1) + [10], activation="tanh")
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, math.sqrt(sigma_w2 / layer.in_features))
            nn.init.normal_(layer.bias, 0.0, math.sqrt(sigma_b2))
    return model


def at_init(model: nn.MLP, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The squared length per unit of the last hidden pre-activation (mean of h^2), and each
    Linear weight's gradient norm, on one batch."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with nn.Monitor(model) as monitor:
        nn.CrossEntropyLoss()(model(x), y).backward()
        monitor.record_gradients()
    record = monitor.last()
    last_hidden = record["layers"][str(len(model) - 3)]  # the last hidden Linear
    q = last_hidden["std"] ** 2 + last_hidden["mean"] ** 2
    grads = np.array([record["grad_norms"][f"{2 * k}.weight"] for k in range(len(linears))])
    model.zero_grad()
    return q, grads


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = _common.parser("mean_field", __doc__)
    p.add_argument("--depths", default=None,
                   help="comma-separated depths to train (10,25,40; 5,25 with --quick)")
    p.add_argument("--width", type=int, default=100, help="units per hidden layer (100)")
    p.add_argument("--steps", type=int, default=None,
                   help="SGD steps per network (300; 100 with --quick)")
    p.add_argument("--lr", type=float, default=0.005, help="SGD learning rate (momentum 0.9)")
    args = p.parse_args(argv)
    out = _common.start(args)
    depths = [int(d) for d in (args.depths or ("5,25" if args.quick else "10,25,40"))
              .split(",")]
    steps = args.steps or (100 if args.quick else 300)
    mf = nn.mean_field

    # 1. the critical line
    # Finer steps near sigma_b^2 = 0, where the line rises steeply from sigma_w^2 = 1.
    line = mf.critical_line("tanh", np.concatenate([[0.0, 0.001, 0.003, 0.01, 0.02],
                                                    np.linspace(0.03, 1.0, 40)]))
    critical = mf.critical_point("tanh", SIGMA_B2)
    print("tanh critical line (chi_1 = 1):  " + ", ".join(
        f"sigma_b^2 = {b:g}: sigma_w^2 = {mf.critical_point('tanh', b).sigma_w2:.3f}"
        for b in (0.0, 0.01, 0.05, 0.25, 1.0)))
    points = {"ordered": ORDERED, "critical": critical.sigma_w2, "chaotic": CHAOTIC}
    print(f"\nat sigma_b^2 = {SIGMA_B2:g}:")
    print(f"{'phase':<9}  {'sigma_w^2':>9}  {'chi_1':>6}  {'1/|ln chi_1|':>12}  {'q*':>6}  "
          f"{'measured q':>10}  {'|dW_1|/|dW_last|':>16}")
    (x, y), (x_test, y_test) = _common.mnist_subset(seed=args.seed)
    theory: dict[str, dict[str, float]] = {}
    profiles: dict[str, np.ndarray] = {}
    for phase, sw in points.items():
        ag.manual_seed(args.seed)
        q, grads = at_init(tanh_net(max(depths), args.width, sw, SIGMA_B2), x[:256], y[:256])
        chi = mf.chi1("tanh", sw, SIGMA_B2)
        scale = 1.0 / abs(math.log(chi)) if abs(math.log(chi)) > 1e-9 else math.inf
        q_star = mf.q_star("tanh", sw, SIGMA_B2)
        theory[phase] = {"sigma_w2": sw, "chi1": chi, "depth_scale": scale, "q_star": q_star,
                         "q_measured": q, "grad_ratio": float(grads[0] / grads[-1])}
        profiles[phase] = grads
        print(f"{phase:<9}  {sw:>9.3f}  {chi:>6.3f}  {scale:>12.3g}  {q_star:>6.3f}  "
              f"{q:>10.3f}  {grads[0] / grads[-1]:>16.3g}")
    print(f"(measured on a random {max(depths)}-layer network of width {args.width}; "
          "1/|ln chi_1| is the number of layers over which the squared gradient changes by e)")

    # 2. training at several depths
    print(f"\ntest accuracy after {steps} SGD steps (lr={args.lr:g}, momentum 0.9, batch 64):")
    print(f"{'depth':>5}  " + "  ".join(f"{phase:>9}" for phase in points))
    accuracy = {phase: [] for phase in points}
    losses = {phase: [] for phase in points}
    for depth in depths:
        for phase, sw in points.items():
            ag.manual_seed(args.seed)
            model = tanh_net(depth, args.width, sw, SIGMA_B2)
            run = _common.train_steps(model, x, y, steps, args.lr, args.seed)
            losses[phase].append(float(np.mean(run[-20:])))
            accuracy[phase].append(_common.accuracy(model, x_test, y_test))
        print(f"{depth:>5}  " + "  ".join(f"{accuracy[ph][-1]:>9.1%}" for ph in points))

    files = [_plot_phase(out, line, points), _plot_depth(out, profiles, depths, accuracy)]
    return {"critical_sigma_w2": critical.sigma_w2, "line": line, "theory": theory,
            "depths": depths, "accuracy": accuracy, "final_loss": losses, "files": files}


def _plot_phase(out: str, line: Any, points: dict[str, float]) -> str:
    sw = np.linspace(0.5, 4.5, 61)
    sb = np.linspace(0.0, 1.0, 41)
    chi = np.array([[nn.mean_field.chi1("tanh", w, b) for w in sw] for b in sb])
    fig, axes = _common.figure(1, 1, (6.4, 4.6))
    ax = axes[0, 0]
    mesh = ax.pcolormesh(sw, sb, np.log(chi), cmap="RdBu_r", vmin=-1.0, vmax=1.0,
                         shading="auto")
    fig.colorbar(mesh, ax=ax, label="ln chi_1  (< 0 ordered, > 0 chaotic)")
    ax.plot(line.sigma_w2, line.sigma_b2, "k-", linewidth=2, label="critical line chi_1 = 1")
    for phase, w in points.items():
        ax.plot(w, SIGMA_B2, "o", markersize=8, markeredgecolor="k", label=phase)
    ax.text(1.0, 0.45, "ordered\n(gradients vanish)", ha="center", fontsize=9)
    ax.text(3.8, 0.25, "chaotic\n(gradients explode)", ha="center", fontsize=9)
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("sigma_b^2")
    ax.set_title("tanh networks: the edge of chaos", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return _common.save(fig, out, "phase_diagram.png")


def _plot_depth(out: str, profiles: dict[str, np.ndarray], depths: list[int],
                accuracy: dict[str, list[float]]) -> str:
    fig, axes = _common.figure(1, 2, (11.0, 4.0))
    for phase, grads in profiles.items():
        axes[0, 0].plot(np.arange(1, len(grads) + 1), grads, marker="o", markersize=3,
                        label=phase)
        axes[0, 1].plot(depths, accuracy[phase], marker="o", label=phase)
    _common.style(axes[0, 0], "layer (input to output)",
                  f"||dL/dW|| at initialization, depth {max(depths)}", log=True)
    axes[0, 1].set_ylim(0.0, 1.0)
    _common.style(axes[0, 1], "depth (Linear layers)", "test accuracy after training")
    return _common.save(fig, out, "depth.png")


if __name__ == "__main__":
    main()
