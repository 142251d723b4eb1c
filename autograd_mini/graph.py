"""Walking a recorded graph: the one traversal module of the library (nothing recurses).

`reverse_topological_order` is the order backward visits (and copying, zero_grad,
the tape and the views use); `depending_on` and `forward_order` are the walks the
views share. Works on any node with an `inputs` tuple; imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class Roots:
    """Several outputs walked as one root: a stand-in node whose inputs they are (listed first)."""

    __slots__ = ("inputs",)

    def __init__(self, outputs: Iterable[Any]) -> None:
        self.inputs = tuple(outputs)


def reverse_topological_order(
    root: Any, skip: type | None = None, leaves: list[Any] | None = None, stop: Iterable[Any] = ()
) -> list[Any]:
    """Every node `root` depends on, each before its inputs (root first).

    An iterative depth-first search: a node is pushed back under a `None`
    marker with its inputs above it, and emitted when the marker resurfaces,
    i.e. after all its inputs. Depth costs heap memory, not recursion.
    With `skip` a type, a node whose `inputs` is of that type is neither listed
    nor walked through (backward passes `ConstantInputs`: constants and what
    lies only below them). With `leaves` a list, the nodes without inputs go
    there instead, each once, in the order met. Nodes in `stop` are neither
    listed nor walked through (as if already seen).
    """
    seen: set[Any] = set(stop)
    postorder: list[Any] = []
    stack: list[Any] = [root]
    pop, push, extend, emit, mark = stack.pop, stack.append, stack.extend, postorder.append, seen.add
    meet = emit if leaves is None else leaves.append
    while stack:
        node = pop()
        if node is None:
            emit(pop())
            continue
        inputs = node.inputs
        if not inputs:
            if node not in seen and inputs.__class__ is not skip:
                mark(node)
                meet(node)
        elif node not in seen:  # `not inputs` first: most edges in a network lead to a leaf (a weight)
            mark(node)
            if inputs.__class__ is not skip:
                push(node)
                push(None)
                extend(inputs)
    postorder.reverse()
    return postorder


def depending_on(root: Any, wrt: Any, order: Sequence[Any] | None = None) -> list[Any]:
    """The nodes of root's graph that depend on `wrt` (wrt included), root first.

    The nodes on some path from wrt up to root, in reverse topological order
    (each before its inputs, as backward visits them). Dependence is
    structural: wrt reachable through inputs, differentiable or not. Empty
    when root does not depend on wrt (wrt not in the graph). `order` may pass
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


def forward_order(root: Any) -> list[Any]:
    """Every Value `root` depends on, inputs before results, inputs taken left to right.

    The depth-first postorder a reader expects (for `a * b + c`: a, b, a*b,
    c, root); it names the nodes n0, n1, ... Iterative: a stack of (node,
    iterator over its inputs) pairs instead of recursion.
    """
    seen = {root}
    order: list[Any] = []
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
