"""The compiled tape's machinery: level scheduling, gather and scatter (trace time and replay).

`tape.Tape` owns the public surface (recording, replay, checks); this module
holds how a recorded program is laid out for numpy. `schedule` groups the
instructions that share op, arity, depth and operand layout (level
scheduling), gives every slot a row of one of two matrices (shared: one
column, for parameters, constants and what depends only on them; batched: one
column per example) and precomputes, per group, the fancy indices that
`gather` reads its operands with and the `Scatter`s that `scatter` adds its
gradients back with (duplicates summed, (1.8)). `scalar_forward` /
`scalar_backward` run a one-node shared group on Python floats, as the eager
engine does; `raise_forward` and `checked_grads` turn a failure inside a
group into the eager engine's error, naming the op, its operands and the
example. Every row called here is a row of `ops.OPS`: no derivative math.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import rule_error
from .errors import AutogradMiniError, DomainError, NumericOverflowError
from .ops import Op
from .value import describe_call, forward_error

if TYPE_CHECKING:
    from .tape import Instruction

_PARAM, _INPUT, _CONST, _OP = "param", "input", "const", "op"
_CHUNK_BUDGET = 1 << 21  # numbers in one group's gradient arrays, see Tape.chunk_size


class Port:
    """Operand positions of a group read from one matrix with one fancy index.

    shared:  reads the shared matrix (k or 1 rows, 1 column) or the batched one.
    uniform: every node of the group reads the same slot at these positions
             (a dot's inputs x_k, read by every neuron): gathered once as 1 row
             that broadcasts, and its gradient is summed over the group.
    """

    __slots__ = ("positions", "shared", "uniform", "index", "scatter", "everything")

    def __init__(self, positions: list[int], shared: bool, uniform: bool, index: np.ndarray) -> None:
        self.positions = positions
        self.shared = shared
        self.uniform = uniform
        self.index = index
        self.scatter: Scatter | None = None
        self.everything = False  # the port holds every position, in order


class Scatter:
    """Adds rows of a gradient block into their target slots, duplicates summed.

    Precomputed at trace time: keeps only rows whose target needs a gradient,
    and sorts rows by target so duplicates become segments for np.add.reduceat
    (much faster than np.add.at).
    """

    __slots__ = ("rows", "targets", "starts")

    def __init__(self, rows: np.ndarray, targets: np.ndarray, n_rows: int) -> None:
        if len(np.unique(targets)) == len(targets):
            self.starts = None
        else:
            order = np.argsort(targets, kind="stable")
            rows, targets = rows[order], targets[order]
            self.starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
            targets = targets[self.starts]
        identity = len(rows) == n_rows and bool(np.all(rows == np.arange(n_rows)))
        self.rows = None if identity else rows
        self.targets: np.ndarray | slice = targets
        if self.starts is None and len(targets) and bool(np.all(np.diff(targets) == 1)):
            self.targets = slice(int(targets[0]), int(targets[-1]) + 1)  # a slice is cheaper than an index

    def add(self, into: np.ndarray, block: np.ndarray) -> None:
        """into[targets] += the rows of `block`, summed per target."""
        if self.rows is not None:
            block = block[self.rows]
        if self.starts is not None:
            block = np.add.reduceat(block, self.starts, axis=0)
        into[self.targets] += block


class Group:
    """Instructions sharing op, arity, depth and operand layout: one row call."""

    __slots__ = ("op", "k", "shared", "start", "stop", "ports", "perm", "nodes", "needs_grad", "scalar", "index",
                 "positions", "scatter")

    def __init__(self, op: Op, nodes: list[Instruction], shared: bool) -> None:
        self.op = op
        self.nodes = nodes
        self.k = len(nodes)
        self.shared = shared
        self.start = self.stop = 0
        self.ports: list[Port] = []
        self.perm: list[int] | None = None
        self.needs_grad = False
        # A shared group of one node runs its row on Python floats, as the eager
        # engine does: a variadic row (a sum over every parameter, say) would
        # otherwise pay numpy's per-call overhead once per operand.
        self.scalar = shared and self.k == 1
        self.index = np.zeros(0, dtype=np.intp)
        self.positions: list[int] = []
        self.scatter: Scatter | None = None


@dataclass
class Schedule:
    """How a tape's instructions run: the groups in order and the two matrices' sizes.

    groups:     the row calls of one forward replay, by depth.
    depth:      length of the longest path from a leaf to an output.
    n_shared:   rows of the shared matrix (parameters, constants, shared results).
    n_batched:  rows of the batched matrix (inputs, batched results).
    chunk_size: examples replayed at once (bounds the widest group's arrays).
    roots:      (in the shared matrix?, row) of the loss and of each extra output.
    """

    groups: list[Group]
    depth: int
    n_shared: int
    n_batched: int
    chunk_size: int
    roots: list[tuple[bool, int]]


def schedule(
    instructions: list[Instruction], n_params: int, n_inputs: int, n_constants: int, roots: list[int]
) -> Schedule:
    """Group the instructions by level and precompute every index a replay uses.

    Slots are numbered as in `tape.Instruction`: parameters, inputs, constants,
    then one per instruction in topological order; `roots` are the output slots.
    """
    n_leaf = n_params + n_inputs + n_constants
    n_slots = n_leaf + len(instructions)
    kind = [_PARAM] * n_params + [_INPUT] * n_inputs + [_CONST] * n_constants
    kind += [_OP] * len(instructions)
    depth = [0] * n_slots
    shared = [k != _INPUT for k in kind]
    needs = [k == _PARAM for k in kind]
    keyed: dict[tuple[Any, ...], list[Instruction]] = {}
    for ins in instructions:
        depth[ins.output] = 1 + max((depth[s] for s in ins.inputs), default=0)
        shared[ins.output] = all(shared[s] for s in ins.inputs)
        needs[ins.output] = any(needs[s] for s in ins.inputs)
        layout = tuple(shared[s] for s in ins.inputs)
        key = (depth[ins.output], id(ins.op), len(ins.inputs), layout, shared[ins.output])
        keyed.setdefault(key, []).append(ins)
    max_depth = max(depth, default=0)
    # Rows of the two matrices: parameters, constants and shared results in the
    # shared one; inputs and batched results in the batched one.
    row = [0] * n_slots
    n_shared, n_batched = n_params + n_constants, n_inputs
    for s in range(n_leaf):
        row[s] = s if kind[s] == _PARAM else (s - n_inputs if kind[s] == _CONST else s - n_params)
    groups: list[Group] = []
    for key in sorted(keyed, key=lambda key: key[0]):
        nodes = keyed[key]
        group = Group(nodes[0].op, nodes, shared=key[-1])
        if group.shared:
            group.start, n_shared = n_shared, n_shared + group.k
        else:
            group.start, n_batched = n_batched, n_batched + group.k
        group.stop = group.start + group.k
        for j, ins in enumerate(nodes):
            row[ins.output] = group.start + j
        group.needs_grad = any(needs[ins.output] for ins in nodes)
        groups.append(group)
    for group in groups:
        _build_ports(group, row, shared, needs)
    # Examples per replay: a group's rule makes (k x arity) arrays of one number per
    # example; bounding them (about 16 MB) keeps wide layers on large batches near the
    # cache instead of allocating gigabytes per step.
    footprint = max((g.k * len(g.nodes[0].inputs) for g in groups if not g.shared), default=1)
    chunk_size = max(256, _CHUNK_BUDGET // footprint)
    return Schedule(groups, max_depth, n_shared, n_batched, chunk_size, [(shared[s], row[s]) for s in roots])


def _build_ports(group: Group, row: list[int], shared: list[bool], needs: list[bool]) -> None:
    """Split the group's operand positions into ports and precompute their indices."""
    arity = len(group.nodes[0].inputs)
    if group.scalar:
        slots = group.nodes[0].inputs
        group.index = np.array([row[s] for s in slots], dtype=np.intp)
        group.positions = [p for p, s in enumerate(slots) if needs[s]]
        if group.needs_grad and group.positions:
            targets = group.index[group.positions]
            group.scatter = Scatter(np.arange(len(targets)), targets, len(targets))
        return
    buckets: dict[tuple[bool, bool], list[int]] = {}
    for p in range(arity):
        slots = [ins.inputs[p] for ins in group.nodes]
        uniform = group.k > 1 and all(s == slots[0] for s in slots)
        buckets.setdefault((shared[slots[0]], uniform), []).append(p)
    order: list[int] = []
    for (is_shared, uniform), positions in buckets.items():
        members = [group.nodes[:1]] if uniform else [group.nodes]
        slots = [ins.inputs[p] for p in positions for ins in members[0]]
        port = Port(positions, is_shared, uniform, np.array([row[s] for s in slots], dtype=np.intp))
        keep = np.array([needs[s] for s in slots], dtype=bool)
        if group.needs_grad and keep.any():
            port.scatter = Scatter(np.flatnonzero(keep), port.index[keep], len(slots))
        port.everything = positions == list(range(arity))
        group.ports.append(port)
        order += positions
    if order != list(range(arity)):
        where = {p: i for i, p in enumerate(order)}
        group.perm = [where[p] for p in range(arity)]


def gather(group: Group, values: np.ndarray, shared: np.ndarray, b: int) -> list[Any]:
    """The group's operands, one (k or 1, batch or 1) array per position."""
    parts: list[Any] = []
    for port in group.ports:
        source = shared if port.shared else values
        rows = 1 if port.uniform else group.k
        parts.extend(source[port.index].reshape(len(port.positions), rows, source.shape[1]))
    if group.perm is None:
        return parts
    return [parts[i] for i in group.perm]


def scatter(port: Port, grads: list[Any], g: np.ndarray, into: np.ndarray) -> None:
    """Add the gradients of one port's positions into their slots."""
    picked = grads if port.everything else [grads[p] for p in port.positions]
    try:
        if len(picked) == 1 and picked[0].shape == g.shape:
            block = picked[0][None] if port.uniform else picked[0]
        else:
            block = np.stack(picked) if port.uniform else np.concatenate(picked)
    except (AttributeError, TypeError, ValueError):  # a None (input not differentiable here) or a scalar
        picked = [np.zeros_like(g) if x is None else np.broadcast_to(x, g.shape) for x in picked]
        block = np.stack(picked) if port.uniform else np.concatenate(picked)
    if port.uniform:
        block = block.sum(axis=(1, 2) if port.shared else 1)
    elif port.shared:
        block = block.sum(axis=1)
    assert port.scatter is not None
    port.scatter.add(into, block)


def scalar_forward(group: Group, datas: list[float]) -> float:
    """The row on floats, with `value.apply`'s checks and errors."""
    op = group.op
    try:
        if op.valid is not None and not op.valid(*datas):
            raise ValueError("outside the domain")
        data = float(op.forward(*datas))
    except (ArithmeticError, ValueError) as exc:
        error = forward_error(op, datas, exc)
        raise type(error)(f"{error} ({_where(group, 0)})") from None
    if not -np.inf < data < np.inf:
        error = forward_error(op, datas, None)
        raise type(error)(f"{error} ({_where(group, 0)})")
    return data


def scalar_backward(group: Group, datas: list[float], g_shared: np.ndarray, out: float) -> None:
    """The row's rule on floats, as the eager engine applies it (skipped when g is 0)."""
    g = float(g_shared[group.start])
    if g == 0.0 or group.scatter is None:
        return
    op = group.op
    if not -np.inf < g < np.inf:
        call = describe_call(op, datas)
        raise NumericOverflowError(f"tape backward: the gradient reaching {call} is {g!r}; it overflowed float64")
    try:
        grads = op.vjp(g, out, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(op, datas, exc) from None
    block = np.array([0.0 if grads[p] is None else grads[p] for p in group.positions], dtype=float)
    group.scatter.add(g_shared, block)


def _example_of(group: Group, operands: list[Any], bad: np.ndarray) -> tuple[int, int, list[float]]:
    """(node index in the group, example index, scalar operands) of the first bad entry."""
    columns = np.flatnonzero(bad.any(axis=0))
    example = int(columns[0])
    node = int(np.flatnonzero(bad[:, example])[0])
    datas = [float(x[min(node, x.shape[0] - 1), min(example, x.shape[1] - 1)]) for x in operands]
    return node, example, datas


def _where(group: Group, example: int) -> str:
    """Where in the batch a failure happened, for messages (example counts from 0)."""
    return "in the part that does not depend on the example" if group.shared else f"at example {example} of the batch"


def raise_forward(group: Group, operands: list[Any], bad: np.ndarray, offset: int, invalid: bool) -> None:
    """Raise the eager engine's error for the first example where the group failed."""
    _, example, datas = _example_of(group, operands, bad)
    example += offset
    op = group.op
    error: Exception
    if invalid:
        error = forward_error(op, datas, ValueError("outside the domain"))
    else:
        try:
            scalar = op.forward(*datas)
            error = forward_error(op, datas, None) if not np.isfinite(scalar) else None  # type: ignore[assignment]
        except (ArithmeticError, ValueError) as exc:
            error = forward_error(op, datas, exc)
        if error is None:
            error = NumericOverflowError(f"{describe_call(op, datas)} is not finite on numpy arrays")
    raise type(error)(f"{error} ({_where(group, example)})") from None


def checked_grads(
    group: Group, g: np.ndarray, out: np.ndarray, operands: list[Any], grads: list[Any], offset: int
) -> list[Any]:
    """The slow path of backward: the eager engine's skips and checks, on arrays."""
    op = group.op
    if not np.isfinite(g).all():
        _, example, datas = _example_of(group, operands, ~np.isfinite(np.broadcast_to(g, out.shape)))
        raise NumericOverflowError(
            f"tape backward: the gradient reaching {describe_call(op, datas)} is not finite "
            f"({_where(group, example + offset)}); it overflowed float64"
        )
    zero = g == 0.0  # the engine skips nodes whose gradient is 0, so 0 * inf never happens there
    checked = []
    for gx in grads:
        if gx is not None:
            gx = np.where(zero, 0.0, gx)
            if not np.isfinite(gx).all():
                _, example, datas = _example_of(group, operands, ~np.isfinite(gx))
                call = describe_call(op, datas)
                raise DomainError(
                    f"backward through {call}: the local derivative is infinite or undefined there "
                    f"({_where(group, example + offset)})"
                )
        checked.append(gx)
    return checked
