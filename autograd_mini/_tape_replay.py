"""One batch through a recorded tape: forward, backward and their errors, in one file.

`Replay.run` is the whole path of `Tape.forward` / `Tape.value_and_grad`
after the inputs are checked: write the batch and the parameters into the two
value matrices laid out by `_tape_schedule.schedule`, call every group's row of
`ops.OPS` on stacked operands (`op.forward`, then `op.vjp` in reverse: the chain
rule (1.5), gradients summed over consumers as in (1.8)), and return the
outputs and the parameters' gradients summed over the batch. A `matmul` group
runs the dot row's batched form `ops.BATCHED["dot"]` instead. No derivative math
lives here.

Errors read like the eager engine's, built by the same functions of
`autograd_mini.errors`, with where it happened appended: the example and the
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

from ._tape_schedule import Group, Port, Schedule
from .errors import AutogradMiniError, forward_error, gradient_error, rule_error
from .primitives import namespace


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
        self._buffers: dict[Any, tuple[Any, Any]] = {}
        self._previous: list[Any] = []
        self._grad_buffers: tuple[Any, Any] | None = None

    def run(self, batch: Any, params: Any, backward: bool) -> tuple[Any, Any]:
        """(outputs of shape (1 + n_extra, batch), d sum(losses) / d params or None), chunk by chunk.

        `batch` (n_inputs, batch) and `params` (P,) are float64 arrays of one namespace (numpy,
        or torch & co.: see `primitives.namespace`); the results are arrays of the same one.
        """
        xp = namespace(batch)
        b = batch.shape[1]
        # The last replay's temporaries are dropped only after this one made its own:
        # freeing them first would let malloc hand the heap's top back to the OS and
        # page-fault it in again on every step (measured: +60% on the moons step).
        previous, self._previous = self._previous, []
        grads = self._zeros(xp, (self.n_params,), batch) if backward else None
        parts = []
        for start in range(0, b, self.chunk_size):
            part = batch[:, start : start + self.chunk_size]
            saved = self._forward(part, params, start)
            self._previous.append(saved)
            if grads is not None:
                grads += self._backward(part.shape[1], saved, start)
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

    def _gradients(self, values: Any) -> tuple[Any, Any]:
        """The gradient matrices, zeroed; reused between replays (a fresh matrix per step
        would be page-faulted in again at every large batch)."""
        if self._grad_buffers is None or self._grad_buffers[0].shape != values.shape:
            xp = namespace(values)
            self._grad_buffers = (xp.zeros_like(values), self._zeros(xp, (self.n_shared,), values))
        else:
            for matrix in self._grad_buffers:
                matrix[...] = 0.0
        return self._grad_buffers

    def _outputs(self, b: int) -> Any:
        values, shared = self._current()
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
        with np.errstate(all="ignore"):
            for group in self.groups:
                if group.scalar:
                    if group.batched is not None:
                        column = shared[group.index]
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
                    w, x = shared[mm.w_index, 0], (shared if mm.x_shared else values)[mm.x_index]
                    block[group.start : group.stop] = mm.forward(w, x)
                    saved.append((w, x))
                    continue
                operands = gather(group, values, shared, b)
                op = group.op
                if op.valid is not None and not bool(xp.all(op.valid(*operands))):
                    if xp is not np:
                        raise NeedsNumpy
                    bad = ~np.broadcast_to(op.valid(*operands), (group.k, 1 if group.shared else b))
                    _raise_forward(group, operands, bad, offset, invalid=True)
                try:
                    block[group.start : group.stop] = op.forward(*operands)
                except TypeError as exc:
                    raise TypeError(
                        f"op {op.name!r}: its row does not run on numpy arrays ({exc}); rows must use "
                        "arithmetic and autograd_mini.primitives to be replayed by a tape"
                    ) from exc
                saved.append(operands)
        if not (_finite(values) and _finite(shared)):
            if xp is not np:
                raise NeedsNumpy
            self._raise_first_nonfinite(saved, offset)
        return saved

    def _raise_first_nonfinite(self, saved: list[Any], offset: int) -> None:
        values, shared = self._current()
        for group, operands in zip(self.groups, saved, strict=False):
            block = shared if group.shared else values
            bad = ~np.isfinite(block[group.start : group.stop])
            if bad.any():
                if group.scalar:
                    _scalar_forward(group, shared[group.index, 0].tolist())  # raises: its operands are finite
                if group.matmul is not None:
                    operands = gather(group, values, shared, values.shape[1])
                _raise_forward(group, operands, bad, offset, invalid=False)

    # --- backward -------------------------------------------------------------------------
    def _backward(self, b: int, saved: list[Any], offset: int, careful: bool = False) -> np.ndarray:
        """d(sum of the chunk's losses)/d param for each parameter."""
        values, shared = self._current()
        g_values, g_shared = self._gradients(values)
        kept: list[Any] = []
        self._previous.append(kept)
        root_shared, root_row = self.roots[0]
        if root_shared:
            g_shared[root_row] = float(b)  # shared gradients are kept summed over the batch
        else:
            g_values[root_row] = 1.0
        with np.errstate(all="ignore"):
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
                if group.shared:
                    g, out = g_shared[group.start : group.stop, None], shared[group.start : group.stop]
                else:
                    g, out = g_values[group.start : group.stop], values[group.start : group.stop]
                mm = group.matmul
                if mm is not None and not careful:
                    grads = mm.vjp(g, out, *operands)
                    kept.append(grads)
                    if mm.w_scatter is not None:
                        mm.w_scatter.add(g_shared, grads[0].reshape(-1))
                    if mm.x_scatter is not None:
                        dx = grads[1]
                        mm.x_scatter.add(g_shared if mm.x_shared else g_values, dx.reshape(-1) if mm.x_shared else dx)
                    continue
                if mm is not None:  # careful: the dot row itself, operand by operand
                    operands = gather(group, values, shared, b)
                grads = list(group.op.vjp(g, out, *operands))
                kept.append(grads)
                if careful:
                    grads = _checked_grads(group, g, out, operands, grads, offset)
                for port in group.ports:
                    if port.scatter is not None:
                        into = g_shared if port.shared else g_values
                        scatter(port, grads, g, into)
                        if careful:
                            _check_accumulated(group, port, into, grads, g, operands, offset)
        result = g_shared[: self.n_params]
        if not careful and not _finite(result):
            if not isinstance(result, np.ndarray):
                raise NeedsNumpy
            return self._backward(b, saved, offset, careful=True)
        return result


# --- gather and scatter -----------------------------------------------------------------------
def _concat(xp: Any, parts: list[Any], axis: int = 0) -> Any:
    """Join arrays along `axis` (numpy < 2 has no `concat`)."""
    return np.concatenate(parts, axis=axis) if xp is np else xp.concat(parts, axis=axis)


def _finite(array: Any) -> bool:
    """Every entry of `array` is finite (one reduction, in the array's namespace)."""
    return bool(namespace(array).isfinite(array).all())


def gather(group: Group, values: Any, shared: Any, b: int) -> list[Any]:
    """The group's operands, one (k or 1, batch or 1) array per position."""
    parts: list[Any] = []
    for port in group.ports:
        source = shared if port.shared else values
        rows = 1 if port.uniform else group.k
        parts.extend(source[port.take].reshape(len(port.positions), rows, source.shape[1]))
    if group.perm is None:
        return parts
    return [parts[i] for i in group.perm]


def scatter(port: Port, grads: list[Any], g: Any, into: Any) -> None:
    """Add the gradients of one port's positions into their slots."""
    picked = grads if port.everything else [grads[p] for p in port.positions]
    xp = namespace(g)
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
    port.scatter.add(into, block)


# --- one-node shared groups, on floats as the eager engine runs them --------------------------
def _scalar_forward(group: Group, datas: list[float]) -> float:
    """The row on floats, with the eager engine's checks and errors."""
    op = group.op
    try:
        if op.valid is not None and not op.valid(*datas):
            raise ValueError("outside the domain")
        data = float(op.forward(*datas))
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc, where=_where(group, 0, 0)) from None
    if not -np.inf < data < np.inf:
        raise forward_error(op, datas, result=data, where=_where(group, 0, 0))
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
        raise rule_error(op, datas, exc, where=_where(group, 0, 0)) from None
    picked = grads if len(group.positions) == len(grads) else [grads[p] for p in group.positions]
    if any(x is None for x in picked):
        picked = [0.0 if x is None else x for x in picked]
    block = np.array(picked, dtype=float)
    if not isinstance(g_shared, np.ndarray):
        block = namespace(g_shared).asarray(block, device=g_shared.device)
    group.scatter.add(g_shared, block)
    total = g_shared[group.scatter.targets]
    if not _finite(total):
        if not isinstance(total, np.ndarray):
            raise NeedsNumpy
        i = int(np.flatnonzero(~np.isfinite(np.atleast_1d(total)))[0])
        position = group.positions[i]
        raise gradient_error(op, datas, position, float(np.atleast_1d(total)[i]), where=_where(group, 0, 0))


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
    group.scatter.add(g_shared, block)


