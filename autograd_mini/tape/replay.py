"""One batch through a recorded tape, forward and backward, group by group.

`Replay.run` writes the batch and the parameters into two value matrices laid out by
`planner.schedule`, calls every group's row of `ops.OPS` on stacked operands (`op.forward`,
then `op.vjp` in reverse: (1.5), each gradient added by `accumulate`, summed as in (1.8)),
and returns the outputs and the parameters' gradients summed over the batch. It computes
what `reference.reference_replay` does, by groups; docs/tape.md says how and why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AutogradMiniError, forward_error, gradient_error, rule_error
from .arrays import Array, Buffers, concat, finite, namespace
from .failures import array_rule_error, check_accumulated, checked_grads, location, raise_forward
from .schedule import DirectAdd, Group, Matmul, OneNode, Port, Reduce, Scatter, Schedule, rows_of


class NeedsNumpy(Exception):
    """A replay on another array namespace met a non-finite number: the tape re-runs the
    batch on numpy, whose careful path finds the example and row and raises the error."""


class Replay:
    """The value matrices of a tape and the loops that run its groups on them."""

    def __init__(self, plan: Schedule, n_params: int, n_inputs: int, constants: list[float]) -> None:
        self.groups = plan.groups
        self.roots = plan.roots
        self.n_params, self.n_inputs = n_params, n_inputs
        self.chunk_size = plan.chunk_size
        self.buffers = Buffers(plan, n_params, constants)
        self._previous: list[Any] = []
        batched_roots = not any(s for s, _ in self.roots)
        self._root_rows = rows_of(np.array([r for _, r in self.roots], dtype=np.intp)) if batched_roots else None

    def run(self, batch: Array, params: Array, backward: bool) -> tuple[Array, Array | None]:
        """(outputs of shape (1 + n_extra, batch), d sum(losses) / d params or None), chunk by chunk.

        `batch` (n_inputs, batch) and `params` (P,) are float64 arrays of one namespace (numpy,
        or torch & co.: see `namespace`); the results are arrays of the same one.
        """
        xp = namespace(batch)
        b = batch.shape[1]
        # The last replay's temporaries are dropped only after this one made its own:
        # freeing them first would let malloc hand the heap's top back to the OS and
        # page-fault it in again on every step (measured: +60% on the moons step).
        previous, self._previous = self._previous, []
        grads = None
        parts = []
        with np.errstate(all="ignore"):  # non-finite numbers are checked for, once per pass
            for start in range(0, b, self.chunk_size):
                part = batch if b <= self.chunk_size else batch[:, start : start + self.chunk_size]
                saved = self._forward(part, params, start)
                self._previous.append(saved)
                if backward:
                    chunk = self._backward(part.shape[1], saved, start)  # a view of a reused buffer
                    grads = chunk * 1.0 if grads is None else grads + chunk
                parts.append(self._outputs(part.shape[1]))
                del self._previous[:-2]  # chunked: only the latest chunk's temporaries stay alive
        del previous
        return (parts[0] if len(parts) == 1 else concat(xp, parts, axis=1)), grads

    def _outputs(self, b: int) -> Array:
        values, shared = self.buffers.current()
        if self._root_rows is not None and type(values) is np.ndarray:  # all batched: one copy of their rows
            return values[self._root_rows].copy()
        xp = namespace(values)
        return xp.stack([xp.broadcast_to(shared[r, 0], (b,)) if s else values[r] for s, r in self.roots])

    def _forward(self, batch: Array, params: Array, offset: int) -> list[Any]:
        """Every group's row, in order; what backward needs of each is returned."""
        b = batch.shape[1]
        values, shared = self.buffers.values(b, batch)
        xp = namespace(values)
        shared[: self.n_params, 0] = params
        values[: self.n_inputs] = batch
        saved: list[Any] = []
        for group in self.groups:
            if group.one_node is not None:
                saved.append(_forward_one_node(group, group.one_node, shared))
            elif group.matmul is not None:
                saved.append(_forward_matmul(group, group.matmul, values, shared))
            else:
                saved.append(_forward_rows(group, values, shared, offset))
        if not (finite(values) and finite(shared)):
            if xp is not np:
                raise NeedsNumpy
            self._raise_first_nonfinite(saved, offset)
        return saved

    def _raise_first_nonfinite(self, saved: list[Any], offset: int) -> None:
        """Raise the error of the first group (in order) whose output is not finite."""
        values, shared = self.buffers.current()
        for group, operands in zip(self.groups, saved, strict=False):
            bad = ~np.isfinite((shared if group.shared else values)[group.rows])
            if bad.any():
                if group.one_node is not None:  # finite operands: the float row raises, or numpy's sum overflowed
                    datas = shared[group.one_node.index, 0].tolist()
                    _scalar_forward(group, datas)
                    result = float(shared[group.start, 0])
                    raise forward_error(group.op, datas, result=result, where=location(group, 0, 0))
                if group.matmul is not None:
                    operands = gather(group, values, shared, values.shape[1])
                raise_forward(group, operands, bad, offset, invalid=False)

    def _backward(self, b: int, saved: list[Any], offset: int, careful: bool = False) -> Array:
        """d(sum of the chunk's losses)/d param for each parameter. `careful`: the eager engine's
        checks at every group (after a non-finite gradient), and no shortcut."""
        values, shared = self.buffers.current()
        xp = namespace(values)
        fast = not careful and xp is np  # rows handed over whole are not zeroed: see Buffers.gradients
        g_values, g_shared = self.buffers.gradients(values, handing_over=fast)
        kept: list[Any] = []  # the rules' results live until the next replay (see run)
        self._previous.append(kept)
        handoffs: dict[int, Array] = {}  # group number -> its g, handed over whole (docs/tape.md)
        root_shared, root_row = self.roots[0]
        if root_shared:
            g_shared[root_row] = float(b)  # shared gradients are kept summed over the batch
        else:
            g_values[root_row] = 1.0
        for group, operands in zip(reversed(self.groups), reversed(saved), strict=True):
            if not group.needs_grad:
                continue
            if group.one_node is not None:
                _backward_one_node(group, group.one_node, operands, g_shared, shared, careful)
                continue
            g = handoffs.pop(group.number, None) if group.receives else None
            if g is None:
                g = g_shared[group.rows, None] if group.shared else g_values[group.rows]
            out = (shared if group.shared else values)[group.rows]
            if group.matmul is not None and not careful:
                kept.append(_backward_matmul(group.matmul, g, out, operands, g_values, g_shared, handoffs))
                continue
            if group.matmul is not None:  # careful: the dot row itself, operand by operand
                operands = gather(group, values, shared, b)
            try:
                grads = list(group.op.vjp(g, out, *operands))  # the row's rule on stacked arrays
            except (TypeError, ValueError) as exc:
                raise array_rule_error(group.op, "rule", exc) from exc
            kept.append(grads)
            if careful:
                grads = checked_grads(group, g, out, operands, grads, offset)
            for port, action in group.actions:
                into = g_shared if port.shared else g_values
                if fast and action is not None and _add_direct(action, grads, g, into, handoffs):
                    continue
                if fast and action is not None and action.receiver is not None:
                    into[action.scatter.targets] = 0.0  # rows meant to be handed over were not zeroed
                scatter(port, grads, g, into, xp)
                if careful:
                    check_accumulated(group, port, into, grads, g, operands, offset)
        result = g_shared[: self.n_params]
        if not careful and not finite(result):
            if not isinstance(result, np.ndarray):
                raise NeedsNumpy
            return self._backward(b, saved, offset, careful=True)
        return result


