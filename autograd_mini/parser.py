"""A small, safe expression language for the command line: text to a Value graph.

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+")* power
    power      := atom ("**" unary)?             (right-associative, as in Python)
    atom       := NUMBER | NAME | NAME "(" expression ("," expression)* ")" | "(" expression ")"

Precedence follows Python: -x**2 is -(x**2), 2**-1 is 0.5, 2**3**2 is 2**9.
The functions are the rows of the derivative table (`ops.OPS`) that no operator
stands for (see `functions`), so a row added to the table is callable here too.

The text is never given to eval, exec or compile. A regular-expression
tokenizer and a precedence-climbing parser emit a flat postfix program (a list
of instructions, like a recorded tape) that `Expression.evaluate` runs on a
stack, one table op per instruction. Sums and products are loops, and the
parser recurses only into nesting (parentheses, calls, signs, powers), which
is capped at `MAX_DEPTH`: neither a 20,000-term sum nor 10,000 parentheses can
exhaust the Python stack.

Numbers are floats from the first character on ("9" becomes 9.0, never a
Python int), so `9**9**9` overflows float64 at once instead of computing a huge
integer. Every error is a `ParseError` quoting the text with a caret under the
offending part; domain errors while evaluating keep their type and get the same
caret under the subexpression that failed.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from . import ops
from .errors import AutogradMiniError, DomainError, NumericOverflowError
from .value import Value, apply

MAX_DEPTH = 100
"""Deepest nesting of parentheses, calls, unary signs and powers the parser accepts."""

MAX_LENGTH = 100_000
"""Longest expression text accepted, in characters."""

OPERATORS = ("+", "-", "*", "/", "**")
"""The grammar's operators; table rows drawn with one of these symbols are not functions."""

Binding = Value | int | float


class ParseError(AutogradMiniError, ValueError):
    """The text is not an expression of the language, or its variables are not bound right.

    The message quotes the text with a caret under the offending part.
    """


def functions() -> dict[str, ops.Op]:
    """The callable functions, name -> table row: every row of fixed arity that no operator stands for.

    Read from `ops.OPS` at each call, so rows added to the table (sin, cos, a
    `defop`) are functions of the language without any change here.
    """
    return {name: op for name, op in ops.OPS.items() if op.arity is not None and op.symbol not in OPERATORS}


# --- positions ----------------------------------------------------------------------------------
WINDOW = 60
"""Characters shown on each side of the offending part of a long line."""


def point_at(text: str, start: int, end: int | None = None) -> str:
    """The line of `text` holding `start`, with carets under text[start:end].

    A long line (or a long offending part) is clamped to a window around it, and
    control characters are shown escaped, so a message stays short and printable.
    """
    end = start + 1 if end is None or end <= start else end
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end == -1 else line_end
    width = max(1, min(end, line_end) - start)
    left = max(line_start, start - WINDOW)
    right = min(line_end, start + min(width, 2 * WINDOW) + WINDOW)
    width = min(width, 2 * WINDOW)
    before = ("..." if left > line_start else "") + printable(text[left:start])
    shown = printable(text[start : start + width])
    after = printable(text[start + width : right]) + ("..." if right < line_end else "")
    caret = max(1, len(shown))
    return f"    {before}{shown}{after}\n    {' ' * len(before)}{'^' * caret}"


