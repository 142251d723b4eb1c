"""Lays a recorded program out for a batched replay, once, at trace time: `schedule`.

Which slots live in the shared matrix (parameters, constants and what depends only on
them) and which in the batched one; which instructions form one `Group` (same op, arity,
depth and operand layout: level scheduling); every index the replay uses; and the
shortcuts (matrix products, views, hand-overs) docs/tape.md describes.
"""

from __future__ import annotations

import numpy as np

from ..ops import BATCHED, OPS
from .schedule import (
    DirectAdd,
    Grid,
    Group,
    IndexArray,
    Instruction,
    Matmul,
    OneNode,
    Port,
    Reduce,
    Rows,
    Scatter,
    Schedule,
    rows_of,
)

_FEW_OPERANDS = 4  # up to this arity, operands are read one by one (Group.reads)
_CHUNK_BUDGET = 1 << 21  # numbers in one group's gradient arrays, see the chunk size in `schedule`


def schedule(
    instructions: list[Instruction], n_params: int, n_inputs: int, n_constants: int, roots: list[int]
) -> Schedule:
    """Group the instructions by level and precompute every index a replay uses.

    `roots` are the output slots (the loss first).
    """
    n_leaf = n_params + n_inputs + n_constants
    n_slots = n_leaf + len(instructions)
    depth = [0] * n_slots
    shared = [not n_params <= s < n_params + n_inputs for s in range(n_slots)]  # all but the inputs
    needs = [s < n_params for s in range(n_slots)]  # a parameter reaches it
    keyed: dict[tuple[int, int, int, tuple[bool, ...], bool], list[Instruction]] = {}
    for ins in instructions:
        depth[ins.output] = 1 + max((depth[s] for s in ins.inputs), default=0)
        shared[ins.output] = all(shared[s] for s in ins.inputs)
        needs[ins.output] = any(needs[s] for s in ins.inputs)
        layout = tuple(shared[s] for s in ins.inputs)
        key = (depth[ins.output], id(ins.op), len(ins.inputs), layout, shared[ins.output])
        keyed.setdefault(key, []).append(ins)
    # Rows of the two matrices: parameters, constants and shared results in the shared one
    # (the constants right after the parameters); inputs and batched results in the batched one.
    row = [s if s < n_params else s - n_params if s < n_params + n_inputs else s - n_inputs for s in range(n_leaf)]
    row += [0] * len(instructions)
    n_shared, n_batched = n_params + n_constants, n_inputs
    keys = sorted(keyed, key=lambda key: key[0])
    _order_for_consumers([keyed[key] for key in keys])
    groups: list[Group] = []
    for number, key in enumerate(keys):
        nodes = keyed[key]
        group = Group(nodes[0].op, nodes, shared=key[-1], number=number, n_leaf=n_leaf)
        start = n_shared if group.shared else n_batched
        group.rows = slice(start, start + len(nodes))
        if group.shared:
            n_shared += len(nodes)
        else:
            n_batched += len(nodes)
        for j, ins in enumerate(nodes):
            row[ins.output] = start + j
        group.needs_grad = any(needs[ins.output] for ins in nodes)
        groups.append(group)
    for group in groups:
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
    writers = _writers(groups, n_batched)
    for group in groups:
        if group.shared or not group.needs_grad or root_rows & set(range(group.start, group.stop)):
            continue
        found = {id(w[1]): w for r in range(group.start, group.stop) for w in writers[r]}
        if len(found) != 1 or any(len(writers[r]) != 1 for r in range(group.start, group.stop)):
            continue
        plan, who = next(iter(found.values()))
        if not (plan.plain and isinstance(plan.targets, slice) and plan.targets == group.rows):
            continue
        if isinstance(who, Matmul):
            who.x_handoff = group.number
        elif who is not None and who.reduce is Reduce.NONE:
            who.receiver = group.number
        else:
            continue
        group.receives = True
        for r in range(group.start, group.stop):
            writers[r] = []
    runs: list[slice] = []
    for r in (r for r in range(n_batched) if writers[r]):
        if runs and runs[-1].stop == r:
            runs[-1] = slice(runs[-1].start, r + 1)
        else:
            runs.append(slice(r, r + 1))
    return runs