# --- the kinds of group: forward ------------------------------------------------------------------
def _forward_rows(group: Group, values: Array, shared: Array, offset: int) -> list[Array]:
    """The row on stacked operands (k or 1, batch or 1); returns the operands."""
    reads = group.reads
    if reads is not None:
        operands = [(shared if in_shared else values)[rows] for in_shared, rows in reads]
    else:
        operands = gather(group, values, shared, values.shape[1])
    op, check = group.op, group.op.valid
    if check is not None:
        try:
            inside = check(*operands)
            valid = bool(namespace(values).all(inside))
        except (TypeError, ValueError) as exc:
            raise array_rule_error(op, "domain check", exc) from exc
        if not valid:
            if type(values) is not np.ndarray:
                raise NeedsNumpy
            bad = ~np.broadcast_to(inside, (group.k, 1 if group.shared else values.shape[1]))
            raise_forward(group, operands, bad, offset, invalid=True)
    try:
        (shared if group.shared else values)[group.rows] = op.forward(*operands)
    except (TypeError, ValueError) as exc:
        raise array_rule_error(op, "forward", exc) from exc
    return operands


def _forward_matmul(group: Group, mm: Matmul, values: Array, shared: Array) -> tuple[Array, Array]:
    """A layer's dot rows as one product W @ X (the dot row's batched form); returns (W, X)."""
    grid = mm.w_grid
    w = shared[mm.w_index, 0] if grid is None else shared[grid[0], 0].reshape(grid[1])[:, grid[2]]
    x = (shared if mm.x_shared else values)[mm.x_index]
    (shared if group.shared else values)[group.rows] = mm.forward(w, x)
    return w, x


