"""Temporary: shared contract 2's message functions until `errors` provides them (then deleted)."""

from __future__ import annotations

from typing import Any

from .errors import AutogradMiniError, DomainError, NumericOverflowError
from .value import describe_call


def forward_error(op: Any, operands: list[Any], exc: BaseException | None = None, result: Any = None,
                  where: str = "") -> AutogradMiniError:
    """The typed error for an op evaluated where it is undefined or overflows."""
    call = describe_call(op, operands)
    if any(x != x for x in operands):
        return DomainError(f"{call} is undefined: an operand is NaN{where}")
    if isinstance(exc, OverflowError) or (exc is None and op.name == "exp"):
        return NumericOverflowError(f"{call} overflows float64 (|result| > 1.8e308){where}")
    if exc is None and result is not None and result != result:
        return DomainError(f"{call} is undefined (NaN): {op.name} needs {op.domain}{where}")
    if exc is None:
        return NumericOverflowError(f"{call} is not finite: the result overflows float64{where}")
    return DomainError(f"{call} is undefined: {op.name} needs {op.domain}{where}")


def rule_error(op: Any, operands: list[Any], exc: BaseException, where: str = "") -> AutogradMiniError:
    """The typed error for a rule that failed at `operands`."""
    call = describe_call(op, operands)
    if isinstance(exc, OverflowError):
        return NumericOverflowError(f"backward through {call}: a local derivative overflows float64{where}")
    return DomainError(f"backward through {call}: the local derivative is infinite or undefined there{where}")


def gradient_error(op: Any, operands: list[Any], position: int, total: float, where: str = "") -> AutogradMiniError:
    """The typed error for a gradient that became NaN or overflowed."""
    call = describe_call(op, operands)
    if total != total:
        return DomainError(f"backward through {call}: the gradient of input {position} would be NaN{where}")
    return NumericOverflowError(
        f"backward through {call}: the gradient of input {position} would be {total!r}; it overflows float64{where}"
    )
