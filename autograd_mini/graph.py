"""Walking a recorded graph: the one traversal every part of the library uses.

Works on any node with an `inputs` tuple (a `Value`), so it imports nothing
from the package: `value` (copying, zero_grad), `engine` (backward) and the
views (`draw`, `explain`, the tape) all walk graphs with it. Nothing here
recurses, so graphs a million ops deep work under the default recursion limit.
"""

from __future__ import annotations

from typing import Any


def reverse_topological_order(root: Any, leaves: bool = True) -> list[Any]:
    """Every node `root` depends on, each before its inputs (root first).

    An iterative depth-first search: a node is pushed back under a `None`
    marker with its inputs above it, and emitted when the marker resurfaces,
    i.e. after all its inputs. Depth costs heap memory, not recursion.
    With `leaves=False` only nodes that have inputs are listed.
    """
    seen: set[Any] = set()
    postorder: list[Any] = []
    stack: list[Any] = [root]
    pop, push, extend, emit, mark = stack.pop, stack.append, stack.extend, postorder.append, seen.add
    while stack:
        node = pop()
        if node is None:
            emit(pop())
        elif not node.inputs:
            if leaves and node not in seen:
                mark(node)
                emit(node)
        elif node not in seen:
            mark(node)
            push(node)
            push(None)
            extend(node.inputs)
    postorder.reverse()
    return postorder
