"""The plain replay of a tape: one instruction at a time, each slot an array over the batch.

Gather an instruction's operands, run its row's forward; then, in reverse, run its
row's vjp and add each gradient into its operand's slot, summed over consumers as in
(1.8): the chain rule (1.5) on every example at once. `replay.Replay` computes the same
numbers faster, by groups (see docs/tape.md); the tests hold it to this one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .schedule import Instruction

FloatArray = npt.NDArray[np.float64]


def reference_replay(
    instructions: Sequence[Instruction],
    roots: Sequence[int],
    leaves: Sequence[FloatArray],
    n_params: int,
) -> tuple[FloatArray, FloatArray]:
    """(outputs (len(roots), batch), d sum(losses) / d params (n_params,)).

    `leaves` holds one array of shape (batch,) per leaf slot: the parameters, the
    inputs and the constants, in slot order. The loss is roots[0].
    """
    batch = leaves[0].shape[0] if leaves else 1
    values: list[FloatArray] = [np.asarray(x, dtype=float) for x in leaves]
    with np.errstate(all="ignore"):
        for ins in instructions:  # forward, in topological order: gather, row forward
            out = ins.op.forward(*(values[s] for s in ins.inputs))
            values.append(np.broadcast_to(np.asarray(out, dtype=float), (batch,)))
        grads = [np.zeros(batch) for _ in values]
        grads[roots[0]] = np.ones(batch)
        for ins in reversed(instructions):  # backward: row vjp, scatter into each operand (1.8)
            operands = [values[s] for s in ins.inputs]
            local = ins.op.vjp(grads[ins.output], values[ins.output], *operands)
            for s, gx in zip(ins.inputs, local, strict=True):
                if gx is not None:
                    grads[s] = grads[s] + gx
    outputs = np.stack([values[r] for r in roots])
    return outputs, np.array([grads[p].sum() for p in range(n_params)])
