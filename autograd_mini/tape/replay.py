"""One batch through a recorded tape: forward and backward, in one file.

`Replay.run` is the whole path of `Tape.forward` / `Tape.value_and_grad`
after the inputs are checked: write the batch and the parameters into the two
value matrices laid out by `_tape_schedule.schedule`, call every group's row of
`ops.OPS` on stacked operands (`op.forward`, then `op.vjp` in reverse: the chain
rule (1.5), gradients summed over consumers as in (1.8)), and return the
outputs and the parameters' gradients summed over the batch. A `matmul` group
runs the dot row's batched form `ops.BATCHED["dot"]` instead. No derivative math
lives here. On numpy, backward takes the shortcuts the schedule planned (direct
adds, gradients handed over whole); any surprise (a rule returning a number or
None) falls back to the general `scatter`, and the careful pass never uses them.
The arrays are numpy's, or those of the batch's own Array API namespace (torch
tensors stay torch tensors, on their device); a non-finite number there raises
`NeedsNumpy` and the tape re-runs the batch on numpy.

Errors read like the eager engine's (`_tape_errors`, built by the functions of
`autograd_mini.errors`), with where it happened appended: the example and the
row of the tape (the instruction's index). Forward results are checked once
per replay; if one is not finite, the first group (in order) that produced one
is found and the row re-run on floats for that example, as eager would.
Backward is checked once at the end; if a gradient is not finite, backward is
re-run with checks at every group and the eager engine's rule of skipping
nodes whose gradient is 0 (so 0 * inf never happens), raising what eager raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AutogradMiniError, forward_error, gradient_error, rule_error
from .failures import array_rule_error, check_accumulated, checked_grads, location, raise_forward
from .schedule import DirectAdd, Group, Port, Scatter, Schedule, rows_of


def namespace(x: Any) -> Any:
    """numpy for numpy arrays, scalars and lists; otherwise the array's Array API namespace:
    `x.__array_namespace__()`, array-api-compat's when it is installed (an optional
    dependency), or torch itself for a torch tensor (its functions cover what the replay uses)."""
    if type(x) is np.ndarray or isinstance(x, (np.ndarray, np.generic)):
        return np
    get = getattr(x, "__array_namespace__", None)
    if get is not None:
        return get()
    if type(x).__module__.startswith("torch"):
        try:
            import array_api_compat  # type: ignore[import-not-found]  # optional, and ships no types

            return array_api_compat.array_namespace(x)
        except ImportError:
            import torch

            return torch
    return np


def to_numpy(array: Any) -> np.ndarray[Any, Any]:
    """Another namespace's array (torch, on any device) as a numpy array."""
    for step in ("detach", "cpu"):
        if hasattr(array, step):
            array = getattr(array, step)()
    return np.asarray(array)


class NeedsNumpy(Exception):
    """A replay on another array namespace met a non-finite number: the tape re-runs the
    batch on numpy, whose careful path finds the example and row and raises the error."""


