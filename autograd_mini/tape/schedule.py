"""How a recorded tape is laid out for a batched replay (trace time only).

`schedule` takes the flat program `tape.trace` recorded (a list of
`Instruction`s) and decides, once, everything a replay needs: which slots live
in the *shared* matrix (one column: parameters, constants and what depends only
on them) and which in the *batched* one (one column per example); which
instructions form one `Group` (same op, arity, depth and operand layout, so one
call of the row serves them all: level scheduling); the fancy indices a group's
operands are read with (`Port`) and the `Scatter`s its gradients are added back
with, duplicates summed as (1.8) says.

A group of `dot` rows whose second half (the O_k of (1.1)) is the same for
every neuron, and whose first half (the weights) lives in the shared matrix, is
marked `matmul`: the replay runs it with the dot row's batched form
(`ops.BATCHED["dot"]`), one matrix product forward and two backward. A
one-node shared `sum` or `dot` (an L2 term over every parameter) runs on one
array with its row's batched form too, instead of on Python floats.

Per-step Python and numpy calls are cut here, once, at trace time (issue 14: at
batch 100 they are the whole cost): rows that follow evenly are read and
written as slices (views), a layer's weights as a reshaped view (`grid_of`);
operands of few-operand rows are read one by one (`Group.reads`); a port whose
gradient needs no reordering is added straight into its targets
(`Port.direct`); a gradient that one group alone sends to another whole is
handed over as an array (`_hand_over`), so those rows are neither zeroed nor
added into. The schedule imports nothing from the replay or the tape: it is
the bottom of the three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import BATCHED, OPS, Op

_PARAM, _INPUT, _CONST, _OP = "param", "input", "const", "op"
_FEW_OPERANDS = 4  # up to this arity, operands are read one by one (Group.reads)
_CHUNK_BUDGET = 1 << 21  # numbers in one group's gradient arrays, see Schedule.chunk_size


@dataclass(frozen=True)
class Instruction:
    """One recorded node: `output = op(*inputs)`, in the tape's slot numbering.

    Slots: 0..P-1 the parameters, P..P+N-1 the per-example inputs, then the
    constants, then one slot per instruction in topological order (the
    instruction's *row* in the tape is its index in that order).
    """

    op: Op
    inputs: tuple[int, ...]
    output: int


class Scatter:
    """How to add rows of a gradient block into their target rows, duplicates summed
    (the replay's `_tape_replay.scatter_add` does it).

    Precomputed at trace time: keeps only rows whose target needs a gradient,
    and sorts rows by target so duplicates become segments for np.add.reduceat
    (much faster than np.add.at).
    """

    __slots__ = ("rows", "targets", "starts", "sorted_targets", "fold")

    def __init__(self, rows: np.ndarray, targets: np.ndarray, n_rows: int) -> None:
        self.sorted_targets: Any = None
        self.fold = 0
        distinct = len(np.unique(targets))
        self.starts = None
        if distinct < len(targets) and _repeats(targets, distinct):
            # The same targets m times over (p * p reads each parameter twice): the m
            # blocks are summed as one reshape and a sum, not sorted into segments.
            self.fold = len(targets) // distinct
            targets = targets[:distinct]
        elif distinct < len(targets):
            order = np.argsort(targets, kind="stable")
            rows, targets = rows[order], targets[order]
            self.sorted_targets = targets  # one per row: for namespaces without reduceat
            self.starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
            targets = targets[self.starts]
        identity = len(rows) == n_rows and bool(np.all(rows == np.arange(n_rows)))
        self.rows = None if identity else rows
        self.targets: np.ndarray | slice = targets
        if self.starts is None and len(targets):
            self.targets = rows_of(targets)  # a slice is cheaper than an index


def _repeats(targets: np.ndarray, distinct: int) -> bool:
    """`targets` is its first `distinct` entries (all different) repeated a whole number of times."""
    m = len(targets) // distinct
    return m * distinct == len(targets) and bool(np.array_equal(targets, np.tile(targets[:distinct], m)))


class Port:
    """Operand positions of a group read from one matrix with one fancy index.

    shared:  reads the shared matrix (k or 1 rows, 1 column) or the batched one.
    uniform: every node of the group reads the same slot at these positions
             (a dot's inputs O_k, read by every neuron): gathered once as 1 row
             that broadcasts, and its gradient is summed over the group.
    """

    __slots__ = ("positions", "shared", "uniform", "index", "take", "scatter", "everything")

    def direct(self, group_shared: bool) -> list[Any] | None:
        """[positions, reduction, targets, None] when the port's gradient blocks can be added to its
        targets as they are, reduced over the batch ("batch"), the nodes ("nodes"), both ("all")
        or just flattened ("flat"): no rows dropped, and either one position with no duplicate
        targets or several positions that read the same targets (p * p), summed."""
        plan = self.scatter
        if plan is None or plan.rows is not None or plan.starts is not None:
            return None
        if plan.fold != (len(self.positions) if len(self.positions) > 1 else 0):
            return None
        if self.uniform:
            reduce = "all" if self.shared else "nodes"
        elif self.shared:
            reduce = "flat" if group_shared else "batch"
        else:
            reduce = ""
        return [tuple(self.positions), reduce, plan.targets, None]  # the last: see _hand_over

    def __init__(self, positions: list[int], shared: bool, uniform: bool, index: np.ndarray) -> None:
        self.positions = positions
        self.shared = shared
        self.uniform = uniform
        self.index = index
        self.take = rows_of(index)
        self.scatter: Scatter | None = None
        self.everything = False  # the port holds every position, in order


def rows_of(index: np.ndarray) -> np.ndarray | slice:
    """What to index a matrix with to read these rows: a slice when they are evenly spaced
    (consecutive, or every neuron's bias among its weights): a view, no copy of a (k, batch)
    block per group and step, and no fancy index; else the index itself."""
    if len(index) == 1:
        return slice(int(index[0]), int(index[0]) + 1)
    steps = np.diff(index)
    if len(index) and steps[0] > 0 and bool(np.all(steps == steps[0])):
        return slice(int(index[0]), int(index[-1]) + 1, None if steps[0] == 1 else int(steps[0]))
    return index


def grid_of(index: np.ndarray, n_rows: int) -> tuple[slice, tuple[int, int], slice] | None:
    """(rows, shape, columns) such that matrix[rows].reshape(shape)[:, columns] reads the
    (k, n) `index` as a view: a layer's weights, each neuron's n weights consecutive and the
    neurons evenly spaced (their biases between them). None for any other layout."""
    k, n = index.shape
    stride = int(index[1, 0] - index[0, 0]) if k > 1 else n
    start = int(index[0, 0])
    if n == 0 or stride < n or start + k * stride > n_rows:
        return None
    if not np.array_equal(index, start + stride * np.arange(k)[:, None] + np.arange(n)[None, :]):
        return None
    return slice(start, start + k * stride), (k, stride), slice(0, n)


class Matmul:
    """A dot group as out = W @ X: W (k, n) from the shared matrix, X (n, batch or 1).

    w_index: (k, n) shared rows of the weights, node j's weight i at [j, i].
    x_index: (n,) rows of the operand read by every node; x_shared says which matrix.
    swapped: the weights are the dot's second half (dot(O, w) instead of dot(w, O)).
    """

    __slots__ = ("w_index", "x_index", "x_shared", "swapped", "w_scatter", "x_scatter", "forward", "vjp", "w_grid",
                 "w_whole", "x_handoff")

    def __init__(self, w_index: np.ndarray, x_index: np.ndarray, x_shared: bool, swapped: bool, n_shared: int) -> None:
        self.w_index, self.x_index, self.x_shared, self.swapped = w_index, rows_of(x_index), x_shared, swapped
        # The weights as a view of the shared matrix when they lie in a grid (see grid_of).
        self.w_grid = grid_of(w_index, n_shared)
        self.w_whole = False  # every weight takes a gradient: added through the same view
        self.x_handoff: int | None = None  # the group dE/dx is handed to whole (see _hand_over)
        self.forward, self.vjp = BATCHED["dot"]
        self.w_scatter: Scatter | None = None
        self.x_scatter: Scatter | None = None


class Group:
    """Instructions sharing op, arity, depth and operand layout: one row call."""

    __slots__ = ("op", "k", "shared", "start", "stop", "ports", "perm", "nodes", "needs_grad", "scalar", "index",
                 "positions", "scatter", "matmul", "n_leaf", "batched", "take", "actions", "rows", "reads", "number",
                 "receives")

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
        # A fixed arity of one or two runs as an ordinary group of one (1, 1) array: fewer
        # calls than the float path's conversions and checks, and the same errors.
        self.scalar = shared and self.k == 1 and len(nodes[0].inputs) > 2
        self.index = np.zeros(0, dtype=np.intp)
        self.take: np.ndarray | slice = self.index  # `index` as a slice when it can be one
        self.positions: list[int] = []
        self.scatter: Scatter | None = None
        self.matmul: Matmul | None = None
        # A one-node shared group whose row has a batched form (a sum or dot over every
        # parameter, as an L2 term is): its operands run as one array, not as floats.
        self.batched: tuple[Any, Any] | None = None
        # (port, Port.direct or None) for the ports that take gradients, for the fast backward.
        self.actions: list[tuple[Port, list[Any] | None]] = []
        self.rows = slice(0, 0)  # the group's rows in its matrix: start:stop
        # (reads the shared matrix?, rows) per operand, for rows of a few operands: read one
        # by one (views where the rows follow) instead of by `gather`'s one index and reshape.
        self.reads: list[tuple[bool, np.ndarray | slice]] | None = None
        self.number = 0  # the group's index in the schedule
        # The gradient of its rows comes whole from one later group, handed over as an
        # array instead of added into the zeroed gradient matrix and read back (see _hand_over).
        self.receives = False
        self.n_leaf = 0  # slots before the first instruction's: node j's tape row is its output - n_leaf

    def row_of(self, j: int) -> int:
        """The tape row (instruction index) of the group's node j."""
        return self.nodes[j].output - self.n_leaf


@dataclass
class Schedule:
    """How a tape's instructions run: the groups in order and the two matrices' sizes.

    groups:     the row calls of one forward replay, by depth.
    depth:      length of the longest path from a leaf to an output.
    n_shared:   rows of the shared matrix (parameters, constants, shared results).
    n_batched:  rows of the batched matrix (inputs, batched results).
    chunk_size: examples replayed at once (bounds the widest group's arrays).
    roots:      (in the shared matrix?, row) of the loss and of each extra output.
    added_rows: the rows of the batched gradient matrix that gradients are added into
                (the rest are handed over whole or never written): the only ones the
                numpy replay zeroes before a backward pass, as runs of slices.
    """

    groups: list[Group]
    depth: int
    n_shared: int
    n_batched: int
    chunk_size: int
    roots: list[tuple[bool, int]]
    added_rows: list[slice]


def schedule(
    instructions: list[Instruction], n_params: int, n_inputs: int, n_constants: int, roots: list[int]
) -> Schedule:
    """Group the instructions by level and precompute every index a replay uses.

    `roots` are the output slots (the loss first).
    """
    n_leaf = n_params + n_inputs + n_constants
    n_slots = n_leaf + len(instructions)
    kind = [_PARAM] * n_params + [_INPUT] * n_inputs + [_CONST] * n_constants + [_OP] * len(instructions)
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
    # Rows of the two matrices: parameters, constants and shared results in the
    # shared one; inputs and batched results in the batched one.
    row = [0] * n_slots
    n_shared, n_batched = n_params + n_constants, n_inputs
    for s in range(n_leaf):
        row[s] = s if kind[s] == _PARAM else (s - n_inputs if kind[s] == _CONST else s - n_params)
    keys = sorted(keyed, key=lambda key: key[0])
    _order_for_consumers([keyed[key] for key in keys])
    groups: list[Group] = []
    for key in keys:
        nodes = keyed[key]
        group = Group(nodes[0].op, nodes, shared=key[-1])
        group.n_leaf = n_leaf
        if group.shared:
            group.start, n_shared = n_shared, n_shared + group.k
        else:
            group.start, n_batched = n_batched, n_batched + group.k
        group.stop = group.start + group.k
        group.rows = slice(group.start, group.stop)
        for j, ins in enumerate(nodes):
            row[ins.output] = group.start + j
        group.needs_grad = any(needs[ins.output] for ins in nodes)
        groups.append(group)
    for number, group in enumerate(groups):
        group.number = number
        _build_ports(group, row, shared, needs)
        group.matmul = _matmul(group, row, shared, needs, n_shared)
    added_rows = _hand_over(groups, n_batched, {row[s] for s in roots if not shared[s]})
    # Examples per replay: a group's rule makes (k x arity) arrays of one number per
    # example; bounding them (about 16 MB) keeps wide layers on large batches near the
    # cache instead of allocating gigabytes per step.
    footprint = max((g.k * len(g.nodes[0].inputs) for g in groups if not g.shared and g.matmul is None), default=1)
    chunk_size = max(256, _CHUNK_BUDGET // footprint)
    outputs = [(shared[s], row[s]) for s in roots]
    return Schedule(groups, max(depth, default=0), n_shared, n_batched, chunk_size, outputs, added_rows)


def _hand_over(groups: list[Group], n_batched: int, root_rows: set[int]) -> list[slice]:
    """Mark the gradients that go from one group to another whole, as an array.

    When the only gradient a batched group's rows receive (1.8) is one port of a later
    group (or a matmul's dE/dx) whose targets are exactly those rows in order, that
    block is the group's g: the replay hands it over instead of adding it into the
    zeroed gradient matrix and reading it back (a relu's g to its add, an add's to its
    dot, a dot's dE/dx to the previous layer's relu). Everything else is added: returns
    the rows that are (`Schedule.added_rows`).
    """
    writers: list[list[Any]] = [[] for _ in range(n_batched)]
    everything = np.arange(n_batched)
    for group in groups:
        mm = group.matmul
        if mm is not None:
            plans = [] if mm.x_shared or mm.x_scatter is None else [(mm.x_scatter, mm)]
        elif group.scalar:
            continue
        else:
            plans = [(port.scatter, action) for port, action in group.actions if not port.shared]
        for plan, who in plans:
            assert plan is not None
            for r in np.atleast_1d(everything[plan.targets]).tolist():
                writers[r].append((plan, who))
    for group in groups:
        if group.shared or group.scalar or not group.needs_grad or root_rows & set(range(group.start, group.stop)):
            continue
        found = {id(w[1]): w for r in range(group.start, group.stop) for w in writers[r]}
        if len(found) != 1 or any(len(writers[r]) != 1 for r in range(group.start, group.stop)):
            continue
        plan, who = next(iter(found.values()))
        whole = isinstance(plan.targets, slice) and plan.targets == group.rows
        if not whole or plan.rows is not None or plan.starts is not None or plan.fold:
            continue
        if isinstance(who, Matmul):
            who.x_handoff = group.number
        elif who is not None and who[1] == "":
            who[3] = group.number
        else:
            continue
        group.receives = True
        for r in range(group.start, group.stop):
            writers[r] = []
    added = [r for r in range(n_batched) if writers[r]]
    runs: list[slice] = []
    for r in added:
        if runs and runs[-1].stop == r:
            runs[-1] = slice(runs[-1].start, r + 1)
        else:
            runs.append(slice(r, r + 1))
    return runs


def _order_for_consumers(levels: list[list[Instruction]]) -> None:
    """Order each group's nodes as their first consumer reads them, deepest groups first.

    A layer's relu outputs then sit in the rows the next layer's dot reads them
    from, in order, and so on down: the replay reads such operands as a slice
    (a view) instead of copying them with a fancy index.
    """
    key: dict[int, tuple[int, int, int]] = {}
    last = (len(levels), 0, 0)
    for g in range(len(levels) - 1, -1, -1):
        nodes = levels[g]
        nodes.sort(key=lambda ins: key.get(ins.output, last))
        for j, ins in enumerate(nodes):
            for p, s in enumerate(ins.inputs):
                key.setdefault(s, (g, j, p))


def _build_ports(group: Group, row: list[int], shared: list[bool], needs: list[bool]) -> None:
    """Split the group's operand positions into ports and precompute their indices."""
    arity = len(group.nodes[0].inputs)
    if group.scalar:
        slots = group.nodes[0].inputs
        group.index = np.array([row[s] for s in slots], dtype=np.intp)
        group.take = rows_of(group.index)
        name = group.op.name
        if OPS.get(name) is group.op and name in BATCHED and (name == "sum" or len(slots) % 2 == 0) and slots:
            group.batched = BATCHED[name]
        group.positions = [p for p, s in enumerate(slots) if needs[s]]
        if group.needs_grad and group.positions:
            targets = group.index[group.positions]
            group.scatter = Scatter(np.arange(len(targets)), targets, len(targets))
        return
    buckets: dict[tuple[bool, bool, bool], list[int]] = {}
    for p in range(arity):
        slots = [ins.inputs[p] for ins in group.nodes]
        uniform = group.k > 1 and all(s == slots[0] for s in slots)
        # Operands no parameter reaches (t in t * score, a constant) get a port of their own,
        # which takes no gradient: the others' gradients then need no rows dropped.
        buckets.setdefault((shared[slots[0]], uniform, any(needs[s] for s in slots)), []).append(p)
    order: list[int] = []
    for (is_shared, uniform, _), positions in buckets.items():
        members = group.nodes[:1] if uniform else group.nodes
        slots = [ins.inputs[p] for p in positions for ins in members]
        port = Port(positions, is_shared, uniform, np.array([row[s] for s in slots], dtype=np.intp))
        keep = np.array([needs[s] for s in slots], dtype=bool)
        if group.needs_grad and keep.any():
            port.scatter = Scatter(np.flatnonzero(keep), port.index[keep], len(slots))
        port.everything = positions == list(range(arity))
        group.ports.append(port)
        if port.scatter is not None:
            group.actions.append((port, port.direct(group.shared)))
        order += positions
    if order != list(range(arity)):
        where = {p: i for i, p in enumerate(order)}
        group.perm = [where[p] for p in range(arity)]
    if arity <= _FEW_OPERANDS:
        group.reads = [_read(group, p, row, shared) for p in range(arity)]


def _read(group: Group, p: int, row: list[int], shared: list[bool]) -> tuple[bool, np.ndarray | slice]:
    """(in the shared matrix?, its rows) of the group's operand at position p: one row when
    every node reads the same slot there (it broadcasts), a slice when the rows follow."""
    slots = [ins.inputs[p] for ins in group.nodes]
    if group.k > 1 and all(s == slots[0] for s in slots):
        slots = slots[:1]
    return shared[slots[0]], rows_of(np.array([row[s] for s in slots], dtype=np.intp))


def _matmul(group: Group, row: list[int], shared: list[bool], needs: list[bool], n_shared: int) -> Matmul | None:
    """The group as one matrix product, when it is `dot` rows whose weights are shared
    and whose other operand is read by every node alike (see the module docstring)."""
    if group.scalar or group.op is not OPS.get("dot") or "dot" not in BATCHED:
        return None
    arity = len(group.nodes[0].inputs)
    n = arity // 2
    if n == 0:
        return None
    for swapped in (False, True):
        w_pos, x_pos = (range(n, arity), range(n)) if swapped else (range(n), range(n, arity))
        w_slots = [[ins.inputs[p] for p in w_pos] for ins in group.nodes]
        x_slots = [group.nodes[0].inputs[p] for p in x_pos]
        if not all(shared[s] for slots in w_slots for s in slots):
            continue
        if any([ins.inputs[p] for p in x_pos] != x_slots for ins in group.nodes):
            continue
        x_shared = shared[x_slots[0]]
        if any(shared[s] != x_shared for s in x_slots):
            continue
        x_index = np.array([row[s] for s in x_slots], dtype=np.intp)
        plan = Matmul(np.array([[row[s] for s in slots] for slots in w_slots], dtype=np.intp),
                      x_index, x_shared, swapped, n_shared)
        if group.needs_grad:
            plan.w_scatter = _needed(plan.w_index.reshape(-1), [needs[s] for slots in w_slots for s in slots])
            w = plan.w_scatter
            plan.w_whole = w is not None and w.rows is None and w.starts is None and not w.fold
            plan.x_scatter = _needed(x_index, [needs[s] for s in x_slots])
        return plan
    return None


def _needed(index: np.ndarray, keep: list[bool]) -> Scatter | None:
    """A Scatter of the rows of `index` whose slot needs a gradient (None if none does)."""
    mask = np.array(keep, dtype=bool)
    return Scatter(np.flatnonzero(mask), index[mask], len(index)) if mask.any() else None
