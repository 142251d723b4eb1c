"""The neuron passes of a graph built from `nn` layers: each neuron's net_j (1.1) and O_j (1.2) per example.

`find_passes` reads them off the labels `nn` gives its nodes; a graph that is
not a plain `nn` network gives None (the explorer then shows only its ops).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...value import Value
from ..neurons import Box, nn_label


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
