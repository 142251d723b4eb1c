"""A small, safe expression language for the command line: text to a Value graph.

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := atom ("**" unary)?              (right-associative, as in Python)
    atom       := NUMBER | NAME | NAME "(" expression ("," expression)* ")" | "(" expression ")"

Precedence follows Python: -x**2 is -(x**2), 2**-1 is 0.5, 2**3**2 is 2**9.
Functions are those of `FUNCTIONS` (the table's unary ops and squared_error).

The text is never given to eval, exec or compile: a hand-written tokenizer and
recursive-descent parser turn it into a flat postfix program (a list of
instructions, like a recorded tape), and `Expression.evaluate` runs that program
on a stack, one Value op per instruction. Nothing recurses over the expression
except the parser, and its nesting depth is capped at `MAX_DEPTH`, so neither
long sums (a+b+...+z, a loop) nor deep nesting can exhaust the Python stack.

Numbers are floats from the first character on (the text "9" becomes 9.0, never
a Python int), so `9**9**9` is two `pow` ops on floats that raise
NumericOverflowError at once instead of computing a huge integer.

Every error is a `ParseError` whose message quotes the text with a caret under
the offending part; domain errors while evaluating (log(0), ...) keep their
type and get the same caret under the subexpression that failed.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .errors import AutogradMiniError, DomainError, NumericOverflowError
from .losses import squared_error
from .value import Value

MAX_DEPTH = 100
"""Deepest nesting of parentheses, calls, unary signs and powers the parser accepts."""

MAX_LENGTH = 100_000
"""Longest expression text accepted, in characters."""

FUNCTIONS: dict[str, tuple[int, Callable[..., Value]]] = {
    # name            arity  builds the node
    "exp":           (1, Value.exp),
    "log":           (1, Value.log),
    "sqrt":          (1, Value.sqrt),
    "abs":           (1, Value.abs),
    "tanh":          (1, Value.tanh),
    "sigmoid":       (1, Value.sigmoid),
    "relu":          (1, Value.relu),
    "squared_error": (2, squared_error),
}
"""The callable functions: name -> (number of arguments, how to build the node)."""

Binding = Value | int | float


class ParseError(AutogradMiniError, ValueError):
    """The text is not an expression of the language, or its variables are not bound right.

    The message quotes the text with a caret under the offending part.
    """


# --- positions ----------------------------------------------------------------------------------
def point_at(text: str, start: int, end: int | None = None) -> str:
    """The line of `text` holding `start`, with carets under text[start:end]."""
    end = start + 1 if end is None or end <= start else end
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end]
    column = start - line_start
    width = max(1, min(end, line_end) - start)
    if len(line) > 200:  # show a window around the offending part of a very long line
        left = max(0, column - 60)
        line = ("..." if left else "") + line[left : column + max(width, 1) + 60] + "..."
        column = column - left + (3 if left else 0)
        width = min(width, 120)
    return f"    {line}\n    {' ' * column}{'^' * width}"


def _error(text: str, message: str, start: int, end: int | None = None) -> ParseError:
    return ParseError(f"{message}\n{point_at(text, start, end)}")


# --- tokens ---------------------------------------------------------------------------------------
# ASCII digits only: str.isdigit() and a Unicode \d also accept '²' or '٣', which
# float() would then read as a number (or reject with a crash).
_DIGITS = "0123456789"
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_OPERATORS = ("**", "+", "-", "*", "/", "(", ")", ",")
_SPACE = " \t\r\n"

# Characters that are Python but not this language, with the reason.
_NOT_ALLOWED = {
    ".": "attribute access ('.') is not allowed",
    "[": "subscripts and lists ('[') are not allowed",
    "]": "subscripts and lists (']') are not allowed",
    "{": "sets and dicts ('{') are not allowed",
    "}": "sets and dicts ('}') are not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "=": "'=' is not allowed: no assignments, keyword arguments or comparisons (give values as name=value pairs)",
    "<": "comparisons are not allowed",
    ">": "comparisons are not allowed",
    "!": "comparisons are not allowed",
    ":": "':' is not allowed (no lambdas, slices or walrus)",
    "^": "'^' is not allowed: write powers as x ** n",
    "%": "'%' is not allowed: the operators are + - * / **",
    "@": "'@' is not allowed: the operators are + - * / **",
    "&": "'&' is not allowed: the operators are + - * / **",
    "|": "'|' is not allowed: the operators are + - * / **",
    "~": "'~' is not allowed: the operators are + - * / **",
    ";": "';' is not allowed: give one expression",
    "#": "comments ('#') are not allowed",
    "\\": "'\\' is not allowed",
}


@dataclass(frozen=True)
class Token:
    """One token: kind is "number", "name", an operator ("**", "+", ...), "end" or "error"."""

    kind: str
    text: str
    start: int
    end: int
    message: str = ""


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an "end" token.

    A character the language does not have becomes an "error" token (and ends
    the list), so the parser reports problems in left-to-right order.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
            continue
        starts_number = _is_digit(c) or (c == "." and _is_digit(text[i + 1 : i + 2]))
        token = _number(text, i) if starts_number else None
        if token is None:
            token = _name(text, i) or _operator(text, i) or _bad_character(text, i)
        tokens.append(token)
        if token.kind == "error":
            return tokens
        i = token.end
    tokens.append(Token("end", "", n, n))
    return tokens


def _is_digit(c: str) -> bool:
    return len(c) == 1 and c in _DIGITS


def _number(text: str, i: int) -> Token:
    match = _NUMBER.match(text, i)
    if match is None:  # tokenize only calls this at an ASCII digit or '.' and a digit
        return _bad_character(text, i)
    end = match.end()
    if end < len(text) and text[end].isnumeric():  # a digit outside 0-9, as in 3²
        return _bad_character(text, end)
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        stop = end + 1
        while stop < len(text) and (text[stop].isalnum() or text[stop] == "_"):
            stop += 1
        if text[end] in "jJ" and stop == end + 1:
            return Token("error", text[i:stop], i, stop, "complex numbers are not allowed")
        return Token("error", text[i:stop], i, stop, "not a number: write products with '*', as in 2*x")
    return Token("number", text[i:end], i, end)


def _name(text: str, i: int) -> Token | None:
    match = _NAME.match(text, i)
    if match is None:
        return None
    word = match.group()
    if keyword.iskeyword(word) or keyword.issoftkeyword(word):
        message = f"'{word}' is a Python keyword, not part of the expression language"
        return Token("error", word, i, match.end(), message)
    return Token("name", word, i, match.end())


def _operator(text: str, i: int) -> Token | None:
    if text.startswith("//", i):
        return Token("error", "//", i, i + 2, "'//' is not allowed: the operators are + - * / **")
    for op in _OPERATORS:
        if text.startswith(op, i):
            return Token(op, op, i, i + len(op))
    return None


def _bad_character(text: str, i: int) -> Token:
    c = text[i]
    message = _NOT_ALLOWED.get(c) or f"unexpected character {c!r}"
    if c.isnumeric():  # '²', '٣', '½': Python's float() would take some of them
        message += ": numbers are written with the digits 0-9 (and powers as x**2)"
    return Token("error", c, i, i + 1, message)


# --- the program ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    """One step of the postfix program.

    kind: "number" (arg: the float), "variable" (arg: the name), "neg", "+",
    "-", "*", "/", "**", or "call" (arg: the function name, nargs: its count).
    start/end: the part of the text the step computes, for error messages.
    """

    kind: str
    arg: float | str | None
    start: int
    end: int
    nargs: int = 0


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its postfix program and its variables.

    `variables` lists the names in order of first appearance.
    """

    source: str
    program: tuple[Instruction, ...]
    variables: tuple[str, ...]

    def leaves(self, values: Mapping[str, float]) -> dict[str, Value]:
        """One leaf Value per variable, labelled with its name, in `variables` order.

        Raises ParseError if a variable has no value or a value names no variable.
        """
        missing = [name for name in self.variables if name not in values]
        if missing:
            given = ", ".join(f"{name}=<number>" for name in missing)
            raise ParseError(f"no value for {_names(missing)}: give {given}\n{self._point_at_name(missing[0])}")
        unused = [name for name in values if name not in self.variables]
        if unused:
            uses = _names(self.variables) if self.variables else "no variables"
            raise ParseError(f"{_names(unused)} given but not used: the expression uses {uses}")
        return {name: Value(values[name], label=name) for name in self.variables}

    def evaluate(self, values: Mapping[str, Binding]) -> Value:
        """Run the program: a Value graph whose leaves are the variables' Values.

        `values` maps every variable to a Value (used as the leaf itself, so
        gradients can be read from it) or a number (wrapped in a leaf Value
        labelled with the variable's name). Extra names are ignored.
        A DomainError or NumericOverflowError from an op is re-raised with the
        failing subexpression marked.
        """
        leaves = {name: self._leaf(name, values) for name in self.variables}
        stack: list[tuple[Value, bool]] = []  # (value, whether it is free of variables)
        for step in self.program:
            try:
                stack.append(_run(step, stack, leaves))
            except (DomainError, NumericOverflowError) as exc:
                raise type(exc)(f"{exc}\n{point_at(self.source, step.start, step.end)}") from None
        assert len(stack) == 1, "a parsed program leaves exactly one value"
        return stack[0][0]

    def _leaf(self, name: str, values: Mapping[str, Binding]) -> Value:
        if name not in values:
            raise ParseError(f"no value for {name}: give {name}=<number>\n{self._point_at_name(name)}")
        given = values[name]
        return given if isinstance(given, Value) else Value(given, label=name)

    def _point_at_name(self, name: str) -> str:
        step = next(s for s in self.program if s.kind == "variable" and s.arg == name)
        return point_at(self.source, step.start, step.end)

    def __str__(self) -> str:
        return self.source


