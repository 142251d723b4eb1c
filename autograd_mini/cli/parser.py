"""The command line's expression language: text to a postfix program, never eval.

A lazy tokenizer feeds a precedence-climbing parser (the grammar is above `_Parser`)
that emits the flat program a `ParsedExpression` runs; `parse_assignments` reads the
name=value pairs. Errors quote the text with a caret under the culprit.
"""

from __future__ import annotations

import difflib
import itertools
import keyword
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from .. import ops
from ..value import Value
from .expression import Binding, ParsedExpression, ParseError, Span, Step
from .quoting import printable, quote

MAX_DEPTH = 100
"""Deepest nesting of parentheses, calls, unary signs and powers the parser accepts."""
MAX_LENGTH = 100_000
"""Longest expression text accepted, in characters."""


def functions() -> dict[str, ops.Op]:
    """The callable functions, name -> table row: `ops.UNARY_FUNCTIONS` and the loss (1.4)."""
    return {name: ops.OPS[name] for name in (*ops.UNARY_FUNCTIONS, "squared_error")}


# --- tokens ---------------------------------------------------------------------------------------
# re.ASCII: a Unicode \d would accept '²' or '٣'. `glued` catches letters stuck to a number (2x, 1j).
_TOKEN = re.compile(r"[ \t\r\n]*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?P<glued>[\w.]*)"
                    r"|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*|[-+*(),]|/(?!/))|(?P<other>//|[^ \t\r\n]))", re.ASCII)
_KEYWORDS = frozenset([*keyword.kwlist, *keyword.softkwlist])
_NOT_ALLOWED = {  # Python that is not this language; other ASCII symbols are "not an operator"
    ".": "attribute access ('.') is not allowed", **dict.fromkeys("[]", "subscripts and lists are not allowed"),
    **dict.fromkeys("{}", "sets and dicts are not allowed"), **dict.fromkeys("'\"", "strings are not allowed"),
    **dict.fromkeys("<>!", "comparisons are not allowed"), ";": "';' is not allowed: give one expression",
    "=": "'=' is not allowed: no assignments, keyword arguments or comparisons (give values as name=value pairs)",
    "^": "'^' is not allowed: write powers as x ** n", "#": "comments ('#') are not allowed",
}


class Token(NamedTuple):
    """One token: kind is "number", "name", the operator itself ("**", "(", ...) or "end"."""

    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> Iterator[Token]:
    """The tokens of `text`, then "end" forever; lazy, so errors come left to right as the parser reads."""
    end = 0
    while match := _TOKEN.match(text, end):
        kind = "number" if match["number"] else str(match.lastgroup)
        start, end = match.start(kind), match.end()
        word = text[start:end]
        if match["glued"]:
            if match["glued"] in ("j", "J"):
                raise ParseError.at(text, "complex numbers are not allowed", start, end)
            raise ParseError.at(text, "not a number: write products with '*', as in 2*x", start, end)
        if kind == "other":
            raise ParseError.at(text, _not_allowed(word), start, end)
        if kind == "name" and word in _KEYWORDS:
            raise ParseError.at(text, f"'{word}' is a Python keyword, not part of the expression language", start, end)
        yield Token(word if kind == "op" else kind, word, start, end)
    yield from itertools.repeat(Token("end", "", len(text), len(text)))


def _not_allowed(c: str) -> str:
    """Why the character c (or '//') is not part of the language."""
    if c in _NOT_ALLOWED:
        return _NOT_ALLOWED[c]
    if c.isascii() and c.isprintable():
        return f"'{c}' is not allowed: the operators are + - * / **"
    digits = ": numbers are written with the digits 0-9 (and powers as x**2)" if c.isnumeric() else ""
    return f"unexpected character {printable(repr(c))}{digits}"


def is_variable_name(word: str) -> bool:
    """Whether `word` is a NAME of the language that is neither a Python keyword nor a function."""
    return word.isascii() and word.isidentifier() and word not in _KEYWORDS and word not in functions()


# --- the parser -----------------------------------------------------------------------------------
_FACTOR = 3
"""The level of a `factor` (a sign's operand, the right side of **): above * /, below **."""
_BINARY = {"+": (1, 2), "-": (1, 2), "*": (2, _FACTOR), "/": (2, _FACTOR), "**": (4, _FACTOR)}
"""operator -> (its precedence, the level its right operand is parsed at): a right level above the
operator's own makes it left-associative (+ - * /), below makes it right-associative (**)."""


