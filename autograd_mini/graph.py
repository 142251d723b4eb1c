"""Questions about a recorded graph that the views ask: which nodes depend on x.

`depending_on(root, wrt)` is written once here and used by `checking` (the ops
on a failing input's paths), `explain` (the subgraph between wrt and the
output) and `viz` (the paths highlighted to the root). Dependence is
structural: a node depends on wrt when wrt is reachable through its inputs,
whether or not every edge on the way is differentiable. Iterative, as every
walk over the graph is.
"""

from __future__ import annotations

from collections.abc import Sequence

from .engine import reverse_topological_order
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
