"""Hypothesis strategies and assertions for property-testing gradients (needs hypothesis).

`expressions()` draws random expression DAGs (shared subexpressions, every op of
the table, inputs kept in each op's `sample` domain) with a point to test them
at; `assert_grads_close` compares the engine's first (and second) derivatives
with finite differences and fails with `gradcheck`'s table. The README shows use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ModuleNotFoundError(
        "autograd_mini.testing needs hypothesis: pip install 'autograd-mini[testing]' (or pip install hypothesis)",
        name=missing.name,
    ) from None

from . import ops
from .checking import gradcheck
from .errors import AutogradMiniError
from .ops import OPS
from .value import Value, apply, no_grad, sum_of

# Every differentiable row of the built-in table (their guards come from each row's `sample`).
DEFAULT_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "neg", "pow", "pow_value", "sum", "dot",
    "exp", "log", "sqrt", "sin", "cos", "abs", "tanh", "sigmoid", "relu", "squared_error",
)
# Piecewise-constant rows: derivative 0 away from their jump, drawn only on request.
PIECEWISE_CONSTANT_OPS: tuple[str, ...] = ("step", "sign")
_KINKED = frozenset({"abs", "relu", "step", "sign"})
KINK_MARGIN = 1e-3
MAGNITUDE_LIMIT = 1e6
# A guard lo + (hi - lo) * sigmoid(a) with |a| beyond this is saturated: sigmoid's rule
# out * (1 - out) keeps only about eps * e^|a| of relative accuracy in 1 - out (1e-5 at
# |a| = 25), and finite differences of derivatives divide that rounding by their step
# (1e-6), so they measure noise, not the rule. At 12 the noise is eps * e^12 / 1e-6 ~ 2e-5,
# well inside gradcheck's rtol of 1e-3.
SATURATION_LIMIT = 12.0


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
        out, slots, kinks, _ = self._trace(xs)
        return out, slots, kinks

    def _trace(self, xs: Sequence[Any]) -> tuple[Value, list[Value], list[float], list[float]]:
        """`build`, plus the argument a of every guard's sigmoid(a)."""
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        slots = [x if isinstance(x, Value) else Value(x, label=f"x{i}") for i, x in enumerate(xs)]
        kinks: list[float] = []
        squashed: list[float] = []
        for step in self.steps:
            operands = [slots[a] for a in step.args]
            slots.append(_apply_step(step, operands, kinks, squashed))
        outs = [slots[i] for i in self.outputs]
        return (outs[0] if len(outs) == 1 else sum_of(outs)), slots, kinks, squashed

    def is_well_posed(self, xs: Sequence[float] | None = None) -> bool:
        """True if every op is defined at xs, away from kinks, every node is moderate in size
        and no guard's sigmoid is saturated."""
        try:
            with no_grad():
                _, slots, kinks, squashed = self._trace(self.inputs if xs is None else xs)
        except (AutogradMiniError, ArithmeticError):
            return False
        return (
            all(abs(k) >= KINK_MARGIN for k in kinks)
            and all(abs(s.data) <= MAGNITUDE_LIMIT for s in slots)
            and all(abs(a) <= SATURATION_LIMIT for a in squashed)
        )

    def __repr__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"Expression with inputs {', '.join(f'{n}={v!r}' for n, v in zip(names, self.inputs, strict=False))}:"]
        for k, step in enumerate(self.steps):
            slot = f"v{k}"
            names.append(slot)
            lines.append(f"  {slot} = {_describe_step(step, [names[a] for a in step.args])}")
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

    What the drawn programs contain:

    - every differentiable op of the table (`DEFAULT_OPS`), or the ops you name;
      `step` and `sign` (piecewise constant) only when named;
    - shared subexpressions: each op picks its operands among all earlier results,
      so `a * a`, diamonds (two ops reading one node) and reuse across levels occur;
    - the output is the sum of every result no later op consumed, so every op
      counts;
    - domain guards read from each row's `sample` (see `ops.Op`): an input whose
      sample is not `ops.REAL` is mapped into one interval [lo, hi] of it by
      lo + (hi - lo) * sigmoid(a), so every op stays where it is defined and well
      conditioned; a constant input of the op (`nondiff`, the exponent of `pow`)
      is drawn from its sample as a number;
    - drawn points where a kink (abs, relu, step, sign) is within 1e-3 of its
      argument, where some node exceeds 1e6 in size, or where a guard's sigmoid
      is saturated (its argument beyond +-12, see `SATURATION_LIMIT`), are rejected.

    A custom op you name (registered with `autograd_mini.extend.defop`) is guarded
    the same way if it was given a `sample`, otherwise applied to raw operands
    (variadic ops to 1 to 3 of them); points outside its `valid` domain are
    rejected. `sample_inputs(op)` draws input tuples straight from a row's sample.
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


