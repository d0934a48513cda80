"""Ready-made models of the course material: MLP, LeNet5 and ResidualMLP."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from autograd import Tensor

from .layers import (
    ELU,
    Conv2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
)
from .module import Module

__all__ = ["MLP", "LeNet5", "ResidualMLP", "make_activation"]

_ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "elu": ELU,
    "softplus": Softplus, "identity": Identity,
}


def make_activation(activation: Any) -> Module:
    """A new activation module from a name ('relu', 'sigmoid', 'tanh', 'leaky_relu', 'elu',
    'softplus', 'identity'), a Module class, or a Module instance (copied, so layers do not
    share a learnable activation such as PReLU)."""
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of "
                             f"{', '.join(sorted(_ACTIVATIONS))}, a Module class or instance")
        return _ACTIVATIONS[key]()
    if isinstance(activation, Module):
        return copy.deepcopy(activation)
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation()
    raise TypeError(f"activation must be a name, a Module class or a Module instance, got "
                    f"{activation!r}")


class MLP(Sequential):
    """A fully connected network: Linear(sizes[0], sizes[1]), activation, ..., Linear(sizes[-2],
    sizes[-1]), then `output_activation` if given.

    `MLP([784, 16, 16, 10])` is 3Blue1Brown's digit network: 784*16+16 + 16*16+16 + 16*10+10 =
    13,002 parameters. Layers are numbered as in a Sequential ("0.weight", "2.weight", ...).
    """

    def __init__(self, sizes: Sequence[int], activation: Any = ReLU,
                 output_activation: Any = None, bias: bool = True) -> None:
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias))
            if i < len(sizes) - 2:
                layers.append(make_activation(activation))
        if output_activation is not None:
            layers.append(make_activation(output_activation))
        super().__init__(*layers)
        self.sizes = sizes

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


class LeNet5(Module):
    """LeNet-5 (LeCun et al., 1998) for 1x28x28 images, with ReLU and max pooling:

    conv 6@5x5 (padding 2) -> 6x28x28 -> pool -> 6x14x14 -> conv 16@5x5 -> 16x10x10 -> pool ->
    16x5x5 -> 120 -> 84 -> num_classes (61,706 parameters for 10 classes).
    """

    def __init__(self, num_classes: int = 10, activation: Any = ReLU) -> None:
        super().__init__()
        self.features = Sequential(
            Conv2d(1, 6, 5, padding=2), make_activation(activation), MaxPool2d(2),
            Conv2d(6, 16, 5), make_activation(activation), MaxPool2d(2))
        self.classifier = Sequential(
            Flatten(), Linear(16 * 5 * 5, 120), make_activation(activation),
            Linear(120, 84), make_activation(activation), Linear(84, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:
            x = x.reshape((x.shape[0], 1) + x.shape[1:])
        return self.classifier(self.features(x))


class ResidualMLP(Sequential):
    """Linear(in_features, hidden), activation, then `depth` blocks Residual(Linear(hidden,
    hidden), activation) computing h + act(W h + b), then Linear(hidden, out_features)."""

    def __init__(self, in_features: int, hidden: int, depth: int, out_features: int,
                 activation: Any = ReLU) -> None:
        if depth < 0:
            raise ValueError(f"ResidualMLP: depth must be non-negative, got {depth}")
        blocks = [Residual(Sequential(Linear(hidden, hidden), make_activation(activation)))
                  for _ in range(depth)]
        super().__init__(Linear(in_features, hidden), make_activation(activation), *blocks,
                         Linear(hidden, out_features))
