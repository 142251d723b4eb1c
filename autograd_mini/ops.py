"""The derivative table: every op of the engine is one row of `OPS`.

A row gives the op's forward and its rule `vjp(g, out, *inputs)`: g times each
local derivative d out / d input (None where not differentiable), the factors of
(1.5) that backward sums over consumers as (1.8). Written with ordinary arithmetic
and `primitives`, one row runs on floats, on Values (gradients of gradients) and on
numpy arrays (the tape); no derivative math lives anywhere else. `sample` says where
tests draw inputs; custom ops join through `register` (see `extend`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .errors import OpRegistrationError
from .primitives import absolute, cos, exp, log, power, relu, sigmoid, sign, sin, sqrt, step, tanh

Interval = tuple[float, float]
Union_ = tuple[Interval, ...]
"""A union of closed intervals [lo, hi]; lo == hi is the single point lo."""
Sample = tuple[tuple[Union_, ...], ...]
"""Cases of boxes: each case gives one union per input (variadic ops: one union for every input)."""


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
    sample:   where tests draw inputs: the op is defined and well conditioned
              (finite differences agree with the rule) on every point of it.
              A tuple of cases; a case is one union of intervals per input.
              `REAL` marks an input that takes any real (drawn from [-10, 10]).
              None (custom ops by default): nothing is known.
    """

    __slots__ = ("name", "arity", "forward", "vjp", "domain", "valid", "nondiff", "symbol", "sample")

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
        sample: Sample | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.vjp = vjp
        self.domain = domain
        self.valid = valid
        self.nondiff = nondiff
        self.symbol = symbol or name
        self.sample = sample

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


def _row(
    name: str,
    arity: int | None,
    forward: Callable[..., Any],
    vjp: Callable[..., Any],
    sample: Sample,
    symbol: str | None = None,
    **details: Any,
) -> Op:
    return register(Op(name, arity, forward, vjp, sample=sample, symbol=symbol, **details))


def _on(*unions: Union_) -> Sample:
    """A sample of one case: one union of intervals per input."""
    return (unions,)


# --- sampling domains ---------------------------------------------------------------
REAL: Union_ = ((-10.0, 10.0),)                      # any real; tests draw from [-10, 10]
NONZERO: Union_ = ((-5.0, -0.2), (0.2, 5.0))         # away from a pole at 0, moderate powers
OFF_KINK: Union_ = ((-10.0, -1e-3), (1e-3, 10.0))    # away from the kink (or jump) at 0
POSITIVE: Union_ = ((0.1, 10.0),)                    # log, sqrt: away from 0 where they blow up
INTEGERS: Union_ = tuple((float(k), float(k)) for k in range(-3, 5))  # the points -3, ..., 4
FRACTIONS: Union_ = ((-2.5, 2.5),)                   # exponents of a positive base
# sin, cos: about a turn either side. Defined for every real, but badly conditioned far out:
# at x ~ 1e7 one ulp of x moves sin(x) by ~1e-9 relative, beyond any 1e-12 comparison.
ANGLES: Union_ = ((-7.0, 7.0),)
# x ** n: any nonzero base with an integer n, or a positive base with a fractional n.
POW_SAMPLE: Sample = _on(NONZERO, INTEGERS) + _on(POSITIVE, FRACTIONS)
POW_VALUE_SAMPLE: Sample = _on(((0.1, 5.0),), ((-3.0, 3.0),))


# --- hard rules, each beside its row ---------------------------------------------------
def pow_vjp(g: Any, out: Any, x: Any, n: Any) -> tuple[Any, None]:
    """d/dx x**n = n x**(n-1), for a number exponent n (a constant: no gradient).

    For n = 0 the exponent is nudged to 0 by (n == 0), so that d/dx x**0 =
    0 * x**0 = 0 even at x = 0, instead of evaluating 0 ** -1.
    """
    return (g * n * power(x, n - 1 + (n == 0)), None)


def pow_value_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """x ** y for a Value y: d/dx = y x**(y-1), d/dy = out log x (exists for x > 0 only)."""
    return (g * y * power(x, y - 1), g * out * log(x))


def dot_forward(*xs: Any) -> Any:
    """net_j = sum_k w_kj O_k of (1.1), for xs = (w_1..w_n, O_1..O_n)."""
    n = len(xs) // 2
    return sum(map(operator.mul, xs[:n], xs[n:]))


def sum_forward(*xs: Any) -> Any:
    """The sum of net_j in (1.1), for the sum_of node."""
    return sum(xs)


def squared_error_forward(y: Any, t: Any) -> Any:
    """E = 1/2 (t - y)^2 of (1.4)."""
    return 0.5 * (t - y) * (t - y)


def squared_error_vjp(g: Any, out: Any, y: Any, t: Any) -> tuple[Any, Any]:
    """dE/dy = y - t of (1.6), and dE/dt = t - y."""
    return (g * (y - t), g * (t - y))