def printable(text: str) -> str:
    """`text` with control and other non-printable characters escaped (\\x1b, \\t, ...)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _error(text: str, message: str, start: int, end: int | None = None) -> ParseError:
    return ParseError(f"{message}\n{point_at(text, start, end)}")


# --- tokens ---------------------------------------------------------------------------------------
# ASCII digits only: str.isdigit() and a Unicode \d also accept '²' or '٣'.
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/(),])"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
# Python that is not this language, with the reason.
_NOT_ALLOWED = {
    ".": "attribute access ('.') is not allowed", ":": "':' is not allowed (no lambdas, slices or walrus)",
    **dict.fromkeys("[]", "subscripts and lists are not allowed"),
    **dict.fromkeys("{}", "sets and dicts are not allowed"),
    **dict.fromkeys("'\"", "strings are not allowed"), **dict.fromkeys("<>!", "comparisons are not allowed"),
    "=": "'=' is not allowed: no assignments, keyword arguments or comparisons (give values as name=value pairs)",
    "^": "'^' is not allowed: write powers as x ** n", ";": "';' is not allowed: give one expression",
    "#": "comments ('#') are not allowed", "\\": "'\\' is not allowed",
    **{c: f"'{c}' is not allowed: the operators are + - * / **" for c in ("//", "%", "@", "&", "|", "~")},
}


@dataclass(frozen=True)
class Token:
    """One token: kind is "number", "name", an operator ("**", "+", ...) or "end"."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of `text`, ending with an "end" token.

    Lazy, so the parser reports problems in left-to-right order: the ParseError
    for a character outside the language is raised when the parser reaches it.
    """
    i = 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None or text.startswith("//", i):
            raise _bad_character(text, i)
        kind = match.lastgroup or ""
        if kind == "number":
            _check_number_end(text, i, match.end())
        elif kind == "name" and (keyword.iskeyword(match[0]) or keyword.issoftkeyword(match[0])):
            message = f"'{match[0]}' is a Python keyword, not part of the expression language"
            raise _error(text, message, i, match.end())
        if kind != "space":
            yield Token(match[0] if kind == "op" else kind, match[0], i, match.end())
        i = match.end()
    yield Token("end", "", len(text), len(text))


def _check_number_end(text: str, start: int, end: int) -> None:
    """A number must not run into a letter, '_', '.' or a non-ASCII digit (2x, 1j, 1.2.3, 3²)."""
    if end == len(text) or not (text[end].isalnum() or text[end] in "_."):
        return
    if text[end].isnumeric():
        raise _bad_character(text, end)
    name = _NAME.match(text, end)
    stop = name.end() if name else end + 1
    if text[end] in "jJ" and stop == end + 1:
        raise _error(text, "complex numbers are not allowed", start, stop)
    raise _error(text, "not a number: write products with '*', as in 2*x", start, stop)


def _bad_character(text: str, i: int) -> ParseError:
    two = text[i : i + 2]
    c = two if two == "//" else text[i]
    message = _NOT_ALLOWED.get(c) or f"unexpected character {printable(repr(c))}"
    if c.isnumeric():  # '²', '٣', '½': Python's float() would take some of them
        message += ": numbers are written with the digits 0-9 (and powers as x**2)"
    return _error(text, message, i, i + len(c))


# --- the program ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    """One step of the postfix program.

    kind: "number" (arg: the float), "variable" (arg: the name), "neg", "+", "-",
    "*", "/", "**" (arg: "number" for an exponent free of variables), or "call"
    (arg: the function name, nargs: its count).
    start/end: the part of the text the step computes, for error messages.
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
        """One leaf Value per variable, labelled with its name, in `variables` order.

        Raises ParseError if a variable has no value or a value names no variable.
        """
        self._require(values)
        unused = [name for name in values if name not in self.variables]
        if unused:
            uses = ", ".join(self.variables) or "no variables"
            raise ParseError(f"{', '.join(unused)} given but not used: the expression uses {uses}")
        return {name: Value(values[name], label=name) for name in self.variables}

    def evaluate(self, values: Mapping[str, Binding]) -> Value:
        """Run the program: a Value graph whose leaves are the variables' Values.

        `values` maps every variable to a Value (used as the leaf itself, so
        gradients can be read from it) or a number (wrapped in a leaf labelled
        with the variable's name). Extra names are ignored. A DomainError or
        NumericOverflowError from an op is re-raised with the failing
        subexpression marked.
        """
        return self.evaluate_with_spans(values)[0]

    def evaluate_with_spans(self, values: Mapping[str, Binding]) -> tuple[Value, dict[Value, tuple[int, int]]]:
        """`evaluate`, and the (start, end) of the text each node of the graph computes."""
        self._require(values)
        leaves = {name: v if isinstance(v := values[name], Value) else Value(v, label=name) for name in self.variables}
        stack: list[Value] = []
        spans: dict[Value, tuple[int, int]] = {}
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
        """The source with carets under source[start:end], for messages about that part."""
        return point_at(self.source, start, end)

    def _require(self, values: Mapping[str, object]) -> None:
        """ParseError naming the variables without a value, with a caret under the first one's use."""
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
    if step.kind == "**":
        # An exponent free of variables (arg "number") is the `pow` op's constant
        # exponent: any base, not differentiated; otherwise it is `pow_value`.
        return x ** y.data if step.arg == "number" else x**y
    return {"+": x.__add__, "-": x.__sub__, "*": x.__mul__, "/": x.__truediv__}[step.kind](y)


