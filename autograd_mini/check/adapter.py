"""How the checker drives an engine: the `Adapter`, and the one for PyTorch scalars.

`Adapter(Value)` drives a micrograd-style class as it is (leaves `Value(x)`, Python's
operators, `relu`/`tanh`/`exp`/`log`/`sigmoid`, `.data`, `.grad`, `.backward()`), reading
`__init__` and `backward` signatures for the usual variations; an engine that spells
these differently overrides the few methods that differ (docs/check.md, "Adapters").
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .program import SPECS, Program, number_code

LOADED_PREFIX = "_autograd_mini_checked_"
"""The module name prefix of engine files loaded by `loading.load_engine`."""


class Adapter:
    """Drive a micrograd-style class `engine`; subclass and override what your API spells differently."""

    codes: dict[str, str] = {}
    """Code templates of the ops an adapter spells differently, for the printed expressions:
    {"tanh": "{0}.hyperbolic_tangent()"} (see `program.SPECS` for the names and the defaults)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        module = getattr(engine, "__module__", "?")
        qualname = getattr(engine, "__qualname__", repr(engine))
        self.name = f"{module}.{qualname}"
        if module.startswith(LOADED_PREFIX):  # loaded from a file by `loading.load_engine`: name the file
            self.name = f"{Path(getattr(sys.modules.get(module), '__file__', None) or module).name}:{qualname}"
        self.class_name = getattr(engine, "__name__", "Value")
        self.leaf_options = {"requires_grad": True} if _defaults_false(engine, "requires_grad") else {}
        """Keywords every leaf is made with: requires_grad=True for a class whose leaves need it."""
        self.seed = _seed_argument(getattr(engine, "backward", None))
        """The argument `backward` is called with ("1.0" for a `backward(grad)`), as code; "" for none."""

    def leaf(self, x: float) -> Any:
        """A new leaf holding x."""
        return self.engine(x, **self.leaf_options)

    def apply(self, op: str, operands: Sequence[Any], c: float) -> Any:
        """Op `op` (a name of `program.SPECS`) on engine nodes, with the number c if it takes one."""
        return SPECS[op].apply(operands, c)

    def data(self, node: Any) -> float:
        """The node's forward value as a float."""
        return as_float(node.data)

    def grad(self, node: Any) -> float | None:
        """The node's gradient as a float; None when the engine keeps none for it."""
        grad = node.grad
        return None if grad is None else as_float(grad)

    def backward(self, root: Any) -> None:
        """Run backward from `root` (seeded with 1)."""
        if self.seed:
            root.backward(1.0)
        else:
            root.backward()

    def leaf_code(self, x: float) -> str:
        """The code that makes a leaf holding x."""
        options = "".join(f", {k}={v!r}" for k, v in self.leaf_options.items())
        return f"{self.class_name}({number_code(x)}{options})"

    def code(self, program: Program, backward_calls: int = 1) -> str:
        """The whole program as code in this engine's API, ending with the backward call(s)."""
        lines = [f"{program.name(i)} = {self.leaf_code(x)}" for i, x in enumerate(program.leaves)]
        if program.loop is not None:
            lines.append(program.loop)
        else:
            lines += [f"{program.name(len(program.leaves) + k)} = {program.step_code(k, self.codes)}"
                      for k in range(len(program.steps))]
        root = program.name(program.output)
        lines += [f"{root}.backward({self.seed})"] * backward_calls
        return "\n".join(lines)


class TorchAdapter(Adapter):
    """PyTorch float64 scalar tensors: leaves with requires_grad, every interior node keeps its .grad.

    `backward` retains the graph, so that a second call accumulates as
    PyTorch documents instead of raising.
    """

    def __init__(self) -> None:
        import torch

        super().__init__(torch.tensor)
        self.torch = torch
        self.name = f"torch {torch.__version__} (float64 scalar tensors)"
        self.class_name = "torch.tensor"

    def leaf(self, x: float) -> Any:
        return self.torch.tensor(x, dtype=self.torch.float64, requires_grad=True)

    def apply(self, op: str, operands: Sequence[Any], c: float) -> Any:
        out = super().apply(op, operands, c)
        if out.requires_grad:
            out.retain_grad()  # so that the interior gradients can be compared too
        return out

    def data(self, node: Any) -> float:
        return float(node.item())

    def grad(self, node: Any) -> float | None:
        if node.grad is None:
            return 0.0 if node.is_leaf else None
        return float(node.grad.item())

    def backward(self, root: Any) -> None:
        root.backward(retain_graph=True)

    def leaf_code(self, x: float) -> str:
        return f"torch.tensor({number_code(x)}, dtype=torch.float64, requires_grad=True)"


def as_float(x: Any) -> float:
    """`float(x)`; for a number kept in a node of the engine (a `.grad` that is a Value), its `.data`."""
    try:
        return float(x)
    except TypeError:
        inner = getattr(x, "data", None)
        if inner is None or inner is x:
            raise
        return float(inner)


def _defaults_false(engine: Any, name: str) -> bool:
    """True if `engine(...)` takes a parameter `name` whose default is False."""
    try:
        parameter = inspect.signature(engine).parameters.get(name)
    except (TypeError, ValueError):  # a builtin or a class without a readable signature
        return False
    return parameter is not None and parameter.default is False


def _seed_argument(backward: Any) -> str:
    """"1.0" if the method `backward` requires an argument besides self (the seed gradient), else ""."""
    try:
        parameters = list(inspect.signature(backward).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        return ""
    required = [p for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return "1.0" if len(required) == 1 else ""


def as_adapter(engine: Any) -> Adapter:
    """`engine` itself if it is an Adapter, else `Adapter(engine)` for a micrograd-style class."""
    return engine if isinstance(engine, Adapter) else Adapter(engine)
