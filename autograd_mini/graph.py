"""Questions about a recorded graph that the views ask: which nodes depend on x, in
which order a reader meets them, and which nn neuron each belongs to.

`depending_on(root, wrt)` is written once here and used by `checking` (the ops
on a failing input's paths), `explain` (the subgraph between wrt and the
output) and `viz` (the paths highlighted to the root). Dependence is
structural: a node depends on wrt when wrt is reachable through its inputs,
whether or not every edge on the way is differentiable. Iterative, as every
walk over the graph is. Neurons are read through the nn label API
(`nn.parse_label`), never a regex.
"""

from __future__ import annotations

from collections.abc import Sequence

from .engine import reverse_topological_order
from .nn import neuron_of, parse_label
from .value import Value


def depending_on(root: Value, wrt: Value, order: Sequence[Value] | None = None) -> list[Value]:
    """The nodes of root's graph that depend on `wrt` (wrt included), root first.

    The nodes on some path from wrt up to root, in reverse topological order
    (each before its inputs, as backward visits them). Empty when root does
    not depend on wrt (wrt not in the graph). `order` may pass
    `reverse_topological_order(root)` when the caller already has it.
    """
    if order is None:
        order = reverse_topological_order(root)
    depends = {wrt}
    for node in reversed(order):  # every node after its inputs
        if node is not wrt and any(x in depends for x in node.inputs):
            depends.add(node)
    if not order or order[0] not in depends:
        return []
    return [node for node in order if node in depends]


def forward_order(root: Value) -> list[Value]:
    """Every Value `root` depends on, inputs before results, inputs taken left to right.

    The depth-first postorder a reader expects (for `a * b + c`: a, b, a*b,
    c, root); it names the nodes n0, n1, ... Iterative: a stack of (node,
    iterator over its inputs) pairs instead of recursion.
    """
    seen = {root}
    order: list[Value] = []
    stack = [(root, iter(root.inputs))]
    while stack:
        node, pending = stack[-1]
        for x in pending:
            if x not in seen:
                seen.add(x)
                stack.append((x, iter(x.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


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