def dot_vjp(g: Any, out: Any, *xs: Any) -> list[Any]:
    """d net / d w_k = O_k, as in (1.5); d net / d O_k = w_k, as in (1.8); each times g."""
    n = len(xs) // 2
    return [g * b for b in xs[n:]] + [g * a for a in xs[:n]]


# One row per line where it fits: name, arity, forward, vjp(g, out, *inputs), sample, symbol; equation last.
ADD = _row("add", 2,         operator.add,     lambda g, out, x, y: (g, g),                _on(REAL, REAL), "+")
SUB = _row("sub", 2,         operator.sub,     lambda g, out, x, y: (g, -g),               _on(REAL, REAL), "-")
MUL = _row("mul", 2,         operator.mul,     lambda g, out, x, y: (g * y, g * x),        _on(REAL, REAL), "*")
DIV = _row("div", 2,         operator.truediv, lambda g, out, x, y: (g / y, -g * out / y), _on(REAL, NONZERO), "/",
           domain="a nonzero denominator")
NEG = _row("neg", 1,         operator.neg,     lambda g, out, x: (-g,),                    _on(REAL), "-")
POW = _row("pow", 2,         power,            pow_vjp,                                    POW_SAMPLE, "**",
           nondiff=(1,), domain="a real result: no negative base with a fractional exponent, no 0 ** negative")
POW_VALUE = _row("pow_value", 2, power,        pow_value_vjp,                              POW_VALUE_SAMPLE, "**",
                 valid=lambda x, y: x > 0,
                 domain="a positive base x when y is a Value (d/dy x**y = x**y log x); "
                        "use a number exponent for other bases")
SUM = _row("sum", None,      sum_forward,      lambda g, out, *xs: (g,) * len(xs),         _on(REAL))  # (1.1)
DOT = _row("dot", None,      dot_forward,      dot_vjp,                                    _on(REAL))  # (1.1), (1.5)
# The two n-ary rows in batched form, for the tape. dot: k dot rows (one per neuron j) that
# share their inputs x, as out = w @ x; (1.5) summed over a batch is dE/dw = g @ x.T, and
# dE/dx = w.T @ g sums over the neurons as (1.8) says (w: (k, n), x: (n, batch), g: (k, batch)).
# sum: its n operands stacked as x (n, batch); every one gets g.
BATCHED: dict[str, tuple[Callable[..., Any], Callable[..., tuple[Any, ...]]]] = {
    "dot": (lambda w, x: w @ x, lambda g, out, w, x: (g @ x.T, w.T @ g)),
    "sum": (lambda x: x.sum(axis=0), lambda g, out, x: (g + 0.0 * x,)),
}
EXP = _row("exp", 1,         exp,              lambda g, out, x: (g * out,),               _on(((-5.0, 5.0),)),
           domain="x <= 709.78 (beyond it e**x overflows float64)")
LOG = _row("log", 1,         log,              lambda g, out, x: (g / x,),                 _on(POSITIVE),
           domain="x > 0")
SQRT = _row("sqrt", 1,       sqrt,             lambda g, out, x: (g / (2.0 * out),),       _on(POSITIVE),
            domain="x >= 0")
SIN = _row("sin", 1,         sin,              lambda g, out, x: (g * cos(x),),            _on(ANGLES))
COS = _row("cos", 1,         cos,              lambda g, out, x: (-g * sin(x),),           _on(ANGLES))
ABS = _row("abs", 1,         absolute,         lambda g, out, x: (g * sign(x),),           _on(OFF_KINK))
TANH = _row("tanh", 1,       tanh,             lambda g, out, x: (g * (1.0 - out * out),), _on(REAL))
SIGMOID = _row("sigmoid", 1, sigmoid,          lambda g, out, x: (g * out * (1.0 - out),), _on(REAL))  # (1.2) (1.3)
RELU = _row("relu", 1,       relu,             lambda g, out, x: (g * step(x),),           _on(OFF_KINK))
# Piecewise-constant helpers (the derivatives of relu and abs): derivative 0 almost everywhere, so None.
STEP = _row("step", 1,       step,             lambda g, out, x: (None,),                  _on(OFF_KINK))
SIGN = _row("sign", 1,       sign,             lambda g, out, x: (None,),                  _on(OFF_KINK))
SQUARED_ERROR = _row("squared_error", 2, squared_error_forward, squared_error_vjp, _on(REAL, REAL), "½(t-y)²")  # (1.4)

UNARY_FUNCTIONS: tuple[str, ...] = ("exp", "log", "sqrt", "sin", "cos", "abs", "tanh", "sigmoid", "relu")
"""The rows that are elementary functions of one argument: Value gets a method of each name,
and the expression parser (CLI) offers each as a function."""
