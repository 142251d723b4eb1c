"""Elementary functions that work on floats, numpy arrays and Values alike.

The derivative table (`ops.py`) writes every forward and every rule with
ordinary arithmetic plus these functions, so one rule serves the eager engine
(floats), gradients of gradients (Values) and the compiled tape (numpy arrays).

Floats go to `math`, Values to the op of the same name in the table (so the
call is recorded and can be differentiated again), arrays to their namespace
(numpy, or torch & co. through `namespace`).
Domain errors are not checked here: `value.apply` turns them into typed errors
that name the op, and the tape checks its results for non-finite numbers.
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


def namespace(x: Any) -> Any:
    """The array module for `x`: numpy for numpy arrays and scalars, else the array's
    Array API namespace (`x.__array_namespace__()`, array-api-compat's when it is
    installed, or torch itself for a torch tensor), so a tape replays on any of them."""
    if type(x) is numpy().ndarray or isinstance(x, (_np.ndarray, _np.generic)):
        return _np
    get = getattr(x, "__array_namespace__", None)
    if get is not None:
        return get()
    if type(x).__module__.startswith("torch"):
        try:
            import array_api_compat

            return array_api_compat.array_namespace(x)
        except ImportError:
            import torch

            return torch
    return _np


def _is_number(x: object) -> bool:
    return type(x) is float or type(x) is int


_Value: Any = None


def _is_value(x: object) -> bool:
    global _Value
    if _Value is None:  # imported on first use: value imports this module
        from .value import Value

        _Value = Value
    return isinstance(x, _Value)


def _record(name: str, *inputs: Any) -> Any:
    """Apply the table's op `name` to Values, recording it in the graph."""
    from .ops import OPS
    from .value import apply

    return apply(OPS[name], *inputs)


def exp(x: Any) -> Any:
    """e ** x."""
    if _is_number(x):
        return math.exp(x)
    if _is_value(x):
        return _record("exp", x)
    return namespace(x).exp(x)


def log(x: Any) -> Any:
    """Natural logarithm."""
    if _is_number(x):
        return math.log(x)
    if _is_value(x):
        return _record("log", x)
    return namespace(x).log(x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent: finite for every finite input."""
    if _is_number(x):
        return math.tanh(x)
    if _is_value(x):
        return _record("tanh", x)
    return namespace(x).tanh(x)


def sigmoid(x: Any) -> Any:
    """The logistic function (1.2), evaluated without overflow.

    1 / (1 + e^-x) overflows for x near -1000, so both signs use e^-|x| <= 1:
    sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0 and e^-|x| / (1 + e^-|x|) below.
    """
    if _is_number(x):
        e = math.exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    if _is_value(x):
        return _record("sigmoid", x)
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 + 0.0 * e, e) / (1.0 + e)


def relu(x: Any) -> Any:
    """max(x, 0)."""
    if _is_number(x):
        return x if x > 0.0 else 0.0
    if _is_value(x):
        return _record("relu", x)
    xp = namespace(x)
    return xp.maximum(x, 0.0) if xp is _np else xp.where(x > 0.0, x, 0.0 * x)


def step(x: Any) -> Any:
    """1 where x > 0, else 0: the derivative of relu (taken as 0 at 0, as PyTorch does)."""
    if _is_number(x):
        return 1.0 if x > 0.0 else 0.0
    if _is_value(x):
        return _record("step", x)
    xp = namespace(x)
    if xp is _np:
        return (x > 0.0).astype(float)
    s = xp.sign(x)  # (sign + |sign|) / 2 is 1 above 0, else 0, in x's own dtype and namespace
    return (s + xp.abs(s)) * 0.5


def sign(x: Any) -> Any:
    """-1, 0 or 1: the derivative of abs (taken as 0 at 0, as PyTorch does)."""
    if _is_number(x):
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    if _is_value(x):
        return _record("sign", x)
    return namespace(x).sign(x)


def absolute(x: Any) -> Any:
    """|x|."""
    if _is_number(x):
        return abs(x)
    if _is_value(x):
        return _record("abs", x)
    return namespace(x).abs(x)


def sqrt(x: Any) -> Any:
    """Square root."""
    if _is_number(x):
        return math.sqrt(x)
    if _is_value(x):
        return _record("sqrt", x)
    return namespace(x).sqrt(x)


def power(x: Any, y: Any) -> Any:
    """x ** y; for floats a negative base with a fractional exponent is a
    domain error (math.pow raises), never a complex number."""
    if _is_number(x) and _is_number(y):
        return math.pow(x, y)
    if _is_value(x) or _is_value(y):
        return x**y
    return numpy().power(x, y) if namespace(x) is _np and namespace(y) is _np else x**y