def _forward_one_node(group: Group, one: OneNode, shared: Array) -> Any:
    """A one-node shared row on Python floats as the eager engine runs it (a sum or dot: on one
    array with its batched form, not once per operand); returns its operands."""
    if one.batched is not None:
        column = shared[one.take]
        shared[group.rows.start] = _vector_forward(group, one, column)
        return column
    column = shared[one.index, 0]
    datas = column.tolist()
    # A non-finite operand means an earlier group failed: the check after the loop names that group.
    shared[group.rows.start, 0] = _scalar_forward(group, datas) if finite(column) else float("nan")
    return datas


# --- the kinds of group: backward -----------------------------------------------------------------
def _backward_matmul(mm: Matmul, g: Array, out: Array, operands: tuple[Array, Array], g_values: Array,
                     g_shared: Array, handoffs: dict[int, Array]) -> tuple[Array, Array]:
    """dE/dW = g @ X.T into the weights, dE/dX = W.T @ g into X or handed over (the batched form of (1.5))."""
    dw, dx = mm.vjp(g, out, *operands)
    if mm.w_scatter is not None:
        accumulate(g_shared, mm.w_scatter, dw)
    if mm.x_handoff is not None:
        handoffs[mm.x_handoff] = dx
    elif mm.x_scatter is not None:
        accumulate(g_shared if mm.x_shared else g_values, mm.x_scatter, dx)
    return dw, dx


def _backward_one_node(group: Group, one: OneNode, operands: Any, g_shared: Array, shared: Array,
                       careful: bool) -> None:
    row = group.rows.start
    if one.batched is not None and not careful:
        _vector_backward(group, one, operands, g_shared, shared[row])
    else:
        _scalar_backward(group, one, shared[one.index, 0].tolist(), g_shared, float(shared[row, 0]))


# --- gather, and the one accumulate ---------------------------------------------------------------
def gather(group: Group, values: Array, shared: Array, b: int) -> list[Array]:
    """The group's operands, one (k or 1, batch or 1) array per position."""
    parts: list[Array] = []
    for port in group.ports:
        source = shared if port.shared else values
        if len(port.positions) == 1:  # (k or 1, batch) already: no reshape, no iteration
            parts.append(source[port.take])
            continue
        rows = 1 if port.uniform else group.k
        parts.extend(source[port.take].reshape(len(port.positions), rows, source.shape[1]))
    if group.perm is None:
        return parts
    return [parts[i] for i in group.perm]


def accumulate(into: Array, plan: Scatter, block: Array) -> None:
    """into[plan's targets] += the rows of `block`, summed per target: (1.8), and the only
    place the replay adds a gradient. Shared targets (1-D `into`) take a flattened block."""
    if plan.grid is not None:  # a layer's weights, through a view of the shared matrix
        into[plan.grid[0]].reshape(plan.grid[1])[:, plan.grid[2]] += block
        return
    if into.ndim == 1 and block.ndim > 1:
        block = block.reshape(-1)
    if plan.rows is not None:
        block = block[plan.rows]
    if plan.fold:
        block = block.reshape((plan.fold, -1) + tuple(block.shape[1:])).sum(axis=0)
    elif plan.starts is not None:
        if not isinstance(block, np.ndarray):  # torch & co.: their index_add_ sums duplicates
            xp = namespace(into)
            into.index_add_(0, xp.asarray(plan.sorted_targets, device=into.device), block)
            return
        block = np.add.reduceat(block, plan.starts, axis=0)
    into[plan.targets] += block


