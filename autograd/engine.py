"""The backward pass: order the graph, then run each node's VJP once, outputs before inputs.

Ordering needs no separate pass and no recursion (a chain of a million ops is fine): nodes are
numbered as they are recorded, and pending nodes are taken from a heap, highest number first, so
a node runs only after every node that consumed its output has passed its gradient down, and
its incoming gradient is complete (the sum over all paths) when its VJP runs. Gradients live in
a dict keyed by node and are dropped as soon as they are used; the first contribution is stored
as is, later ones are added (in place once the engine owns the array). Broadcasting is undone
here, for every edge, by `sum_to_shape`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._config import state
from .broadcast import sum_to_shape
from .function import RELEASED_EXTRA, Function
from .namespace import ArrayNS, TensorNS
from .tensor import TENSOR_TYPES, Tensor

#: Gradients of at least this many elements are handed to an op's `vjp_` to be overwritten.
#: Below it a new array costs less than writing into one (numpy's `out=` has a fixed cost), and
#: the memory it saves is too little to matter.
_INPLACE_MIN_SIZE = 4096

RELEASED = ("trying to backward through the graph a second time (its saved values were freed "
            "after the first backward); pass retain_graph=True to the first backward() or "
            "autograd.grad() call if you need to backward through it again")


def toposort(roots: Iterable[Function]) -> list[Function]:
    """Nodes reachable from `roots`, consumers first: the exact order `backward` runs them in.

    Nodes carry the sequence number of their recording, and an op is always recorded after
    the ops that made its inputs, so taking pending nodes highest number first (a heap) visits
    every consumer of a node before the node itself. No recursion, one pass.
    """
    heap = [(-r.seq, r) for r in dict.fromkeys(roots)]
    heapq.heapify(heap)
    seen = {r for _, r in heap}
    order = []
    while heap:
        node = heapq.heappop(heap)[1]
        order.append(node)
        for p in node.next_functions:
            if type(p) not in TENSOR_TYPES and p not in seen:
                seen.add(p)
                heapq.heappush(heap, (-p.seq, p))
    return order


def _seed(t: Tensor, grad: Any, create_graph: bool, who: str) -> Any:
    """The starting gradient d(t)/d(t): ones for a scalar, else the given `grad` of t's shape."""
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs, but the output "
                f"has shape {t.shape}; pass a gradient of that shape (e.g. ones) or reduce the "
                "output to a scalar first (e.g. .sum())")
        g = np.array(1, dtype=t.data.dtype).reshape(t.data.shape)
        return Tensor._make(g, None) if create_graph else g
    if isinstance(grad, Tensor):
        g = grad if create_graph else grad.data
    else:
        g = np.asarray(grad, dtype=t.dtype)
        if create_graph:
            g = Tensor._make(g, None)
    if g.shape != t.shape:
        raise ValueError(f"{who}: grad has shape {g.shape} but the output has shape {t.shape}; "
                         "they must match exactly")
    return g


def _check_versions(node: Function) -> None:
    """Raise if an input or the output the VJP reads was modified in place after the node
    recorded it."""
    i = node.modified_input()
    if i is not None:
        what = (f"input {i} of '{node.name}' (shape {node.edges()[i][1].shape}) was changed "
                "after the forward pass used it")
    elif node.output_modified:
        what = (f"the output of '{node.name}', which its gradient reads, was changed after the "
                "forward pass made it")
    else:
        return
    raise RuntimeError(
        f"one of the tensors needed for gradient computation has been modified by an in-place "
        f"operation: {what}. Do not modify a tensor in place between the forward pass and "
        "backward; clone it first, or run the forward pass again")


def _shapes(node: Function) -> str:
    return ", ".join(str(a.shape) for _, a in node.edges())


def _check_finite(node: Function, i: int, g: Any) -> None:
    arr = g.data if isinstance(g, Tensor) else g
    if not np.all(np.isfinite(arr)):
        what = "nan" if np.isnan(arr).any() else "inf"
        shapes = _shapes(node)
        raise RuntimeError(
            f"detect_anomaly: function '{node.describe()}' (inputs of shapes {shapes}) returned "
            f"{what} values in the gradient of its input {i}")


def _has_nan(a: np.ndarray) -> bool:
    return a.dtype.kind in "fc" and bool(np.isnan(a).any())


def _check_forward_nan(order: list[Function], roots: list[Tensor]) -> None:
    """detect_anomaly: name the first op (in forward order) that made NaN from NaN-free inputs.

    A node's output is found as an input array of its consumers (or as a root): nodes do not
    hold their outputs. Only NaN is reported here; an inf in the forward pass may be deliberate
    (a -inf attention mask), and a gradient it spoils is caught by `_check_finite`.
    """
    outputs = {t.grad_fn: t.data for t in roots if t.grad_fn is not None}
    for node in order:
        for src, a in node.edges():
            if isinstance(src, Function):
                outputs[src] = a
    for node in reversed(order):
        if _has_nan(outputs[node]) and not any(_has_nan(a) for _, a in node.edges()):
            shapes = _shapes(node)
            raise RuntimeError(
                f"detect_anomaly: function '{node.describe()}' (inputs of shapes {shapes}) "
                "returned nan values in its forward output from inputs without nan; check the "
                "domain of its inputs (e.g. log or sqrt of a negative number)")


