"""The explorer's neuron view: the derivation's own picture of a graph built from `nn` layers.

Layers are columns and neurons nodes (inputs left, the loss right); each node
shows net_j (1.1), O_j (1.2) and, once the backward pass reaches it, dE/dO_j
((1.6) or (1.7)/(1.8)) and delta_j (1.3); edges are the weights w_ij, coloured
by sign and as thick as they are large (the gradients dE/dw_ij (1.5) in the
backward pass). A loss over several examples has one set of boxes per example
(each forward pass its own). Steps go neuron by neuron: forward layer by
layer, backward delta by delta. Every number is computed here from the graph
and the engine's `gradients`; nothing is written to the graph.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from ...engine import local_derivatives
from ...value import Value
from ..mathml import Formula, equation, frac, mi, mn, mo, partial, plain, row, sub
from ..neurons import Box, nn_label
from .data import tone

# The layout, in SVG units (the page shows them at 1 px each at zoom 1).
_NEURON_W, _NEURON_H = 140, 98
_INPUT_W, _INPUT_H = 84, 46
_LOSS_W, _LOSS_H = 110, 60
_COLUMN_GAP, _ROW_GAP, _MARGIN = 84, 20, 12
_LINE = 16
_SHOWN_GRADS = 16  # parameters whose .grad the last step lists
_WIDEST_EDGE, _THINNEST_EDGE = 7.0, 0.8


@dataclass
class Pass:
    """One forward pass of one neuron: its nodes, its weights and what it read."""

    neuron: str
    layer: int
    index: int
    example: int
    net: Value
    out: Value
    weights: list[Value]
    bias: Value | None
    inputs: list[Value]

    @property
    def key(self) -> str:
        return f"{self.neuron}@{self.example}"


def find_passes(order: list[Value], boxes: dict[Value, Box]) -> list[Pass] | None:
    """Every neuron pass of the graph, or None when it is not a plain `nn` network.

    A pass is found at its ".net" node: net = dot(w, x) [+ b] and O = phi(net)
    (or O = net for a linear neuron). A layer whose outputs read several nets
    (softmax) or a net built otherwise gives None: the op-level view still shows it.
    """
    readers: dict[Value, list[Value]] = {}
    for v in order:
        for x in v.inputs:
            readers.setdefault(x, []).append(v)
    passes = []
    for v in order:
        parsed = nn_label(v.label)
        if parsed is None or parsed.part != "net" or v.op is None:
            continue
        box = boxes.get(v)
        example = box.example if box is not None and box.example is not None else 0
        if v.op.name == "dot":
            dot, bias = v, None
        elif v.op.name == "add" and v.inputs[0].op is not None and v.inputs[0].op.name == "dot":
            dot, bias = v.inputs[0], v.inputs[1]
        else:
            return None
        half = len(dot.inputs) // 2
        weights, inputs = list(dot.inputs[:half]), list(dot.inputs[half:])
        if any((p := nn_label(w.label)) is None or p.part != "w" for w in weights):
            return None
        outs = [r for r in readers.get(v, []) if (p := nn_label(r.label)) is not None and p.part == "out"
                and p.neuron_name == parsed.neuron_name and r.inputs == (v,)]
        passes.append(Pass(parsed.neuron_name, parsed.layer, parsed.neuron, example, v, outs[0] if outs else v,
                           weights, bias, inputs))
    if not passes:
        return None
    bound = {q.out for q in passes}
    if any((p := nn_label(v.label)) is not None and p.part == "out" and v not in bound for v in order):
        return None  # an output that reads more than its own net (softmax): no per-neuron O_j = phi(net_j)
    layers = sorted({p.layer for p in passes})
    if layers != list(range(1, len(layers) + 1)):
        return None
    # Each layer after the first must read the outputs of the layer before, in the same example.
    out_of = {p.out: p for p in passes}
    for q in passes:
        if q.layer > 1 and any(out_of.get(x) is None or out_of[x].example != q.example
                               or out_of[x].layer != q.layer - 1 for x in q.inputs):
            return None
        if q.layer == 1 and any(x in out_of for x in q.inputs):
            return None
    return passes


def _term_of_example(order: list[Value], examples: dict[Value, int], root: Value) -> dict[int, Value]:
    """Each example's own loss term: the last node of the forward order that belongs to it."""
    terms: dict[int, Value] = {}
    for v in order:
        if v in examples:
            terms[examples[v]] = v
    return terms


