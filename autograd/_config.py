"""Global settings: default dtype, grad mode, anomaly mode and the one random generator.

Kept in one small module so every other module reads the same state with a single attribute
lookup (`_config.state.grad_enabled`), which is the cheapest check on the hot path.
"""

from __future__ import annotations

import numpy as np


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
        # A clock of in-place modifications: each one advances it and stamps the tensor it changed
        # (tensor._version), and each recorded node keeps the clock's value at record time. A
        # saved input whose stamp is later than its node's was modified after it was saved.
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
