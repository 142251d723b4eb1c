"""The typed errors autograd_mini raises for bad input and impossible numerics.

Every error names the op that raised it and the operand values, so the message
points at the call that caused it rather than at the engine's internals.
"""

from __future__ import annotations


class AutogradMiniError(Exception):
    """Base class of every error autograd_mini raises on purpose."""


class DomainError(AutogradMiniError, ValueError):
    """An op was applied outside its domain (log of x <= 0, division by zero, ...)."""


class NumericOverflowError(AutogradMiniError, OverflowError):
    """A value or gradient would not fit in a float64 (for example exp(1000))."""


class OpRegistrationError(AutogradMiniError, ValueError):
    """A custom op was registered or used with an inconsistent definition."""
