"""The explorer's data: both passes of a graph as steps, every number computed here.

Forward steps, one per op node inputs first (the `.data` the op computed);
backward steps, one per node in the engine's backward order, each input's local
derivative (`engine.local_derivatives`), the contribution the row's vjp returns
(g x local, (1.5)) and the running sum (1.8); per node its rule in words, its
`explain` report and its delta-table row. Nothing here writes to the graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ...engine import backward_order, gradients, local_derivatives
from ...value import Value
from ..derivation import describe_node
from ..dotgraph import number  # as the graph's boxes show it
from ..explain import explain
from ..mathml import Formula, equation, mi, mn, mo, mtext, plain, row
from ..typeset import d as partial_of
from ..typeset import lines as typeset_lines
from ..typeset import name as name_of

# The rule of each op in words, for the details panel. The numbers always come from
# the op's row (ops.py); these sentences only say in the derivation's words what it does.
RULES = {
    "add": "x + y: d/dx = 1 and d/dy = 1, so g passes unchanged to both inputs",
    "sub": "x - y: d/dx = 1 and d/dy = -1",
    "mul": "x * y: d/dx = y and d/dy = x, so each input gets g times the other input",
    "div": "x / y: d/dx = 1/y and d/dy = -x/y^2",
    "neg": "-x: d/dx = -1",
    "pow": "x ** n for a number n: d/dx = n x^(n-1); n is a constant of the op",
    "pow_value": "x ** y: d/dx = y x^(y-1) and d/dy = x^y log x",
    "sum": "x_1 + ... + x_n: every input gets g unchanged",
    "dot": "net = sum_k w_k O_k, (1.1): d net/d w_k = O_k and d net/d O_k = w_k",
    "exp": "e^x: d/dx = e^x, the node's own value",
    "log": "log x: d/dx = 1/x",
    "sqrt": "sqrt x: d/dx = 1/(2 sqrt x)",
    "abs": "|x|: d/dx = sign(x)",
    "tanh": "tanh x: d/dx = 1 - tanh(x)^2",
    "sigmoid": "O = 1/(1 + e^-net), (1.2): dO/dnet = O (1 - O), (1.3)",
    "relu": "max(0, x): d/dx = 1 for x > 0, else 0",
    "step": "step(x): piecewise constant, no gradient flows through it",
    "sign": "sign(x): piecewise constant, no gradient flows through it",
    "squared_error": "E = 1/2 (t - y)^2, (1.4): dE/dy = y - t, (1.6), and dE/dt = t - y",
}
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "pow_value": "**"}
_SHOWN_OPERANDS = 6
_SHOWN_LEAVES = 12


def num(x: float) -> str:
    """A number in the step texts (6 significant digits, as `explain` does)."""
    return f"{x:.6g}"


@dataclass
class Walkthrough:
    """Everything the page shows, as JSON-ready dicts of text."""

    names: dict[Value, str]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    backward_start: int = 0
    tangent_of: str | None = None  # the node a forward-mode pass is seeded at (`forward_mode.add_tangents`)
    intro_extra: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        found = {"nodes": self.nodes, "steps": self.steps, "backwardStart": self.backward_start,
                 "intro": intro() + self.intro_extra}
        if self.tangent_of is not None:
            found["tangentOf"] = self.tangent_of
        return found


def walkthrough(root: Value, order: list[Value], ids: dict[Value, str], names: dict[Value, str],
                neurons: dict[Value, str], delta_rows: dict[Value, str],
                examples: dict[Value, int] | None = None) -> Walkthrough:
    """The steps of both passes over `order` (inputs first), with each node's details.

    `ids` are the DOT node names (n0, n1, ...), `names` what texts call a node,
    `neurons` maps nodes to their neuron ("L1.N0"), `delta_rows` nodes to the
    text of their neuron's delta-table row and `examples` nodes to the example
    (forward pass) they belong to, in a loss summed over several.
    """
    examples = examples or {}
    # The engine's own pass first: it raises the engine's typed error if backward would fail.
    gradients(root, order)
    w = Walkthrough(names)
    for v in order:
        w.nodes[ids[v]] = _node_info(root, v, names, neurons, delta_rows, examples.get(v))
    ops_in_order = [v for v in order if v.op is not None]
    for k, v in enumerate(ops_in_order, 1):
        w.steps.append(_forward_step(v, k, len(ops_in_order), ids, names, examples.get(v)))
    w.backward_start = len(w.steps)
    w.steps += _backward_steps(root, ids, names, examples)
    w.steps.append(_final_step(root, order, ids, names, w.steps))
    _add_tones(w.steps)
    return w


def _add_tones(steps: list[dict[str, Any]]) -> None:
    """Give each step's gradients their tone ("pos1".."pos4", "neg1".."neg4", "zero"): its sign, and its size
    in quarters of the largest |gradient| of the graph, which the page fills the node's box with."""
    largest = max((abs(float(g[1])) for s in steps for g in s["grad"].values()
                   if math.isfinite(float(g[1]))), default=0.0)
    for s in steps:
        s["tone"] = {node: tone(float(g[1]), largest) for node, g in s["grad"].items()}