def _writers(groups: list[Group], n_batched: int) -> list[list[tuple[Scatter, Matmul | DirectAdd | None]]]:
    """For each batched row, the (Scatter, who adds with it) that add gradients into it."""
    writers: list[list[tuple[Scatter, Matmul | DirectAdd | None]]] = [[] for _ in range(n_batched)]
    everything = np.arange(n_batched)
    for group in groups:
        mm = group.matmul
        plans: list[tuple[Scatter, Matmul | DirectAdd | None]]
        if mm is not None:
            plans = [] if mm.x_shared or mm.x_scatter is None else [(mm.x_scatter, mm)]
        else:
            plans = [(port.scatter, action) for port, action in group.actions
                     if not port.shared and port.scatter is not None]
        for plan, who in plans:
            for r in np.atleast_1d(everything[plan.targets]).tolist():
                writers[r].append((plan, who))
    return writers


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
    if group.shared and group.k == 1 and arity > 2:
        group.one_node = _one_node(group, row, needs)
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


def _one_node(group: Group, row: list[int], needs: list[bool]) -> OneNode:
    """A one-node shared group: its operands' rows, and the batched form of a sum or dot."""
    slots = group.nodes[0].inputs
    index = np.array([row[s] for s in slots], dtype=np.intp)
    name = group.op.name
    batched = None
    if OPS.get(name) is group.op and name in BATCHED and (name == "sum" or len(slots) % 2 == 0):
        batched = BATCHED[name]
    positions = [p for p, s in enumerate(slots) if needs[s]]
    scatter = None
    if group.needs_grad and positions:
        targets = index[positions]
        scatter = Scatter(np.arange(len(targets)), targets, len(targets))
    return OneNode(index, rows_of(index), positions, scatter, batched)


def _read(group: Group, p: int, row: list[int], shared: list[bool]) -> tuple[bool, Rows]:
    """(in the shared matrix?, its rows) of the group's operand at position p: one row when
    every node reads the same slot there (it broadcasts), a slice when the rows follow."""
    slots = [ins.inputs[p] for ins in group.nodes]
    if group.k > 1 and all(s == slots[0] for s in slots):
        slots = slots[:1]
    return shared[slots[0]], rows_of(np.array([row[s] for s in slots], dtype=np.intp))


def grid_of(index: IndexArray, n_rows: int) -> Grid | None:
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


def _matmul(group: Group, row: list[int], shared: list[bool], needs: list[bool], n_shared: int) -> Matmul | None:
    """The group as one matrix product, when it is `dot` rows whose weights are shared
    and whose other operand is read by every node alike (see docs/tape.md)."""
    if group.one_node is not None or group.op is not OPS.get("dot") or "dot" not in BATCHED:
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
        w_index = np.array([[row[s] for s in slots] for slots in w_slots], dtype=np.intp)
        plan = Matmul(w_index, x_index, x_shared, swapped, grid_of(w_index, n_shared), BATCHED["dot"])
        if group.needs_grad:
            plan.w_scatter = _needed(w_index.reshape(-1), [needs[s] for slots in w_slots for s in slots])
            if plan.w_scatter is not None and plan.w_scatter.plain:
                plan.w_scatter.grid = plan.w_grid  # every weight takes a gradient: added through the view
            plan.x_scatter = _needed(x_index, [needs[s] for s in x_slots])
        return plan
    return None


def _needed(index: IndexArray, keep: list[bool]) -> Scatter | None:
    """A Scatter of the rows of `index` whose slot needs a gradient (None if none does)."""
    mask = np.array(keep, dtype=bool)
    return Scatter(np.flatnonzero(mask), index[mask], len(index)) if mask.any() else None
