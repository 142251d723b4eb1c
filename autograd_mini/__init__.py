"""autograd_mini: a scalar reverse-mode automatic differentiation engine.

Build expressions from `Value`s, call `backward()`, read `.grad`. The engine
implements the backpropagation derivation (equations 1.1 to 1.10) exactly.

The scalar core sits at the package root (errors, primitives, ops, value,
engine, graph, functional, forward, extend); the subpackages `tape`, `nn`, `views` and
`cli` are built on it and load on first use of a name from them (`trace`,
`draw`, `explain`, ...), through the module `__getattr__` below.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

from .engine import gradients
from .errors import AutogradMiniError, DomainError, NumericOverflowError, OpRegistrationError
from .forward import jacfwd, jacobian_cost, jacrev, jvp
from .functional import grad, hessian, hvp, value_and_grad
from .value import Value, dot, enable_grad, is_grad_enabled, no_grad, sum_of

__version__ = "0.1.0"

# Public name -> the submodule defining it, imported on first access.
_LAZY = {
    "GradcheckError": "checking",
    "GradcheckReport": "checking",
    "gradcheck": "checking",
    "Tape": "tape",
    "TraceError": "tape",
    "trace": "tape",
    "Drawing": "views.draw",
    "draw": "views.draw",
    "Explanation": "views.explain",
    "explain": "views.explain",
    "Explorer": "views.explorer.page",
    "explore": "views.explorer.page",
    "check_engine": "check",
}

# Modules that moved into subpackages, under the names the README used before: still importable.
_MOVED = {
    f"{__name__}.{old}": f"{__name__}.{new}"
    for old, new in {
        "losses": "nn.losses", "optim": "nn.optim", "datasets": "nn.datasets", "delta": "nn.delta",
        "train": "nn.train", "render": "views.render",
    }.items()
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports `autograd_mini.losses` as the module `autograd_mini.nn.losses` itself (one object, two names)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        return importlib.util.spec_from_loader(fullname, self) if fullname in _MOVED else None

    def create_module(self, spec: Any) -> None:
        return None  # a placeholder module; exec_module puts the real one in its place

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns whatever sys.modules holds under the name once this returns.
        sys.modules[module.__name__] = importlib.import_module(_MOVED[module.__name__])


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())


def __getattr__(name: str) -> Any:
    """Load a lazy public name (or a submodule such as `autograd_mini.tape`) on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as missing:
            if missing.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AutogradMiniError",
    "DomainError",
    "Drawing",
    "Explanation",
    "Explorer",
    "GradcheckError",
    "GradcheckReport",
    "NumericOverflowError",
    "OpRegistrationError",
    "Value",
    "dot",
    "draw",
    "enable_grad",
    "explain",
    "explore",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacfwd",
    "jacobian_cost",
    "jacrev",
    "jvp",
    "no_grad",
    "sum_of",
    "Tape",
    "TraceError",
    "trace",
    "value_and_grad",
]
