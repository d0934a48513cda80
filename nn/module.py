"""`Module`: the base class of layers and models.

Parameters, buffers and sub-modules register themselves when assigned as attributes
(`self.weight = Parameter(...)`, `self.fc = Linear(...)`, `self.register_buffer(...)`). Each
registered value is kept both in the instance's `__dict__`, so attribute access is ordinary
(and a typo is an ordinary AttributeError), and in an ordered registry (`_parameters`,
`_buffers`, `_modules`) that the traversals read. Names of nested values are dotted paths
("layers.0.weight"), the keys of `state_dict()`.

Calling a module runs `forward` with the module pushed onto `autograd._config.state.scope`, so
every graph node recorded inside knows which modules made it (viz draws them as clusters), and
then its forward hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, no_grad
from autograd._config import state

from .parameter import Parameter

Hook = Callable[["Module", tuple, Any], Any]


class RemovableHandle:
    """Returned by `register_forward_hook`; `remove()` (or leaving a `with` block) detaches."""

    def __init__(self, hooks: dict[int, Any], key: int) -> None:
        self._hooks = hooks
        self.id = key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_next_hook_id = 0


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


class Module:
    """Base class of every layer and model: subclass it, assign parameters and sub-modules in
    `__init__` (after `super().__init__()`), and compute the output in `forward`.

    Example::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(2, 8)
                self.fc2 = nn.Linear(8, 1)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}

    # ----------------------------------------------------------------------------------------
    # registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() call; "
                f"call super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            if name not in params:  # a new name goes last; a replaced one keeps its place
                self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            if name not in d["_modules"]:
                self._forget(name)
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            d["_buffers"][name] = value
        d[name] = value

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            d[registry].pop(name, None)
        d["_non_persistent"].discard(name)

    def _check_new(self, kind: str, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        _check_name(kind, name)
        registered = name in self._parameters or name in self._buffers or name in self._modules
        if hasattr(self, name) and not registered:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent one such as `bias=False`)."""
        self._check_new("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        self._forget(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add a state Tensor that is not learned (BatchNorm's running statistics).

        Buffers are saved in `state_dict()` unless `persistent=False`; an ndarray is wrapped in
        a Tensor without copying.
        """
        self._check_new("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            if not isinstance(tensor, np.ndarray):
                raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                                f"'{name}' (Tensor, ndarray or None required)")
            tensor = Tensor(tensor)
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under `name` (what attribute assignment does, for computed names)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new("module", name)
        self._forget(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    # ----------------------------------------------------------------------------------------
    # traversal
    def named_modules(self, prefix: str = "", memo: set[int] | None = None,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, mod in mods:
            values: dict[str, Any] = mod.__dict__[registry]
            for name, v in values.items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer updates)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (shared ones counted once)."""
        return sum(p.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module (children first) and then on this one; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------------------------------
    # modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm on batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient recording for every parameter (freezing a part of a model)."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: drop it (default) or fill it with zeros."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                # A fresh array: the old one may be shared with a tensor the caller kept.
                p.grad = Tensor._make(np.zeros_like(p.grad.data), None)

    # ----------------------------------------------------------------------------------------
    # calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        prev = state.scope
        state.scope = prev + (self,)
        try:
            # One positional argument, the common case, is passed as it is: a call with `*args`
            # is not inlined by the interpreter (see autograd/function.py).
            out = (self.forward(args[0]) if len(args) == 1 and not kwargs
                   else self.forward(*args, **kwargs))
            if self._forward_hooks:
                for hook in list(self._forward_hooks.values()):
                    result = hook(self, args, out)
                    if result is not None:
                        out = result
        finally:
            state.scope = prev
        return out

    def register_forward_hook(self, hook: Hook) -> RemovableHandle:
        """Call `hook(module, inputs, output)` after each forward; a non-None return replaces
        the output. Returns a handle whose `remove()` detaches the hook."""
        global _next_hook_id
        _next_hook_id += 1
        self._forward_hooks[_next_hook_id] = hook
        return RemovableHandle(self._forward_hooks, _next_hook_id)

    # ----------------------------------------------------------------------------------------
    # state
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name.

        Values share memory with the module (as in PyTorch): copy them, or save them with
        nn.save, to keep a snapshot. Parameters come detached unless `keep_vars=True`.
        """
        out: dict[str, Tensor] = {}
        for mod_prefix, mod in self.named_modules(prefix):
            dot = f"{mod_prefix}." if mod_prefix else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    out[dot + name] = p if keep_vars else p.detach()
            for name, b in mod._buffers.items():
                if b is not None and name not in mod._non_persistent:
                    out[dot + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, in place.

        Copying in place (under no_grad) keeps the Parameter objects, so an optimizer built
        before loading still updates the loaded values. Values may be Tensors or arrays. A value
        of the wrong shape or dtype is always an error; with `strict=True` (default) missing and
        unexpected keys are too. All problems are reported together in one RuntimeError.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a mapping for state_dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        pairs = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{array.shape} from checkpoint, the shape in current model is "
                              f"{target.shape}")
            elif array.dtype != target.dtype:
                errors.append(f"dtype mismatch for {key}: copying a param with dtype "
                              f"{array.dtype} from checkpoint, the dtype in current model is "
                              f"{target.dtype}")
            else:
                pairs.append((target, array))
        if strict:
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.insert(int(bool(missing)), "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for target, array in pairs:
                target.copy_(array)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------------------------------
    # printing
    def extra_repr(self) -> str:
        """The layer's configuration inside its repr's parentheses (e.g. the sizes)."""
        return ""

    def __repr__(self) -> str:
        return "\n".join(self._repr_lines())

    def _repr_lines(self) -> list[str]:
        """The module tree: one line per module with its settings and parameter count."""
        extra = self.extra_repr()
        if not extra and self._parameters:
            # A module without a description of its own shows its parameters' shapes.
            extra = ", ".join(f"{n}={tuple(p.shape)}" for n, p in self._parameters.items()
                              if p is not None)
        count = self.num_parameters()
        note = f"  # {count:,} parameters" if count else ""
        children = [(n, m) for n, m in self._modules.items() if m is not None]
        if not children:
            return [f"{type(self).__name__}({extra}){note}"]
        lines = [f"{type(self).__name__}({note}"]
        if extra:
            lines.append(f"  {extra}")
        for name, child in children:
            sub = child._repr_lines()
            lines.append(f"  ({name}): {sub[0]}")
            lines.extend("  " + line for line in sub[1:])
        lines.append(")")
        return lines