# The grammar, in precedence order (as Python's: -x**2 is -(x**2), 2**3**2 is 2**9, 2**-1 is 0.5):
#     sum     := product (("+" | "-") product)*
#     product := factor (("*" | "/") factor)*
#     factor  := ("+" | "-") factor | power
#     power   := atom ("**" factor)?
#     atom    := NUMBER | NAME | NAME "(" sum ("," sum)* ")" | "(" sum ")"
# The functions are the rows in `ops.UNARY_FUNCTIONS` and `squared_error` (1.4): a new row is
# callable with no change here. Numbers are floats from the start (`9**9**9` overflows at once).
class _Parser:
    """Precedence climbing with one token of lookahead; each method emits postfix steps, returns its span.

    A sum is a loop; only nesting recurses, capped at MAX_DEPTH, so a 20,000-term sum and
    10,000 parentheses are both safe.
    """

    def __init__(self, text: str) -> None:
        self.text, self.tokens = text, _tokens(text)
        self.current: Token | None = None
        self.program: list[Step] = []
        self.functions = functions()

    def expression(self, depth: int, level: int = 1) -> Span:
        """Operands joined by operators of precedence >= level. `depth` counts the enclosing
        parentheses, calls, signs and powers: only they recurse, so a long sum is a loop."""
        if depth > MAX_DEPTH:
            message = f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, signs, powers)"
            raise ParseError.at(self.text, message, *self.peek()[2:])
        start, end = self.signed(sign, depth) if (sign := self.accept("+", "-")) else self.atom(depth)
        while _BINARY.get(self.peek().kind, (0,))[0] >= level:
            op, mark = self.take(), len(self.program)
            end = self.expression(depth + 1 if op.kind == "**" else depth, _BINARY[op.kind][1])[1]
            constant = op.kind == "**" and all(step.kind != "variable" for step in self.program[mark:])
            self.emit("**n" if constant else op.kind, None, start, end, 2)
        return start, end

    def signed(self, sign: Token, depth: int) -> Span:
        """The operand of a sign; a "-" right before a number literal folds into it."""
        end = self.expression(depth + 1, _FACTOR)[1]
        last = self.program[-1]
        if sign.kind == "-" and last.kind == "number" and not self.text[sign.end : last.start].strip():
            assert isinstance(last.arg, float)  # atom() emits numbers as floats
            self.program[-1] = Step("number", -last.arg, sign.start, end)
        elif sign.kind == "-":
            self.emit("neg", None, sign.start, end, 1)
        return sign.start, end

    def atom(self, depth: int) -> Span:
        token = self.take()
        if token.kind == "number":
            if not math.isfinite(value := float(token.text)):  # a float from the start, never a big int
                raise ParseError.at(self.text, f"the number {token.text[:40]} is too large for a float64", *token[2:])
            self.emit("number", value, *token[2:])
        elif token.kind == "name" and self.peek().kind == "(":
            return self.call(token, depth)
        elif token.kind == "name":
            if token.text in self.functions:
                raise ParseError.at(self.text, f"{token.text} is a function: call it as {token.text}(...)", *token[2:])
            self.emit("variable", token.text, *token[2:])
        elif token.kind == "(":
            self.expression(depth + 1)
            return token.start, self.close(token)
        else:
            raise self.unexpected("expected a number, a variable, a function call or '('", token)
        return token.start, token.end

    def call(self, name: Token, depth: int) -> Span:
        if (op := self.functions.get(name.text)) is None:
            raise ParseError.at(self.text, _unknown_function(name.text, list(self.functions)), *name[2:])
        opening = self.take()
        if self.peek().kind == ")":
            raise self.unexpected(f"{name.text}() needs an argument")
        self.expression(depth + 1)
        nargs = 1
        while self.accept(","):
            self.expression(depth + 1)
            nargs += 1
        end = self.close(opening)
        if nargs != op.arity:
            plural = "argument" if op.arity == 1 else "arguments"
            raise ParseError.at(self.text, f"{name.text} takes {op.arity} {plural}, got {nargs}", name.start, end)
        self.emit("call", name.text, name.start, end, nargs)
        return name.start, end

    def close(self, opening: Token) -> int:
        """Take the ')' matching `opening`; returns its end."""
        if self.peek().kind == "end":
            raise ParseError.at(self.text, f"'{opening.text}' is never closed", *opening[2:])
        if not (closing := self.accept(")")):
            raise self.unexpected("expected ')' or an operator")
        return closing.end

    def peek(self) -> Token:
        if self.current is None:
            self.current = next(self.tokens)
        return self.current

    def take(self) -> Token:
        token, self.current = self.peek(), None
        return token

    def accept(self, *kinds: str) -> Token | None:
        """Take the next token if it is of one of these kinds."""
        return self.take() if self.peek().kind in kinds else None

    def unexpected(self, hint: str, token: Token | None = None) -> ParseError:
        token = token or self.peek()
        found = "end of the expression" if token.kind == "end" else repr(token.text)
        return ParseError.at(self.text, f"unexpected {found}: {hint}", *token[2:])

    def emit(self, kind: str, arg: float | str | None, start: int, end: int, nargs: int = 0) -> None:
        self.program.append(Step(kind, arg, start, end, nargs))