class Replay:
    """The value matrices of a tape and the loops that run its groups on them."""

    def __init__(self, plan: Schedule, n_params: int, n_inputs: int, constants: list[float]) -> None:
        self.groups = plan.groups
        self.roots = plan.roots
        self.n_params, self.n_inputs = n_params, n_inputs
        self.n_shared, self.n_batched = plan.n_shared, plan.n_batched
        self.constants = np.array(constants, dtype=float)
        self.chunk_size = plan.chunk_size
        self.added_rows = plan.added_rows
        self._buffers: dict[Any, tuple[Any, Any]] = {}
        self._previous: list[Any] = []
        self._grad_buffers: tuple[Any, Any] | None = None
        batched_roots = not any(s for s, _ in self.roots)
        self._root_rows = rows_of(np.array([r for _, r in self.roots], dtype=np.intp)) if batched_roots else None

    def run(self, batch: Any, params: Any, backward: bool) -> tuple[Any, Any]:
        """(outputs of shape (1 + n_extra, batch), d sum(losses) / d params or None), chunk by chunk.

        `batch` (n_inputs, batch) and `params` (P,) are float64 arrays of one namespace (numpy,
        or torch & co.: see `_arrays.namespace`); the results are arrays of the same one.
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
        return (parts[0] if len(parts) == 1 else _concat(xp, parts, axis=1)), grads

    @staticmethod
    def _zeros(xp: Any, shape: tuple[int, ...], like: Any) -> Any:
        """Zeros of float64 in `like`'s namespace and on its device."""
        if xp is np:
            return np.zeros(shape)
        return xp.zeros(shape, dtype=xp.float64, device=like.device)

    def _matrices(self, b: int, like: Any = None) -> tuple[Any, Any]:
        """The value matrices for batch size b (in `like`'s namespace), reused between replays."""
        key = (b, type(like), getattr(like, "device", None))
        if key not in self._buffers:
            xp = namespace(like) if like is not None else np
            values = self._zeros(xp, (self.n_batched, b), like)
            shared = self._zeros(xp, (self.n_shared, 1), like)
            shared[self.n_params : self.n_params + len(self.constants), 0] = (
                self.constants if xp is np else xp.asarray(self.constants, device=like.device))
            self._buffers = {key: (values, shared)}
            self._grad_buffers = None
        return self._buffers[key]

    def _current(self) -> tuple[Any, Any]:
        """The value matrices of the replay under way."""
        return next(iter(self._buffers.values()))

    def _gradients(self, values: Any, handing_over: bool = False) -> tuple[Any, Any]:
        """The gradient matrices, zeroed; reused between replays (a fresh matrix per step
        would be page-faulted in again at every large batch). `handing_over`: only the
        batched rows gradients are added into are zeroed (`Schedule.added_rows`)."""
        if self._grad_buffers is None or self._grad_buffers[0].shape != values.shape:
            xp = namespace(values)
            self._grad_buffers = (xp.zeros_like(values), self._zeros(xp, (self.n_shared,), values))
        elif handing_over:
            g_values, g_shared = self._grad_buffers
            for rows in self.added_rows:
                g_values[rows] = 0.0
            g_shared[...] = 0.0
        else:
            for matrix in self._grad_buffers:
                matrix[...] = 0.0
        return self._grad_buffers

    def _outputs(self, b: int) -> Any:
        values, shared = self._current()
        if self._root_rows is not None and type(values) is np.ndarray:  # all batched: one copy of their rows
            return values[self._root_rows].copy()
        xp = namespace(values)
        return xp.stack([xp.broadcast_to(shared[r, 0], (b,)) if s else values[r] for s, r in self.roots])

    # --- forward --------------------------------------------------------------------------
    def _forward(self, batch: Any, params: Any, offset: int) -> list[Any]:
        """Every group's row, in order; what backward needs of each is returned."""
        b = batch.shape[1]
        values, shared = self._matrices(b, batch)
        xp = namespace(values)
        shared[: self.n_params, 0] = params
        values[: self.n_inputs] = batch
        saved: list[Any] = []
        for group in self.groups:
            if group.scalar:
                if group.batched is not None:
                    column = shared[group.take]
                    shared[group.start] = _vector_forward(group, column)
                    saved.append(column)
                    continue
                column = shared[group.index, 0]
                datas = column.tolist()
                # A non-finite operand means an earlier group failed: the check after
                # the loop names that group, the first in order.
                shared[group.start, 0] = _scalar_forward(group, datas) if _finite(column) else float("nan")
                saved.append(datas)
                continue
            block = shared if group.shared else values
            mm = group.matmul
            if mm is not None:
                grid = mm.w_grid
                w = shared[mm.w_index, 0] if grid is None else shared[grid[0], 0].reshape(grid[1])[:, grid[2]]
                x = (shared if mm.x_shared else values)[mm.x_index]
                block[group.rows] = mm.forward(w, x)
                saved.append((w, x))
                continue
            reads = group.reads
            if reads is not None:
                operands = [(shared if in_shared else values)[rows] for in_shared, rows in reads]
            else:
                operands = gather(group, values, shared, b)
            op = group.op
            try:
                valid = True if op.valid is None else bool(xp.all(op.valid(*operands)))
            except (TypeError, ValueError) as exc:
                raise array_rule_error(op, "domain check", exc) from exc
            if not valid:
                if xp is not np:
                    raise NeedsNumpy
                bad = ~np.broadcast_to(op.valid(*operands), (group.k, 1 if group.shared else b))
                raise_forward(group, operands, bad, offset, invalid=True)
            try:
                block[group.rows] = op.forward(*operands)
            except (TypeError, ValueError) as exc:
                raise array_rule_error(op, "forward", exc) from exc
            saved.append(operands)
        if not (_finite(values) and _finite(shared)):
            if xp is not np:
                raise NeedsNumpy
            self._raise_first_nonfinite(saved, offset)
        return saved

    def _raise_first_nonfinite(self, saved: list[Any], offset: int) -> None:
        """Raise the error of the first group (in order) whose output is not finite."""
        values, shared = self._current()
        for group, operands in zip(self.groups, saved, strict=False):
            block = shared if group.shared else values
            bad = ~np.isfinite(block[group.start : group.stop])
            if bad.any():
                if group.scalar:  # its operands are finite: the float row raises, or numpy's sum overflowed
                    datas = shared[group.index, 0].tolist()
                    _scalar_forward(group, datas)
                    result = float(shared[group.start, 0])
                    raise forward_error(group.op, datas, result=result, where=location(group, 0, 0))
                if group.matmul is not None:
                    operands = gather(group, values, shared, values.shape[1])
                raise_forward(group, operands, bad, offset, invalid=False)

    # --- backward -------------------------------------------------------------------------
    def _backward(self, b: int, saved: list[Any], offset: int, careful: bool = False) -> np.ndarray:
        """d(sum of the chunk's losses)/d param for each parameter."""
        values, shared = self._current()
        xp = namespace(values)
        fast = not careful and xp is np  # rows handed over whole are not zeroed: see below
        g_values, g_shared = self._gradients(values, handing_over=fast)
        kept: list[Any] = []
        self._previous.append(kept)
        handoffs: dict[int, Any] = {}  # group number -> its g, handed over whole (_tape_schedule._hand_over)
        root_shared, root_row = self.roots[0]
        if root_shared:
            g_shared[root_row] = float(b)  # shared gradients are kept summed over the batch
        else:
            g_values[root_row] = 1.0
        for group, operands in zip(reversed(self.groups), reversed(saved), strict=True):
            if not group.needs_grad:
                continue
            if group.scalar:
                if group.batched is not None and not careful:
                    _vector_backward(group, operands, g_shared, shared[group.start])
                else:
                    datas = shared[group.index, 0].tolist()
                    _scalar_backward(group, datas, g_shared, float(shared[group.start, 0]))
                continue
            rows = group.rows
            if group.shared:
                g, out = g_shared[rows, None], shared[rows]
            else:
                g = handoffs.pop(group.number, None) if group.receives else None
                if g is None:
                    g = g_values[rows]
                out = values[rows]
            mm = group.matmul
            if mm is not None and not careful:
                grads = mm.vjp(g, out, *operands)
                kept.append(grads)
                grid = mm.w_grid
                if grid is not None and mm.w_whole:
                    g_shared[grid[0]].reshape(grid[1])[:, grid[2]] += grads[0]  # a view of g_shared
                elif mm.w_scatter is not None:
                    scatter_add(mm.w_scatter, g_shared, grads[0].reshape(-1))
                if mm.x_handoff is not None:
                    handoffs[mm.x_handoff] = grads[1]
                elif mm.x_scatter is not None:
                    dx = grads[1].reshape(-1) if mm.x_shared else grads[1]
                    scatter_add(mm.x_scatter, g_shared if mm.x_shared else g_values, dx)
                continue
            if mm is not None:  # careful: the dot row itself, operand by operand
                operands = gather(group, values, shared, b)
            try:
                grads = list(group.op.vjp(g, out, *operands))
            except (TypeError, ValueError) as exc:
                raise array_rule_error(group.op, "rule", exc) from exc
            kept.append(grads)
            if careful:
                grads = checked_grads(group, g, out, operands, grads, offset)
            if fast:
                for port, action in group.actions:
                    into = g_shared if port.shared else g_values
                    if action is None or not _add_direct(action, grads, g, into, handoffs):
                        if action is not None and action.receiver is not None:
                            into[action.targets] = 0.0  # rows meant to be handed over were not zeroed
                        scatter(port, grads, g, into, xp)
                continue
            for port in group.ports:
                if port.scatter is not None:
                    into = g_shared if port.shared else g_values
                    scatter(port, grads, g, into, xp)
                    if careful:
                        check_accumulated(group, port, into, grads, g, operands, offset)
        result = g_shared[: self.n_params]
        if not careful and not _finite(result):
            if not isinstance(result, np.ndarray):
                raise NeedsNumpy
            return self._backward(b, saved, offset, careful=True)
        return result


