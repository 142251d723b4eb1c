"""A parsed expression: the flat postfix program `parser` emits, and the stack machine running it.

Each step computes one node from the top values of a stack, so evaluating a
20,000-term sum is a loop, not a recursion. Every step keeps the span of the text
it computes: an op that fails (log of 0, an overflow) keeps its error type and gets a
caret under the user's subexpression, and `evaluate_with_spans` gives the CLI the span
of each node for messages about derivatives.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .. import ops
from ..errors import AutogradMiniError, DomainError, NumericOverflowError
from ..value import Value, apply
from .quoting import point_at

Binding = Value | int | float
Span = tuple[int, int]


class ParseError(AutogradMiniError, ValueError):
    """The text is not an expression of the language, or its variables are not bound right."""

    @classmethod
    def at(cls, text: str, message: str, start: int, end: int | None = None) -> ParseError:
        """`message`, then the line of `text` with carets under text[start:end]."""
        return cls(f"{message}\n{point_at(text, start, end)}")


class Instruction(NamedTuple):
    """One step: computes the text's span [start, end) from the top `nargs` values of the stack.

    kind: "number" (arg: the float), "variable" (arg: the name), "call" (arg: the function name),
    or an operator: "neg", "+", "-", "*", "/", "**" (`pow_value`), "**n" (`pow`: exponent free of variables).
    """

    kind: str
    arg: float | str | None
    start: int
    end: int
    nargs: int = 0


_OPERATORS = {"neg": operator.neg, "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "**": operator.pow, "**n": lambda x, n: x**n.data}  # a number exponent allows any base


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its postfix program and its variables (in order of first use)."""

    source: str
    program: tuple[Instruction, ...]
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
                if step.kind == "number":
                    value = Value(step.arg)
                elif step.kind == "variable":
                    value = leaves[str(step.arg)]
                elif step.kind == "call":
                    value = apply(ops.OPS[str(step.arg)], *args)
                else:
                    value = _OPERATORS[step.kind](*args)
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
            raise ParseError.at(self.source, f"no value for {', '.join(missing)}: give {given}", step.start, step.end)
        return {name: v if isinstance(v := values[name], Value) else Value(v, label=name) for name in self.variables}

    def __str__(self) -> str:
        return self.source
