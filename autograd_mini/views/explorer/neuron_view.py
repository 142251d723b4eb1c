"""The explorer's neuron view: the derivation's own picture of a graph built from `nn` layers.

Layers are columns and neurons nodes (inputs left, the loss right); each node
shows net_j (1.1), O_j (1.2) and, once the backward pass reaches it, dE/dO_j
((1.6) or (1.7)/(1.8)) and delta_j (1.3); edges are the weights w_ij, coloured
by sign and as thick as they are large (the gradients dE/dw_ij (1.5) in the
backward pass). A loss over several examples has one set of boxes per example
(each forward pass its own). Steps go neuron by neuron: forward layer by
layer, backward delta by delta. Every number is computed here from the graph
and the engine's `gradients`; nothing is written to the graph. The steps are
built in `neuron_steps`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from ...value import Value
from .data import tone
from .neuron_passes import Pass
from .neuron_steps import intro, jumps, neuron_steps, op_step_index

# The layout, in SVG units (the page shows them at 1 px each at zoom 1).
_NEURON_W, _NEURON_H = 140, 98
_INPUT_W, _INPUT_H = 84, 46
_LOSS_W, _LOSS_H = 110, 60
_COLUMN_GAP, _ROW_GAP, _MARGIN = 84, 20, 12
_LINE = 16
_WIDEST_EDGE, _THINNEST_EDGE = 7.0, 0.8


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


@dataclass
class _Layout:
    """Where each column and box sits, in SVG units."""

    column_x: list[int]
    width: int
    height: int
    input_pos: dict[int, tuple[float, float]]
    neuron_pos: dict[tuple[int, int], tuple[float, float]]
    loss_pos: tuple[float, float]


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
    terms = _term_of_example(order, examples, root) if len(example_ids) > 1 else {0: root}
    layout = _layout(layers, per_layer, max(len(xs) for xs in inputs.values()))
    largest_w = max((abs(w.data) for p in passes for w in p.weights), default=0.0)
    several = len(example_ids) > 1
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[str, dict[str, Any]] = {}
    svg_edges: list[str] = []
    svg_boxes: list[str] = []
    for e in example_ids:
        group_edges, group_boxes = _draw_example(e, [p for p in passes if p.example == e], inputs[e], layout,
                                                 layers[-1], grads, ids, out_of, largest_w, several, nodes, edges)
        term = terms.get(e, root)
        nodes[f"loss@{e}"] = {"kind": "loss", "name": names[root], "data": _num(root.data), "example": e,
                              "term": _num(term.data), "termName": names.get(term, ""), "node": ids.get(root)}
        svg_edges.append(f'<g class="example-edges" data-example="{e}">{"".join(group_edges)}</g>')
        svg_boxes.append(f'<g class="example" data-example="{e}">{"".join(group_boxes)}'
                         f'{_loss_box(e, names[root], layout.loss_pos, several)}</g>')
    svg = _svg(layout, layers, "".join(svg_edges) + "".join(svg_boxes))
    op_index = op_step_index(op_steps)
    steps = {str(e): neuron_steps(e, [p for p in passes if p.example == e], by_key, layers, per_layer, root, grads,
                                  terms.get(e, root), names, op_index, ids, len(op_steps), out_of)
             for e in example_ids}
    payload = {"examples": example_ids, "nodes": nodes, "edges": edges, "steps": steps,
               "jumps": jumps(steps[str(example_ids[0])]),
               "intro": intro(any(p.bias is not None for p in passes)),
               "inputs": {str(e): [_num(x.data) for x in inputs[e]] for e in example_ids}}
    return NeuronView(svg, payload)


def _layout(layers: list[int], per_layer: dict[int, list[int]], n_inputs: int) -> _Layout:
    """Columns left to right (inputs, each layer, the loss), each column's boxes centred vertically."""
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

    input_ys = column_y(n_inputs, _INPUT_H)
    input_pos: dict[int, tuple[float, float]] = {k: (column_x[0], y) for k, y in enumerate(input_ys)}
    neuron_pos: dict[tuple[int, int], tuple[float, float]] = {}
    for c, layer in enumerate(layers, 1):
        for j, y in zip(per_layer[layer], column_y(len(per_layer[layer]), _NEURON_H), strict=True):
            neuron_pos[(layer, j)] = (column_x[c], y)
    loss_pos = (column_x[-1], column_y(1, _LOSS_H)[0])
    return _Layout(column_x, width, height, input_pos, neuron_pos, loss_pos)


