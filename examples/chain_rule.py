"""The chain rule by hand, on the network of 3Blue1Brown's "Backpropagation calculus".

    python -m examples.chain_rule            # writes runs/chain_rule/
    python -m examples.chain_rule --help

What it reproduces (3Blue1Brown, "Backpropagation calculus"): take the simplest network, one
neuron per layer, a0 -> a1 -> a2 -> a3, with

    z(l) = w(l) a(l-1) + b(l),   a(l) = sigmoid(z(l)),   cost C = (a3 - y)^2.

The derivative of the cost with respect to a weight is a product of local derivatives along
the chain, e.g. for the last weight

    dC/dw3 = dz3/dw3 * da3/dz3 * dC/da3 = a2 * sigmoid'(z3) * 2 (a3 - y),

and a weight further back just has a longer product. When a neuron feeds several neurons of the
next layer, it influences the cost along several paths, and its derivative is the *sum* over
those paths (the video's sum over j). The script checks both on the engine:

- `graph.svg`: the chain drawn with the local derivative on every edge (the number backward
  multiplies by there) and the gradients on the nodes;
- the printed explanation of dC/dw1 (one path: the product of eight local derivatives), and the
  video's formula for dC/dw3 computed by hand -- both equal the engine's `.grad`;
- `paths.svg`: a neuron feeding two output neurons; dC/dw1 is the sum of two path products;
- `frames/`: the backward pass as a flip-book, one picture per step in the order the engine
  runs it (and `frames/backward.gif` when Pillow is installed).

What to look for: each "sum of path products = ... = w1.grad" line, and in the pictures how a
small sigmoid'(z) on one edge shrinks every product that passes through it.
"""

from __future__ import annotations

import math
import os
from typing import Any

import autograd as ag
import viz

from . import _common


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def chain_network(a0: float, weights: list[float], biases: list[float], y: float
                  ) -> tuple[ag.Tensor, dict[str, ag.Tensor], dict[ag.Tensor, str]]:
    """The one-neuron-per-layer network as scalar tensors: returns the cost, the tensors by name
    and the names for the drawing (z1, a1, ..., C as in the video)."""
    t: dict[str, ag.Tensor] = {"a0": ag.tensor(a0, dtype="float64"),
                               "y": ag.tensor(y, dtype="float64")}
    a = t["a0"]
    for layer, (w, b) in enumerate(zip(weights, biases), start=1):
        t[f"w{layer}"] = ag.tensor(w, requires_grad=True, dtype="float64")
        t[f"b{layer}"] = ag.tensor(b, requires_grad=True, dtype="float64")
        t[f"w{layer}a{layer - 1}"] = t[f"w{layer}"] * a
        t[f"z{layer}"] = t[f"w{layer}a{layer - 1}"] + t[f"b{layer}"]
        a = t[f"a{layer}"] = ag.sigmoid(t[f"z{layer}"])
    t["(a-y)"] = a - t["y"]
    t["C"] = t["(a-y)"] ** 2
    return t["C"], t, {tensor: name for name, tensor in t.items()}