def _unknown_function(name: str, known: list[str]) -> str:
    """The error for a call of `name`, which is no function: a close one suggested, then the list."""
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    suggestion = f"did you mean {close[0]}? " if close else ""
    return f"unknown function {quote(name)}: {suggestion}the functions are {', '.join(known)}"


# --- entry points ---------------------------------------------------------------------------------
def parse(text: str) -> ParsedExpression:
    """Parse `text` into a ParsedExpression, or raise ParseError pointing at the problem.

    >>> parse("sigmoid(x * y) + x ** 2").variables
    ('x', 'y')
    """
    if not isinstance(text, str):
        raise TypeError(f"parse needs a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    parser = _Parser(text)
    if parser.peek().kind == "end":
        raise ParseError.at(text, "empty expression: give something like 'x * y + 1'", parser.peek().start)
    try:
        parser.expression(0)
    except RecursionError:  # only if called from an already deep stack: MAX_DEPTH bounds our own
        raise ParseError(f"the expression nests too deeply to parse here (the limit is {MAX_DEPTH} levels)") from None
    if parser.peek().kind != "end":
        raise parser.unexpected("expected an operator (+ - * / **) or the end of the expression")
    variables = dict.fromkeys(str(step.arg) for step in parser.program if step.kind == "variable")
    return ParsedExpression(text, tuple(parser.program), tuple(variables))


def evaluate(text: str, values: Mapping[str, Binding]) -> Value:
    """parse(text).evaluate(values).

    >>> evaluate("x * y + 1", {"x": 2.0, "y": 3.0}).data
    7.0
    """
    return parse(text).evaluate(values)


def parse_assignment(text: str) -> tuple[str, float]:
    """A "name=value" pair as (name, float); ParseError unless the name is a variable name
    (not a keyword or function) and the value a finite number in ASCII digits."""
    left, sep, right = text.partition("=")
    name, number, at = left.strip(), right.strip(), len(left) + 1
    if not sep:
        raise ParseError.at(text, f"expected name=value, got {quote(text)} (no '=')", 0, len(text))
    if name in functions():
        raise ParseError.at(text, f"{name!r} is a function name and cannot be a variable", 0, len(left))
    if not is_variable_name(name):
        raise ParseError.at(text, f"{quote(name)} is not a valid variable name", 0, len(left))
    try:
        if not number.isascii() or "_" in number:  # float() would read '٣' as 3 and '1_0' as 10
            raise ValueError(number)
        value = float(number)
    except ValueError:
        raise ParseError.at(text, f"{name}: {quote(number)} is not a number", at, len(text)) from None
    if not math.isfinite(value):
        raise ParseError.at(text, f"{name}: the value must be a finite number, got {quote(number)}", at, len(text))
    return name, value


def parse_assignments(pairs: Iterable[str]) -> dict[str, float]:
    """Several "name=value" pairs as a dict, in order; ParseError on a malformed or repeated name."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, value = parse_assignment(pair)
        if name in values:
            raise ParseError(f"{name} is given twice ({name}={values[name]!r} and {name}={value!r})")
        values[name] = value
    return values
