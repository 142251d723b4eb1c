"""Which `nn` neuron, and which forward pass of it, each node of a recorded graph belongs to.

Read through the nn label API (`nn.parse_label`), never a regex. A loss summed
over several examples runs every neuron once per example: each run is its own
pass ("L1.N0 · example 2"), while the weights are shared by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..nn.labels import Label, neuron_key, parse_label
from ..value import Value

# No nn label is longer (indices below 10**60); a longer one is read as a plain label, before
# int() is asked for a number over Python's 4,300-digit limit.
_LONGEST_NN_LABEL = 200


def nn_label(label: str | None) -> Label | None:
    """`nn.parse_label(label)`, or None for labels too long to be one: the views' one way to read them."""
    if label is None or len(label) > _LONGEST_NN_LABEL:
        return None
    return parse_label(label)


def neuron_groups(nodes: list[Value]) -> dict[Value, str]:
    """Map each Value that belongs to a neuron to the neuron's name, e.g. "L1.N0".

    Members are the Values labelled "L{l}.N{j}.w{k}", ".b", ".net" and
    ".out" (the convention of `autograd_mini.nn`), plus the unlabelled ops
    that lie between the neuron's parameters and its ".net" node (the `dot`
    node of net = dot(w, x) + b). `nodes` must list inputs before results.
    """
    groups, _ = _groups_and_nets(nodes)
    return groups


def _groups_and_nets(nodes: list[Value]) -> tuple[dict[Value, str], dict[Value, Value]]:
    """`neuron_groups`, and for each unlabelled member the ".net" node it was found below."""
    groups: dict[Value, str] = {}
    nets = []
    for v in nodes:
        parsed = nn_label(v.label)
        if parsed is not None:
            groups[v] = parsed.neuron_name
            if parsed.part == "net":
                nets.append(v)
    # Unlabelled ops below each ".net" are candidates of that neuron ...
    candidates: dict[Value, Value] = {}
    for net in nets:
        stack = list(net.inputs)
        while stack:
            x = stack.pop()
            if x.label is None and x.op is not None and x not in candidates:
                candidates[x] = net
                stack.extend(x.inputs)
    # ... and members when they read one of its members (its weights): an
    # input transform shared by every neuron stays outside.
    found: dict[Value, Value] = {}
    for v in nodes:
        below = candidates.get(v)
        if below is not None and any(groups.get(x) == groups[below] for x in v.inputs):
            groups[v] = groups[below]
            found[v] = below
    return groups, found


def neuron_of_node(node: Value, groups: dict[Value, str] | None = None) -> str | None:
    """The neuron ("L1.N0") `node` belongs to, or None.

    Labelled nodes by their label; unlabelled ones (a neuron's `dot`) through
    `groups`, the result of `neuron_groups` over the graph's nodes.
    """
    parsed = nn_label(node.label)
    return parsed.neuron_name if parsed is not None else (groups or {}).get(node)


@dataclass(frozen=True)
class Box:
    """The box a neuron's node is drawn in: the neuron, or one pass of it, or its shared weights.

    `example` is the pass (0, 1, ...: the neuron's passes in the graph's forward
    order, the examples in the order a loss sums them) when the neuron runs
    more than once; None when it runs once. `shared` marks the weights and bias
    of a neuron that runs more than once: they belong to every pass.
    """

    neuron: str
    example: int | None = None
    shared: bool = False

    @property
    def title(self) -> str:
        """ "L1.N0", "L1.N0 · example 2" or "L1.N0 · weights"."""
        if self.shared:
            return f"{self.neuron} · weights"
        return self.neuron if self.example is None else f"{self.neuron} · example {self.example}"

    @property
    def layer(self) -> int:
        return neuron_key(self.neuron)[0]

    def sort_key(self) -> tuple[int, int, int]:
        """Layer, then example (shared weights first), then neuron index."""
        layer, index = neuron_key(self.neuron)
        return layer, -1 if self.example is None else self.example, index


def neuron_boxes(nodes: list[Value]) -> dict[Value, Box]:
    """The Box of each node that belongs to a neuron; `nodes` lists inputs before results.

    A pass is anchored at its ".net" node: the `dot` below it and the ".out"
    above it (the activation of that net) belong to the same pass.
    """
    groups, found_below = _groups_and_nets(nodes)
    nets: dict[str, list[Value]] = {}
    for v in nodes:
        parsed = nn_label(v.label)
        if parsed is not None and parsed.part == "net":
            nets.setdefault(parsed.neuron_name, []).append(v)
    example = {net: k for runs in nets.values() if len(runs) > 1 for k, net in enumerate(runs)}
    boxes: dict[Value, Box] = {}
    for v, neuron in groups.items():
        if len(nets.get(neuron, ())) < 2:
            boxes[v] = Box(neuron)
            continue
        net = found_below.get(v) or _net_of_pass(v, neuron, example)
        boxes[v] = Box(neuron, example[net]) if net is not None else Box(neuron, shared=True)
    return boxes


def _net_of_pass(v: Value, neuron: str, example: dict[Value, int]) -> Value | None:
    """The ".net" node anchoring v's pass: v itself, or the net an ".out" is the activation of."""
    if v in example:
        return v
    parsed = nn_label(v.label)
    if parsed is not None and parsed.part == "out":
        return next((x for x in v.inputs if x in example and neuron_of_node(x) == neuron), None)
    return None


_MANY = -1  # a node that belongs to several examples: to none of them


def node_examples(nodes: list[Value], boxes: dict[Value, Box]) -> dict[Value, int]:
    """The example each node belongs to, where it belongs to exactly one.

    A neuron's pass belongs to its example; any other node to the one example
    whose passes it reads (a loss term), or else to the one example whose nodes
    read it (that example's inputs and target). Shared weights and the sum of
    the examples' losses belong to none. Empty when no neuron runs twice.
    """
    below: dict[Value, int | None] = {}
    for v in nodes:  # inputs first: the examples each node reads
        box = boxes.get(v)
        found = box.example if box is not None else None
        for x in v.inputs:
            found = _merge(found, below[x])
        below[v] = found
    if all(found is None for found in below.values()):
        return {}
    above: dict[Value, int | None] = {}
    for v in reversed(nodes):  # results first: nodes that read no example take their readers' one
        own = below[v] if below[v] is not None else above.get(v)
        for x in v.inputs:
            if below[x] is None:
                above[x] = _merge(above.get(x), own)
    result = {}
    for v in nodes:
        found = below[v] if below[v] is not None else above.get(v)
        if found is not None and found != _MANY:
            result[v] = found
    return result


def _merge(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _MANY
