"""The layers: each a Module holding its parameters and calling nn.functional or an engine op.

- linear.py      Linear, Identity, Flatten
- conv.py        Conv2d, MaxPool2d, AvgPool2d
- norm.py        BatchNorm1d, BatchNorm2d, LayerNorm
- dropout.py     Dropout
- activation.py  Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, Softplus, Softmax, LogSoftmax
- container.py   Sequential, ModuleList, ModuleDict
- residual.py    Residual, Maxout
"""

from .activation import ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .residual import Maxout, Residual

__all__ = [
    "Linear", "Identity", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "LayerNorm", "Dropout", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU",
    "ELU", "Softplus", "Softmax", "LogSoftmax", "Sequential", "ModuleList", "ModuleDict",
    "Residual", "Maxout",
]
