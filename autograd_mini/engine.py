"""Reverse-mode accumulation over a recorded graph of Values.

`backward` visits the nodes in reverse topological order (every node after
all of its consumers) and, at each node, adds g * d out / d input into each
input's gradient using the node's row of the derivative table: the chain rule
(1.5), summed over every path as in (1.8) and (1.10). Nothing here recurses,
so graphs a million ops deep work under the default recursion limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .errors import AutogradMiniError, gradient_error
from .errors import rule_error as rule_error  # also re-exported for _tape_schedule (until it uses errors)
from .value import Value

_INF = math.inf


def reverse_topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node `root` depends on, each before its inputs (root first).

    An iterative depth-first search: a node is pushed back under a `None`
    marker with its inputs above it, and emitted when the marker resurfaces,
    i.e. after all its inputs. Depth costs heap memory, not recursion.
    With `leaves=False` only nodes that have inputs are listed (what backward
    needs to visit); leaves are then never stored, which saves time.
    """
    seen: set[Value] = set()
    postorder: list[Value] = []
    stack: list[Value | None] = [root]
    pop, push, extend, emit, mark = stack.pop, stack.append, stack.extend, postorder.append, seen.add
    while stack:
        node = pop()
        if node is None:
            emit(pop())  # type: ignore[arg-type]
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


def local_derivatives(node: Value) -> tuple[Any, ...]:
    """d node / d input for each of node's inputs (None where not differentiable).

    The op's rule with upstream gradient 1: the factor backward multiplies by
    on each edge, as shown by `draw` and `explain`.
    """
    if node.op is None:
        return ()
    return _rule(node, 1.0, [x.data for x in node.inputs])


def backward(root: Value, create_graph: bool = False) -> None:
    """Accumulate d root / d node into every node's `.grad`; see `Value.backward`."""
    if not isinstance(root, Value):
        raise TypeError(f"backward needs a Value, got {type(root).__name__}")
    if create_graph:
        _backward_with_graph(root, reverse_topological_order(root))
    else:
        _backward_floats(root, reverse_topological_order(root, leaves=False))


def _backward_floats(root: Value, interior: list[Value]) -> None:
    """The float fast path over the nodes that have inputs, root first."""
    for node in interior:
        node.grad = 0.0
    root.grad = root.grad + 1.0
    for node in interior:
        g = node.grad
        if g == 0.0:
            continue
        op = node.op
        inputs = node.inputs
        # Unpacked by arity: building argument lists is most of the cost per node.
        # Each sum is checked before it is stored, so no inf ever lands in a .grad. A
        # first contribution is stored as it is (no new float); `old != 0.0` is also
        # true for a Value left in a leaf's .grad by an earlier create_graph pass.
        try:
            if len(inputs) == 2:
                a, b = inputs
                ga, gb = op.vjp(g, node.data, a.data, b.data)
                if ga is not None:
                    old = a.grad
                    if old != 0.0:
                        ga = old + ga
                    if ga.__class__ is float and not -_INF < ga < _INF:
                        raise gradient_error(op, [x.data for x in inputs], 0, ga)
                    a.grad = ga
                if gb is not None:
                    old = b.grad
                    if old != 0.0:
                        gb = old + gb
                    if gb.__class__ is float and not -_INF < gb < _INF:
                        raise gradient_error(op, [x.data for x in inputs], 1, gb)
                    b.grad = gb
            elif len(inputs) == 1:
                (a,) = inputs
                (ga,) = op.vjp(g, node.data, a.data)
                if ga is not None:
                    old = a.grad
                    if old != 0.0:
                        ga = old + ga
                    if ga.__class__ is float and not -_INF < ga < _INF:
                        raise gradient_error(op, [x.data for x in inputs], 0, ga)
                    a.grad = ga
            else:
                local = op.vjp(g, node.data, *[x.data for x in inputs])
                for i, (x, gx) in enumerate(zip(inputs, local)):
                    if gx is not None:
                        old = x.grad
                        if old != 0.0:
                            gx = old + gx
                        if gx.__class__ is float and not -_INF < gx < _INF:
                            raise gradient_error(op, [x.data for x in inputs], i, gx)
                        x.grad = gx
        except AutogradMiniError:
            raise  # already names its op (e.g. a custom rule that broke its contract)
        except (ArithmeticError, ValueError) as exc:
            raise rule_error(node.op, [x.data for x in inputs], exc) from None


def _backward_with_graph(root: Value, order: list[Value]) -> None:
    grads = _propagate(root, order, Value(1.0), create_graph=True)
    for node in order:
        g = grads.get(node)
        if node.op is not None:
            node.grad = g if g is not None else Value(0.0)
        elif g is not None:
            node.grad = node.grad + g


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d x for each x in `inputs`, leaving every `.grad` untouched.

    The functional form of backward (like `torch.autograd.grad`). With
    `create_graph=True` the results are Values that can be differentiated
    again; otherwise floats. An input `output` does not depend on gets 0.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients needs a Value output, got {type(output).__name__}")
    order = reverse_topological_order(output)
    seed: Any = Value(1.0) if create_graph else 1.0
    grads = _propagate(output, order, seed, create_graph)
    zero: Any = Value(0.0) if create_graph else 0.0
    return [grads.get(x, zero) for x in inputs]


def _propagate(root: Value, order: list[Value], seed: Any, create_graph: bool) -> dict[Value, Any]:
    """The chain rule over `order` with gradients kept in a dict, not in `.grad`.

    With create_graph the rules run on Values (the node itself as `out`), so
    each gradient is recorded as a graph: gradients of gradients come from the
    same table rows.
    """
    grads: dict[Value, Any] = {root: seed}
    for node in order:
        op = node.op
        g = grads.get(node)
        if op is None or g is None:
            continue
        if create_graph:
            operands = [x.data if i in op.nondiff else x for i, x in enumerate(node.inputs)]
            local = op.vjp(g, node, *operands)
        else:
            local = _rule(node, g, [x.data for x in node.inputs])
        for i, (x, gx) in enumerate(zip(node.inputs, local)):
            if gx is not None:
                previous = grads.get(x)
                total = gx if previous is None else previous + gx
                if not create_graph and not -_INF < total < _INF:
                    raise gradient_error(op, [x.data for x in node.inputs], i, total)
                grads[x] = total
    return grads


def _rule(node: Value, g: Any, datas: list[float]) -> tuple[Any, ...]:
    op = node.op
    assert op is not None
    try:
        return op.vjp(g, node.data, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(node.op, datas, exc) from None
