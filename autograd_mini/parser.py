"""A small, safe expression language for the command line: text to a Value graph.

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-")* atom ("**" unary)?        (** is right-associative)
    atom       := NUMBER | NAME | NAME "(" expression ("," expression)* ")" | "(" expression ")"

Precedence follows Python (-x**2 is -(x**2), 2**-1 is 0.5). The functions are
read from the table (`functions`): a row listed in `ops.UNARY_FUNCTIONS` (sin,
cos, ...) is callable here with no change to this file. Nothing is given to eval, exec or compile: a
lazy regex tokenizer feeds a precedence-climbing parser that emits a flat
postfix program, which `Expression.evaluate` runs on a stack. Sums and products
are loops; only nesting recurses, capped at `MAX_DEPTH`, so a 20,000-term sum
and 10,000 parentheses are both safe. Numbers are floats from the start, so
`9**9**9` overflows at once instead of computing a huge integer. Errors quote
the text with a caret under the culprit (control characters escaped, long
lines clamped); domain errors while evaluating keep their type and get one too.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from . import ops
from .errors import AutogradMiniError, DomainError, NumericOverflowError
from .quoting import WINDOW, point_at, printable
from .value import Value, apply

MAX_DEPTH = 100
"""Deepest nesting of parentheses, calls, unary signs and powers the parser accepts."""
MAX_LENGTH = 100_000
"""Longest expression text accepted, in characters."""
Binding = Value | int | float
Span = tuple[int, int]


class ParseError(AutogradMiniError, ValueError):
    """The text is not an expression of the language, or its variables are not bound right."""


def functions() -> dict[str, ops.Op]:
    """The callable functions, name -> table row: the table's elementary functions
    (`ops.UNARY_FUNCTIONS`, the same rows `Value` has methods for) and the loss (1.4)."""
    return {name: ops.OPS[name] for name in (*ops.UNARY_FUNCTIONS, "squared_error")}


# --- messages -------------------------------------------------------------------------------------
def _error(text: str, message: str, start: int, end: int | None = None) -> ParseError:
    return ParseError(f"{message}\n{point_at(text, start, end)}")


# --- tokens ---------------------------------------------------------------------------------------
# ASCII digits only: str.isdigit() and a Unicode \d also accept '²' or '٣'.
_TOKEN = re.compile(r"(?P<space>[ \t\r\n]+)|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/(),])")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NOT_ALLOWED = {  # Python that is not this language, with the reason
    ".": "attribute access ('.') is not allowed", ":": "':' is not allowed (no lambdas, slices or walrus)",
    **dict.fromkeys("[]", "subscripts and lists are not allowed"),
    **dict.fromkeys("{}", "sets and dicts are not allowed"),
    **dict.fromkeys("'\"", "strings are not allowed"), **dict.fromkeys("<>!", "comparisons are not allowed"),
    "=": "'=' is not allowed: no assignments, keyword arguments or comparisons (give values as name=value pairs)",
    "^": "'^' is not allowed: write powers as x ** n", ";": "';' is not allowed: give one expression",
    "#": "comments ('#') are not allowed", "\\": "'\\' is not allowed",
    **{c: f"'{c}' is not allowed: the operators are + - * / **" for c in ("//", "%", "@", "&", "|", "~")},
}


class Token(NamedTuple):
    """One token: kind is "number", "name", the operator itself ("**", "(", ...) or "end"."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of `text`, then "end"; lazy, so problems are reported left to right as the parser reads."""
    i = 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None or text.startswith("//", i):
            raise _not_allowed(text, i)
        kind, word, end = match.lastgroup or "", match[0], match.end()
        if kind == "number" and end < len(text) and (text[end].isalnum() or text[end] in "_."):
            if text[end].isnumeric():  # a digit outside 0-9, as in 3²
                raise _not_allowed(text, end)
            glued = _NAME.match(text, end)
            stop = glued.end() if glued else end + 1
            if text[end] in "jJ" and stop == end + 1:
                raise _error(text, "complex numbers are not allowed", i, stop)
            raise _error(text, "not a number: write products with '*', as in 2*x", i, stop)
        if kind == "name" and (keyword.iskeyword(word) or keyword.issoftkeyword(word)):
            raise _error(text, f"'{word}' is a Python keyword, not part of the expression language", i, end)
        if kind != "space":
            yield Token(word if kind == "op" else kind, word, i, end)
        i = end
    yield Token("end", "", len(text), len(text))