def _width(x: float, largest: float) -> float:
    return round(_THINNEST_EDGE + (_WIDEST_EDGE - _THINNEST_EDGE) * abs(x) / largest, 2) if largest > 0 \
        else _THINNEST_EDGE


def _sign(x: float) -> str:
    return "pos" if x > 0 else "neg" if x < 0 else "zero"


def _num(x: float) -> str:
    return f"{x:.4g}"


@dataclass
class NeuronView:
    """The neuron view's SVG and its JSON payload (numbers, steps), as the page embeds them."""

    svg: str
    payload: dict[str, Any]


def neuron_view(root: Value, order: list[Value], grads: dict[Value, float], passes: list[Pass],
                examples: dict[Value, int], names: dict[Value, str],
                op_steps: list[dict[str, Any]], ids: dict[Value, str]) -> NeuronView:
    """Build the view: `grads` the engine's d root/d node, `op_steps` the op-level steps it is synced with."""
    layers = sorted({p.layer for p in passes})
    per_layer = {layer: sorted({p.index for p in passes if p.layer == layer}) for layer in layers}
    example_ids = sorted({p.example for p in passes})
    by_key = {(p.neuron, p.example): p for p in passes}
    out_of = {p.out: p for p in passes}
    first = [p for p in passes if p.layer == 1]
    inputs = {e: next(p for p in first if p.example == e).inputs for e in example_ids}
    n_inputs = max(len(xs) for xs in inputs.values())
    terms = _term_of_example(order, examples, root) if len(example_ids) > 1 else {0: root}

    # --- layout: column x, row y -------------------------------------------------------------
    column_x, x = [], _MARGIN
    widths = [_INPUT_W] + [_NEURON_W] * len(layers) + [_LOSS_W]
    for column_width in widths:
        column_x.append(x)
        x += column_width + _COLUMN_GAP
    width = x - _COLUMN_GAP + _MARGIN
    heights = [n_inputs * (_INPUT_H + _ROW_GAP)] + [len(per_layer[la]) * (_NEURON_H + _ROW_GAP) for la in layers]
    height = max(max(heights) - _ROW_GAP, _LOSS_H) + 2 * _MARGIN + 22

    def column_y(count: int, h: int) -> list[float]:
        total = count * (h + _ROW_GAP) - _ROW_GAP
        top = 22 + _MARGIN + (height - 22 - 2 * _MARGIN - total) / 2
        return [top + k * (h + _ROW_GAP) for k in range(count)]

    input_pos = {k: (column_x[0], y) for k, y in enumerate(column_y(n_inputs, _INPUT_H))}
    neuron_pos = {}
    for c, layer in enumerate(layers, 1):
        for j, y in zip(per_layer[layer], column_y(len(per_layer[layer]), _NEURON_H), strict=True):
            neuron_pos[(layer, j)] = (column_x[c], y)
    loss_pos = (column_x[-1], column_y(1, _LOSS_H)[0])

    # --- numbers -----------------------------------------------------------------------------
    weights_all = [w for p in passes for w in p.weights]
    largest_w = max((abs(w.data) for w in weights_all), default=0.0)
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[str, dict[str, Any]] = {}
    svg_edges: list[str] = []
    svg_boxes: list[str] = []
    for e in example_ids:
        mine = [p for p in passes if p.example == e]
        largest_g = max((abs(grads.get(p.net, 0.0) * x.data) for p in mine for x in p.inputs), default=0.0)
        largest_d = max((abs(grads.get(p.net, 0.0)) for p in mine), default=0.0)
        group_edges: list[str] = []
        group_boxes: list[str] = []
        for k, xv in enumerate(inputs[e]):
            key = f"x{k}@{e}"
            label = xv.label if xv.label else f"x{k}"
            nodes[key] = {"kind": "input", "name": label, "data": _num(xv.data), "example": e,
                          "node": ids.get(xv)}
            group_boxes.append(_input_box(key, label, xv.data, input_pos[k], e))
        for p in mine:
            g_net, g_out = grads.get(p.net, 0.0), grads.get(p.out, 0.0)
            nodes[p.key] = {
                "kind": "neuron", "neuron": p.neuron, "example": e, "layer": p.layer,
                "net": _num(p.net.data), "out": _num(p.out.data), "dout": _num(g_out), "delta": _num(g_net),
                "netExact": repr(p.net.data), "outExact": repr(p.out.data), "doutExact": repr(float(g_out)),
                "deltaExact": repr(float(g_net)), "tone": tone(g_net, largest_d),
                "node": ids.get(p.out), "members": [ids[v] for v in _members(p) if v in ids],
            }
            group_boxes.append(_neuron_box(p, neuron_pos[(p.layer, p.index)], len(example_ids) > 1))
            for i, (w, src_v) in enumerate(zip(p.weights, p.inputs, strict=True)):
                src = f"x{i}@{e}" if p.layer == 1 else out_of[src_v].key
                src_pos = input_pos[i] if p.layer == 1 else neuron_pos[(out_of[src_v].layer, out_of[src_v].index)]
                src_w = _INPUT_W if p.layer == 1 else _NEURON_W
                src_h = _INPUT_H if p.layer == 1 else _NEURON_H
                edge_id = f"{src}>{p.key}"
                g_w = g_net * src_v.data  # dE/dw_ij of this example, (1.5)
                edges[edge_id] = {
                    "from": src, "to": p.key, "weight": str(w.label), "w": _num(w.data), "wExact": repr(w.data),
                    "wWidth": _width(w.data, largest_w), "wSign": _sign(w.data),
                    "g": _num(g_w), "gWidth": _width(g_w, largest_g), "gSign": _sign(g_w),
                }
                start = (src_pos[0] + src_w, src_pos[1] + src_h / 2)
                end = neuron_pos[(p.layer, p.index)]
                group_edges.append(_edge(edge_id, w, start, (end[0], end[1] + _NEURON_H / 2)))
        last = layers[-1]
        for p in mine:
            if p.layer == last:
                pos = neuron_pos[(p.layer, p.index)]
                edge_id = f"{p.key}>loss"
                edges[edge_id] = {"from": p.key, "to": "loss", "weight": None}
                group_edges.append(_edge(edge_id, None, (pos[0] + _NEURON_W, pos[1] + _NEURON_H / 2),
                                         (loss_pos[0], loss_pos[1] + _LOSS_H / 2)))
        term = terms.get(e, root)
        nodes[f"loss@{e}"] = {"kind": "loss", "name": names[root], "data": _num(root.data), "example": e,
                              "term": _num(term.data), "termName": names.get(term, ""), "node": ids.get(root)}
        svg_edges.append(f'<g class="example-edges" data-example="{e}">{"".join(group_edges)}</g>')
        svg_boxes.append(f'<g class="example" data-example="{e}">{"".join(group_boxes)}'
                         f'{_loss_box(e, names[root], loss_pos, len(example_ids) > 1)}</g>')
    headings = [("inputs", column_x[0], _INPUT_W)] + [
        (f"layer L{la}", column_x[c], _NEURON_W) for c, la in enumerate(layers, 1)] + [("loss", loss_pos[0], _LOSS_W)]
    heads = "".join(f'<text class="column" x="{cx + w / 2}" y="{_MARGIN + 8}" text-anchor="middle">'
                    f"{html.escape(t)}</text>" for t, cx, w in headings)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%" viewBox="0 0 {width} {height}" '
           f'class="neuron-graph">{heads}{"".join(svg_edges)}{"".join(svg_boxes)}</svg>')

    op_index = _op_step_index(op_steps)
    steps = {str(e): _steps(e, [p for p in passes if p.example == e], by_key, layers, per_layer, root, grads,
                            terms.get(e, root), names, op_index, ids, len(op_steps), out_of)
             for e in example_ids}
    jumps = _jumps(steps[str(example_ids[0])])
    payload = {"examples": example_ids, "nodes": nodes, "edges": edges, "steps": steps, "jumps": jumps,
               "intro": _intro(any(p.bias is not None for p in passes)),
               "inputs": {str(e): [_num(x.data) for x in inputs[e]] for e in example_ids}}
    return NeuronView(svg, payload)