def tone(x: float, largest: float) -> str:
    """"pos1".."pos4", "neg1".."neg4" or "zero": x's sign and its size in quarters of `largest`."""
    if x == 0 or math.isnan(x) or largest == 0:
        return "zero"
    if not math.isfinite(x):
        return "pos4" if x > 0 else "neg4"
    return ("pos" if x > 0 else "neg") + str(min(4, 1 + int(4 * abs(x) / largest * 0.999)))


def _forward_text(v: Value, names: dict[Value, str]) -> str:
    """`name = a * b = 2 * 3 = 6`: the op's forward with input names, then values."""
    assert v.op is not None
    name, op, xs = names[v], v.op, v.inputs
    infix = _INFIX.get(op.name)
    if infix is not None and len(xs) == 2:
        return f"{name} = {names[xs[0]]} {infix} {names[xs[1]]} = {num(xs[0].data)} {infix} {num(xs[1].data)}" \
               f" = {num(v.data)}"
    if op.name == "neg":
        return f"{name} = -{names[xs[0]]} = -({num(xs[0].data)}) = {num(v.data)}"
    if op.name == "dot":
        n = len(xs) // 2
        pairs = list(zip(xs[:n], xs[n:]))
        shown = pairs[:_SHOWN_OPERANDS]
        more = f" + ... ({n - len(shown)} more)" if len(pairs) > len(shown) else ""
        symbolic = " + ".join(f"{names[a]}*{names[b]}" for a, b in shown) + more
        numeric = " + ".join(f"{num(a.data)}*{num(b.data)}" for a, b in shown) + more
        return f"{name} = {symbolic} = {numeric} = {num(v.data)}"
    shown_xs = xs[:_SHOWN_OPERANDS]
    more = f", ... {len(xs) - len(shown_xs)} more" if len(xs) > len(shown_xs) else ""
    symbolic = ", ".join(names[x] for x in shown_xs) + more
    numeric = ", ".join(num(x.data) for x in shown_xs) + more
    return f"{name} = {op.name}({symbolic}) = {op.name}({numeric}) = {num(v.data)}"


def _node_info(root: Value, v: Value, names: dict[Value, str], neurons: dict[Value, str],
               delta_rows: dict[Value, str], example: int | None) -> dict[str, Any]:
    """The details panel's content for one node."""
    if v.op is None and not v.requires_grad:
        kind, rule = "constant", "a constant (requires_grad=False): its value is given, it gets no gradient"
        forward = f"{names[v]} = {num(v.data)} (given)"
    elif v.op is None:
        kind, rule = "leaf", "a leaf: its value is given, backward only adds gradients into it"
        forward = f"{names[v]} = {num(v.data)} (given)"
    else:
        kind, forward = f"op {v.op.name}", _forward_text(v, names)
        rule = RULES.get(v.op.name, f"the rule of the {v.op.name!r} row of the derivative table")
    neuron = neurons.get(v)
    report = explain(root, v, names=names)  # in the page's names
    return {
        "name": names[v], "kind": kind, "data": num(v.data), "shown": number(v.data), "forward": forward, "rule": rule,
        "explain": str(report), "explainMath": [_compact(line.payload()) for line in typeset_lines(report, _PATHS)],
        "neuron": neuron, "symbol": describe_node(v, neurons), "delta": delta_rows.get(v),
        "constant": not v.requires_grad, "example": example,
    }


