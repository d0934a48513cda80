"""Every differentiable operation, by family. `autograd.function.REGISTRY` lists their classes."""

from .convert import constant, lift
from .elementwise import (
                          abs,
                          add,
                          astype,
                          clip,
                          cos,
                          divide,
                          elu,
                          exp,
                          leaky_relu,
                          log,
                          maximum,
                          minimum,
                          multiply,
                          negative,
                          power,
                          relu,
                          sigmoid,
                          sin,
                          softplus,
                          sqrt,
                          subtract,
                          tanh,
                          where,
)
from .linalg import einsum, matmul
from .nn_ops import cross_entropy, linear, log_softmax, logsumexp, max_pool2d, softmax
from .reduce import argmax, argmin, max, mean, min, std, sum, var
from .shape import (
                          broadcast_to,
                          concatenate,
                          expand_dims,
                          flatten,
                          getitem,
                          pad,
                          reshape,
                          sliding_window_view,
                          split,
                          squeeze,
                          stack,
                          sum_to,
                          swapaxes,
                          transpose,
                          unindex,
                          window_sum,
)

__all__ = [
    "constant", "lift",
    "abs", "add", "astype", "clip", "cos", "divide", "elu", "exp", "leaky_relu", "log", "maximum",
    "minimum", "multiply", "negative", "power", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "subtract", "tanh", "where",
    "einsum", "matmul",
    "cross_entropy", "linear", "log_softmax", "logsumexp", "max_pool2d", "softmax",
    "argmax", "argmin", "max", "mean", "min", "std", "sum", "var",
    "broadcast_to", "concatenate", "expand_dims", "flatten", "getitem", "pad", "reshape",
    "sliding_window_view", "split", "squeeze", "stack", "sum_to", "swapaxes", "transpose",
    "unindex", "window_sum",
]
