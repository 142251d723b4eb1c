"""The explorer's forward-mode pass: each forward step also carries its node's tangent.

`explore(root, forward_mode=x)` seeds t_x = 1 and writes each forward step as
the chain rule read forwards, t_node = sum_i (d node / d input_i) t_i (the
derivation's "Forward mode" section), so the last forward step gives
t_root = d root / d x, the gradient backward() later leaves in x.grad. The
tangents come from one pass of `forward.node_tangents` (through
`paths.tangents`); the local derivatives shown are the table's rows with g = 1
(`engine.local_derivatives`), as the backward steps show them. Nothing here
writes to the graph.
"""

from __future__ import annotations

from typing import Any

from ...engine import local_derivatives
from ...value import Value
from ..dotgraph import number
from ..mathml import Formula, equation, mn, mo, mtext, plain, row, sub
from ..paths import tangents
from ..typeset import d as partial_of
from ..typeset import name as name_of
from .data import Walkthrough, num

EQ = "forward mode"  # shown beside each tangent formula (the derivation's section of that name)


def check_seed(root: Value, seed: object, order: list[Value]) -> Value:
    """`seed` as the Value the tangent pass starts at, or a TypeError/ValueError saying what is wrong."""
    if not isinstance(seed, Value):
        raise TypeError(f"explore: forward_mode must be a Value of the graph (the input to seed), "
                        f"got {type(seed).__name__}")
    if seed not in set(order):
        raise ValueError(f"explore: forward_mode={seed!r} is not in the graph of the root {root!r}")
    if not seed.requires_grad:
        raise ValueError(f"explore: forward_mode={seed!r} is a constant (requires_grad=False): backward() gives "
                         "it no gradient to compare its tangent with; seed a Value that requires grad")
    return seed


def add_tangents(w: Walkthrough, root: Value, order: list[Value], ids: dict[Value, str], seed: Value) -> None:
    """Give `w`'s forward steps the tangent pass seeded at `seed` (t_seed = 1), and say so at the start and end.

    Each node's info gets "tangent" (leaves at the start: 1 for the seed, 0 for
    the rest); each forward step gets "tangent" {its node: [shown, exact]}, a
    line and a formula t_node = sum_i local_i x t_i, and "contrib" local x t_i
    along each input edge that carries a tangent.
    """
    t = tangents(list(reversed(order)), seed)  # d node / d seed for every node, one forward-mode pass
    names = w.names
    seed_name = names[seed]
    for v in order:
        if v.op is None:  # known from the start, as the leaves' values are
            w.nodes[ids[v]]["tangent"] = _shown(t[v])
    by_id = {ids[v]: v for v in order}
    for step in w.steps[:w.backward_start]:
        v = by_id[step["node"]]
        step["title"] += f", with t = d {names[v]}/d {seed_name}"
        text, formula = _tangent_line(v, t, names, seed)
        step.setdefault("math", [None] * len(step["lines"]))
        step["lines"].append(text)
        step["math"].append(None if formula is None else {"math": formula, "text": plain(formula), "eq": EQ})
        step["tangent"] = {ids[v]: _shown(t[v])}
        if v is not seed:
            contrib = {}
            for x, local in zip(v.inputs, local_derivatives(v), strict=True):
                if local is not None and t[x] != 0.0:
                    contrib[ids[x]] = f"local×t = {number(float(local) * t[x])}"
            step["contrib"] = contrib
    done = w.steps[-1]
    gradient = _final_gradient(w, ids[seed])
    done["lines"].insert(1, f"Forward mode gave the same number in one pass inputs first: t_{names[root]} = "
                            f"d {names[root]}/d {seed_name} = {num(t[root])}; backward() gives {seed_name}.grad = "
                            f"{gradient}, and every other input's gradient in the same pass.")
    w.tangent_of = ids[seed]
    w.intro_extra = intro_lines(seed_name)


def intro_lines(seed_name: str) -> list[dict[str, Any]]:
    """The start's summary of the tangent pass: the seed and the chain rule read forwards."""
    seed = equation(sub("t", name_of(seed_name)), mn(1.0))
    rule = equation(sub("t", mtext("node")), row(mo("Σ"), mtext("\u00a0"), partial_of("node", "input"), mo("×"),
                                                 sub("t", mtext("input"))))
    return [{"math": seed, "text": plain(seed), "eq": "the seed"}, {"math": rule, "text": plain(rule), "eq": EQ}]


def _tangent_line(v: Value, t: dict[Value, float], names: dict[Value, str],
                  seed: Value) -> tuple[str, Formula | None]:
    """`t_n = 1 x t_a + 1 x t_b = 1 x -3 + 1 x 0 = -3`: the chain rule forwards at v, with its formula."""
    name = names[v]
    if v is seed:
        return (f"t_{name} = 1: the seed, d {name}/d {name} (forward mode holds its inputs fixed)",
                equation(sub("t", name_of(name)), mn(1.0)))
    if all(t[x] == 0.0 for x in v.inputs):
        return (f"t_{name} = 0: no input of {name} depends on {names[seed]} (no rule runs, as in jvp)",
                equation(sub("t", name_of(name)), mn(0.0)))
    symbols: list[Formula] = []
    numbers: list[Formula] = []
    sym_text, num_text = [], []
    for x, local in zip(v.inputs, local_derivatives(v), strict=True):
        if local is None:  # an input the op declares not differentiable carries nothing forward
            continue
        if symbols:
            symbols.append(mo("+"))
            numbers.append(mo("+"))
        symbols += [mn(float(local)), mo("×"), sub("t", name_of(names[x]))]
        numbers += [mn(float(local)), mo("×"), mn(t[x])]
        sym_text.append(f"{num(float(local))} x t_{names[x]}")
        num_text.append(f"{num(float(local))} x {num(t[x])}")
    text = f"t_{name} = {' + '.join(sym_text)} = {' + '.join(num_text)} = {num(t[v])}   (forward mode)"
    return text, equation(sub("t", name_of(name)), row(*symbols), row(*numbers), mn(t[v]))


def _final_gradient(w: Walkthrough, seed_id: str) -> str:
    """The seed's gradient as the last step shows it (the gradients backward() leaves)."""
    final = {n: g for s in w.steps for n, g in s["grad"].items()}
    return str(final[seed_id][0]) if seed_id in final else "0"


def _shown(x: float) -> list[str]:
    """[display text, exact text]: the page shows the first, data-tangent carries the second."""
    x = float(x)
    return [number(x), repr(x)]