# --- the parser -----------------------------------------------------------------------------------
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}  # left-associative levels; ** and signs live in `unary`


class _Parser:
    """Precedence climbing over the tokens, emitting postfix steps; each parse method returns its span."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.stream = tokenize(text)
        self.current: Token | None = None  # the one token of lookahead
        self.depth = 0
        self.program: list[Instruction] = []
        self.functions = functions()

    def parse(self) -> Expression:
        if self.peek().kind == "end":
            raise _error(self.text, "empty expression: give something like 'x * y + 1'", self.peek().start)
        self.expression()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek(), "expected an operator (+ - * / **) or the end of the expression")
        variables = dict.fromkeys(str(s.arg) for s in self.program if s.kind == "variable")
        return Expression(self.text, tuple(self.program), tuple(variables))

    def expression(self, level: int = 1) -> tuple[int, int]:
        """Operands joined by operators of precedence >= level; a loop per level, left-associative."""
        start, end = self.unary()
        while _PRECEDENCE.get(self.peek().kind, 0) >= level:
            op = self.take()
            _, end = self.expression(_PRECEDENCE[op.kind] + 1)
            self.emit(op.kind, None, start, end)
        return start, end

    def unary(self) -> tuple[int, int]:
        """Signs (a loop), then atom ("**" unary)?; a sign directly before a number folds into it."""
        signs = []
        while self.peek().kind in ("+", "-"):
            signs.append(self.take())
            self.enter(signs[-1])
        start, end = self.atom()
        if self.peek().kind == "**":
            self.enter(self.take())
            mark = len(self.program)
            _, end = self.unary()
            self.depth -= 1
            constant = all(step.kind != "variable" for step in self.program[mark:])
            self.emit("**", "number" if constant else None, start, end)
        for sign in reversed(signs):
            self.depth -= 1
            last = self.program[-1]
            if sign.kind == "+":
                continue
            if last.kind == "number" and not self.text[sign.end : last.start].strip():
                self.program[-1] = Instruction("number", -float(last.arg), sign.start, end)  # type: ignore[arg-type]
            else:
                self.emit("neg", None, sign.start, end)
        return (signs[0].start if signs else start), end

    def atom(self) -> tuple[int, int]:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)  # a float from the start: never a big Python int
            if not math.isfinite(value):
                raise _error(self.text, f"the number {token.text[:40]} is too large for a float64",
                             token.start, token.end)
            self.emit("number", value, token.start, token.end)
            return token.start, token.end
        if token.kind == "name" and self.peek().kind == "(":
            return self.call(token)
        if token.kind == "name":
            if token.text in self.functions:
                raise _error(self.text, f"{token.text} is a function: call it as {token.text}(...)",
                             token.start, token.end)
            self.emit("variable", token.text, token.start, token.end)
            return token.start, token.end
        if token.kind == "(":
            self.enter(token)
            self.expression()
            close = self.expect(")", token)
            self.depth -= 1
            return token.start, close.end
        raise self.unexpected(token, "expected a number, a variable, a function call or '('")

    def call(self, name: Token) -> tuple[int, int]:
        op = self.functions.get(name.text)
        if op is None:
            known = ", ".join(self.functions)
            raise _error(self.text, f"unknown function '{name.text}': the functions are {known}", name.start, name.end)
        opening = self.take()
        self.enter(opening)
        if self.peek().kind == ")":
            raise self.unexpected(self.peek(), f"{name.text}() needs an argument")
        self.expression()
        nargs = 1
        while self.peek().kind == ",":
            self.take()
            self.expression()
            nargs += 1
        close = self.expect(")", opening)
        self.depth -= 1
        if nargs != op.arity:
            plural = "argument" if op.arity == 1 else "arguments"
            raise _error(self.text, f"{name.text} takes {op.arity} {plural}, got {nargs}", name.start, close.end)
        self.emit("call", name.text, name.start, close.end, nargs)
        return name.start, close.end

    # --- helpers ------------------------------------------------------------------------------------
    def peek(self) -> Token:
        if self.current is None:
            self.current = next(self.stream)
        return self.current

    def take(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.current = None
        return token

    def enter(self, token: Token) -> None:
        """One more level of nesting at `token`; too deep is a ParseError, not a crash."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, signs, powers)"
            raise _error(self.text, message, token.start, token.end)

    def expect(self, kind: str, opening: Token) -> Token:
        token = self.peek()
        if token.kind == "end":
            raise _error(self.text, f"'{opening.text}' is never closed", opening.start, opening.end)
        if token.kind != kind:
            raise self.unexpected(token, f"expected '{kind}' or an operator")
        return self.take()

    def unexpected(self, token: Token, hint: str) -> ParseError:
        found = "end of the expression" if token.kind == "end" else repr(token.text)
        return _error(self.text, f"unexpected {found}: {hint}", token.start, token.end)

    def emit(self, kind: str, arg: float | str | None, start: int, end: int, nargs: int = 0) -> None:
        self.program.append(Instruction(kind, arg, start, end, nargs))