def _intro(bias: bool) -> list[dict[str, Any]]:
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


def _members(p: Pass) -> list[Value]:
    """The op-level nodes of a pass: its net, the dot below, its output."""
    found = [p.net, p.out]
    if p.net.op is not None and p.net.op.name == "add":
        found.append(p.net.inputs[0])
    return found


def _input_box(key: str, label: str, data: float, pos: tuple[float, float], e: int) -> str:
    x, y = pos
    return (f'<g class="nv input" data-key="{key}" data-example="{e}">'
            f'<rect x="{x}" y="{y}" width="{_INPUT_W}" height="{_INPUT_H}" rx="6"/>'
            f'<text x="{x + _INPUT_W / 2}" y="{y + 18}" text-anchor="middle" class="title">{html.escape(label)}</text>'
            f'<text x="{x + _INPUT_W / 2}" y="{y + 36}" text-anchor="middle" class="val">{_num(data)}</text></g>')


def _neuron_box(p: Pass, pos: tuple[float, float], several: bool) -> str:
    x, y = pos
    lines = "".join(f'<text x="{x + 8}" y="{y + 20 + _LINE * (k + 1) - 2}" class="{cls}">{text}</text>'
                    for k, (cls, text) in enumerate([("net", "net ?"), ("out", "O ?"),
                                                     ("dout", ""), ("delta", "")]))
    return (f'<g class="nv neuron" data-neuron="{p.neuron}" data-example="{p.example}" data-key="{p.key}" '
            f'data-layer="{p.layer}"><rect x="{x}" y="{y}" width="{_NEURON_W}" height="{_NEURON_H}" rx="8"/>'
            f'<text x="{x + 8}" y="{y + 17}" class="title">{p.neuron}</text>'
            + (f'<text x="{x + _NEURON_W - 8}" y="{y + 17}" text-anchor="end" class="ex">ex {p.example}</text>'
               if several else "") +
            f"{lines}</g>")


