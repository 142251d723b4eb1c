"""The neuron view's steps: each neuron's forward (1.1), (1.2), the loss, each neuron's backward, the end.

Each step is a dict the page reads: its title, its formulas (typeset by the
page, with their plain text and equation number), which boxes and edges it
reveals, and how many op-level steps the Ops view has taken by then (the two
views stay in sync). Every number is read from the graph and the engine's
`gradients`; nothing is written to the graph.
"""

from __future__ import annotations

from typing import Any

from ...engine import local_derivatives
from ...value import Value
from ..mathml import Formula, equation, frac, mi, mn, mo, partial, plain, row, sub
from .neuron_passes import Pass

_SHOWN_GRADS = 16  # parameters whose .grad the last step lists


def intro(bias: bool) -> list[dict[str, Any]]:
    """The start's summary: the derivation's equations each step of this view computes."""
    net, o, dE_dO = sub("net", "j"), sub("O", "j"), partial(mi("E"), sub("O", "j"))
    plus_b = [mo("+"), sub("b", "j")] if bias else []
    return [
        _line(equation(net, row(mo("Σ"), sub("w", "ij"), sub("O", "i"), *plus_b)), "(1.1)"),
        _line(equation(o, row(mi("φ"), mo("("), net, mo(")"))), "(1.2)"),
        _line(equation(dE_dO, row(mo("Σ"), sub("w", "jl"), sub("δ", "l"))), "(1.7), (1.8)"),
        _line(equation(sub("δ", "j"), row(dE_dO, mo("·"), partial(o, net))), "(1.3)"),
        _line(equation(partial(mi("E"), sub("w", "ij")), row(sub("δ", "j"), sub("O", "i"))), "(1.5)"),
    ]


