"""Switching the recording of the graph on and off: no_grad, enable_grad, set_grad_enabled.

Each works as a context manager and as a decorator, as in PyTorch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._config import state

F = TypeVar("F", bound=Callable[..., Any])


class _GradModeContext:
    """Base for the context managers that set `state.grad_enabled` and restore it on exit."""

    enabled: bool = True

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__._clone(self):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _clone(self) -> _GradModeContext:
        new = object.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        return new


class _NoParamDecorator(_GradModeContext):
    """Also usable as a bare decorator, `@no_grad` as well as `@no_grad()` (as in PyTorch)."""

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecorator):
    """Context manager / decorator: ops run without recording a graph (as `torch.no_grad`)."""

    enabled = False


class enable_grad(_NoParamDecorator):
    """Context manager / decorator: record the graph even inside `no_grad`."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """`with set_grad_enabled(flag):` records the graph only when `flag` is true."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward."""
    return state.grad_enabled


class detect_anomaly:
    """Context manager: make backward raise as soon as an op's gradient has a NaN or inf.

    The error names the op (and the forward expression's inputs' shapes), so a non-finite
    gradient can be traced to the operation that produced it. Slower: every gradient is checked.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = state.anomaly
        state.anomaly = self.check_nan

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._prev