# --- errors: the eager engine's, with the example and the row appended ------------------------
def _where(group: Group, node: int, example: int) -> str:
    """Where in the batch a failure happened, for messages (examples and rows count from 0)."""
    row = group.row_of(node)
    if group.shared:
        return f" (row {row} of the tape, which does not depend on the example)"
    return f" at example {example} (row {row} of the tape)"


def _first_bad(operands: list[Any], bad: np.ndarray) -> tuple[int, int, list[float]]:
    """(node index in the group, example index, scalar operands) of the first bad entry."""
    bad = np.atleast_2d(bad)
    example = int(np.flatnonzero(bad.any(axis=0))[0])
    node = int(np.flatnonzero(bad[:, example])[0])
    datas = [float(x[min(node, x.shape[0] - 1), min(example, x.shape[1] - 1)]) for x in operands]
    return node, example, datas


def _raise_forward(group: Group, operands: list[Any], bad: np.ndarray, offset: int, invalid: bool) -> None:
    """Raise the eager engine's error for the first example where the group failed."""
    node, example, datas = _first_bad(operands, bad)
    op, where = group.op, _where(group, node, example + offset)
    if invalid:
        raise forward_error(op, datas, ValueError("outside the domain"), where=where) from None
    try:
        scalar = float(op.forward(*datas))
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc, where=where) from None
    if np.isfinite(scalar):  # math and numpy disagree at the edge: report numpy's result
        values = np.atleast_2d(op.forward(*operands))
        scalar = float(values[min(node, values.shape[0] - 1), min(example, values.shape[1] - 1)])
    raise forward_error(op, datas, result=scalar, where=where) from None


