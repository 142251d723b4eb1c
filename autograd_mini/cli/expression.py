"""A parsed expression: the flat postfix program `parser` emits, and the stack machine that runs it.

Each step computes one node from the top of a stack, so a 20,000-term sum is a
loop, not a recursion, and keeps the span of text it computes, so an op that fails
(log of 0, an overflow) gets a caret under the user's subexpression.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .. import ops
from ..errors import AutogradMiniError, DomainError, NumericOverflowError
from ..value import Value, apply
from .quoting import point_at

Binding = Value | int | float
"""What a variable may be bound to: a Value (used as the leaf itself) or a number."""
Span = tuple[int, int]
"""A [start, end) range of the expression's text."""


class ParseError(AutogradMiniError, ValueError):
    """The text is not an expression of the language, or its variables are not bound right."""

    @classmethod
    def at(cls, text: str, message: str, start: int, end: int | None = None) -> ParseError:
        """`message`, then the line of `text` with carets under text[start:end]."""
        return cls(f"{message}\n{point_at(text, start, end)}")


class Step(NamedTuple):
    """One step of the postfix program: computes the text's span [start, end) from the top `nargs` values.

    kind: "number" (arg: the float), "variable" (arg: the name), "call" (arg: the function name),
    or an operator: "neg", "+", "-", "*", "/", "**" (`pow_value`), "**n" (`pow`: exponent free of variables).
    """

    kind: str
    arg: float | str | None
    start: int
    end: int
    nargs: int = 0


def _power_of_number(x: Value, n: Value) -> Value:
    return x**n.data  # a number exponent allows any base (the `pow` row, not `pow_value`)


_OPERATORS: dict[str, Callable[..., Value]] = {
    "neg": operator.neg, "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow, "**n": _power_of_number,
}


@dataclass(frozen=True)
class ParsedExpression:
    """A parsed expression: its text, its postfix program and its variables (in order of first use)."""

    source: str
    program: tuple[Step, ...]
    variables: tuple[str, ...]

    def leaves(self, values: Mapping[str, float]) -> dict[str, Value]:
        """One leaf Value per variable, labelled with its name; ParseError for a missing or unused name."""
        leaves = self._bind(values)
        if unused := [name for name in values if name not in self.variables]:
            uses = ", ".join(self.variables) or "no variables"
            raise ParseError(f"{', '.join(unused)} given but not used: the expression uses {uses}")
        return leaves

    def evaluate(self, values: Mapping[str, Binding]) -> Value:
        """Run the program on `values` (a Value is used as the leaf itself, a number gets a labelled leaf)."""
        return self.evaluate_with_spans(values)[0]

    def evaluate_with_spans(self, values: Mapping[str, Binding]) -> tuple[Value, dict[Value, Span]]:
        """`evaluate`, and the span of the text each node computes (for messages about that node)."""
        leaves = self._bind(values)
        stack: list[Value] = []
        spans: dict[Value, Span] = {}
        for step in self.program:
            args = stack[len(stack) - step.nargs :]
            del stack[len(stack) - step.nargs :]
            try:
                value = _run(step, args, leaves)
            except (DomainError, NumericOverflowError) as exc:  # the same type, with a caret
                raise type(exc)(f"{exc}\n{self.caret(step.start, step.end)}") from None
            spans.setdefault(value, (step.start, step.end))
            stack.append(value)
        return stack[0], spans

    def caret(self, start: int, end: int) -> str:
        """The source with carets under source[start:end]."""
        return point_at(self.source, start, end)

    def _bind(self, values: Mapping[str, Binding]) -> dict[str, Value]:
        """The leaf of each variable: the given Value, or a new one labelled with the name."""
        if missing := [name for name in self.variables if name not in values]:
            step = next(s for s in self.program if s.kind == "variable" and s.arg == missing[0])
            given = ", ".join(f"{name}=<number>" for name in missing)
            unused = {name: v for name, v in values.items() if name not in self.variables}
            message = f"no value for {', '.join(missing)}: give {given}{_case_hint(missing, unused)}"
            raise ParseError.at(self.source, message, step.start, step.end)
        return {name: v if isinstance(v := values[name], Value) else Value(v, label=name) for name in self.variables}

    def __str__(self) -> str:
        return self.source


def _run(step: Step, args: list[Value], leaves: dict[str, Value]) -> Value:
    """The node one step computes from its arguments."""
    if step.kind == "number":
        assert isinstance(step.arg, float)  # the parser emits numbers as floats
        return Value(step.arg)
    if step.kind == "variable":
        return leaves[str(step.arg)]
    if step.kind == "call":
        return apply(ops.OPS[str(step.arg)], *args)
    return _OPERATORS[step.kind](*args)


def _case_hint(missing: list[str], unused: Mapping[str, Binding]) -> str:
    """' (X=3.0 was given: names are case-sensitive)' when an unused name differs from a missing one only in case."""
    lowered = {name.lower() for name in missing}
    near = [f"{name}={value!r}" for name, value in unused.items() if name.lower() in lowered]
    if not near:
        return ""
    verb = "was" if len(near) == 1 else "were"
    return f" ({', '.join(near)} {verb} given: names are case-sensitive)"
