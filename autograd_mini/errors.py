"""The typed errors autograd_mini raises, and the one place their messages are built.

A message names the op and its operands ("mul(2.0, NaN)"), so it points at the
call that caused it; the eager engine, the tape and `gradcheck` all build theirs
here (the tape adds a `where` such as " at example 3 of the batch"). An overflow
is a NumericOverflowError, an op or rule undefined there (or a NaN) a DomainError.
Imports nothing from the package: the bottom of the core.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol


class AutogradMiniError(Exception):
    """Base class of every error autograd_mini raises on purpose."""


class DomainError(AutogradMiniError, ValueError):
    """An op was applied outside its domain (log of x <= 0, division by zero, ...)."""


class NumericOverflowError(AutogradMiniError, OverflowError):
    """A value or gradient would not fit in a float64 (for example exp(1000))."""


class OpRegistrationError(AutogradMiniError, ValueError):
    """A custom op was registered or used with an inconsistent definition."""


class OpLike(Protocol):
    """What a message needs from an op: a row of `ops.OPS` fits."""

    name: str
    domain: str


def format_number(x: Any) -> str:
    """A number as messages show it: repr of the float, NaN spelled "NaN"."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        try:
            x = float(x)
        except OverflowError:  # an int beyond float64
            return f"<int of {int(x).bit_length()} bits>"
        return "NaN" if x != x else repr(x)
    if isinstance(x, complex):
        return repr(x)
    try:  # numpy scalars and 0-d arrays
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        return repr(x)
    return "NaN" if f != f else repr(f)


# Rows whose name a user never writes, named in messages as written: (the expression, its operands' names).
WRITTEN_AS = {"pow_value": ("x ** y", ("x", "y"))}


def op_name(op: OpLike) -> str:
    """How messages name an op: its row's name ("mul"), or as written ("x ** y" for pow_value)."""
    written = WRITTEN_AS.get(op.name)
    return op.name if written is None else written[0]


def describe_call(op: OpLike, operands: Iterable[Any], limit: int = 6) -> str:
    """`name(a, b, ...)` with at most `limit` operands shown: "mul(2.0, NaN)", "x ** y at x = -2.0, y = 0.5"."""
    shown = [format_number(x) for x in operands]
    written = WRITTEN_AS.get(op.name)
    if written is not None and len(shown) == len(written[1]):
        return f"{written[0]} at " + ", ".join(f"{name} = {x}" for name, x in zip(written[1], shown))
    if len(shown) > limit:
        shown = shown[:limit] + [f"... {len(shown) - limit} more"]
    return f"{op.name}({', '.join(shown)})"


def _nonfinite_operand(operands: list[Any]) -> str | None:
    """"operand k is NaN" (or inf) for the first operand that is not finite, else None."""
    for k, x in enumerate(operands):
        try:
            f = float(x)
        except (TypeError, ValueError, OverflowError):
            continue
        if not math.isfinite(f):
            return f"operand {k} is {format_number(f)}, so the result cannot be finite"
    return None


def forward_error(
    op: OpLike, operands: list[Any], exc: BaseException | None = None, result: Any = None, where: str = ""
) -> AutogradMiniError:
    """The typed error for an op evaluated where it is undefined or overflows.

    `exc` is what the forward raised, if anything; otherwise `result` is the
    non-finite value it returned (NaN means undefined, +-inf an overflow; no
    result and no exception also means an overflow).
    """
    call = describe_call(op, operands) + where
    bad_operand = _nonfinite_operand(operands)
    if bad_operand is not None:
        return DomainError(f"{call} is undefined: {bad_operand}")
    if isinstance(exc, OverflowError) or (exc is None and op.name == "exp"):
        return NumericOverflowError(f"{call} overflows float64 (|result| > 1.8e308)")
    if exc is None and result is not None and result != result:
        return DomainError(f"{call} is undefined (NaN): {op_name(op)} needs {op.domain}")
    if exc is None:
        return NumericOverflowError(f"{call} is not finite: the result overflows float64")
    return DomainError(f"{call} is undefined: {op_name(op)} needs {op.domain}")


def rule_error(op: OpLike, operands: list[Any], exc: BaseException | None, where: str = "") -> AutogradMiniError:
    """The typed error for a derivative rule that failed (raised, or gave inf/NaN) at `operands`."""
    call = describe_call(op, operands) + where
    if isinstance(exc, OverflowError):
        return NumericOverflowError(f"backward through {call}: a local derivative overflows float64")
    return DomainError(f"backward through {call}: the local derivative is infinite or undefined there")


def gradient_error(
    op: OpLike, operands: list[Any], position: int | None, total: Any, where: str = ""
) -> AutogradMiniError:
    """The typed error for a gradient that would be NaN or +-inf.

    `position` is the input whose accumulated gradient `total` is bad; None
    means the gradient reaching the op itself (its upstream gradient).
    """
    call = describe_call(op, operands) + where
    what = "the gradient reaching it" if position is None else f"the gradient of input {position}"
    if total != total:
        return DomainError(f"backward through {call}: {what} would be NaN")
    return NumericOverflowError(
        f"backward through {call}: {what} would be {format_number(total)}; it overflows float64"
    )


def grad_type_error(
    op: OpLike, operands: list[Any], position: int | None, got: Any, where: str = ""
) -> AutogradMiniError:
    """A rule gave input `position` a gradient that is not a real number (1j, Decimal, a str, ...).

    position None: which input is not known, `got` is the TypeError that adding it raised.
    """
    call = describe_call(op, operands) + where
    if position is None:
        what = f"a gradient that cannot be added to a float ({got})"
    else:
        what = f"input {position} a gradient of type {type(got).__name__} ({got!r:.60})"
    return OpRegistrationError(f"backward through {call}: the rule gave {what}; a rule must return floats (or None)")
