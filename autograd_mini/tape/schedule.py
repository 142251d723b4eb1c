"""The records a replay reads: a recorded program laid out in groups, made once at trace time.

`planner.schedule` builds them; `replay.Replay` runs them. A `Group` is one call of an
op's row on stacked operands (level scheduling); a `Port` reads operands with one index;
a `Scatter` adds gradient rows back into their slots, duplicates summed as (1.8) says.
The shortcuts they record (`DirectAdd`, `Matmul`, hand-overs) are described in docs/tape.md.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops import Op

IndexArray = np.ndarray[Any, np.dtype[np.intp]]
Rows = IndexArray | slice
"""What a matrix is indexed with to read some of its rows: a slice (a view) when they follow evenly."""


Grid = tuple[slice, tuple[int, int], slice]
"""(rows, shape, columns): matrix[rows].reshape(shape)[:, columns] is a layer's weights, as a view."""


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


def rows_of(index: IndexArray) -> Rows:
    """What to index a matrix with to read these rows: a slice when they are evenly spaced
    (consecutive, or every neuron's bias among its weights): a view, no copy of a (k, batch)
    block per group and step, and no fancy index; else the index itself."""
    if len(index) == 1:
        return slice(int(index[0]), int(index[0]) + 1)
    steps = np.diff(index)
    if len(index) and steps[0] > 0 and bool(np.all(steps == steps[0])):
        return slice(int(index[0]), int(index[-1]) + 1, None if steps[0] == 1 else int(steps[0]))
    return index


class Scatter:
    """How to add rows of a gradient block into their target rows, duplicates summed (1.8)
    (`replay.scatter_add` does it).

    Precomputed at trace time: keeps only rows whose target needs a gradient (`rows`, None
    for all of them in order), and either folds m repeats of the same targets (p * p reads
    each parameter twice: `fold` = m) or sorts rows by target so duplicates become segments
    for np.add.reduceat (`starts`; much faster than np.add.at).
    """

    __slots__ = ("rows", "targets", "starts", "sorted_targets", "fold", "grid")

    def __init__(self, rows: IndexArray, targets: IndexArray, n_rows: int) -> None:
        self.grid: Grid | None = None  # a layer's weights, added through a view (see Matmul)
        self.sorted_targets: IndexArray | None = None  # one per row: for namespaces without reduceat
        self.fold = 0
        self.starts: IndexArray | None = None
        distinct = len(np.unique(targets))
        if distinct < len(targets) and _repeats(targets, distinct):
            self.fold = len(targets) // distinct
            targets = targets[:distinct]
        elif distinct < len(targets):
            order = np.argsort(targets, kind="stable")
            rows, targets = rows[order], targets[order]
            self.sorted_targets = targets
            self.starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
            targets = targets[self.starts]
        identity = len(rows) == n_rows and bool(np.all(rows == np.arange(n_rows)))
        self.rows: IndexArray | None = None if identity else rows
        self.targets: Rows = targets
        if self.starts is None and len(targets):
            self.targets = rows_of(targets)  # a slice is cheaper than an index

    @classmethod
    def one_each(cls, targets: Rows) -> Scatter:
        """The plain Scatter: row i of a block is added to targets[i], as it is."""
        plan = cls.__new__(cls)
        plan.rows, plan.targets, plan.fold, plan.grid = None, targets, 0, None
        plan.starts = plan.sorted_targets = None
        return plan

    @property
    def plain(self) -> bool:
        """Every row goes to its own target, in order: the block can be added as it is."""
        return self.rows is None and self.starts is None and not self.fold


def _repeats(targets: IndexArray, distinct: int) -> bool:
    """`targets` is its first `distinct` entries (all different) repeated a whole number of times."""
    m = len(targets) // distinct
    return m * distinct == len(targets) and bool(np.array_equal(targets, np.tile(targets[:distinct], m)))


class Reduce(enum.Enum):
    """How a port's gradient block (k, batch) becomes what its targets hold."""

    NONE = "as is"  # batched targets, one per node
    BATCH = "sum over the batch"  # shared targets (parameters) of a batched group
    FLAT = "flatten"  # a shared group: one column already
    NODES = "sum over the nodes"  # one batched slot read by every node (uniform)
    ALL = "sum over both"  # one shared slot read by every node of a batched group

    def apply(self, gx: Any) -> Any:
        """The block reduced as this mode says."""
        if self is Reduce.BATCH:
            return gx.sum(axis=1)
        if self is Reduce.FLAT:
            return gx.reshape(-1)
        if self is Reduce.NODES:
            return gx.sum(axis=0, keepdims=True)
        if self is Reduce.ALL:
            return gx.sum().reshape(1)
        return gx


@dataclass
class DirectAdd:
    """A port whose gradient blocks go straight to their targets (no rows dropped, no
    duplicates, or several positions that read the same targets (p * p), summed): the rule's
    results are reduced (`reduce`) and added by `scatter` (one row per target, in order), or
    handed whole to the group `receiver` (see docs/tape.md, "hand-overs") instead."""

    positions: tuple[int, ...]
    reduce: Reduce
    scatter: Scatter
    receiver: int | None = None