def _add_direct(action: DirectAdd, grads: list[Any], g: Array, into: Array, handoffs: dict[int, Array]) -> bool:
    """`scatter` for a port whose blocks go straight to their targets (`schedule.DirectAdd`):
    each block reduced, summed over the positions (p * p), then added or handed over whole.
    False (nothing added) when the rule returned anything but arrays of g's shape."""
    total = None
    for position in action.positions:
        gx = grads[position]
        if type(gx) is not np.ndarray or gx.shape != g.shape:
            return False
        if action.reduce is not Reduce.NONE:
            gx = action.reduce.apply(gx)
        total = gx if total is None else total + gx
    if action.receiver is not None:
        handoffs[action.receiver] = total
    else:
        accumulate(into, action.scatter, total)
    return True


def scatter(port: Port, grads: list[Any], g: Array, into: Array, xp: Any = np) -> None:
    """Add the gradients of one port's positions into their slots (arrays of namespace `xp`)."""
    picked = grads if port.everything else [grads[p] for p in port.positions]
    try:
        if len(picked) == 1 and picked[0].shape == g.shape:
            block = picked[0][None] if port.uniform else picked[0]
        else:
            block = xp.stack(picked) if port.uniform else concat(xp, picked)
    except (AttributeError, TypeError, ValueError, RuntimeError):  # a None (not differentiable here) or a scalar
        picked = [xp.zeros_like(g) if x is None else xp.broadcast_to(x * xp.ones_like(g), g.shape) for x in picked]
        block = xp.stack(picked) if port.uniform else concat(xp, picked)
    if port.uniform:
        block = block.sum(axis=(1, 2) if port.shared else 1)
    elif port.shared:
        block = block.sum(axis=1)
    assert port.scatter is not None
    accumulate(into, port.scatter, block)


# --- one-node shared groups, on floats as the eager engine runs them --------------------------
def _scalar_forward(group: Group, datas: list[float]) -> float:
    """The row on floats, with the eager engine's checks and errors."""
    op = group.op
    try:
        if op.valid is not None and not op.valid(*datas):
            raise ValueError("outside the domain")
        data = float(op.forward(*datas))
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc, where=location(group, 0, 0)) from None
    if not -np.inf < data < np.inf:
        raise forward_error(op, datas, result=data, where=location(group, 0, 0))
    return data


def _scalar_backward(group: Group, one: OneNode, datas: list[float], g_shared: Array, out: float) -> None:
    """The row's rule on floats, as the eager engine applies it (skipped when g is 0)."""
    g = float(g_shared[group.rows.start])
    if g == 0.0 or one.scatter is None:
        return
    op = group.op
    try:
        grads = op.vjp(g, out, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(op, datas, exc, where=location(group, 0, 0)) from None
    picked = grads if len(one.positions) == len(grads) else [grads[p] for p in one.positions]
    block = np.array([0.0 if x is None else x for x in picked], dtype=float)
    if not isinstance(g_shared, np.ndarray):
        block = namespace(g_shared).asarray(block, device=g_shared.device)
    accumulate(g_shared, one.scatter, block)
    total = g_shared[one.scatter.targets]
    if not finite(total):
        if not isinstance(total, np.ndarray):
            raise NeedsNumpy
        i = int(np.flatnonzero(~np.isfinite(np.atleast_1d(total)))[0])
        position = one.positions[i]
        raise gradient_error(op, datas, position, float(np.atleast_1d(total)[i]), where=location(group, 0, 0))


def _vector_forward(group: Group, one: OneNode, column: Array) -> Array:
    """A one-node sum or dot on its operands as one (n, 1) array (its row's batched form)."""
    assert one.batched is not None
    forward = one.batched[0]
    if group.op.name == "sum":
        return forward(column)
    n = len(column) // 2
    return forward(column[:n].T, column[n:])[0]


def _vector_backward(group: Group, one: OneNode, column: Array, g_shared: Array, out: Array) -> None:
    """`_scalar_backward` on one array: checked once at the end of backward, like a group."""
    g = g_shared[group.rows.start : group.rows.stop]
    if g[0] == 0.0 or one.scatter is None or one.batched is None:
        return
    vjp = one.batched[1]
    if group.op.name == "sum":
        block = vjp(g, out, column)[0].reshape(-1)
    else:
        n = len(column) // 2
        dw, dx = vjp(g[:, None], out, column[:n].T, column[n:])
        block = concat(namespace(dw), [dw.reshape(-1), dx.reshape(-1)])
    if len(one.positions) != len(block):
        block = block[one.positions]
    accumulate(g_shared, one.scatter, block)