def fan_out_network(a0: float, w1: float, b1: float, w2: tuple[float, float],
                    b2: tuple[float, float], y: tuple[float, float]
                    ) -> tuple[ag.Tensor, ag.Tensor, dict[ag.Tensor, str]]:
    """One neuron a1 feeding two output neurons: C = (a2_0 - y_0)^2 + (a2_1 - y_1)^2.
    Returns the cost, w1 and the names for the drawing."""
    f64 = "float64"
    x = ag.tensor(a0, dtype=f64)
    w = ag.tensor(w1, requires_grad=True, dtype=f64)
    b = ag.tensor(b1, requires_grad=True, dtype=f64)
    wx = w * x
    z1 = wx + b
    a1 = ag.sigmoid(z1)
    names: dict[ag.Tensor, str] = {x: "a0", w: "w1", b: "b1", wx: "w1a0", z1: "z1", a1: "a1"}
    cost = None
    for j in range(2):
        wj = ag.tensor(w2[j], requires_grad=True, dtype=f64)
        bj = ag.tensor(b2[j], requires_grad=True, dtype=f64)
        yj = ag.tensor(y[j], dtype=f64)
        wa = wj * a1
        zj = wa + bj
        aj = ag.sigmoid(zj)
        diff = aj - yj
        term = diff ** 2
        names.update({wj: f"w2_{j}", bj: f"b2_{j}", yj: f"y{j}", wa: f"w2_{j}a1",
                      zj: f"z2_{j}", aj: f"a2_{j}", diff: f"(a2_{j}-y{j})", term: f"C{j}"})
        cost = term if cost is None else cost + term
    assert cost is not None
    names[cost] = "C"
    return cost, w, names


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _common.parser("chain_rule", __doc__).parse_args(argv)
    out = _common.start(args)
    result: dict[str, Any] = {}

    # 1. the chain a0 -> a1 -> a2 -> a3 and its cost
    weights, biases, a0, y = [1.5, -2.0, 2.5], [-0.5, 0.3, 0.1], 0.8, 1.0
    cost, t, names = chain_network(a0, weights, biases, y)
    cost.backward(retain_graph=True)
    print(f"network: a0 = {a0} -> a1 -> a2 -> a3 (sigmoid neurons), y = {y}, "
          f"cost C = (a3 - y)^2 = {cost.item():.6f}")
    for name in ("w1", "b1", "w2", "b2", "w3", "b3"):
        result[f"grad_{name}"] = t[name].grad.item()
    print("engine:  " + ", ".join(f"dC/d{n} = {result['grad_' + n]:.6f}"
                                  for n in ("w1", "w2", "w3")))

    # The video's formula for the last weight, computed by hand with Python floats.
    a2, a3 = t["a2"].item(), t["a3"].item()
    z3 = t["z3"].item()
    by_hand = a2 * sigmoid(z3) * (1.0 - sigmoid(z3)) * 2.0 * (a3 - y)
    print(f"by hand: dC/dw3 = a2 * sigmoid'(z3) * 2 (a3 - y) = {a2:.4f} * "
          f"{sigmoid(z3) * (1 - sigmoid(z3)):.4f} * {2 * (a3 - y):.4f} = {by_hand:.6f}")
    result["by_hand_w3"] = by_hand

    explanation = viz.explain_gradient(cost, t["w1"], names=names)
    print()
    print(explanation)
    result.update(chain_paths=len(explanation.paths), chain_total=explanation.total,
                  chain_engine=explanation.engine_grad, chain_matches=explanation.matches,
                  chain_factors=explanation.paths[0].derivatives)
    print()
    files = [_common.render(viz.draw_graph(cost, show_derivatives=True, names=names), out,
                            "graph.svg")]

    # 2. one neuron feeding two: the gradient is a sum over paths
    cost2, w1, names2 = fan_out_network(a0, 1.5, -0.5, (-2.0, 1.0), (0.3, -0.2), (1.0, 0.0))
    cost2.backward(retain_graph=True)
    explanation2 = viz.explain_gradient(cost2, w1, names=names2)
    print()
    print(explanation2)
    result.update(fan_out_paths=len(explanation2.paths), fan_out_total=explanation2.total,
                  fan_out_engine=explanation2.engine_grad, fan_out_matches=explanation2.matches,
                  fan_out_products=[p.product for p in explanation2.paths])
    print()
    files.append(_common.render(viz.draw_gradient_paths(cost2, w1, names=names2), out,
                                "paths.svg"))

    # 3. the backward pass of the chain, step by step
    written = viz.backward_frames(cost, os.path.join(out, "frames") + os.sep, names=names,
                                  gif=_has_pillow() and not args.quick)
    frames = [f for f in written if not f.endswith(".gif")]
    print(f"frames:  {len(frames)} pictures in {os.path.join(out, 'frames')}, one per backward "
          "step in the engine's order" + (f"; animated: {written[-1]}"
                                          if written[-1].endswith(".gif") else ""))
    result["frames"] = frames
    result["files"] = files + written
    return result


def _has_pillow() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