def _run(step: Instruction, stack: list[tuple[Value, bool]], leaves: dict[str, Value]) -> tuple[Value, bool]:
    """Execute one instruction, popping its operands from the stack; returns the result."""
    kind = step.kind
    if kind == "number":
        return Value(step.arg), True  # type: ignore[arg-type]
    if kind == "variable":
        return leaves[str(step.arg)], False
    if kind == "neg":
        x, constant = stack.pop()
        return -x, constant
    if kind == "call":
        args = stack[len(stack) - step.nargs :]
        del stack[len(stack) - step.nargs :]
        build = FUNCTIONS[str(step.arg)][1]
        return build(*(a for a, _ in args)), all(c for _, c in args)
    (y, y_constant), (x, x_constant) = stack.pop(), stack.pop()
    if kind == "+":
        return x + y, x_constant and y_constant
    if kind == "-":
        return x - y, x_constant and y_constant
    if kind == "*":
        return x * y, x_constant and y_constant
    if kind == "/":
        return x / y, x_constant and y_constant
    # x ** n with n free of variables is the `pow` op with a number exponent
    # (any base, n not differentiated); with variables it is `pow_value`.
    return (x ** y.data if y_constant else x**y), x_constant and y_constant


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


# --- the parser -----------------------------------------------------------------------------------
class _Parser:
    """Recursive descent over the grammar in the module docstring, emitting postfix steps."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.depth = 0
        self.program: list[Instruction] = []

    # Each parse_* method emits its subexpression's steps and returns its (start, end).
    def parse(self) -> Expression:
        first = self.peek()
        if first.kind == "end":
            raise _error(self.text, "empty expression: give something like 'x * y + 1'", first.start)
        self.parse_expression()
        last = self.peek()
        if last.kind != "end":
            raise self.unexpected(last, "expected an operator (+ - * / **) or the end of the expression")
        variables = dict.fromkeys(str(s.arg) for s in self.program if s.kind == "variable")
        return Expression(self.text, tuple(self.program), tuple(variables))

    def parse_expression(self) -> tuple[int, int]:
        start, end = self.parse_term()
        while self.peek().kind in ("+", "-"):
            op = self.take()
            _, end = self.parse_term()
            self.emit(op.kind, None, start, end)
        return start, end

    def parse_term(self) -> tuple[int, int]:
        start, end = self.parse_unary()
        while self.peek().kind in ("*", "/"):
            op = self.take()
            _, end = self.parse_unary()
            self.emit(op.kind, None, start, end)
        return start, end

    def parse_unary(self) -> tuple[int, int]:
        token = self.peek()
        if token.kind not in ("+", "-"):
            return self.parse_power()
        self.take()
        with self.nested(token):
            _, end = self.parse_unary()
        if token.kind == "-":
            last = self.program[-1]
            if self._is_literal_after(token, last):
                # A signed literal such as -2 is one constant leaf, not neg(2).
                self.program[-1] = Instruction("number", -float(last.arg), token.start, end)  # type: ignore[arg-type]
            else:
                self.emit("neg", None, token.start, end)
        return token.start, end

    def _is_literal_after(self, sign: Token, last: Instruction) -> bool:
        """Whether the operand just parsed after `sign` is a bare number literal."""
        return last.kind == "number" and self.text[sign.end : last.start].strip() == ""

    def parse_power(self) -> tuple[int, int]:
        start, end = self.parse_atom()
        token = self.peek()
        if token.kind == "**":
            self.take()
            with self.nested(token):
                _, end = self.parse_unary()
            self.emit("**", None, start, end)
        return start, end

    def parse_atom(self) -> tuple[int, int]:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)  # a float from the start: never a big Python int
            if not math.isfinite(value):
                message = f"the number {token.text[:40]} is too large for a float64"
                raise _error(self.text, message, token.start, token.end)
            self.emit("number", value, token.start, token.end)
            return token.start, token.end
        if token.kind == "name":
            if self.peek().kind == "(":
                return self.parse_call(token)
            if token.text in FUNCTIONS:
                message = f"{token.text} is a function: call it as {token.text}(...)"
                raise _error(self.text, message, token.start, token.end)
            self.emit("variable", token.text, token.start, token.end)
            return token.start, token.end
        if token.kind == "(":
            with self.nested(token):
                self.parse_expression()
            close = self.expect(")", token)
            return token.start, close.end
        raise self.unexpected(token, "expected a number, a variable, a function call or '('")

    def parse_call(self, name: Token) -> tuple[int, int]:
        if name.text not in FUNCTIONS:
            known = ", ".join(FUNCTIONS)
            raise _error(self.text, f"unknown function '{name.text}': the functions are {known}", name.start, name.end)
        opening = self.take()
        nargs = 0
        with self.nested(opening):
            if self.peek().kind == ")":
                raise self.unexpected(self.peek(), f"{name.text}() needs an argument")
            self.parse_expression()
            nargs = 1
            while self.peek().kind == ",":
                self.take()
                self.parse_expression()
                nargs += 1
        close = self.expect(")", opening)
        arity = FUNCTIONS[name.text][0]
        if nargs != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise _error(self.text, f"{name.text} takes {arity} {plural}, got {nargs}", name.start, close.end)
        self.emit("call", name.text, name.start, close.end, nargs)
        return name.start, close.end

    # --- helpers ------------------------------------------------------------------------------------
    def peek(self) -> Token:
        token = self.tokens[min(self.position, len(self.tokens) - 1)]
        if token.kind == "error":
            raise _error(self.text, token.message, token.start, token.end)
        return token

    def take(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, kind: str, opening: Token) -> Token:
        token = self.peek()
        if token.kind != kind:
            if token.kind == "end":
                raise _error(self.text, f"'{opening.text}' is never closed", opening.start, opening.end)
            raise self.unexpected(token, f"expected '{kind}' or an operator")
        return self.take()

    def unexpected(self, token: Token, hint: str) -> ParseError:
        found = "end of the expression" if token.kind == "end" else repr(token.text)
        return _error(self.text, f"unexpected {found}: {hint}", token.start, token.end)

    def emit(self, kind: str, arg: float | str | None, start: int, end: int, nargs: int = 0) -> None:
        self.program.append(Instruction(kind, arg, start, end, nargs))

    def nested(self, token: Token) -> _Nesting:
        return _Nesting(self, token)


class _Nesting:
    """Counts one level of nesting for the parser; too deep is a ParseError, not a crash."""

    def __init__(self, parser: _Parser, token: Token) -> None:
        self.parser = parser
        self.token = token

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            message = f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, signs, powers)"
            raise _error(self.parser.text, message, self.token.start, self.token.end)

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1


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
    the value a finite number.
    """
    name, sep, number = text.partition("=")
    name_part = name.strip()
    if not sep:
        raise _error(text, f"expected name=value, got {text!r} (no '=')", 0, len(text))
    if not _NAME.fullmatch(name_part) or keyword.iskeyword(name_part) or keyword.issoftkeyword(name_part):
        raise _error(text, f"{name_part!r} is not a valid variable name", 0, len(name))
    if name_part in FUNCTIONS:
        raise _error(text, f"{name_part!r} is a function name and cannot be a variable", 0, len(name))
    start = len(name) + 1
    if not number.isascii() or "_" in number:  # float() would read '٣' as 3 and '1_0' as 10
        raise _error(text, f"{name_part}: {number.strip()!r} is not a number", start, len(text))
    try:
        value = float(number.strip())
    except ValueError:
        raise _error(text, f"{name_part}: {number.strip()!r} is not a number", start, len(text)) from None
    if not math.isfinite(value):
        raise _error(text, f"{name_part}: the value must be a finite number, got {number.strip()!r}", start, len(text))
    return name_part, value


def parse_assignments(pairs: Iterable[str]) -> dict[str, float]:
    """Several "name=value" pairs as a dict, in order; ParseError on a malformed or repeated name."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, value = parse_assignment(pair)
        if name in values:
            raise ParseError(f"{name} is given twice ({name}={values[name]!r} and {pair.strip()})")
        values[name] = value
    return values
