"""Quick start: compute a small expression, run backward, and read the gradients.

    python -m examples.quickstart
"""

from __future__ import annotations

import autograd as ag


def main() -> None:
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ag.tensor(0.5, requires_grad=True)
    y = (ag.tanh(w * x) ** 2).sum()
    y.backward()
    print("y      =", y.item())
    print("dy/dx  =", x.grad)
    print("dy/dw  =", w.grad)


if __name__ == "__main__":
    main()