# --- public entry points --------------------------------------------------------------------------
def parse(text: str) -> Expression:
    """Parse `text` into an Expression, or raise ParseError pointing at the problem.

    >>> e = parse("sigmoid(x * y) + x ** 2")
    >>> e.variables
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
    """parse(text).evaluate(values): the expression's Value graph.

    >>> evaluate("x * y + 1", {"x": 2.0, "y": 3.0}).data
    7.0
    """
    return parse(text).evaluate(values)


def parse_assignment(text: str) -> tuple[str, float]:
    """A "name=value" pair as (name, value); ParseError if malformed.

    The name must be an identifier that is not a keyword or a function name;
    the value a finite number written with ASCII digits.
    """
    name, sep, number = text.partition("=")
    name_part, number = name.strip(), number.strip()
    if not sep:
        raise _error(text, f"expected name=value, got {printable(repr(text[:2 * WINDOW]))} (no '=')", 0, len(text))
    if not _NAME.fullmatch(name_part) or keyword.iskeyword(name_part) or keyword.issoftkeyword(name_part):
        raise _error(text, f"{printable(repr(name_part[:2 * WINDOW]))} is not a valid variable name", 0, len(name))
    if name_part in functions():
        raise _error(text, f"{name_part!r} is a function name and cannot be a variable", 0, len(name))
    start, shown = len(name) + 1, printable(repr(number[:2 * WINDOW]))
    try:
        if not number.isascii() or "_" in number:  # float() would read '٣' as 3 and '1_0' as 10
            raise ValueError(number)
        value = float(number)
    except ValueError:
        raise _error(text, f"{name_part}: {shown} is not a number", start, len(text)) from None
    if not math.isfinite(value):
        raise _error(text, f"{name_part}: the value must be a finite number, got {shown}", start, len(text))
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