class Port:
    """Operand positions of a group read from one matrix with one fancy index.

    shared:  reads the shared matrix (k or 1 rows, 1 column) or the batched one.
    uniform: every node of the group reads the same slot at these positions
             (a dot's inputs O_k, read by every neuron): gathered once as 1 row
             that broadcasts, and its gradient is summed over the group.
    """

    __slots__ = ("positions", "shared", "uniform", "index", "take", "scatter", "everything")

    def __init__(self, positions: list[int], shared: bool, uniform: bool, index: IndexArray) -> None:
        self.positions = positions
        self.shared = shared
        self.uniform = uniform
        self.index = index
        self.take = rows_of(index)
        self.scatter: Scatter | None = None  # None: no operand here leads to a parameter
        self.everything = False  # the port holds every position, in order

    def direct(self, group_shared: bool) -> DirectAdd | None:
        """The `DirectAdd` of this port, when its gradient blocks can be added as they are."""
        plan = self.scatter
        if plan is None or plan.rows is not None or plan.starts is not None:
            return None
        if plan.fold != (len(self.positions) if len(self.positions) > 1 else 0):
            return None
        if self.uniform:
            reduce = Reduce.ALL if self.shared else Reduce.NODES
        elif self.shared:
            reduce = Reduce.FLAT if group_shared else Reduce.BATCH
        else:
            reduce = Reduce.NONE
        return DirectAdd(tuple(self.positions), reduce, Scatter.one_each(plan.targets))


class Matmul:
    """A dot group as out = W @ X: W (k, n) from the shared matrix, X (n, batch or 1).

    w_index: (k, n) shared rows of the weights, node j's weight i at [j, i].
    x_index: (n,) rows of the operand read by every node; x_shared says which matrix.
    swapped: the weights are the dot's second half (dot(O, w) instead of dot(w, O)).
    w_grid:  the weights as a view of the shared matrix (`planner.grid_of`), or None.
    x_handoff: the group the dE/dx block is handed to whole, or None.
    """

    __slots__ = ("w_index", "x_index", "x_shared", "swapped", "w_scatter", "x_scatter", "forward", "vjp", "w_grid",
                 "x_handoff")

    def __init__(self, w_index: IndexArray, x_index: IndexArray, x_shared: bool, swapped: bool,
                 w_grid: Grid | None, batched: tuple[Callable[..., Any], Callable[..., Any]]) -> None:
        self.w_index, self.x_index, self.x_shared, self.swapped = w_index, rows_of(x_index), x_shared, swapped
        self.w_grid = w_grid
        self.x_handoff: int | None = None
        self.forward, self.vjp = batched
        self.w_scatter: Scatter | None = None
        self.x_scatter: Scatter | None = None


@dataclass
class OneNode:
    """How a one-node shared group of more than two operands runs (a sum over every parameter,
    say): on (1, 1) numpy arrays it would pay numpy's per-call overhead once per operand, so it
    runs on Python floats as the eager engine does or, a built-in sum or dot, on one (n, 1)
    array with its row's batched form (`batched`).

    index:     the operands' rows in the shared matrix (`take`: the same, a slice if it can be).
    positions: the operands a parameter reaches; `scatter` adds their gradients (None: none).
    """

    index: IndexArray
    take: Rows
    positions: list[int]
    scatter: Scatter | None
    batched: tuple[Callable[..., Any], Callable[..., Any]] | None


@dataclass(eq=False, slots=True)
class Group:
    """Instructions sharing op, arity, depth and operand layout: one row call.

    Its rows in its matrix (shared or batched) are `rows`; node j's tape row is
    `nodes[j].output - n_leaf`. The operands are read by `ports` (re-ordered by `perm`), or
    one by one through `reads` for rows of a few operands; gradients leave through each
    port's `Scatter` (`actions` pairs it with its `DirectAdd` shortcut, if any).
    A one-node shared group of more than two operands is read and run as its `one_node` says.
    """

    op: Op
    nodes: list[Instruction]
    shared: bool
    number: int = 0  # the group's index in the schedule
    n_leaf: int = 0
    rows: slice = field(default_factory=lambda: slice(0, 0))
    needs_grad: bool = False
    ports: list[Port] = field(default_factory=list)
    perm: list[int] | None = None
    reads: list[tuple[bool, Rows]] | None = None
    actions: list[tuple[Port, DirectAdd | None]] = field(default_factory=list)
    matmul: Matmul | None = None
    receives: bool = False  # its g comes whole from one later group (a hand-over)
    one_node: OneNode | None = None
    k: int = field(init=False)  # the number of nodes (rows); an attribute: read at every group and step

    @property
    def start(self) -> int:
        return int(self.rows.start)

    @property
    def stop(self) -> int:
        return int(self.rows.stop)

    def __post_init__(self) -> None:
        self.k = len(self.nodes)

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
