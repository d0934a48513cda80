"""nn: neural networks built only from autograd ops (no layer has a backward of its own).

Table of contents:
- module.py         `Module`: registration on assignment, traversal, train/eval, state_dict,
                    forward hooks, the printed module tree
- parameter.py      `Parameter`: a Tensor that requires grad and that modules collect
- layers/           Linear, Identity, Flatten, Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d/2d,
                    LayerNorm, Dropout, activations, Sequential, ModuleList, ModuleDict,
                    Residual, Maxout
- functional.py     every layer and loss as a function (`nn.functional`, imported as F)
- losses.py         MSELoss, L1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss,
                    BCEWithLogitsLoss, HingeLoss, MultiMarginLoss, KLDivLoss
- models.py         MLP, LeNet5, ResidualMLP
- init.py           PyTorch's initializers (xavier_*, kaiming_*, ...), calculate_gain
- mean_field.py     signal propagation in deep tanh/ReLU networks: q_star, chi1, critical_point
- utils.py          l1_penalty, l2_penalty, Monitor (activation and gradient statistics)
- serialization.py  save, load: checkpoints that never execute code on load
- data.py           DataLoader, TensorDataset
- datasets.py       mnist, spiral, moons, sine
- transforms.py     image augmentation
"""

from . import data, datasets, functional, init, mean_field, transforms, utils
from .layers import (
    ELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Maxout,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    PReLU,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from .models import MLP, LeNet5, ResidualMLP
from .module import Module, RemovableHandle
from .parameter import Parameter
from .serialization import CheckpointError, load, save
from .utils import Monitor, l1_penalty, l2_penalty

__all__ = [
    "Module", "Parameter", "RemovableHandle",
    "Linear", "Identity", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "LayerNorm", "Dropout", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU",
    "ELU", "Softplus", "Softmax", "LogSoftmax", "Sequential", "ModuleList", "ModuleDict",
    "Residual", "Maxout",
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeLoss", "MultiMarginLoss", "KLDivLoss",
    "MLP", "LeNet5", "ResidualMLP",
    "save", "load", "CheckpointError", "l1_penalty", "l2_penalty", "Monitor",
    "data", "datasets", "transforms", "functional", "init", "mean_field", "utils",
]