# --- gather and scatter -----------------------------------------------------------------------
def scatter_add(plan: Scatter, into: Any, block: Any) -> None:
    """into[plan's targets] += the rows of `block`, summed per target ((1.8))."""
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


def _concat(xp: Any, parts: list[Any], axis: int = 0) -> Any:
    """Join arrays along `axis` (numpy < 2 has no `concat`)."""
    return np.concatenate(parts, axis=axis) if xp is np else xp.concat(parts, axis=axis)


def _finite(array: Any) -> bool:
    """Every entry of `array` is finite (one reduction, in the array's namespace)."""
    if type(array) is np.ndarray:
        return bool(np.isfinite(array).all())
    return bool(namespace(array).isfinite(array).all())


def gather(group: Group, values: Any, shared: Any, b: int) -> list[Any]:
    """The group's operands, one (k or 1, batch or 1) array per position."""
    parts: list[Any] = []
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


def _add_direct(action: DirectAdd, grads: list[Any], g: Any, into: Any, handoffs: dict[int, Any]) -> bool:
    """`scatter` for a port whose gradient blocks go straight to its targets (see
    `schedule.DirectAdd`): the rule's results themselves, or their sums over the batch or the
    nodes, added up when several positions read the same targets (1.8), or handed over
    whole to the group that owns the targets. False (nothing added) when the rule
    returned something else than arrays of g's shape (None, a number, a broadcast row):
    `scatter` handles those."""
    total = None
    for position in action.positions:
        gx = grads[position]
        if type(gx) is not np.ndarray or gx.shape != g.shape:
            return False
        gx = action.reduce.apply(gx)
        total = gx if total is None else total + gx
    if action.receiver is not None:
        handoffs[action.receiver] = total
    else:
        into[action.targets] += total
    return True