def _loss_box(e: int, name: str, pos: tuple[float, float], several: bool) -> str:
    x, y = pos
    second = f"term ex {e} ?" if several else "E ?"
    return (f'<g class="nv loss" data-key="loss@{e}" data-example="{e}">'
            f'<rect x="{x}" y="{y}" width="{_LOSS_W}" height="{_LOSS_H}" rx="8"/>'
            f'<text x="{x + _LOSS_W / 2}" y="{y + 20}" text-anchor="middle" class="title">{html.escape(name)}</text>'
            f'<text x="{x + _LOSS_W / 2}" y="{y + 40}" text-anchor="middle" class="val">{second}</text></g>')


def _edge(edge_id: str, w: Value | None, a: tuple[float, float], b: tuple[float, float]) -> str:
    mid = (a[0] + b[0]) / 2
    d = f"M{a[0]:.1f},{a[1]:.1f} C{mid:.1f},{a[1]:.1f} {mid:.1f},{b[1]:.1f} {b[0]:.1f},{b[1]:.1f}"
    title = "" if w is None else f"<title>{html.escape(str(w.label))}</title>"
    return f'<g class="nv-edge" data-edge="{html.escape(edge_id)}">{title}<path d="{d}"/></g>'


def _op_step_index(op_steps: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(phase, node id) -> the number of op steps taken once that step is done."""
    found: dict[tuple[str, str], int] = {}
    for k, s in enumerate(op_steps, 1):
        found.setdefault((s["phase"], s["node"]), k)
    return found


def _line(f: Formula, eq: str = "") -> dict[str, Any]:
    """One formula of a step: the tree the page typesets, its plain text and its equation number."""
    return {"math": f, "text": plain(f), "eq": eq}


def _steps(e: int, mine: list[Pass], by_key: dict[tuple[str, int], Pass], layers: list[int],
           per_layer: dict[int, list[int]], root: Value, grads: dict[Value, float], term: Value,
           names: dict[Value, str], op_index: dict[tuple[str, str], int], ids: dict[Value, str],
           total_op_steps: int, out_of: dict[Value, Pass]) -> list[dict[str, Any]]:
    """Example e's steps: each neuron's forward (1.1), (1.2); the loss; each neuron's backward; the end."""
    steps: list[dict[str, Any]] = []
    ordered = sorted(mine, key=lambda p: (p.layer, p.index))
    op_at = 0
    for p in ordered:
        terms = [row(sub("w", f"{i}{p.index}"), sub("O", str(i))) for i in range(len(p.weights))]
        numeric = [row(mn(w.data), mo("×"), mn(x.data)) for w, x in zip(p.weights, p.inputs, strict=True)]
        bias_sym = [mo("+"), sub("b", str(p.index))] if p.bias is not None else []
        bias_num = [mo("+"), mn(p.bias.data)] if p.bias is not None else []
        net_f = equation(sub("net", "j"), row(*_join(terms, "+"), *bias_sym), row(*_join(numeric, "+"), *bias_num),
                         mn(p.net.data))
        act = p.out.op.name if p.out is not p.net and p.out.op is not None else None
        out_f = (equation(sub("O", "j"), row(mi(act or "φ"), mo("("), sub("net", "j"), mo(")")), mn(p.out.data))
                 if act else equation(sub("O", "j"), sub("net", "j"), mn(p.out.data)))
        op_at = max(op_at, op_index.get(("forward", ids[p.out]), op_at))
        steps.append({
            "phase": "forward", "key": p.key, "neuron": p.neuron, "layer": p.layer,
            "title": f"Forward: {p.neuron}, example {e} (layer {p.layer})",
            "lines": [_line(net_f, "(1.1)"), _line(out_f, "(1.2)" if act else "(a linear neuron)")],
            "reveal": [[p.key, "net"], [p.key, "out"]], "edges": [f"{_src(out_of, p, i, e)}>{p.key}"
                                                                  for i in range(len(p.weights))],
            "opStep": op_at,
        })
    op_at = max(op_at, op_index.get(("forward", ids[term]), op_at) if term.op is not None else op_at)
    loss_eq = "(1.4)" if term.op is not None and term.op.name == "squared_error" else "the loss"
    loss_lines = [_line(equation(mi("E"), mn(term.data)) if term is root else
                        equation(row(mi("E"), mtext_of(f" of example {e}")), mn(term.data)), loss_eq)]
    if term is not root:
        loss_lines.append(_line(equation(row(mi("E"), mtext_of(" summed over every example")), mn(root.data))))
    steps.append({"phase": "forward", "key": f"loss@{e}", "neuron": None, "layer": None,
                  "title": f"Forward: the loss {names[root]} (example {e})", "lines": loss_lines,
                  "reveal": [[f"loss@{e}", "data"]],
                  "edges": [f"{p.key}>loss" for p in ordered if p.layer == layers[-1]], "opStep": op_at})
    backward_start = len(steps)
    op_at = 0
    for p in sorted(mine, key=lambda p: (-p.layer, p.index)):
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
        op_at = max(op_at, op_index.get(("backward", ids[p.net]), 0))
        steps.append({
            "phase": "backward", "key": p.key, "neuron": p.neuron, "layer": p.layer,
            "title": f"Backward: delta of {p.neuron}, example {e} (layer {p.layer})", "lines": lines,
            "reveal": [[p.key, "dout"], [p.key, "delta"]],
            "edges": [f"{_src(out_of, p, i, e)}>{p.key}" for i in range(len(p.weights))], "opStep": op_at,
        })
    several = term is not root
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
    steps.append({"phase": "done", "key": None, "neuron": None, "layer": None,
                  "title": "Done: the gradients backward() leaves", "lines": done_lines, "reveal": [],
                  "edges": [], "opStep": total_op_steps})
    for s in steps:
        s["backwardStart"] = backward_start
    return steps


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


def _jumps(steps: list[dict[str, Any]]) -> list[list[Any]]:
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
