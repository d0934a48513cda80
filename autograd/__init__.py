"""autograd: reverse-mode automatic differentiation on numpy.

Table of contents:
- tensor.py      `Tensor`: an ndarray plus grad, requires_grad and the node that produced it
- function.py    `Function`: the op base class (forward + vector-Jacobian product); `REGISTRY`
- ops/           every differentiable op: elementwise, reduce, shape, linalg, nn_ops
- broadcast.py   undoing broadcasting in the backward pass (`sum_to_shape`), in one place
- engine.py      topological order, `backward`, `grad`
- namespace.py   numpy vs. engine namespaces, so one VJP formula also runs under create_graph
- grad_mode.py   no_grad, enable_grad, set_grad_enabled, detect_anomaly
- factories.py   tensor, zeros, ones, full, *_like, arange, eye, rand, randn
- functional.py  vjp, jvp, jacobian, hessian, hvp
- gradcheck.py   gradcheck, gradgradcheck, check_graph
- testing.py     hypothesis strategies and a gradient assertion for users' own tests
"""

# Tensor first: tensor.py imports the ops at its end, and the ops import Tensor.
from .tensor import Tensor  # noqa: I001

from . import functional
from ._config import get_default_dtype, get_generator, manual_seed, set_default_dtype
from .broadcast import sum_to_shape
from .engine import backward, grad, toposort
from .factories import (arange, eye, full, ones, ones_like, rand, randn, tensor, zeros,
                        zeros_like)
from .function import REGISTRY, Function
from .gradcheck import GradcheckError, check_graph, gradcheck, gradgradcheck
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (abs, add, argmax, argmin, astype, broadcast_to, clip, concatenate, cos,
                  cross_entropy, divide,
                  einsum, elu, exp, expand_dims, flatten, leaky_relu, linear, log, log_softmax,
                  logsumexp, matmul, max, max_pool2d, maximum, mean, min, minimum, multiply,
                  negative, pad, power, relu, reshape, sigmoid, sin, sliding_window_view, softmax,
                  softplus, split, sqrt, squeeze, stack, std, subtract, sum, swapaxes, tanh,
                  transpose, var, where)

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "REGISTRY", "tensor",
    "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye", "rand", "randn",
    "manual_seed", "get_generator", "set_default_dtype", "get_default_dtype",
    "backward", "grad", "toposort", "sum_to_shape", "functional",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "gradcheck", "gradgradcheck", "check_graph", "GradcheckError",
    "abs", "add", "astype", "clip", "cos", "divide", "elu", "exp", "leaky_relu", "log", "maximum",
    "minimum", "multiply", "negative", "power", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "subtract", "tanh", "where",
    "argmax", "argmin", "max", "mean", "min", "std", "sum", "var",
    "logsumexp", "softmax", "log_softmax", "linear", "cross_entropy", "max_pool2d",
    "broadcast_to", "concatenate", "expand_dims", "flatten", "pad", "reshape",
    "sliding_window_view", "split", "squeeze", "stack", "swapaxes", "transpose",
    "einsum", "matmul",
]