def _forward_step(v: Value, k: int, total: int, ids: dict[Value, str], names: dict[Value, str],
                  example: int | None) -> dict[str, Any]:
    assert v.op is not None
    op_id = ids[v] + "_op"
    of_example = "" if example is None else f" (example {example})"
    return {
        "phase": "forward", "node": ids[v],
        "title": f"Forward {k}/{total}: {names[v]} = {v.op.name}(...){of_example}",
        "lines": [_forward_text(v, names), f"{v.op.name}: {RULES.get(v.op.name, 'a row of the table')}"],
        "data": {ids[v]: number(v.data)}, "grad": {},
        "edges": [[ids[x], op_id] for x in v.inputs] + [[op_id, ids[v]]],
        "receivers": [ids[x] for x in v.inputs], "reveal": [],
    }


def _backward_steps(root: Value, ids: dict[Value, str], names: dict[Value, str],
                    examples: dict[Value, int]) -> list[dict[str, Any]]:
    """One step per node with inputs, root first, replaying the engine's sums (1.5), (1.8)."""
    interior, _ = backward_order(root)
    if not root.requires_grad:  # a constant root: backward does nothing at all
        return [_empty_backward(root, ids, names, f"{names[root]} is a constant: backward() does nothing")]
    if not interior:  # the root is a leaf: backward only seeds it
        step = _empty_backward(root, ids, names, f"d {names[root]}/d {names[root]} = 1: the seed; it is a leaf")
        step["grad"] = {ids[root]: _grad(1.0)}
        return [step]
    grads: dict[Value, float] = {root: 1.0}
    seen_consumers: dict[Value, int] = {}
    consumers = _consumer_counts(interior)
    steps = []
    for k, v in enumerate(interior, 1):
        step = _backward_step(root, v, k, len(interior), grads, seen_consumers, consumers, ids, names)
        if v in examples:
            step["title"] += f" (example {examples[v]})"
        steps.append(step)
    return steps


_PATHS = 4  # explain's paths typeset in the details panel (the text report below lists them all)


def _compact(line: dict[str, Any]) -> dict[str, Any]:
    """A typeset line without its text where it has a formula: the page reads the text off the MathML."""
    return {"math": line["math"], "eq": line["eq"]} if line["math"] is not None else line


def _typeset(f: Formula, eq: str) -> dict[str, Any]:
    return {"math": f, "text": plain(f), "eq": eq}


def intro() -> list[dict[str, Any]]:
    """The start's summary: what each backward step computes (1.5) and how a node's sum completes (1.8)."""
    g_node = partial_of("root", "node")
    return [
        _typeset(equation(mi("g"), g_node), "the node's gradient"),
        _typeset(equation(mtext("contribution to x"), row(mi("g"), mo("×"), partial_of("node", "x"))), "(1.5)"),
        _typeset(equation(partial_of("root", "x"), row(mo("Σ"), mtext("\u00a0its consumers' contributions"))),
                 "(1.8)"),
    ]


def _empty_backward(root: Value, ids: dict[Value, str], names: dict[Value, str], line: str) -> dict[str, Any]:
    return {"phase": "backward", "node": ids[root], "title": "Backward 1/1", "lines": [line],
            "data": {}, "grad": {}, "edges": [], "receivers": [], "reveal": []}


def _consumer_counts(interior: list[Value]) -> dict[Value, int]:
    """How many input slots read each node: the number of terms of its sum (1.8)."""
    counts: dict[Value, int] = {}
    for v in interior:
        for x in v.inputs:
            if x.requires_grad:
                counts[x] = counts.get(x, 0) + 1
    return counts


