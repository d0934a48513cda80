"""Linear algebra: matmul (numpy's semantics, batched with broadcasting) and einsum."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .convert import constant, lift


class MatMul(Function):
    """y = a @ b;  da = g @ b^T,  db = a^T @ g   (batch axes broadcast; 1-D operands promoted)"""

    __slots__ = ()

    def forward(self, a, b):
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned (the last axis of the "
                "first must equal the second-to-last axis of the second)") from None

    def vjp(self, F, g, a, b):
        needs = self.needs
        if a.ndim >= 2 and b.ndim >= 2:
            ga = g @ F.swapaxes(b, -1, -2) if needs[0] else None
            gb = F.swapaxes(a, -1, -2) @ g if needs[1] else None
            return ga, gb
        # Promote 1-D operands to matrices as numpy does, then drop the added axis again.
        a2 = F.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = F.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = F.expand_dims(g2, -2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            g2 = F.expand_dims(g2, -1)
        ga = gb = None
        if needs[0]:
            ga = g2 @ F.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = F.reshape(F.sum_to(ga, (1, a.shape[0])), a.shape)
        if needs[1]:
            gb = F.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                gb = F.reshape(F.sum_to(gb, (b.shape[0], 1)), b.shape)
        return ga, gb

    def describe(self) -> str:
        return "matmul"


class Einsum(Function):
    """y = einsum(spec, *xs);  dx_k = einsum(spec with x_k's subscripts as output, g, other xs)

    Indices of x_k that appear in no other operand and not in the output were summed away in the
    forward pass, so their gradient is g broadcast along them.
    """

    __slots__ = ("ins", "out")

    def __init__(self, subscripts: str) -> None:
        self.ins, self.out = subscripts, ""

    def forward(self, *xs):
        self.ins, self.out = _parse_einsum(self.ins, [x.ndim for x in xs])
        spec = ",".join(self.ins) + "->" + self.out
        try:
            return np.einsum(spec, *xs, optimize=len(xs) > 2)
        except ValueError as e:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ValueError(f"einsum: '{spec}' does not fit shapes {shapes}: {e}") from None

    def vjp(self, F, g, *xs):
        grads = []
        for k, need in enumerate(self.needs):
            if not need:
                grads.append(None)
                continue
            target = self.ins[k]
            others = [self.ins[j] for j in range(len(xs)) if j != k]
            available = set(self.out).union(*others)
            kept = "".join(c for c in dict.fromkeys(target) if c in available)
            spec = ",".join([self.out, *others]) + "->" + kept
            gk = F.einsum(spec, g, *[xs[j] for j in range(len(xs)) if j != k])
            if kept != target:
                # Restore the summed-away indices as length-1 axes, then broadcast along them.
                sizes = dict(zip(target, xs[k].shape))
                shape = tuple(sizes[c] if c in kept else 1 for c in target)
                gk = F.broadcast_to(F.reshape(gk, shape), xs[k].shape)
            grads.append(gk)
        return tuple(grads)

    def describe(self) -> str:
        return f"einsum({','.join(self.ins)}->{self.out})"


def _parse_einsum(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    """Split an einsum spec into per-operand subscripts and the output, expanding '...'."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: '{subscripts}' has more than one '->'")
    if "->" in spec:
        lhs, out = spec.split("->")
    else:
        lhs, out = spec, None
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise ValueError(f"einsum: '{subscripts}' names {len(ins)} operands, got {len(ndims)}")
    used = set(c for c in spec if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_len = max((nd - (len(s) - 3) for s, nd in zip(ins, ndims) if "..." in s), default=0)
    ell = "".join(free[:ell_len])
    expanded = []
    for s, nd in zip(ins, ndims):
        if "..." in s:
            n = nd - (len(s) - 3)
            s = s.replace("...", ell[ell_len - n:] if n else "")
        if len(s) != nd:
            raise ValueError(f"einsum: subscripts '{s}' do not match an operand with {nd} axes")
        if len(set(s)) != len(s):
            raise ValueError(
                f"einsum: repeated index within one operand ('{s}', a diagonal) is not supported")
        expanded.append(s)
    if out is None:
        counts: dict[str, int] = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules: 1-D vectors, 2-D matrices, batched with broadcasting."""
    a, b = lift(a, b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ValueError(
            f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
    return MatMul().__call__(a, b)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation (numpy.einsum), differentiable in every operand."""
    return Einsum(subscripts).__call__(*[constant(x) for x in operands])
