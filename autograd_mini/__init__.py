"""autograd_mini: a scalar reverse-mode automatic differentiation engine.

Build expressions from `Value`s, call `backward()`, read `.grad`. The engine
implements the backpropagation derivation (equations 1.1 to 1.10) exactly.

`import autograd_mini` loads the scalar core (errors, primitives, ops, value,
engine, functional) and what `explain` and `explore` are written with (nn's
label API among it); numpy, graphviz and the renderer load on first use of a
name that needs them (`trace`, `draw`, ...), through the module `__getattr__` below.
"""

from __future__ import annotations

import importlib
from typing import Any

from .engine import gradients
from .errors import AutogradMiniError, DomainError, NumericOverflowError, OpRegistrationError
from .explain import Explanation, explain  # eager: the submodule `explain` would shadow a lazy function
from .explore import Explorer, explore  # eager too, for the same reason; it loads graphviz only when called
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
    "Drawing": "viz",
    "draw": "viz",
}


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
    "no_grad",
    "sum_of",
    "Tape",
    "TraceError",
    "trace",
    "value_and_grad",
]
