"""Global settings: default dtype, grad mode, anomaly mode and the one random generator.

Kept in one small module so every other module reads the same state with a single attribute
lookup (`_config.state.grad_enabled`), which is the cheapest check on the hot path.
"""

from __future__ import annotations

import itertools

import numpy as np

#: The one clock of the graph: each recorded node takes the next tick as its sequence number,
#: and each in-place change takes the next tick as the changed tensor's version. A node whose
#: input has a later version than the node's own number was changed after the node saved it.
clock = itertools.count(1)


class _State:
    __slots__ = ("grad_enabled", "anomaly", "default_dtype", "generator", "scope", "version")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.default_dtype = np.dtype(np.float32)
        self.generator = np.random.default_rng()
        # A tuple of the nn.Module objects whose forward is running (outermost first); nodes record
        # it so viz can group a model's ops by layer. Empty outside any module.
        self.scope: tuple = ()
        # The tick of `clock` at the last in-place change (0: none yet). A node numbered after it
        # cannot have had an input changed since it was recorded: the engine skips its check.
        self.version = 0


state = _State()


def set_default_dtype(dtype) -> None:
    """Set the dtype that Python floats and lists become (float32 unless changed)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dt}")
    state.default_dtype = dt


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and lists become, and that nn creates parameters in."""
    return state.default_dtype


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the one global generator used by rand/randn, nn.init, dropout and data shuffling."""
    state.generator = np.random.default_rng(seed)
    return state.generator


def get_generator() -> np.random.Generator:
    """The global numpy Generator (reseeded by manual_seed)."""
    return state.generator