def _not_allowed(text: str, i: int) -> ParseError:
    """The error for the character (or '//') at text[i], which the language does not have."""
    c = "//" if text.startswith("//", i) else text[i]
    message = _NOT_ALLOWED.get(c) or f"unexpected character {printable(repr(c))}"
    if c.isnumeric():  # '²', '٣', '½': Python's float() would take some of them
        message += ": numbers are written with the digits 0-9 (and powers as x**2)"
    return _error(text, message, i, i + len(c))


# --- the program ----------------------------------------------------------------------------------
class Instruction(NamedTuple):
    """One postfix step over the text's span [start, end).

    kind: "number" (arg: the float), "variable" (arg: the name), "neg", "+", "-", "*", "/",
    "**" (arg: "number" when the exponent is free of variables), "call" (arg: the function).
    """

    kind: str
    arg: float | str | None
    start: int
    end: int
    nargs: int = 0


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its postfix program and its variables (in order of first use)."""

    source: str
    program: tuple[Instruction, ...]
    variables: tuple[str, ...]

    def leaves(self, values: Mapping[str, float]) -> dict[str, Value]:
        """One leaf Value per variable, labelled with its name; ParseError for a missing or unused name."""
        self._require(values)
        unused = [name for name in values if name not in self.variables]
        if unused:
            uses = ", ".join(self.variables) or "no variables"
            raise ParseError(f"{', '.join(unused)} given but not used: the expression uses {uses}")
        return {name: Value(values[name], label=name) for name in self.variables}

    def evaluate(self, values: Mapping[str, Binding]) -> Value:
        """Run the program on `values` (a Value is used as the leaf itself, a number gets a labelled leaf)."""
        return self.evaluate_with_spans(values)[0]

    def evaluate_with_spans(self, values: Mapping[str, Binding]) -> tuple[Value, dict[Value, Span]]:
        """`evaluate`, and the span of the text each node computes (for messages about that node)."""
        self._require(values)
        leaves = {name: v if isinstance(v := values[name], Value) else Value(v, label=name) for name in self.variables}
        stack: list[Value] = []
        spans: dict[Value, Span] = {}
        for step in self.program:
            try:
                value = _run(step, stack, leaves)
            except (DomainError, NumericOverflowError) as exc:
                raise type(exc)(f"{exc}\n{self.caret(step.start, step.end)}") from None
            spans.setdefault(value, (step.start, step.end))
            stack.append(value)
        assert len(stack) == 1, "a parsed program leaves exactly one value"
        return stack[0], spans

    def caret(self, start: int, end: int) -> str:
        """The source with carets under source[start:end]."""
        return point_at(self.source, start, end)

    def _require(self, values: Mapping[str, object]) -> None:
        missing = [name for name in self.variables if name not in values]
        if missing:
            step = next(s for s in self.program if s.kind == "variable" and s.arg == missing[0])
            given = ", ".join(f"{name}=<number>" for name in missing)
            raise ParseError(f"no value for {', '.join(missing)}: give {given}\n{self.caret(step.start, step.end)}")

    def __str__(self) -> str:
        return self.source


def _run(step: Instruction, stack: list[Value], leaves: dict[str, Value]) -> Value:
    """Execute one instruction, popping its operands from the stack; returns its result."""
    if step.kind == "number":
        return Value(step.arg)  # type: ignore[arg-type]
    if step.kind == "variable":
        return leaves[str(step.arg)]
    if step.kind == "neg":
        return -stack.pop()
    if step.kind == "call":
        args = stack[len(stack) - step.nargs :]
        del stack[len(stack) - step.nargs :]
        return apply(ops.OPS[str(step.arg)], *args)
    y, x = stack.pop(), stack.pop()
    if step.kind == "**":  # a constant exponent is `pow`'s number (any base); else `pow_value`
        return x ** y.data if step.arg == "number" else x**y
    return {"+": x.__add__, "-": x.__sub__, "*": x.__mul__, "/": x.__truediv__}[step.kind](y)


# --- the parser -----------------------------------------------------------------------------------
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}  # the left-associative levels; signs and ** are in `unary`


class _Parser:
    """Precedence climbing with one token of lookahead; each method emits postfix steps, returns its span."""

    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.current = text, tokenize(text), None
        self.depth, self.program, self.functions = 0, [], functions()

    def parse(self) -> Expression:
        if self.peek().kind == "end":
            raise _error(self.text, "empty expression: give something like 'x * y + 1'", self.peek().start)
        self.expression()
        if self.peek().kind != "end":
            raise self.unexpected("expected an operator (+ - * / **) or the end of the expression")
        variables = dict.fromkeys(str(s.arg) for s in self.program if s.kind == "variable")
        return Expression(self.text, tuple(self.program), tuple(variables))

    def expression(self, level: int = 1) -> Span:
        """Operands joined by operators of precedence >= level: a loop, left-associative."""
        start, end = self.unary()
        while _PRECEDENCE.get(self.peek().kind, 0) >= level:
            op = self.take()
            end = self.expression(_PRECEDENCE[op.kind] + 1)[1]
            self.emit(op.kind, None, start, end)
        return start, end

    def unary(self) -> Span:
        """Signs, atom, ("**" unary)?; a "-" right before a number literal folds into it."""
        signs = []
        while self.peek().kind in ("+", "-"):
            signs.append(self.enter(self.take()))
        start, end = self.atom()
        if self.peek().kind == "**":
            self.enter(self.take())
            mark = len(self.program)
            end = self.unary()[1]
            self.depth -= 1
            constant = all(step.kind != "variable" for step in self.program[mark:])
            self.emit("**", "number" if constant else None, start, end)
        for sign in reversed(signs):
            self.depth -= 1
            last = self.program[-1]
            if sign.kind == "-" and last.kind == "number" and not self.text[sign.end : last.start].strip():
                self.program[-1] = Instruction("number", -float(last.arg), sign.start, end)  # type: ignore[arg-type]
            elif sign.kind == "-":
                self.emit("neg", None, sign.start, end)
        return (signs[0].start if signs else start), end

    def atom(self) -> Span:
        token = self.take()
        if token.kind == "number":
            if not math.isfinite(value := float(token.text)):  # a float from the start, never a big int
                raise _error(self.text, f"the number {token.text[:40]} is too large for a float64", *token[2:])
            self.emit("number", value, *token[2:])
        elif token.kind == "name" and self.peek().kind == "(":
            return self.call(token)
        elif token.kind == "name":
            if token.text in self.functions:
                raise _error(self.text, f"{token.text} is a function: call it as {token.text}(...)", *token[2:])
            self.emit("variable", token.text, *token[2:])
        elif token.kind == "(":
            self.enter(token)
            self.expression()
            return token.start, self.close(token)
        else:
            raise self.unexpected("expected a number, a variable, a function call or '('", token)
        return token.start, token.end

    def call(self, name: Token) -> Span:
        op = self.functions.get(name.text)
        if op is None:
            known = ", ".join(self.functions)
            raise _error(self.text, f"unknown function '{name.text}': the functions are {known}", *name[2:])
        opening = self.enter(self.take())
        if self.peek().kind == ")":
            raise self.unexpected(f"{name.text}() needs an argument")
        nargs = 1
        self.expression()
        while self.peek().kind == ",":
            self.take()
            self.expression()
            nargs += 1
        end = self.close(opening)
        if nargs != op.arity:
            plural = "argument" if op.arity == 1 else "arguments"
            raise _error(self.text, f"{name.text} takes {op.arity} {plural}, got {nargs}", name.start, end)
        self.emit("call", name.text, name.start, end, nargs)
        return name.start, end

    # --- helpers ------------------------------------------------------------------------------------
    def peek(self) -> Token:
        if self.current is None:
            self.current = next(self.tokens)
        return self.current

    def take(self) -> Token:
        token = self.peek()
        self.current = None if token.kind != "end" else token
        return token

    def enter(self, token: Token) -> Token:
        """One more level of nesting at `token`; too deep is a ParseError, never a RecursionError."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, signs, powers)"
            raise _error(self.text, message, *token[2:])
        return token

    def close(self, opening: Token) -> int:
        """Take the ')' matching `opening` and leave its level; returns the end of the ')'."""
        if self.peek().kind == "end":
            raise _error(self.text, f"'{opening.text}' is never closed", *opening[2:])
        if self.peek().kind != ")":
            raise self.unexpected("expected ')' or an operator")
        self.depth -= 1
        return self.take().end

    def unexpected(self, hint: str, token: Token | None = None) -> ParseError:
        token = token or self.peek()
        found = "end of the expression" if token.kind == "end" else repr(token.text)
        return _error(self.text, f"unexpected {found}: {hint}", *token[2:])

    def emit(self, kind: str, arg: float | str | None, start: int, end: int, nargs: int = 0) -> None:
        self.program.append(Instruction(kind, arg, start, end, nargs))


