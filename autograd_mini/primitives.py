"""Elementary functions that work on floats, arrays and Values alike, for the rows of `ops.py`.

Floats go to `math`; anything with a method of the function's name (a Value, which
records the call; a torch tensor) to that method; the rest to numpy. No domain
checks here: `value.apply` and the tape type the errors. Imports nothing from the package.
"""

from __future__ import annotations

import math
from typing import Any

_np: Any = None


def numpy() -> Any:
    """numpy, imported on first use so that the scalar engine starts fast."""
    global _np
    if _np is None:
        import numpy

        _np = numpy
    return _np


def _is_number(x: object) -> bool:
    return type(x) is float or type(x) is int


def _method(x: Any, name: str) -> Any:
    """x's own method `name` (Values record the call through it), or None."""
    return getattr(type(x), name, None)


def exp(x: Any) -> Any:
    """e ** x."""
    if _is_number(x):
        return math.exp(x)
    method = _method(x, "exp")
    return method(x) if method is not None else numpy().exp(x)


def log(x: Any) -> Any:
    """Natural logarithm."""
    if _is_number(x):
        return math.log(x)
    method = _method(x, "log")
    return method(x) if method is not None else numpy().log(x)


def sqrt(x: Any) -> Any:
    """Square root."""
    if _is_number(x):
        return math.sqrt(x)
    method = _method(x, "sqrt")
    return method(x) if method is not None else numpy().sqrt(x)


def sin(x: Any) -> Any:
    """Sine (radians)."""
    if _is_number(x):
        return math.sin(x)
    method = _method(x, "sin")
    return method(x) if method is not None else numpy().sin(x)


def cos(x: Any) -> Any:
    """Cosine (radians)."""
    if _is_number(x):
        return math.cos(x)
    method = _method(x, "cos")
    return method(x) if method is not None else numpy().cos(x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent: finite for every finite input."""
    if _is_number(x):
        return math.tanh(x)
    method = _method(x, "tanh")
    return method(x) if method is not None else numpy().tanh(x)


def sigmoid(x: Any) -> Any:
    """The logistic function (1.2), evaluated without overflow.

    1 / (1 + e^-x) overflows for x near -1000, so both signs use e^-|x| <= 1:
    sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0 and e^-|x| / (1 + e^-|x|) below.
    """
    if _is_number(x):
        e = math.exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    method = _method(x, "sigmoid")
    if method is not None:
        return method(x)
    np = numpy()
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def relu(x: Any) -> Any:
    """max(x, 0)."""
    if _is_number(x):
        return x if x > 0.0 else 0.0
    method = _method(x, "relu")
    return method(x) if method is not None else numpy().maximum(x, 0.0)


def step(x: Any) -> Any:
    """1 where x > 0, else 0: the derivative of relu (taken as 0 at 0, as PyTorch does)."""
    if _is_number(x):
        return 1.0 if x > 0.0 else 0.0
    method = _method(x, "step")
    if method is not None:
        return method(x)
    above = x > 0.0
    if hasattr(above, "astype"):  # numpy
        return above.astype(float)
    s = sign(x)  # other arrays (torch): (sign + |sign|) / 2 is 1 above 0, else 0, in x's dtype
    return (s + abs(s)) * 0.5


def sign(x: Any) -> Any:
    """-1, 0 or 1: the derivative of abs (taken as 0 at 0, as PyTorch does)."""
    if _is_number(x):
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    method = _method(x, "sign")
    return method(x) if method is not None else numpy().sign(x)


def absolute(x: Any) -> Any:
    """|x|: the builtin abs works on floats, Values (op `abs`) and arrays."""
    return abs(x)


def power(x: Any, y: Any) -> Any:
    """x ** y; for floats a negative base with a fractional exponent is a
    domain error (math.pow raises), never a complex number."""
    if _is_number(x) and _is_number(y):
        return math.pow(x, y)
    if isinstance(x, float) and isinstance(y, float):  # numpy scalars: numpy's rule (NaN), never complex
        return numpy().power(x, y)
    return x**y  # Values record op `pow` or `pow_value`; arrays and tensors broadcast