def points(union: ops.Union_) -> st.SearchStrategy[float]:
    """Floats from a union of intervals (a single-point interval gives that point)."""
    def within(interval: ops.Interval) -> st.SearchStrategy[float]:
        lo, hi = interval
        return st.just(lo) if lo == hi else st.floats(lo, hi, allow_nan=False, allow_infinity=False)

    return st.sampled_from(union).flatmap(within)


def _variadic_count(name: str) -> st.SearchStrategy[int]:
    if name == "dot":  # (w_1..w_n, x_1..x_n)
        return st.integers(1, 5).map(lambda n: 2 * n)
    return st.integers(1, 7)


def sample_inputs(op: ops.Op | str) -> st.SearchStrategy[tuple[float, ...]]:
    """Input tuples drawn from the row's `sample`: where the op is defined and well conditioned."""
    row = OPS[op] if isinstance(op, str) else op
    if row.sample is None:
        raise ValueError(f"sample_inputs: op {row.name!r} has no sample domain")

    def box(case: tuple[ops.Union_, ...], n: int) -> st.SearchStrategy[tuple[float, ...]]:
        return st.tuples(*[points(case[min(i, len(case) - 1)]) for i in range(n)])

    counts = st.just(row.arity) if row.arity is not None else _variadic_count(row.name)
    return st.tuples(st.sampled_from(row.sample), counts).flatmap(lambda cn: box(*cn))


def _draw_arity(draw: Callable[..., Any], name: str) -> int:
    """How many graph operands the step reads (constants of the op are drawn as numbers instead)."""
    op = OPS[name]
    if op.arity is None:
        count: int = draw(_variadic_count(name) if op.sample is not None else st.integers(1, 3))
        return count
    return op.arity - len(op.nondiff)


def _draw_params(draw: Callable[..., Any], name: str) -> tuple[float, ...]:
    """(case, then per input: the interval index, or the constant's value for a `nondiff` input)."""
    op = OPS[name]
    if op.sample is None:
        return ()
    case_index = draw(st.integers(0, len(op.sample) - 1))
    case = op.sample[case_index]
    n = len(case) if op.arity is not None else 1
    chosen = [
        draw(points(case[i])) if i in op.nondiff else float(draw(st.integers(0, len(case[i]) - 1)))
        for i in range(n)
    ]
    return (float(case_index), *chosen)


def _guards(step: Step, n_operands: int) -> list[tuple[str, float, float]]:
    """Per operand of the op: ("raw", 0, 0), ("map", lo, hi) or ("constant", value, 0)."""
    op = OPS[step.op]
    if op.sample is None:
        return [("raw", 0.0, 0.0)] * n_operands
    case = op.sample[int(step.params[0])]
    chosen = step.params[1:]
    guards = []
    for i in range(n_operands):
        k = i if op.arity is not None else 0
        union = case[min(k, len(case) - 1)]
        if k in op.nondiff:
            guards.append(("constant", chosen[k], 0.0))
        elif union == ops.REAL:
            guards.append(("raw", 0.0, 0.0))
        else:
            lo, hi = union[int(chosen[k])]
            guards.append(("constant", lo, 0.0) if lo == hi else ("map", lo, hi))
    return guards


def _guarded(
    step: Step, slots: Sequence[Any], constant: Callable[[float], Any], mapped: Callable[..., Any]
) -> list[Any]:
    """The op's operands from the step's slots through its guards: `constant(value)`,
    `mapped(lo, hi, slot)` or the slot itself. Builds Values and the repr alike."""
    op = OPS[step.op]
    n = op.arity if op.arity is not None else len(slots)
    given = iter(slots)
    operands = []
    for kind, lo, hi in _guards(step, n):
        if kind == "constant":
            operands.append(constant(lo))
        elif kind == "map":
            operands.append(mapped(lo, hi, next(given)))
        else:
            operands.append(next(given))
    return operands


def _apply_step(step: Step, xs: list[Value], kinks: list[float], squashed: list[float]) -> Value:
    """Apply one step's op to its operands, through the guards of its sample.

    Appends the argument of each kinked op to `kinks`, and that of each guard's
    sigmoid to `squashed`."""

    def guard(lo: float, hi: float, x: Value) -> Value:
        squashed.append(x.data)
        return lo + (hi - lo) * x.sigmoid()

    operands = _guarded(step, xs, Value, guard)
    if step.op in _KINKED:
        kinks.append(operands[0].data)
    return apply(OPS[step.op], *operands)


def _describe_step(step: Step, args: list[str]) -> str:
    shown = _guarded(step, args, repr, lambda lo, hi, name: f"{lo} + {hi - lo:.6g}*sigmoid({name})")
    return f"{step.op}({', '.join(shown)})"


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