def _checked_grads(group: Group, g: np.ndarray, out: np.ndarray, operands: list[Any], grads: list[Any],
                   offset: int) -> list[Any]:
    """The careful path: the eager engine's skip of zero gradients, and its errors."""
    zero = g == 0.0  # the engine skips nodes whose gradient is 0, so 0 * inf never happens there
    checked = []
    for position, gx in enumerate(grads):
        if gx is not None:
            gx = np.where(zero, 0.0, gx)
            if not np.isfinite(gx).all():
                bad = ~np.isfinite(np.broadcast_to(gx, out.shape))
                node, example, datas = _first_bad(operands, bad)
                where = _where(group, node, example + offset)
                g_here = float(np.broadcast_to(g, out.shape)[node, example])
                try:
                    local = group.op.vjp(g_here, float(out[node, example]), *datas)
                except (ArithmeticError, ValueError) as exc:
                    raise rule_error(group.op, datas, exc, where=where) from None
                total = local[position] if np.isfinite(local[position]) else float(gx[bad][0])
                raise gradient_error(group.op, datas, position, float(total), where=where)
        checked.append(gx)
    return checked


def _check_accumulated(group: Group, port: Port, into: np.ndarray, grads: list[Any], g: np.ndarray,
                       operands: list[Any], offset: int) -> None:
    """After adding a port's gradients: the eager engine's check of every running sum.

    A shared target (a parameter) holds a sum over the batch; the example named is the
    first whose own contributions overflow. When only the sum over the batch does, the
    tape reports that once, at the end (`Tape._replay`).
    """
    assert port.scatter is not None
    total = into[port.scatter.targets]
    if np.isfinite(total).all():
        return
    targets = np.atleast_1d(np.arange(into.shape[0])[port.scatter.targets])
    bad_target = int(targets[np.flatnonzero((~np.isfinite(total)).reshape(len(targets), -1).any(axis=1))[0]])
    entries = np.flatnonzero(port.index == bad_target)
    rows = 1 if port.uniform else group.k
    if into.ndim == 2:  # a batched target: its row is per example already
        per_example = into[bad_target]
    else:
        picked = [np.zeros_like(g) if grads[p] is None else np.broadcast_to(grads[p], g.shape)
                  for p in port.positions]
        block = np.stack(picked)
        block = block.sum(axis=1, keepdims=True) if port.uniform else block
        per_example = np.cumsum(block.reshape(len(port.positions) * rows, -1)[entries], axis=0)[-1]
    bad = np.flatnonzero(~np.isfinite(per_example))
    if not len(bad):
        return
    example = int(bad[0])
    i = int(entries[0])
    position, node = port.positions[i // rows], i % rows
    datas = [float(x[min(node, x.shape[0] - 1), min(example, x.shape[1] - 1)]) for x in operands]
    raise gradient_error(group.op, datas, position, float(per_example[example]),
                         where=_where(group, node, example + offset))
