"""Loss functions, each built from rows of the derivative table.

`squared_error` is equation (1.4) recorded as a single node, so graphs show the
loss as one op and its rule gives dE/dy = y - t of (1.6) directly.
"""

from __future__ import annotations

from . import ops
from .value import Operand, Value, _lift, apply


def squared_error(y: Operand, t: Operand) -> Value:
    """E = 1/2 (t - y)^2, equation (1.4), as one node (op `squared_error`)."""
    return apply(ops.SQUARED_ERROR, _operand(y, "y"), _operand(t, "t"))


def _operand(x: Operand, name: str) -> Value:
    lifted = _lift(x)
    if lifted is None:
        raise TypeError(f"squared_error: {name} must be a Value, int or float, got {type(x).__name__}")
    return lifted
