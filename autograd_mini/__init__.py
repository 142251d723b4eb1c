"""autograd_mini: a scalar reverse-mode automatic differentiation engine.

Build expressions from `Value`s, call `backward()`, read `.grad`. The engine
implements the backpropagation derivation (equations 1.1 to 1.10) exactly.
"""

from .checking import GradcheckError, GradcheckReport, gradcheck
from .engine import gradients
from .errors import AutogradMiniError, DomainError, NumericOverflowError, OpRegistrationError
from .explain import Explanation, explain
from .explore import Explorer, explore
from .functional import grad, hessian, hvp, value_and_grad
from .tape import Tape, TraceError, trace
from .value import Value, dot, enable_grad, is_grad_enabled, no_grad, sum_of
from .viz import Drawing, draw

__version__ = "0.1.0"

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
