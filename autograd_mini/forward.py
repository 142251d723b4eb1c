"""Forward mode from the same table: `jvp`, and Jacobians both ways (`jacfwd`, `jacrev`).

A tangent t = d node / d input rides beside each value: t_out = sum_i (d out / d
input_i) t_i, the chain rule (1.5) forwards, each local derivative read from the
row's rule as `vjp(1.0, out, *inputs)` (no second table). With numbers the results
are floats; with Values (or inside `grad`) they carry graphs, so jvp and grad compose.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .engine import backward_order, gradients
from .errors import AutogradMiniError, DomainError, NumericOverflowError, describe_call, format_number
from .functional import evaluating
from .graph import Roots, reverse_topological_order
from .ops import ADD
from .value import Value, apply, enable_grad

_INF = math.inf


@dataclass(frozen=True)
class Recording:
    """f evaluated once on Values: its input nodes, output nodes and how to give results back.

    inputs:    one node per primal, the nodes tangents are seeded at.
    outputs:   f's results as Values (numbers lifted to constants).
    shape:     "scalar", "tuple" or "list": what f returned.
    as_values: Value mode (results are Values) or number mode (floats).
    order:     the interior nodes the outputs depend on above the inputs, inputs before consumers.
    """

    inputs: list[Value]
    outputs: list[Value]
    shape: str
    as_values: bool
    order: list[Value]

    def pack(self, items: list[Any]) -> Any:
        """One item per output, in the form f returned (a scalar, a tuple or a list)."""
        if self.shape == "scalar":
            return items[0]
        return tuple(items) if self.shape == "tuple" else items

    def value(self, i: int) -> Any:
        """Output i as a float (number mode) or as its Value (Value mode)."""
        return self.outputs[i] if self.as_values else self.outputs[i].data


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(*primals), the directional derivative of f at primals along tangents).

    f takes numbers (or Values) and returns a number, a Value, or a tuple or
    list of them; the tangent has the same form. One forward-mode pass: the
    cost of f plus one rule call per node that depends on the primals, as
    torch.func.jvp and jax.jvp. Raises TypeError for primals or tangents that
    are not numbers, DomainError or NumericOverflowError naming the op where a
    local derivative or a tangent is undefined or overflows.
    """
    primals, tangents = _check_call(primals, tangents, "jvp")
    with evaluating() as nested, enable_grad():
        as_values = nested or any(isinstance(a, Value) for a in (*primals, *tangents))
        rec = record(f, primals, as_values, "jvp")
        out_tangents, _ = push_tangents(rec, tangents)
    return rec.pack([rec.value(i) for i in range(len(rec.outputs))]), rec.pack(out_tangents)


