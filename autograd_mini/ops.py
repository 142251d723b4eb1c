"""The derivative table: every op of the engine is one row of `OPS`.

A row gives the op's forward and its vector-Jacobian rule
`vjp(g, out, *inputs)`, which returns one gradient per input: the upstream
gradient g times the local derivative d out / d input (None for an input that
is not differentiable). Backward adds these into the inputs' gradients, which is
the chain rule (1.5) applied at every node and summed over consumers as in (1.8).

Both are written with ordinary arithmetic and the functions of `primitives`, so
the same row runs on floats (eager backward), on Values (gradients of
gradients) and on numpy arrays (the compiled tape). No derivative math lives
anywhere else: the engine, `explain`, `draw` and the tape all read these rows.
Custom ops join the same table through `register` (see `autograd_mini.extend`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .errors import OpRegistrationError
from .primitives import absolute, exp, log, power, relu, sigmoid, sign, sqrt, step, tanh


class Op:
    """One row of the table.

    name:     how graphs, errors and `explain` call the op.
    arity:    number of inputs, or None for a variadic op.
    forward:  forward(*inputs) -> output.
    vjp:      vjp(g, out, *inputs) -> one gradient (or None) per input.
    domain:   where the op is defined, in words, for error messages.
    valid:    optional predicate on the inputs, for domains the forward would
              not reject by itself; written to work on floats and arrays.
    nondiff:  positions of inputs that are constants of the op (the number
              exponent of `pow`): their rule entry is None and rules see them
              as plain numbers even when differentiating twice.
    symbol:   short form for graph labels, e.g. "*".
    """

    __slots__ = ("name", "arity", "forward", "vjp", "domain", "valid", "nondiff", "symbol")

    def __init__(
        self,
        name: str,
        arity: int | None,
        forward: Callable[..., Any],
        vjp: Callable[..., tuple[Any, ...]],
        *,
        domain: str = "every real number",
        valid: Callable[..., Any] | None = None,
        nondiff: tuple[int, ...] = (),
        symbol: str | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.vjp = vjp
        self.domain = domain
        self.valid = valid
        self.nondiff = nondiff
        self.symbol = symbol or name

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity})"


OPS: dict[str, Op] = {}


def register(op: Op, *, replace: bool = False) -> Op:
    """Add `op` to the table; refuses to overwrite a row unless `replace`."""
    if not isinstance(op.name, str) or not op.name.isidentifier():
        raise OpRegistrationError(f"op name must be an identifier, got {op.name!r}")
    if op.name in OPS and not replace:
        raise OpRegistrationError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    return op


def _row(name: str, arity: int | None, forward: Callable[..., Any], vjp: Callable[..., Any], **kw: Any) -> Op:
    return register(Op(name, arity, forward, vjp, **kw))


# --- arithmetic -----------------------------------------------------------------
def _dot_forward(*xs: Any) -> Any:
    """sum_k a_k * b_k for xs = (a_1..a_n, b_1..b_n)."""
    n = len(xs) // 2
    return sum(map(operator.mul, xs[:n], xs[n:]))


def _dot_vjp(g: Any, out: Any, *xs: Any) -> list[Any]:
    """d/da_k = b_k and d/db_k = a_k, each times g."""
    n = len(xs) // 2
    return [g * b for b in xs[n:]] + [g * a for a in xs[:n]]


# name              arity  forward                          vjp(g, out, *inputs)
ADD = _row("add",     2,   lambda x, y: x + y,              lambda g, out, x, y: (g, g), symbol="+")
SUB = _row("sub",     2,   lambda x, y: x - y,              lambda g, out, x, y: (g, -g), symbol="-")
MUL = _row("mul",     2,   lambda x, y: x * y,              lambda g, out, x, y: (g * y, g * x), symbol="*")
DIV = _row("div",     2,   lambda x, y: x / y,              lambda g, out, x, y: (g / y, -g * out / y),
           domain="a nonzero denominator", symbol="/")
NEG = _row("neg",     1,   lambda x: -x,                    lambda g, out, x: (-g,), symbol="-")
# x ** n for a number n: n is a constant of the op, not a variable (input 1).
# d/dx = n x^(n-1); for n = 0 the exponent is nudged to 0 by (n == 0), so that
# d/dx x**0 = 0 * x**0 = 0 even at x = 0, instead of evaluating 0 ** -1.
POW = _row("pow",     2,   power,
           lambda g, out, x, n: (g * n * power(x, n - 1 + (n == 0)), None),
           domain="a real result: no negative base with a fractional exponent, no 0 ** negative",
           nondiff=(1,), symbol="**")
# x ** y for a Value y: d/dy = out * log(x) exists only for x > 0.
POW_VALUE = _row("pow_value", 2, power,
                 lambda g, out, x, y: (g * y * power(x, y - 1), g * out * log(x)),
                 domain="a positive base (d/dy x**y = x**y log x); use a number exponent for other bases",
                 valid=lambda x, y: x > 0, symbol="**")

# --- n-ary: the weighted sum net_j = sum_k w_kj O_k of (1.1) as one node ------------
SUM = _row("sum",     None, lambda *xs: sum(xs),            lambda g, out, *xs: (g,) * len(xs), symbol="sum")
DOT = _row("dot",     None, _dot_forward,                   _dot_vjp, symbol="dot")
# The two rows in batched form, for the tape. dot: k dot rows (one per neuron j) that share
# their inputs x, as out = w @ x; (1.5) summed over a batch is dE/dw = g @ x.T, and dE/dx =
# w.T @ g sums over the neurons as (1.8) says (w: (k, n), x: (n, batch), g: (k, batch)).
# sum: its n operands stacked as x (n, batch); every one gets g.
BATCHED: dict[str, tuple[Callable[..., Any], Callable[..., tuple[Any, ...]]]] = {
    "dot": (lambda w, x: w @ x, lambda g, out, w, x: (g @ x.T, w.T @ g)),
    "sum": (lambda x: x.sum(axis=0), lambda g, out, x: (g + 0.0 * x,)),
}

# --- elementary functions --------------------------------------------------------
EXP = _row("exp",     1,   exp,                             lambda g, out, x: (g * out,),
           domain="x <= 709.78 (beyond it e**x overflows float64)")
LOG = _row("log",     1,   log,                             lambda g, out, x: (g / x,), domain="x > 0")
SQRT = _row("sqrt",   1,   sqrt,                            lambda g, out, x: (g / (2.0 * out),), domain="x >= 0")
ABS = _row("abs",     1,   absolute,                        lambda g, out, x: (g * sign(x),))
TANH = _row("tanh",   1,   tanh,                            lambda g, out, x: (g * (1.0 - out * out),))
# (1.3): d sigmoid / dz = sigmoid(z) (1 - sigmoid(z)), written with the output.
SIGMOID = _row("sigmoid", 1, sigmoid,                       lambda g, out, x: (g * out * (1.0 - out),))
RELU = _row("relu",   1,   relu,                            lambda g, out, x: (g * step(x),))
# Piecewise-constant helpers: derivative 0 almost everywhere, so not differentiable.
STEP = _row("step",   1,   step,                            lambda g, out, x: (None,))
SIGN = _row("sign",   1,   sign,                            lambda g, out, x: (None,))

# --- losses ----------------------------------------------------------------------
# (1.4): E = 1/2 (t - y)^2; (1.6): dE/dy = y - t.
SQUARED_ERROR = _row("squared_error", 2, lambda y, t: 0.5 * (t - y) * (t - y),
                     lambda g, out, y, t: (g * (y - t), g * (t - y)), symbol="½(t-y)²")