def _backward_step(root: Value, v: Value, k: int, total: int, grads: dict[Value, float],
                   seen: dict[Value, int], consumers: dict[Value, int], ids: dict[Value, str],
                   names: dict[Value, str]) -> dict[str, Any]:
    assert v.op is not None
    g = grads.get(v, 0.0)
    name = names[v]
    head = (f"g = d {names[root]}/d {name} = 1, the seed" if v is root
            else f"g = d {names[root]}/d {name} = {num(g)}: complete, every consumer has added its term (1.8)")
    lines = [head, f"{v.op.name}: {RULES.get(v.op.name, 'a row of the table')}"]
    math: list[dict[str, Any] | None] = [_typeset(equation(partial_of(names[root], name), mn(g)),
                                                  "the seed" if v is root else "(1.8)"), None]
    step: dict[str, Any] = {"phase": "backward", "node": ids[v], "title": f"Backward {k}/{total}: {name} ({v.op.name})",
            "lines": lines, "math": math, "data": {}, "grad": {ids[v]: _grad(g)},
            "edges": [[ids[x], ids[v] + "_op"] for x in v.inputs], "receivers": [], "reveal": [ids[v] + "_op"],
            "contrib": {}}
    if g == 0.0:
        lines.append("g = 0, so every contribution is 0: backward skips this node")
        math.append(None)
        return step
    local = local_derivatives(v)
    contributions = v.op.vjp(g, v.data, *[x.data for x in v.inputs])
    for p, (x, d, c) in enumerate(zip(v.inputs, local, contributions, strict=True)):
        label = f"{names[x]}" + (f" (input {p})" if v.inputs.count(x) > 1 else "")
        if d is None or c is None:
            lines.append(f"to {label}: not differentiable (a constant of the op), nothing added")
            math.append(None)
            continue
        if not x.requires_grad:
            lines.append(f"to {label}: a constant (requires_grad=False), nothing added")
            math.append(None)
            continue
        c = float(c)  # as the engine stores it
        seen[x] = seen.get(x, 0) + 1
        before = grads.get(x)
        after = c if not before else before + c  # as the engine: a 0 sum is replaced, keeping -0.0
        grads[x] = after
        product = f"to {label}: g x local = {num(g)} x {num(float(d))} = {num(c)}"
        if not before:
            total_text = f"; grad {names[x]} = {num(after)}"
        else:
            total_text = f"; grad {names[x]} = {num(before)} + {num(c)} = {num(after)}"
        if consumers.get(x, 0) > 1:
            total_text += f"  (term {seen[x]} of {consumers[x]} in the sum (1.8))"
        lines.append(product + total_text)
        sums = [mn(after)] if not before else [row(mn(before), mo("+"), mn(c)), mn(after)]
        # MathML drops a text's outer spaces: no-break spaces keep "to x:" and "grad" apart from the formula.
        math.append(_typeset(row(mtext(f"to {label}:\u00a0"), equation(
            row(mi("g"), mo("×"), partial_of(name, names[x])), row(mn(g), mo("×"), mn(float(d))), mn(c)),
            mtext(";\u00a0\u00a0grad\u00a0"), equation(name_of(names[x]), *sums)),
            "(1.5), (1.8)" if before else "(1.5)"))
        step["grad"][ids[x]] = _grad(after)
        step["receivers"].append(ids[x])
        step["contrib"][ids[x]] = f"g×local = {number(c)}"  # drawn along the edge x -> op, (1.5)
    return step


def _final_step(root: Value, order: list[Value], ids: dict[Value, str], names: dict[Value, str],
                steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Done: every node shows the .grad backward() leaves (0 where no path reaches it).

    Constants (requires_grad=False) get none: backward() never writes their .grad.
    """
    reached = {n for s in steps for n in s["grad"]}
    unreached = [v for v in order if ids[v] not in reached and v.requires_grad]
    constants = [v for v in order if not v.requires_grad]
    lines = [f"These are the gradients d {names[root]}/d node that backward() leaves in .grad."]
    if unreached:
        lines.append(f"Nothing reached {_some(unreached, names)} (no differentiable path, or only zero gradients): "
                     "grad 0.")
    if constants:
        lines.append(f"Constants (requires_grad=False), no gradient: {_some(constants, names)}.")
    final = {n: g for s in steps for n, g in s["grad"].items()}
    leaves = [v for v in order if v.op is None and v is not root and ids[v] in final]
    lines += [f"d {names[root]}/d {names[v]} = {final[ids[v]][0]}" for v in leaves[:_SHOWN_LEAVES]]
    if len(leaves) > _SHOWN_LEAVES:
        lines.append(f"... and {len(leaves) - _SHOWN_LEAVES} more leaves: click a node for its details")
    return {"phase": "done", "node": ids[root], "title": "Done: the gradients backward() leaves",
            "lines": lines, "data": {}, "grad": {ids[v]: _grad(0.0) for v in unreached},
            "edges": [], "receivers": [], "reveal": []}


def _some(nodes: list[Value], names: dict[Value, str], limit: int = 8) -> str:
    """The first `limit` names of `nodes`, then "..." if there are more."""
    return ", ".join(names[v] for v in nodes[:limit]) + (", ..." if len(nodes) > limit else "")


def _grad(g: float) -> list[str]:
    """[display text, exact text]: the box shows the first, data-grad carries the second."""
    g = float(g)
    return [number(g), repr(g) if math.isfinite(g) else str(g)]