def jacfwd(f: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """The function computing f's Jacobian by forward mode: one tangent pass per input.

    `jacfwd(f)(*args)` returns J with J[i][j] = d out_i / d args[j], m rows for
    f's m outputs (a scalar result is one row) and n columns for its n
    arguments. f is evaluated once; each column is one jvp with the tangent
    e_j over the recorded graph. Cheap when n is small (see `jacobian_cost`).
    """

    def jacfwd_f(*args: Any) -> list[list[Any]]:
        return _jacobians(f, args, "jacfwd", forward=True, reverse=False)[0]

    jacfwd_f.__name__ = jacfwd_f.__qualname__ = f"jacfwd_of_{getattr(f, '__name__', 'f')}"
    return jacfwd_f


def jacrev(f: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """The function computing f's Jacobian by reverse mode: one backward pass per output.

    Same result as `jacfwd` (J[i][j] = d out_i / d args[j]); row i is the
    gradient of output i (`engine.gradients`). Cheap when m is small: a loss
    (m = 1) over n weights takes one pass, which is why training uses backprop.
    """

    def jacrev_f(*args: Any) -> list[list[Any]]:
        return _jacobians(f, args, "jacrev", forward=False, reverse=True)[1]

    jacrev_f.__name__ = jacrev_f.__qualname__ = f"jacrev_of_{getattr(f, '__name__', 'f')}"
    return jacrev_f


@dataclass(frozen=True)
class JacobianCost:
    """What each way of building one Jacobian took, for f with n inputs and m outputs.

    recorded_ops:   nodes the one evaluation of f recorded (both ways share it).
    forward_passes: rule calls of each jvp pass (n passes, one per input).
    reverse_passes: rule calls of each backward pass (m passes, one per output).
    """

    n_inputs: int
    n_outputs: int
    recorded_ops: int
    forward_passes: tuple[int, ...]
    reverse_passes: tuple[int, ...]

    @property
    def forward_ops(self) -> int:
        """Rule calls of jacfwd, all passes together."""
        return sum(self.forward_passes)

    @property
    def reverse_ops(self) -> int:
        """Rule calls of jacrev, all passes together."""
        return sum(self.reverse_passes)

    def __str__(self) -> str:
        def passes(n: int, direction: str) -> str:
            return f"{n} {direction} pass{'es' if n != 1 else ''}"

        return (
            f"f: {self.n_inputs} inputs -> {self.n_outputs} outputs, {self.recorded_ops} ops recorded\n"
            f"jacfwd: {passes(len(self.forward_passes), 'forward')}, {self.forward_ops} rule calls\n"
            f"jacrev: {passes(len(self.reverse_passes), 'reverse')}, {self.reverse_ops} rule calls"
        )


def jacobian_cost(f: Callable[..., Any], args: Sequence[Any]) -> JacobianCost:
    """How many passes and rule calls `jacfwd(f)(*args)` and `jacrev(f)(*args)` take.

    Both Jacobians are computed (and checked equal to 1e-9 relative, else
    AssertionError); the counts are measured on the passes that built them.
    """
    (fwd, rev, cost) = _jacobians(f, tuple(args), "jacobian_cost", forward=True, reverse=True)
    for row_f, row_r in zip(fwd, rev, strict=True):
        for a, b in zip(row_f, row_r, strict=True):
            assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12), (a, b)
    return cost


# --- the machinery ----------------------------------------------------------------------------
def record(f: Callable[..., Any], primals: Sequence[Any], as_values: bool, caller: str) -> Recording:
    """Evaluate f on input nodes made from the primals and list what a tangent pass visits.

    Value mode: each input node is an identity node `a + 0.0` of a Value
    primal (as `grad` does), so tangents start there and outer derivatives
    still reach a.
    """
    inputs = [_identity(a) if as_values and isinstance(a, Value) else Value(_number(a)) for a in primals]
    out = f(*inputs)
    shape = "tuple" if isinstance(out, tuple) else "list" if isinstance(out, list) else "scalar"
    items = [out] if shape == "scalar" else list(out)
    outputs = []
    for k, item in enumerate(items):
        if isinstance(item, Value):
            outputs.append(item)
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            outputs.append(Value(float(item), requires_grad=False))  # a constant: tangent 0
        else:
            name = getattr(f, "__name__", repr(f))
            where = "" if shape == "scalar" else f" item {k} of its {shape}:"
            raise TypeError(
                f"{caller}: {name} must return a number or Value, or a tuple or list of them;"
                f"{where} got {type(item).__name__}"
            )
    if not outputs:
        raise ValueError(f"{caller}: {getattr(f, '__name__', 'f')} returned an empty {shape}")
    return Recording(inputs, outputs, shape, as_values, _order_above(outputs, inputs))


def _identity(a: Value) -> Value:
    """a + 0.0 as a node of its own (written with `apply`: mypy does not see Value's attached operators)."""
    return apply(ADD, a, Value(0.0, requires_grad=False))


def push_tangents(rec: Recording, tangents: Sequence[Any]) -> tuple[list[Any], int]:
    """One forward-mode pass: (the tangent of each output, the number of rule calls it made).

    Visits `rec.order` inputs first; a node's tangent is sum_i local_i t_i over
    its inputs that carry a tangent, local_i = vjp(1.0, out, *inputs)[i] from
    its row. A node none of whose inputs carries a (nonzero) tangent runs no
    rule, so, as in backward, a kink or pole the tangent does not reach cannot
    raise. Value mode runs the rules on Values, as create_graph does.
    """
    tangent, calls = node_tangents(rec, tangents)
    zero: Any = Value(0.0, requires_grad=False) if rec.as_values else 0.0
    return [_tangent_of(tangent.get(out, zero), rec.as_values) for out in rec.outputs], calls


def node_tangents(rec: Recording, tangents: Sequence[Any]) -> tuple[dict[Value, Any], int]:
    """`push_tangents`' pass, returning every node's tangent: {node: d node / d(direction)}.

    Nodes the tangent does not reach are absent (their tangent is 0). Writes
    nothing to any Value, so a view can show the forward pass node by node.
    """
    tangent: dict[Value, Any] = {}
    for node, t in zip(rec.inputs, tangents, strict=True):
        if isinstance(t, Value) or t != 0.0:  # a zero seed carries nothing: no rule runs for it
            tangent[node] = tangent.get(node, 0.0) + (t if rec.as_values else float(t))
    calls = _push_values(rec.order, tangent) if rec.as_values else _push_floats(rec.order, tangent)
    return tangent, calls


def _push_values(order: list[Value], tangent: dict[Value, Any]) -> int:
    """The pass on Values: every product and sum is recorded, so the tangents can be differentiated."""
    calls = 0
    for node in order:
        carried = [tangent.get(x) for x in node.inputs]
        if carried.count(None) == len(carried):
            continue
        local = _local_derivatives(node, as_values=True)
        calls += 1
        total: Any = None
        for d, t in zip(local, carried, strict=True):
            if d is not None and t is not None:
                total = d * t if total is None else total + d * t
        if total is not None:
            tangent[node] = total
    return calls


def _push_floats(order: list[Value], tangent: dict[Value, Any]) -> int:
    """The pass on floats, `_push_values`'s fast path: unpacked by arity, as backward is.

    Each tangent is checked finite before it is kept; a rule that raises is
    reported as `_local_derivatives` reports it, naming the op and its operands.
    """
    get = tangent.get
    calls = 0
    node: Value | None = None
    try:
        for node in order:
            inputs = node.inputs
            vjp = node.op.vjp  # type: ignore[union-attr]  # every node of `order` has inputs, so an op
            if len(inputs) == 1:
                (a,) = inputs
                t = get(a)
                if t is None:
                    continue
                (d,) = vjp(1.0, node.data, a.data)
                total = 0.0 if d is None else d * t
            elif len(inputs) == 2:
                a, b = inputs
                ta, tb = get(a), get(b)
                if ta is None and tb is None:
                    continue
                da, db = vjp(1.0, node.data, a.data, b.data)
                total = 0.0
                if ta is not None and da is not None:
                    total = da * ta
                if tb is not None and db is not None:
                    total += db * tb
            else:
                carried = [get(x) for x in inputs]
                if carried.count(None) == len(carried):
                    continue
                total = 0.0
                for d, t in zip(vjp(1.0, node.data, *[x.data for x in inputs]), carried, strict=True):
                    if d is not None and t is not None:
                        total += d * t
            calls += 1
            if total != 0.0:
                if not -_INF < total < _INF:
                    raise _tangent_error(node, total)
                tangent[node] = total
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, AutogradMiniError) or node is None:
            raise
        _local_derivatives(node, as_values=False)  # raises the typed error naming the op
        raise
    return calls


