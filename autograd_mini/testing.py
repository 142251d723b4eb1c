"""Hypothesis strategies and assertions for property-testing gradients (needs hypothesis).

`expressions()` draws a random expression DAG over a few inputs, together with
input values at which every op is defined and differentiable. An
`Expression` is a small program, not a fixed graph: calling it with any input
values rebuilds the graph, so finite differences can be taken around the drawn
point. `assert_grads_close` compares the engine's first (and second)
derivatives with finite differences and fails with `gradcheck`'s table.

Example (a test file of your own)::

    from hypothesis import given
    from autograd_mini.testing import assert_grads_close, expressions

    @given(expressions(max_leaves=3, max_ops=6))
    def test_engine_matches_finite_differences(expr):
        assert_grads_close(expr, expr.inputs, order=2)

    @given(expressions(ops=["mul", "softplus"]))   # a custom op of yours
    def test_my_op(expr):
        assert_grads_close(expr, expr.inputs)

What the drawn programs contain:

- every differentiable op of the table (`DEFAULT_OPS`), or the ops you name;
  `step` and `sign` (piecewise constant) only when named;
- shared subexpressions: each op picks its operands among all earlier results,
  so `a * a`, diamonds (two ops reading one node) and reuse across levels occur;
- the output is the sum of every result no later op consumed, so every op
  counts;
- domain guards that keep each op where it is defined and well conditioned:
  log, sqrt and the base of `pow_value` (and of `pow` with a negative or
  fractional exponent) get a*a + c with c >= 0.5; division is by b*b + c;
  exp and the exponent of `pow_value` get k * tanh(a), so they stay bounded;
- drawn points where a kink (abs, relu, step, sign) is within 1e-3 of its
  argument, or where some node exceeds 1e6 in size, are rejected.

A custom op you name (registered with `autograd_mini.extend.defop`) is applied
to raw operands (variadic ops to 1 to 3 of them); points outside its `valid`
domain are rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from .checking import gradcheck
from .errors import AutogradMiniError
from .ops import OPS
from .value import Value, apply, no_grad, sum_of

# Every differentiable row of the built-in table, with its guard below.
DEFAULT_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "neg", "pow", "pow_value", "sum", "dot",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "squared_error",
)
# Piecewise-constant rows: derivative 0 away from their jump, drawn only on request.
PIECEWISE_CONSTANT_OPS: tuple[str, ...] = ("step", "sign")
_KINKED = frozenset({"abs", "relu", "step", "sign"})
_POW_EXPONENTS = (2.0, 3.0, 1.0, -1.0, -2.0, 0.5, 1.5, -0.5)
KINK_MARGIN = 1e-3
MAGNITUDE_LIMIT = 1e6


class Step:
    """One op of a drawn program: `op` applied to earlier slots `args` with constants `params`."""

    __slots__ = ("op", "args", "params")

    def __init__(self, op: str, args: tuple[int, ...], params: tuple[float, ...]) -> None:
        self.op = op
        self.args = args
        self.params = params

    def __repr__(self) -> str:
        return f"Step({self.op!r}, {self.args!r}, {self.params!r})"


class Expression:
    """A drawn expression: a program over `n_inputs` inputs, and the drawn `inputs`.

    Slots 0..n_inputs-1 hold the inputs, slot n_inputs + k the result of step
    k. `expr(*xs)` rebuilds the graph for any input values (numbers or
    Values) and returns the output Value, so `expr` can be passed to `grad`,
    `gradcheck` or `assert_grads_close` directly.
    """

    def __init__(self, n_inputs: int, steps: Sequence[Step], inputs: Sequence[float]) -> None:
        self.n_inputs = n_inputs
        self.steps = tuple(steps)
        self.inputs = tuple(float(x) for x in inputs)
        consumed = {a for s in self.steps for a in s.args}
        first = n_inputs
        self.outputs = tuple(first + k for k in range(len(self.steps)) if first + k not in consumed)

    @property
    def ops(self) -> frozenset[str]:
        """The table ops the program applies (guards add add/mul/tanh nodes too)."""
        return frozenset(s.op for s in self.steps)

    def __call__(self, *xs: Any) -> Value:
        return self.build(xs)[0]

    def build(self, xs: Sequence[Any]) -> tuple[Value, list[Value], list[float]]:
        """(output, every slot, the arguments of every kink) for input values xs."""
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        slots = [x if isinstance(x, Value) else Value(x, label=f"x{i}") for i, x in enumerate(xs)]
        kinks: list[float] = []
        for step in self.steps:
            operands = [slots[a] for a in step.args]
            slots.append(_apply_step(step, operands, kinks))
        outs = [slots[i] for i in self.outputs]
        return (outs[0] if len(outs) == 1 else sum_of(outs)), slots, kinks

    def is_well_posed(self, xs: Sequence[float] | None = None) -> bool:
        """True if every op is defined at xs, away from kinks, and every node is moderate in size."""
        try:
            with no_grad():
                _, slots, kinks = self.build(self.inputs if xs is None else xs)
        except (AutogradMiniError, ArithmeticError):
            return False
        return all(abs(k) >= KINK_MARGIN for k in kinks) and all(abs(s.data) <= MAGNITUDE_LIMIT for s in slots)

    def __repr__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"Expression with inputs {', '.join(f'{n}={v!r}' for n, v in zip(names, self.inputs, strict=False))}:"]
        for k, step in enumerate(self.steps):
            slot = f"v{k}"
            names.append(slot)
            lines.append(f"  {slot} = {_describe(step, [names[a] for a in step.args])}")
        lines.append(f"  output = {' + '.join(names[i] for i in self.outputs)}")
        return "\n".join(lines)


def expressions(
    max_leaves: int = 3,
    max_ops: int = 6,
    ops: Sequence[str] | None = None,
    values: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[Expression]:
    """A hypothesis strategy for random expression DAGs with their input values.

    max_leaves:  at most this many inputs (at least 1).
    max_ops:     at most this many ops from `ops` (at least 1), not counting
                 the guard nodes that keep operands in each op's domain.
    ops:         names of table ops to draw from (default: `DEFAULT_OPS`,
                 every differentiable built-in op); custom ops allowed.
    values:      strategy for the input values (default: floats in [-2, 2]).

    Draws an `Expression`: call it with input values to build the graph;
    `.inputs` holds the drawn values, at which `is_well_posed()` holds.
    """
    if max_leaves < 1 or max_ops < 1:
        raise ValueError(f"expressions needs max_leaves >= 1 and max_ops >= 1, got {max_leaves} and {max_ops}")
    names = tuple(DEFAULT_OPS if ops is None else ops)
    if not names:
        raise ValueError("expressions: ops must name at least one op")
    for name in names:
        if name not in OPS:
            raise ValueError(f"expressions: {name!r} is not an op of the table")
    point = values if values is not None else st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    return _programs(max_leaves, max_ops, names, point).filter(lambda e: e.is_well_posed())


@st.composite
def _programs(
    draw: Callable[..., Any],
    max_leaves: int,
    max_ops: int,
    names: tuple[str, ...],
    point: st.SearchStrategy[float],
) -> Expression:
    n_inputs = draw(st.integers(1, max_leaves))
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, max_ops))):
        name = draw(st.sampled_from(names))
        n_slots = n_inputs + len(steps)
        # Half the time the newest slot: builds depth; otherwise any slot: builds reuse.
        slot = st.one_of(st.just(n_slots - 1), st.integers(0, n_slots - 1))
        args = tuple(draw(slot) for _ in range(_draw_arity(draw, name)))
        steps.append(Step(name, args, _draw_params(draw, name)))
    inputs = [draw(point) for _ in range(n_inputs)]
    return Expression(n_inputs, steps, inputs)


def _draw_arity(draw: Callable[..., Any], name: str) -> int:
    op = OPS[name]
    if name == "dot":
        return 2 * draw(st.integers(1, 3))
    if name == "pow":
        return 1  # the exponent is a drawn constant
    if op.arity is None:
        return draw(st.integers(1, 4 if name == "sum" else 3))
    return op.arity


def _draw_params(draw: Callable[..., Any], name: str) -> tuple[float, ...]:
    offset = st.sampled_from((0.5, 1.0, 2.0))
    if name in ("log", "sqrt", "div"):
        return (draw(offset),)
    if name == "pow":
        return (draw(st.sampled_from(_POW_EXPONENTS)), draw(offset))
    if name == "pow_value":
        return (draw(offset), draw(st.sampled_from((0.5, 1.0, 2.0))))
    if name == "exp":
        return (draw(st.sampled_from((0.5, 1.0, 3.0))),)
    return ()


def _apply_step(step: Step, xs: list[Value], kinks: list[float]) -> Value:
    """Apply one step's op to its operands, through its domain guard."""
    name, p = step.op, step.params
    if name in ("log", "sqrt"):
        return apply(OPS[name], xs[0] * xs[0] + p[0])
    if name == "div":
        return apply(OPS[name], xs[0], xs[1] * xs[1] + p[0])
    if name == "exp":
        return apply(OPS[name], p[0] * xs[0].tanh())
    if name == "pow":
        exponent, offset = p
        base = xs[0] if exponent.is_integer() and exponent > 0 else xs[0] * xs[0] + offset
        return apply(OPS[name], base, Value(exponent))
    if name == "pow_value":
        offset, scale = p
        return apply(OPS[name], xs[0] * xs[0] + offset, scale * xs[1].tanh())
    if name in _KINKED:
        kinks.append(xs[0].data)
    return apply(OPS[name], *xs)