# --- entry points ---------------------------------------------------------------------------------
def parse(text: str) -> Expression:
    """Parse `text` into an Expression, or raise ParseError pointing at the problem.

    >>> parse("sigmoid(x * y) + x ** 2").variables
    ('x', 'y')
    """
    if not isinstance(text, str):
        raise TypeError(f"parse needs a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        return _Parser(text).parse()
    except RecursionError:  # only if called from an already deep stack: MAX_DEPTH bounds our own
        raise ParseError(f"the expression nests too deeply to parse here (the limit is {MAX_DEPTH} levels)") from None


def evaluate(text: str, values: Mapping[str, Binding]) -> Value:
    """parse(text).evaluate(values).

    >>> evaluate("x * y + 1", {"x": 2.0, "y": 3.0}).data
    7.0
    """
    return parse(text).evaluate(values)


def parse_assignment(text: str) -> tuple[str, float]:
    """A "name=value" pair as (name, float); ParseError unless the name is a variable name
    (not a keyword or function) and the value a finite number in ASCII digits."""
    name, sep, number = text.partition("=")
    name_part, number, shown = name.strip(), number.strip(), printable(repr(number.strip()[: 2 * WINDOW]))
    if not sep:
        raise _error(text, f"expected name=value, got {printable(repr(text[:2 * WINDOW]))} (no '=')", 0, len(text))
    if not _NAME.fullmatch(name_part) or keyword.iskeyword(name_part) or keyword.issoftkeyword(name_part):
        raise _error(text, f"{printable(repr(name_part[:2 * WINDOW]))} is not a valid variable name", 0, len(name))
    if name_part in functions():
        raise _error(text, f"{name_part!r} is a function name and cannot be a variable", 0, len(name))
    try:
        if not number.isascii() or "_" in number:  # float() would read '٣' as 3 and '1_0' as 10
            raise ValueError(number)
        value = float(number)
    except ValueError:
        raise _error(text, f"{name_part}: {shown} is not a number", len(name) + 1, len(text)) from None
    if not math.isfinite(value):
        raise _error(text, f"{name_part}: the value must be a finite number, got {shown}", len(name) + 1, len(text))
    return name_part, value


def parse_assignments(pairs: Iterable[str]) -> dict[str, float]:
    """Several "name=value" pairs as a dict, in order; ParseError on a malformed or repeated name."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, value = parse_assignment(pair)
        if name in values:
            raise ParseError(f"{name} is given twice ({name}={values[name]!r} and {name}={value!r})")
        values[name] = value
    return values