def _tangent_of(t: Any, as_values: bool) -> Any:
    """A tangent as results carry it: a float in number mode, a Value in Value mode."""
    if as_values:
        return t if isinstance(t, Value) else Value(float(t), requires_grad=False)
    return float(t)


def _local_derivatives(node: Value, as_values: bool) -> tuple[Any, ...]:
    """d node / d input_i for each input: the row's rule with g = 1 (None where not differentiable).

    On floats, or on the input Values themselves in Value mode (inputs the op
    declares `nondiff` are passed as floats, as the engine's create_graph pass does).
    """
    op = node.op
    assert op is not None
    datas = [x.data for x in node.inputs]
    try:
        if as_values:
            operands = [x.data if i in op.nondiff else x for i, x in enumerate(node.inputs)]
            return tuple(op.vjp(1.0, node, *operands))
        return tuple(op.vjp(1.0, node.data, *datas))
    except AutogradMiniError:
        raise
    except OverflowError:
        raise NumericOverflowError(
            f"jvp through {describe_call(op, datas)}: a local derivative overflows float64"
        ) from None
    except (ArithmeticError, ValueError):
        raise DomainError(
            f"jvp through {describe_call(op, datas)}: the local derivative is infinite or undefined there"
        ) from None


def _tangent_error(node: Value, total: float) -> AutogradMiniError:
    """The typed error for a tangent that would be NaN or +-inf, naming the op and its operands."""
    op = node.op
    assert op is not None
    call = describe_call(op, [x.data for x in node.inputs])
    if total != total:
        return DomainError(f"jvp through {call}: its tangent would be NaN")
    return NumericOverflowError(
        f"jvp through {call}: its tangent would be {format_number(total)}; it overflows float64"
    )