def _run_hooks(hooks: list, g: Any, create_graph: bool) -> Any:
    for hook in list(hooks):
        wrapped = g if create_graph else Tensor._make(g, None)
        out = hook(wrapped)
        if out is not None:
            if not isinstance(out, Tensor):
                out = Tensor._make(np.asarray(out), None)
            g = out if create_graph else out.data
    return g


def _execute(roots: Sequence[tuple[Tensor, Any]], retain_graph: bool, create_graph: bool,
             capture: dict | None) -> dict:
    """Run the backward pass from `roots` (tensor, seed gradient) pairs.

    With `capture` None, leaf gradients are accumulated into `.grad`; otherwise only the
    gradients of the tensors in `capture` are collected and returned (`.grad` is untouched).
    Returns the dict of collected gradients keyed by tensor.
    """
    grads: dict[Any, Any] = {}
    owned: set = set()
    # Nodes whose gradient is a large array of the engine's alone (made by a VJP for that node
    # only, or handed on by one): an op with `vjp_` writes its input's gradient into it.
    reuse: set = set()
    leaf_grads: dict[Tensor, Any] = {}
    captured: dict[Tensor, Any] = {}
    # A non-leaf tensor to capture is found through its node.
    capture_nodes = {t.grad_fn: t for t in capture if t.grad_fn is not None} if capture else {}

    def accumulate(store: dict, key: Any, g: Any, fresh: bool) -> None:
        prev = store.get(key)
        if prev is None:
            store[key] = g
            if fresh:
                owned.add(key)
        elif create_graph:
            store[key] = prev + g
        elif key in owned:
            np.add(prev, g, out=prev)
        else:
            # numpy returns a scalar, not a 0-d array, for 0-d operands: keep arrays arrays.
            store[key] = np.asarray(prev + g)
            owned.add(key)

    starts = []
    for t, seed in roots:
        if t.grad_fn is None:
            accumulate(leaf_grads, t, seed, False)
        else:
            accumulate(grads, t.grad_fn, seed, False)
            starts.append(t.grad_fn)

    F = TensorNS if create_graph else ArrayNS
    push, pop, pushpop = heapq.heappush, heapq.heappop, heapq.heappushpop
    ndarray, tensor_types = np.ndarray, TENSOR_TYPES
    anomaly = state.anomaly
    last_change = state.version  # the clock's tick at the last in-place change
    prev_mode = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        if anomaly:
            _check_forward_nan(toposort(starts), [t for t, _ in roots])
        # Pending nodes by descending sequence number (see toposort): a node enters the heap
        # when it receives its first gradient and leaves it once all its consumers have run.
        # The node that received its first gradient last stays out of the heap until the next
        # node is chosen: when nothing else is pending it simply comes next (a chain never
        # touches the heap), else one heappushpop chooses.
        heap = [(-n.seq, n) for n in dict.fromkeys(starts)]
        heapq.heapify(heap)
        node = pop(heap)[1] if heap else None
        while node is not None:
            g = grads.pop(node)
            extra = node.extra
            if extra is not None:
                if extra.released:
                    raise RuntimeError(RELEASED)
                if extra.hooks:
                    g = _run_hooks(extra.hooks, g, create_graph)
                    reuse.discard(node)  # a hook may have kept g, or returned an array of its own
                if extra.retained is not None:
                    out = extra.retained()
                    if out is not None:
                        out.grad = g if create_graph else Tensor._make(
                            g if node in owned or node in reuse else g.copy(), None)
                        reuse.discard(node)
            if capture_nodes and node in capture_nodes:
                captured[capture_nodes[node]] = (g if create_graph or node in owned
                                                 or node in reuse else g.copy())
                reuse.discard(node)
            needs = node.needs
            if len(needs) == 1:
                srcs, args = (node.src,), (node.args,)
            else:
                srcs, args = node.src, node.args
            if node.seq < last_change:
                _check_versions(node)
            # Arguments are spelled out where they can be: a call with `*args` builds a tuple
            # and is not inlined by the interpreter (a few percent of an op on a tiny tensor).
            if create_graph:
                gins = node.vjp(F, g, *node.inputs)
            elif len(args) == 1:
                if reuse and node in reuse:
                    gins = node.vjp_(g, args[0])
                else:
                    gins = node.vjp(F, g, args[0])
            elif len(args) == 2:
                gins = node.vjp(F, g, args[0], args[1])
            else:
                gins = node.vjp(F, g, *args)
            same_shape = node.same_shape
            new = None
            for p, data, need, gi in zip(srcs, args, needs, gins):
                if gi is None or not need:
                    continue
                if not create_graph and type(gi) is not ndarray:
                    gi = np.asarray(gi)
                if not same_shape:
                    if gi.shape != data.shape:
                        gi = _unbroadcast(node, _position(args, data), gi, data.shape,
                                          create_graph)
                    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                        gi = F.astype(gi, data.dtype)
                if anomaly:
                    _check_finite(node, _position(args, data), gi)
                if type(p) in tensor_types:
                    # A leaf: its gradient is accumulated for .grad (or captured).
                    t = p
                    if capture is None or t in capture:
                        if t in leaf_grads:
                            accumulate(leaf_grads, t, gi, False)
                        else:
                            # A leaf's gradient ends up in .grad: remember whether this array
                            # is new (made by the VJP for this input alone, not a view) so that
                            # the final step need not copy it.
                            leaf_grads[t] = gi
                            if (not create_graph and gi is not g and gi.base is None
                                    and (len(gins) == 1 or _given_once(gins, gi))):
                                owned.add(t)
                    continue
                prev = grads.get(p)
                if prev is None:
                    # The first contribution is stored as it is (it may be shared, e.g. add's
                    # VJP passes g to both inputs); a second one makes a new, engine-owned sum.
                    grads[p] = gi
                    if (p.vjp_ is not None and gi.size >= _INPLACE_MIN_SIZE and not create_graph
                            and (node in reuse if gi is g else gi.base is None)
                            and (len(gins) == 1 or _given_once(gins, gi))):
                        reuse.add(p)
                    if new is None:
                        new = p
                    else:
                        push(heap, (-p.seq, p))
                elif create_graph:
                    grads[p] = prev + gi
                elif p in owned:
                    np.add(prev, gi, out=prev)
                else:
                    grads[p] = np.asarray(prev + gi)
                    owned.add(p)
            if not retain_graph:
                node.saved = None
                if extra is None:
                    node.extra = RELEASED_EXTRA
                else:
                    extra.released = True
            if new is not None:
                node = pushpop(heap, (-new.seq, new))[1] if heap else new
            else:
                node = pop(heap)[1] if heap else None
    finally:
        state.grad_enabled = prev_mode

    for t, g in leaf_grads.items():
        if t._hooks:
            g = _run_hooks(t._hooks, g, create_graph)
        if capture is not None:
            captured[t] = g if create_graph or t in owned else g.copy()
            continue
        if create_graph:
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            t.grad = Tensor._make(g if t in owned else g.copy(), None)
        else:
            t.grad = Tensor._make(t.grad.data + g, None)
    return captured


