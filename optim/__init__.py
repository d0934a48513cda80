"""optim: optimizers, learning-rate schedules, gradient clipping and hyperparameter search.

Names and semantics follow `torch.optim`, so a training loop moves between the two unchanged.

Table of contents:
- optimizer.py     `Optimizer`: parameter groups, per-parameter state, step/zero_grad/state_dict
- sgd.py           `SGD`: (stochastic) gradient descent with momentum, dampening, Nesterov
- momentum.py      `Momentum`: the course notes' averaged momentum, debiased, Nesterov look-ahead
- adaptive.py      `Adagrad`, `RMSprop`, `Adam`, `AdamW`: per-coordinate adaptive steps
- newton.py        `Newton`: damped Newton's method with the engine's Hessian (small models)
- lr_scheduler.py  StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
                   ReduceLROnPlateau
- clip.py          `clip_grad_norm_`, `clip_grad_value_`: the remedy for exploding gradients
- search.py        `grid_search`, `random_search` over choices, `Uniform` and `LogUniform` ranges
"""

from . import lr_scheduler, search
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .momentum import Momentum
from .newton import Newton
from .optimizer import Optimizer
from .search import LogUniform, Uniform, grid_search, random_search
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "Newton",
    "lr_scheduler", "clip_grad_norm_", "clip_grad_value_",
    "search", "grid_search", "random_search", "Uniform", "LogUniform",
]