def scatter(port: Port, grads: list[Any], g: Any, into: Any, xp: Any = np) -> None:
    """Add the gradients of one port's positions into their slots (arrays of namespace `xp`)."""
    picked = grads if port.everything else [grads[p] for p in port.positions]
    try:
        if len(picked) == 1 and picked[0].shape == g.shape:
            block = picked[0][None] if port.uniform else picked[0]
        else:
            block = xp.stack(picked) if port.uniform else _concat(xp, picked)
    except (AttributeError, TypeError, ValueError, RuntimeError):  # a None (not differentiable here) or a scalar
        picked = [xp.zeros_like(g) if x is None else xp.broadcast_to(x * xp.ones_like(g), g.shape) for x in picked]
        block = xp.stack(picked) if port.uniform else _concat(xp, picked)
    if port.uniform:
        block = block.sum(axis=(1, 2) if port.shared else 1)
    elif port.shared:
        block = block.sum(axis=1)
    assert port.scatter is not None
    scatter_add(port.scatter, into, block)


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


def _scalar_backward(group: Group, datas: list[float], g_shared: np.ndarray, out: float) -> None:
    """The row's rule on floats, as the eager engine applies it (skipped when g is 0)."""
    g = float(g_shared[group.start])
    if g == 0.0 or group.scatter is None:
        return
    op = group.op
    try:
        grads = op.vjp(g, out, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(op, datas, exc, where=location(group, 0, 0)) from None
    picked = grads if len(group.positions) == len(grads) else [grads[p] for p in group.positions]
    if any(x is None for x in picked):
        picked = [0.0 if x is None else x for x in picked]
    block = np.array(picked, dtype=float)
    if not isinstance(g_shared, np.ndarray):
        block = namespace(g_shared).asarray(block, device=g_shared.device)
    scatter_add(group.scatter, g_shared, block)
    total = g_shared[group.scatter.targets]
    if not _finite(total):
        if not isinstance(total, np.ndarray):
            raise NeedsNumpy
        i = int(np.flatnonzero(~np.isfinite(np.atleast_1d(total)))[0])
        position = group.positions[i]
        raise gradient_error(op, datas, position, float(np.atleast_1d(total)[i]), where=location(group, 0, 0))


def _vector_forward(group: Group, column: np.ndarray) -> np.ndarray:
    """A one-node sum or dot on its operands as one (n, 1) array (its row's batched form)."""
    forward = group.batched[0]  # type: ignore[index]
    if group.op.name == "sum":
        return forward(column)
    n = len(column) // 2
    return forward(column[:n].T, column[n:])[0]


def _vector_backward(group: Group, column: np.ndarray, g_shared: np.ndarray, out: np.ndarray) -> None:
    """`_scalar_backward` on one array: checked once at the end of backward, like a group."""
    g = g_shared[group.start : group.start + 1]
    if g[0] == 0.0 or group.scatter is None:
        return
    vjp = group.batched[1]  # type: ignore[index]
    if group.op.name == "sum":
        block = vjp(g, out, column)[0].reshape(-1)
    else:
        n = len(column) // 2
        dw, dx = vjp(g[:, None], out, column[:n].T, column[n:])
        block = _concat(namespace(dw), [dw.reshape(-1), dx.reshape(-1)])
    if len(group.positions) != len(block):
        block = block[group.positions]
    scatter_add(group.scatter, g_shared, block)