def _order_above(outputs: list[Value], inputs: list[Value]) -> list[Value]:
    """The interior nodes the outputs depend on, each after its inputs, not walking below `inputs`.

    In Value mode an input node's own inputs belong to an outer computation
    that this pass must not visit: the walk stops at the seeds.
    """
    order = reverse_topological_order(Roots(reversed(outputs)), leaves=[], stop=inputs)[1:]  # [0]: Roots
    order.reverse()
    return order


def _jacobians(
    f: Callable[..., Any], args: tuple[Any, ...], caller: str, *, forward: bool, reverse: bool
) -> tuple[list[list[Any]], list[list[Any]], JacobianCost]:
    """(jacfwd's J, jacrev's J, their cost): whichever is asked, from one evaluation of f."""
    if not args:
        raise ValueError(f"{caller}: the function was called without arguments")
    _check_call(args, args, caller)
    with evaluating() as nested, enable_grad():
        as_values = nested or any(isinstance(a, Value) for a in args)
        rec = record(f, args, as_values, caller)
        n, m = len(rec.inputs), len(rec.outputs)
        # jacfwd: column j is a tangent pass seeded with e_j; jacrev: row i a backward pass, one rule call per node
        columns = [push_tangents(rec, [1.0 if k == j else 0.0 for k in range(n)]) for j in range(n)] if forward else []
        rev = [gradients(out, rec.inputs, create_graph=as_values) for out in rec.outputs] if reverse else []
        reverse_passes = [len(backward_order(out)[0]) for out in rec.outputs] if reverse else []
    fwd = [[column[i] for column, _ in columns] for i in range(m)]
    return fwd, rev, JacobianCost(n, m, len(rec.order), tuple(calls for _, calls in columns), tuple(reverse_passes))


def _check_call(primals: Any, tangents: Any, caller: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Primals and tangents as tuples of numbers or Values, equally long, finite."""
    for name, items in (("primals", primals), ("tangents", tangents)):
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise TypeError(f"{caller}: {name} must be a tuple or list of numbers, got {type(items).__name__}")
        for k, a in enumerate(items):
            if not isinstance(a, Value):
                _number(a, f"{caller}: {name}[{k}]")
    if len(primals) != len(tangents):
        raise ValueError(f"{caller}: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    if not primals:
        raise ValueError(f"{caller}: needs at least one primal")
    return tuple(primals), tuple(tangents)


def _number(a: Any, what: str = "jvp: a primal") -> float:
    """a (a number, or a Value's data) as a finite float, or TypeError/ValueError naming `what`."""
    if isinstance(a, Value):
        return a.data
    if isinstance(a, bool) or not isinstance(a, numbers.Real):
        raise TypeError(f"{what} must be an int, float or Value, got {type(a).__name__}: {a!r:.60}")
    try:
        x = float(a)
    except OverflowError:
        x = _INF
    if not -_INF < x < _INF:
        raise ValueError(f"{what} must be finite, got {format_number(x)}")
    return x
