"""The explorer's delta-table rows: each neuron node's row of `delta_table(model, x, t)`, as text and typeset.

`explore(root, model=..., x=..., t=...)` shows a neuron node's row (net_j,
O_j, dE/dO_j, delta_j, (1.1)-(1.8)) in its details, only where the node's own
numbers are the table's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ...nn import MLP, NeuronDelta
from ...value import Value
from ..mathml import Formula, equation, mi, mn, mo, partial, plain, sub
from ..mathml import row as row_of
from ..neurons import nn_label
from .data import num


def delta_rows(model: MLP, x: Sequence[float], t: float | Sequence[float],
                neurons: dict[Value, str]) -> dict[Value, tuple[str, list[dict[str, Any]] | None]]:
    """Each neuron node's delta-table row as text and typeset (None: no row), where its numbers are the table's."""
    from ...nn.delta import delta_table  # the derivation's table needs nn; load it only when asked

    try:
        table = delta_table(model, x, t)
    except ValueError as exc:  # e.g. not a sigmoid network: say why instead of a row
        return {v: (f"no delta-table row: {exc}", None) for v in neurons}
    output_layer = table.rows[-1].layer
    rows = {}
    for v, neuron in neurons.items():
        try:
            row = table.row(neuron)
        except KeyError:
            continue
        text = _row_text(row, output_layer)
        typeset: list[dict[str, Any]] | None = _row_formulas(row, output_layer)
        parsed = nn_label(v.label)
        expected = {"net": row.net, "out": row.out}.get(parsed.part) if parsed is not None else None
        if expected is not None and not math.isclose(v.data, expected, rel_tol=1e-9, abs_tol=1e-12):
            text = (f"{neuron}: this node is {num(v.data)}, not the table's {num(expected)}: it belongs to a "
                    "forward pass at another input than the x given to explore, so the row is not shown")
            typeset = None
        rows[v] = (text, typeset)
    return rows


def _row_text(row: NeuronDelta, output_layer: int) -> str:
    """One NeuronDelta as lines citing the derivation's equations (`+ b_j` only for a neuron with a bias)."""
    if row.layer == output_layer:
        de_dout = f"dE/dO_j  = y_j - t_j = {num(row.dE_dout)}   (1.6)"
    else:
        de_dout = f"dE/dO_j  = sum_l delta_l w_jl = {num(row.dE_dout)}   (1.7), (1.8)"
    bias = "" if row.bias_grad is None else " + b_j"
    lines = [
        f"neuron {row.neuron} ({'output' if row.layer == output_layer else 'hidden'} layer {row.layer})",
        f"net_j    = sum_i w_ij O_i{bias} = {num(row.net)}   (1.1)",
        f"O_j      = phi(net_j) = {num(row.out)}   (1.2)",
        de_dout,
        f"delta_j  = dE/dO_j * O_j (1 - O_j) = {num(row.delta)}   (1.3)",
    ]
    lines += [f"dE/dw{i}   = delta_j * O_{i} = {num(g)}   (1.5)" for i, g in enumerate(row.weight_grads)]
    if row.bias_grad is not None:
        lines.append(f"dE/db    = delta_j = {num(row.bias_grad)}")
    return "\n".join(lines)


def _row_formulas(row: NeuronDelta, output_layer: int) -> list[dict[str, Any]]:
    """The row of `_row_text` typeset: one formula per line, with its equation number."""
    def line(f: Formula, eq: str) -> dict[str, Any]:
        return {"math": f, "text": plain(f), "eq": eq}

    j = str(row.index)
    de_do = partial(mi("E"), sub("O", j))
    if row.layer == output_layer:
        first = line(equation(de_do, row_of(sub("y", j), mo("−"), sub("t", j)), mn(row.dE_dout)), "(1.6)")
    else:
        first = line(equation(de_do, row_of(mo("Σ"), sub("δ", "l"), sub("w", f"{j}l")), mn(row.dE_dout)),
                     "(1.7), (1.8)")
    bias = [mo("+"), sub("b", j)] if row.bias_grad is not None else []
    found = [
        line(equation(sub("net", j), row_of(mo("Σ"), sub("w", f"i{j}"), sub("O", "i"), *bias), mn(row.net)), "(1.1)"),
        line(equation(sub("O", j), row_of(mi("φ"), mo("("), sub("net", j), mo(")")), mn(row.out)), "(1.2)"),
        first,
        line(equation(sub("δ", j), row_of(de_do, mo("·"), sub("O", j), mo("("), mn("1"), mo("−"), sub("O", j),
                                          mo(")")), mn(row.delta)), "(1.3)"),
    ]
    found += [line(equation(partial(mi("E"), sub("w", f"{i}{j}")), row_of(sub("δ", j), sub("O", str(i))), mn(g)),
                   "(1.5)") for i, g in enumerate(row.weight_grads)]
    if row.bias_grad is not None:
        found.append(line(equation(partial(mi("E"), sub("b", j)), sub("δ", j), mn(row.bias_grad)), "(1.5), O = 1"))
    return found