def _position(args: tuple, data: np.ndarray) -> int:
    """The argument position of an input array (for error messages)."""
    return next(i for i, a in enumerate(args) if a is data)


def _given_once(gins: tuple, gi: Any) -> bool:
    """Whether `gi` is the gradient of one input only (a VJP may return one array twice)."""
    n = 0
    for other in gins:
        if other is gi:
            n += 1
    return n == 1


def _unbroadcast(node: Function, i: int, g: Any, shape: tuple[int, ...], create: bool) -> Any:
    """Sum a gradient of the broadcast shape back to its input's shape, or say which op broke."""
    try:
        if create:
            from .ops import sum_to
            out = sum_to(g, shape)
        else:
            out = sum_to_shape(g, shape)
    except ValueError:
        out = None
    if out is None or out.shape != shape:
        raise RuntimeError(
            f"'{node.describe()}' returned a gradient of shape {g.shape} for its input {i} of "
            f"shape {shape}; a VJP must return the input's shape or one that broadcasts to it")
    return out


def backward(tensor: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into the `.grad` of every leaf that requires grad.

    `grad` is required when `tensor` is not a scalar (it is the vector of the vector-Jacobian
    product). The graph's saved values are freed afterwards unless `retain_graph=True`;
    `create_graph=True` records the backward pass itself, for higher-order derivatives.
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn; make sure some input "
            "was created with requires_grad=True and that the computation did not run under "
            "no_grad()")
    seed = _seed(tensor, grad, create_graph, "backward")
    _execute([(tensor, seed)], retain_graph or create_graph, create_graph, None)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, as a tuple (`.grad` is untouched).

    Like `torch.autograd.grad`: `grad_outputs` gives the vector for non-scalar outputs;
    `create_graph=True` returns gradients that are themselves differentiable.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        gos = [grad_outputs] * len(outs) if len(outs) == 1 else [None] * len(outs)
        if grad_outputs is not None and len(outs) != 1:
            raise ValueError("grad: give one grad_output per output")
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} does not require grad; create it with requires_grad=True")
    for o in outs:
        if not o.requires_grad:
            raise RuntimeError(
                "grad: an output does not require grad (it does not depend on any input that "
                "requires grad, or it was computed under no_grad())")
    if retain_graph is None:
        retain_graph = create_graph
    roots = [(o, _seed(o, go, create_graph, "grad")) for o, go in zip(outs, gos)]
    captured = _execute(roots, retain_graph, create_graph, dict.fromkeys(ins))
    result = []
    for i, t in enumerate(ins):
        g = captured.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs, so "
                    "it has no gradient; pass allow_unused=True to get None for it")
            result.append(None)
        else:
            result.append(g if create_graph else Tensor._make(g, None))
    return tuple(result)