def _svg(layout: _Layout, layers: list[int], body: str) -> str:
    """The whole picture: the column headings over `body` (every example's edges, then its boxes)."""
    headings = [("inputs", layout.column_x[0], _INPUT_W)] + [
        (f"layer L{la}", layout.column_x[c], _NEURON_W) for c, la in enumerate(layers, 1)] + [
        ("loss", layout.loss_pos[0], _LOSS_W)]
    heads = "".join(f'<text class="column" x="{cx + w / 2}" y="{_MARGIN + 8}" text-anchor="middle">'
                    f"{html.escape(t)}</text>" for t, cx, w in headings)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%" '
            f'viewBox="0 0 {layout.width} {layout.height}" class="neuron-graph">{heads}{body}</svg>')


def _draw_example(e: int, mine: list[Pass], xs: list[Value], layout: _Layout, last: int,
                  grads: dict[Value, float], ids: dict[Value, str], out_of: dict[Value, Pass], largest_w: float,
                  several: bool, nodes: dict[str, dict[str, Any]],
                  edges: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Example e's input, neuron and edge entries into `nodes` and `edges`; its SVG edges and boxes."""
    largest_g = max((abs(grads.get(p.net, 0.0) * x.data) for p in mine for x in p.inputs), default=0.0)
    largest_d = max((abs(grads.get(p.net, 0.0)) for p in mine), default=0.0)
    group_edges: list[str] = []
    group_boxes: list[str] = []
    for k, xv in enumerate(xs):
        key = f"x{k}@{e}"
        label = xv.label if xv.label else f"x{k}"
        nodes[key] = {"kind": "input", "name": label, "data": _num(xv.data), "example": e, "node": ids.get(xv)}
        group_boxes.append(_input_box(key, label, xv.data, layout.input_pos[k], e))
    for p in mine:
        g_net, g_out = grads.get(p.net, 0.0), grads.get(p.out, 0.0)
        nodes[p.key] = {
            "kind": "neuron", "neuron": p.neuron, "example": e, "layer": p.layer,
            "net": _num(p.net.data), "out": _num(p.out.data), "dout": _num(g_out), "delta": _num(g_net),
            "netExact": repr(p.net.data), "outExact": repr(p.out.data), "doutExact": repr(float(g_out)),
            "deltaExact": repr(float(g_net)), "tone": tone(g_net, largest_d),
            "node": ids.get(p.out), "members": [ids[v] for v in _members(p) if v in ids],
        }
        group_boxes.append(_neuron_box(p, layout.neuron_pos[(p.layer, p.index)], several))
        for i, (w, src_v) in enumerate(zip(p.weights, p.inputs, strict=True)):
            first = p.layer == 1
            src = f"x{i}@{e}" if first else out_of[src_v].key
            src_pos = layout.input_pos[i] if first else layout.neuron_pos[(out_of[src_v].layer, out_of[src_v].index)]
            src_w, src_h = (_INPUT_W, _INPUT_H) if first else (_NEURON_W, _NEURON_H)
            edge_id = f"{src}>{p.key}"
            g_w = g_net * src_v.data  # dE/dw_ij of this example, (1.5)
            edges[edge_id] = {
                "from": src, "to": p.key, "weight": str(w.label), "w": _num(w.data), "wExact": repr(w.data),
                "wWidth": _width(w.data, largest_w), "wSign": _sign(w.data),
                "g": _num(g_w), "gWidth": _width(g_w, largest_g), "gSign": _sign(g_w),
            }
            end = layout.neuron_pos[(p.layer, p.index)]
            group_edges.append(_edge(edge_id, w, (src_pos[0] + src_w, src_pos[1] + src_h / 2),
                                     (end[0], end[1] + _NEURON_H / 2)))
    for p in mine:
        if p.layer == last:
            pos, loss_pos = layout.neuron_pos[(p.layer, p.index)], layout.loss_pos
            edge_id = f"{p.key}>loss"
            edges[edge_id] = {"from": p.key, "to": "loss", "weight": None}
            group_edges.append(_edge(edge_id, None, (pos[0] + _NEURON_W, pos[1] + _NEURON_H / 2),
                                     (loss_pos[0], loss_pos[1] + _LOSS_H / 2)))
    return group_edges, group_boxes


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
