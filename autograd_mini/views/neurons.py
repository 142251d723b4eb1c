"""Which `nn` neuron each node of a recorded graph belongs to.

Read through the nn label API (`nn.parse_label`, `nn.neuron_of`), never a
regex: `draw` groups and collapses neurons with it, `explain`'s derivation
reading and node inspectors such as `explore` name a node's neuron with it.
"""

from __future__ import annotations

from ..nn.labels import neuron_of, parse_label
from ..value import Value


def neuron_groups(nodes: list[Value]) -> dict[Value, str]:
    """Map each Value that belongs to a neuron to the neuron's name, e.g. "L1.N0".

    Members are the Values labelled "L{l}.N{j}.w{k}", ".b", ".net" and
    ".out" (the convention of `autograd_mini.nn`), plus the unlabelled ops
    that lie between the neuron's parameters and its ".net" node (the `dot`
    node of net = dot(w, x) + b). `nodes` must list inputs before results.
    """
    groups: dict[Value, str] = {}
    nets = []
    for v in nodes:
        parsed = parse_label(v.label)
        if parsed is not None:
            groups[v] = parsed.neuron_name
            if parsed.part == "net":
                nets.append(v)
    # Unlabelled ops below each ".net" are candidates of that neuron ...
    candidates: dict[Value, str] = {}
    for v in nets:
        stack = list(v.inputs)
        while stack:
            x = stack.pop()
            if x.label is None and x.op is not None and x not in candidates:
                candidates[x] = groups[v]
                stack.extend(x.inputs)
    # ... and members when they read one of its members (its weights): an
    # input transform shared by every neuron stays outside.
    for v in nodes:
        name = candidates.get(v)
        if name is not None and any(groups.get(x) == name for x in v.inputs):
            groups[v] = name
    return groups


def neuron_of_node(node: Value, groups: dict[Value, str] | None = None) -> str | None:
    """The neuron ("L1.N0") `node` belongs to, or None.

    Labelled nodes by their label; unlabelled ones (a neuron's `dot`) through
    `groups`, the result of `neuron_groups` over the graph's nodes.
    """
    return neuron_of(node.label) or (groups or {}).get(node)