def _describe(step: Step, args: list[str]) -> str:
    name, p = step.op, step.params
    if name in ("log", "sqrt"):
        return f"{name}({args[0]}*{args[0]} + {p[0]})"
    if name == "div":
        return f"{args[0]} / ({args[1]}*{args[1]} + {p[0]})"
    if name == "exp":
        return f"exp({p[0]} * tanh({args[0]}))"
    if name == "pow":
        exponent, offset = p
        if exponent.is_integer() and exponent > 0:
            return f"{args[0]} ** {exponent}"
        return f"({args[0]}*{args[0]} + {offset}) ** {exponent}"
    if name == "pow_value":
        return f"({args[0]}*{args[0]} + {p[0]}) ** ({p[1]} * tanh({args[1]}))"
    return f"{name}({', '.join(args)})"


def assert_grads_close(
    f: Callable[..., Any],
    inputs: Sequence[float],
    *,
    order: int = 1,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that f's engine derivatives at `inputs` match finite differences.

    f takes one Value per input and returns a scalar Value (an `Expression`
    qualifies). Checks first derivatives, and second ones with order=2.
    Raises `gradcheck.GradcheckError` (an AssertionError) with the table.
    """
    gradcheck(f, *inputs, eps=eps, atol=atol, rtol=rtol, order=order, raise_on_failure=True)