def op_step_index(op_steps: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(phase, node id) -> the number of op steps taken once that step is done."""
    found: dict[tuple[str, str], int] = {}
    for k, s in enumerate(op_steps, 1):
        found.setdefault((s["phase"], s["node"]), k)
    return found


def _line(f: Formula, eq: str = "") -> dict[str, Any]:
    """One formula of a step: the tree the page typesets, its plain text and its equation number."""
    return {"math": f, "text": plain(f), "eq": eq}


def neuron_steps(e: int, mine: list[Pass], by_key: dict[tuple[str, int], Pass], layers: list[int],
                 per_layer: dict[int, list[int]], root: Value, grads: dict[Value, float], term: Value,
                 names: dict[Value, str], op_index: dict[tuple[str, str], int], ids: dict[Value, str],
                 total_op_steps: int, out_of: dict[Value, Pass]) -> list[dict[str, Any]]:
    """Example e's steps: each neuron's forward (1.1), (1.2); the loss; each neuron's backward; the end."""
    steps: list[dict[str, Any]] = []
    ordered = sorted(mine, key=lambda p: (p.layer, p.index))
    op_at = 0
    for p in ordered:
        op_at = max(op_at, op_index.get(("forward", ids[p.out]), op_at))
        steps.append(_forward_step(p, e, op_at, out_of))
    op_at = max(op_at, op_index.get(("forward", ids[term]), op_at) if term.op is not None else op_at)
    steps.append(_loss_step(e, ordered, layers[-1], root, term, names, op_at))
    backward_start = len(steps)
    op_at = 0
    for p in sorted(mine, key=lambda p: (-p.layer, p.index)):
        op_at = max(op_at, op_index.get(("backward", ids[p.net]), 0))
        steps.append(_backward_step(p, e, by_key, layers, per_layer, grads, op_at, out_of))
    steps.append(_done_step(ordered, grads, term is not root, total_op_steps))
    for s in steps:
        s["backwardStart"] = backward_start
    return steps


def _forward_step(p: Pass, e: int, op_at: int, out_of: dict[Value, Pass]) -> dict[str, Any]:
    """A neuron's forward step: net_j (1.1), then O_j = phi(net_j) (1.2)."""
    terms = [row(sub("w", f"{i}{p.index}"), sub("O", str(i))) for i in range(len(p.weights))]
    numeric = [row(mn(w.data), mo("×"), mn(x.data)) for w, x in zip(p.weights, p.inputs, strict=True)]
    bias_sym = [mo("+"), sub("b", str(p.index))] if p.bias is not None else []
    bias_num = [mo("+"), mn(p.bias.data)] if p.bias is not None else []
    net_f = equation(sub("net", "j"), row(*_join(terms, "+"), *bias_sym), row(*_join(numeric, "+"), *bias_num),
                     mn(p.net.data))
    act = p.out.op.name if p.out is not p.net and p.out.op is not None else None
    out_f = (equation(sub("O", "j"), row(mi(act or "φ"), mo("("), sub("net", "j"), mo(")")), mn(p.out.data))
             if act else equation(sub("O", "j"), sub("net", "j"), mn(p.out.data)))
    return {
        "phase": "forward", "key": p.key, "neuron": p.neuron, "layer": p.layer,
        "title": f"Forward: {p.neuron}, example {e} (layer {p.layer})",
        "lines": [_line(net_f, "(1.1)"), _line(out_f, "(1.2)" if act else "(a linear neuron)")],
        "reveal": [[p.key, "net"], [p.key, "out"]], "edges": [f"{_src(out_of, p, i, e)}>{p.key}"
                                                              for i in range(len(p.weights))],
        "opStep": op_at,
    }


def _loss_step(e: int, ordered: list[Pass], last: int, root: Value, term: Value, names: dict[Value, str],
               op_at: int) -> dict[str, Any]:
    """The loss's forward step: example e's own term, and the sum over every example when there are several."""
    loss_eq = "(1.4)" if term.op is not None and term.op.name == "squared_error" else "the loss"
    loss_lines = [_line(equation(mi("E"), mn(term.data)) if term is root else
                        equation(row(mi("E"), mtext_of(f" of example {e}")), mn(term.data)), loss_eq)]
    if term is not root:
        loss_lines.append(_line(equation(row(mi("E"), mtext_of(" summed over every example")), mn(root.data))))
    return {"phase": "forward", "key": f"loss@{e}", "neuron": None, "layer": None,
            "title": f"Forward: the loss {names[root]} (example {e})", "lines": loss_lines,
            "reveal": [[f"loss@{e}", "data"]],
            "edges": [f"{p.key}>loss" for p in ordered if p.layer == last], "opStep": op_at}


def _backward_step(p: Pass, e: int, by_key: dict[tuple[str, int], Pass], layers: list[int],
                   per_layer: dict[int, list[int]], grads: dict[Value, float], op_at: int,
                   out_of: dict[Value, Pass]) -> dict[str, Any]:
    """A neuron's backward step: dE/dO_j ((1.6) or (1.7), (1.8)), delta_j (1.3), dE/dw_ij (1.5)."""
    g_out, g_net = grads.get(p.out, 0.0), grads.get(p.net, 0.0)
    lines = []
    if p.layer == layers[-1]:
        lines.append(_line(equation(partial(mi("E"), sub("O", "j")), mn(g_out)),
                           "(1.6): the loss's derivative in the output"))
    else:
        after = [by_key[(f"L{p.layer + 1}.N{j}", e)] for j in per_layer[p.layer + 1]]
        readers = [r for r in after if p.out in r.inputs]
        terms_sym = [row(sub("w", f"j{r.index}"), sub("δ", str(r.index))) for r in readers]
        terms_num = [row(mn(r.weights[r.inputs.index(p.out)].data), mo("×"), mn(grads.get(r.net, 0.0)))
                     for r in readers]
        lines.append(_line(equation(partial(mi("E"), sub("O", "j")), row(mo("Σ"), *_join(terms_sym, "+")),
                                    row(*_join(terms_num, "+")), mn(g_out)), "(1.7), (1.8)"))
    if p.out is not p.net:
        local = local_derivatives(p.out)[0]
        lines.append(_line(equation(sub("δ", "j"), row(partial(mi("E"), sub("O", "j")), mo("×"),
                                                        partial(sub("O", "j"), sub("net", "j"))),
                                    row(mn(g_out), mo("×"), mn(float(local))), mn(g_net)), "(1.3)"))
    else:
        lines.append(_line(equation(sub("δ", "j"), partial(mi("E"), sub("O", "j")), mn(g_net)),
                           "(a linear neuron: O_j = net_j)"))
    for i, x in enumerate(p.inputs[:6]):
        lines.append(_line(equation(frac(row(mo("∂"), mi("E")), row(mo("∂"), sub("w", f"{i}{p.index}"))),
                                    row(sub("δ", "j"), sub("O", str(i))),
                                    row(mn(g_net), mo("×"), mn(x.data)), mn(g_net * x.data)), "(1.5)"))
    if len(p.inputs) > 6:
        lines.append({"math": None, "text": f"... and {len(p.inputs) - 6} more weights", "eq": ""})
    return {
        "phase": "backward", "key": p.key, "neuron": p.neuron, "layer": p.layer,
        "title": f"Backward: delta of {p.neuron}, example {e} (layer {p.layer})", "lines": lines,
        "reveal": [[p.key, "dout"], [p.key, "delta"]],
        "edges": [f"{_src(out_of, p, i, e)}>{p.key}" for i in range(len(p.weights))], "opStep": op_at,
    }


def _done_step(ordered: list[Pass], grads: dict[Value, float], several: bool,
               total_op_steps: int) -> dict[str, Any]:
    """The last step: the gradients backward() leaves in the weights and biases (the first _SHOWN_GRADS)."""
    done_lines = [{"math": None, "eq": "", "text": (
        "The weights are shared by every example: backward() leaves in w.grad the sum of each example's "
        "dE/dw_ij = delta_j O_i (1.5)." if several else
        "backward() leaves in w.grad dE/dw_ij = delta_j O_i (1.5); in b.grad dE/db_j = delta_j.")}]
    shown = [w for p in ordered for w in [*p.weights, *([p.bias] if p.bias is not None else [])]]
    for w in shown[:_SHOWN_GRADS]:
        done_lines.append(_line(equation(frac(row(mo("∂"), mi("E")), row(mo("∂"), mi(str(w.label)))),
                                         mn(grads.get(w, 0.0))), "(1.5), summed" if several else "(1.5)"))
    if len(shown) > _SHOWN_GRADS:
        done_lines.append({"math": None, "eq": "", "text": f"... and {len(shown) - _SHOWN_GRADS} more: "
                                                          "the op-level view (Ops) shows every one"})
    return {"phase": "done", "key": None, "neuron": None, "layer": None,
            "title": "Done: the gradients backward() leaves", "lines": done_lines, "reveal": [],
            "edges": [], "opStep": total_op_steps}


def mtext_of(text: str) -> Formula:
    return ["mtext", text]


def _join(parts: list[Formula], op: str) -> list[Formula]:
    joined: list[Formula] = []
    for k, part in enumerate(parts):
        if k:
            joined.append(mo(op))
        joined.append(part)
    return joined


def _src(out_of: dict[Value, Pass], p: Pass, i: int, e: int) -> str:
    """The key of the box weight i of pass p reads: input x_i or a neuron of the layer before."""
    if p.layer == 1:
        return f"x{i}@{e}"
    return out_of[p.inputs[i]].key


def jumps(steps: list[dict[str, Any]]) -> list[list[Any]]:
    """[text, step] pairs for the "jump to" menu: each layer and neuron, forward and backward."""
    found: list[list[Any]] = []
    seen_layers: set[tuple[str, int]] = set()
    for k, s in enumerate(steps, 1):
        if s["layer"] is not None and (s["phase"], s["layer"]) not in seen_layers:
            seen_layers.add((s["phase"], s["layer"]))
            found.append([f"layer L{s['layer']} ({s['phase']})", k])
        if s["neuron"] is not None:
            found.append([f"  {s['neuron']} ({s['phase']})", k])
    return found
