"""The op base class: one `Function` subclass per differentiable operation.

A `Function` instance is the graph node: calling it on Tensors runs `forward` on their arrays and,
when gradients are being recorded, keeps where each input came from (the node that made it, or
the Tensor itself for a leaf: the graph's edges), the input arrays, which inputs need a gradient,
the version clock, and whatever `forward` saved. Like PyTorch's nodes, it links to the nodes
before it, not to their output Tensors, and never holds its own output: a graph is a tree of
plain references without cycles, freed by reference counting the moment the last Tensor of it
goes away, and an intermediate Tensor the user drops dies at once (a chain of a million ops
leaves a million nodes for the garbage collector to scan, not three million objects).

Writing an op (also how users define their own; see `Function` below)::

    class Mul(Function):
        '''y = a * b;  da = g * b,  db = g * a'''
        def forward(self, a, b):
            return a * b
        def vjp(self, F, g, a, b):
            return g * b, g * a

`vjp` receives the gradient `g` of the output and the inputs, and returns one gradient per input
(None where none is needed). It runs in two modes with the same formula: on ndarrays for an
ordinary backward (`F` is the numpy namespace), and on Tensors under `create_graph=True` (`F` is
the engine's namespace), which makes the backward pass itself differentiable. Broadcasting is
undone by the engine, so a vjp may return a gradient of the broadcast (output) shape.

Users call an op as `MyOp()(x)`. The library's own op functions write the same call as
`Op().__call__(x)`, and the engine calls `vjp` with its arguments spelled out rather than as
`*args`: calling an instance (through the type's C slot) or with a starred tuple cannot be
inlined by the interpreter, and on a tiny tensor that is several percent of an op's cost.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ._config import clock, state
from .tensor import Tensor

_NEEDS_ONE = (True,)
_make = Tensor._make


def _not_tensors(op: Function, inputs: tuple) -> TypeError:
    kinds = ", ".join(type(t).__name__ for t in inputs)
    return TypeError(
        f"{type(op).__name__}: a Function is called on Tensors, got ({kinds}); wrap constants "
        "with autograd.tensor(...) (or use the op's function, which does it for you)")

# Nodes are numbered in the order they are recorded, by the clock that also dates in-place
# changes (`_config.clock`). A node's inputs were made before it, so running nodes from the
# highest number down is a topological order of any graph (PyTorch's sequence numbers serve the
# same purpose), and an input whose version is above the node's number changed after it.
_tick = clock.__next__

#: Every op class by name; the property tests enumerate it, so a new op is tested automatically.
REGISTRY: dict[str, type[Function]] = {}


class Function:
    """Base class of differentiable operations (forward and vector-Jacobian product side by side).

    Subclasses implement `forward(self, *arrays) -> ndarray` and `vjp(self, F, g, *inputs)`.
    Options (an axis, a shape) are set in `__init__` and read from `self` in both methods.
    Set `saves_inputs = False` when `vjp` does not read the inputs' values, so in-place changes
    to them after the forward pass are not reported as errors. A forward may keep arrays it needs
    in `self.saved`; in create_graph mode use `self.output(F, *inputs)` for the op's output, and
    set `saves_output = True` when the VJP reads the output, so an in-place change to it is
    reported as an error instead of giving a wrong gradient.

    `vjp` must return new arrays or views, never an array the op keeps: the engine adds later
    contributions into a new array given for one input alone, and an op with `vjp_` writes
    its own input's gradient into it (`vjp_(g, x)`, ordinary backward only).
    """

    # `src` and `args`: each input's source (its node, or the Tensor itself for a leaf) and its
    # array. For a one-input node they are the source and the array themselves, else tuples:
    # one object fewer per node for the garbage collector to scan. Read them through `edges()`.
    #
    # `__weakref__` (a node may be weakly referenced) and `_spare` (never set) are there for
    # memory layout too. Nine slots make a node 112 bytes, a size class of CPython's small-object
    # allocator that ndarrays and Tensors (96 bytes each) do not use, and an op's own slots only
    # move it further up. A graph's nodes then fill memory pools of their own, in order, instead
    # of the holes that freed arrays and Tensors leave. The garbage collector's full collections
    # walk every live node. Over a million-op chain they ran 2 to 2.5 times as fast with this
    # layout, and the whole chain took about 20% less time. tests/test_engine.py checks the sizes.
    __slots__ = ("src", "args", "needs", "seq", "saved", "extra", "scope", "__weakref__",
                 "_spare")

    name: ClassVar[str] = "function"
    saves_inputs: ClassVar[bool] = True
    saves_output: ClassVar[bool] = False
    #: True when every input gradient has that input's shape and dtype (elementwise one-input
    #: ops), so the engine need not check for broadcasting or a dtype change.
    same_shape: ClassVar[bool] = False
    #: Registered ops are enumerated by the gradient property tests.
    register: ClassVar[bool] = True
    #: Optional `vjp_(self, g, x)`: the same VJP written into `g`'s memory, which the engine
    #: calls instead of `vjp` (one-input ops, ordinary backward) when `g` is a large array of
    #: its own (see `engine._INPLACE_MIN_SIZE`). None for ops without one.
    vjp_: ClassVar[Callable[..., tuple] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if cls.__dict__.get("register", True) and cls.__module__.startswith("autograd."):
            REGISTRY[cls.name] = cls

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def vjp(self, F: Any, g: Any, *inputs: Any) -> tuple:
        raise NotImplementedError(f"{type(self).__name__}.vjp is not implemented")

    def __call__(self, *inputs: Tensor) -> Tensor:
        """Run the op on Tensors, recording a node when any input requires a gradient."""
        if len(inputs) == 1:
            # The common unary case, spelled out: this is the engine's hottest path.
            x = inputs[0]
            if type(x) is not Tensor and not isinstance(x, Tensor):
                raise _not_tensors(self, inputs)
            data = x.data
            out = self.forward(data)
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            if x._requires_grad and state.grad_enabled:
                self.src = x.grad_fn or x
                self.args = data
                self.needs = _NEEDS_ONE
                self.seq = _tick()
                self.extra = None
                self.scope = state.scope
                return _make(out, self)
            return _make(out, None)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise _not_tensors(self, inputs)
        if len(inputs) == 2:
            # Two inputs, also spelled out (no list comprehensions): most other ops are binary.
            a, b = inputs
            arrays: tuple = (a.data, b.data)
            needs = (a._requires_grad, b._requires_grad)
            out = self.forward(arrays[0], arrays[1])  # not *arrays: see the engine's VJP call
        else:
            arrays = tuple([t.data for t in inputs])
            needs = tuple([t._requires_grad for t in inputs])
            out = self.forward(*arrays)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if state.grad_enabled and True in needs:
            self.src = ((a.grad_fn or a, b.grad_fn or b) if len(arrays) == 2
                        else tuple([t.grad_fn or t for t in inputs]))
            self.args = arrays
            self.needs = needs
            self.seq = _tick()
            self.extra = None
            self.scope = state.scope
            return _make(out, self)
        return _make(out, None)

    def output(self, F: Any, *inputs: Any) -> Any:
        """The op's output: the saved array, or in create_graph mode the op re-run on Tensors."""
        if type(inputs[0]) is not Tensor and not isinstance(inputs[0], Tensor):
            return self.saved
        node = copy.copy(self)
        return node(*inputs)

    def release(self) -> None:
        """Drop what forward saved (after backward unless retain_graph=True); keep the structure."""
        self.saved = None
        self._extra().released = True

    # Hooks, retain_grad and the released flag are rare, so they share one slot (`extra`), set
    # only when used: recording a node then costs one attribute instead of three.
    def _extra(self) -> NodeExtra:
        if self.extra is None or self.extra is RELEASED_EXTRA:
            extra = NodeExtra()
            extra.released = self.extra is RELEASED_EXTRA
            self.extra = extra
        return self.extra

    @property
    def released(self) -> bool:
        return self.extra is not None and self.extra.released

    @property
    def hooks(self) -> list | None:
        return None if self.extra is None else self.extra.hooks

    @hooks.setter
    def hooks(self, value: list | None) -> None:
        self._extra().hooks = value

    @property
    def retained(self) -> Any:
        return None if self.extra is None else self.extra.retained

    @retained.setter
    def retained(self, value: Any) -> None:
        self._extra().retained = value

    def edges(self) -> tuple[tuple[Any, np.ndarray], ...]:
        """(source, array) per input, in argument order: the node that made the input, or the
        Tensor itself for a leaf, and the array the forward pass read."""
        if len(self.needs) == 1:
            return ((self.src, self.args),)
        return tuple(zip(self.src, self.args))

    @property
    def next_functions(self) -> tuple:
        """The nodes (or leaf Tensors) this node's inputs come from, as PyTorch names it."""
        return (self.src,) if len(self.needs) == 1 else self.src

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The input Tensors: leaves themselves, and for an op's output a Tensor rebuilt from
        the array and the node that made it (the original may be gone; PyTorch unpacks its
        saved variables the same way). Rebuilt Tensors feed the VJP under create_graph."""
        return tuple(s if isinstance(s, Tensor) else _make(a, s) for s, a in self.edges())

    def modified_input(self) -> int | None:
        """The position of the first input changed in place after this node recorded it (inputs
        the VJP does not read, `saves_inputs = False`, do not count)."""
        if not self.saves_inputs:
            return None
        seq = self.seq
        for i, (s, _) in enumerate(self.edges()):
            if isinstance(s, Tensor):
                if s._version > seq:
                    return i
            elif s.extra is not None and s.extra.modified > seq:
                return i
        return None

    @property
    def output_modified(self) -> bool:
        """True when the VJP reads the output (`saves_output`) and it was changed in place
        after the forward pass."""
        return (self.saves_output and self.extra is not None
                and self.extra.modified > self.seq)

    def describe(self) -> str:
        """A short label for drawings: the op's name and its options."""
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


class NodeExtra:
    """The rarely used parts of a node: tensor hooks, a retain_grad target, the released flag,
    the output's name, and the clock value of the last in-place change to the output."""

    __slots__ = ("hooks", "retained", "released", "name", "modified")

    def __init__(self) -> None:
        self.hooks: list | None = None
        self.retained: Any = None
        self.released = False
        self.name: str | None = None
        self.modified = 0


#: Shared by every released node that has no hooks (so releasing allocates nothing).
RELEASED_EXTRA = NodeExtra()
RELEASED_EXTRA.released = True
