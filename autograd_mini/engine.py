"""Reverse-mode accumulation over a recorded graph of Values.

`backward` visits the nodes in reverse topological order (every node after
all of its consumers) and, at each node, adds g * d out / d input into each
input's gradient using the node's row of the derivative table: the chain rule
(1.5), summed over every path as in (1.8) and (1.10). Nothing here recurses,
so graphs a million ops deep work under the default recursion limit.

Constants (`requires_grad=False`: numbers lifted into the graph, and nodes
computed from constants only) receive nothing and run no rule. A pass is
all or nothing: `.grad` is written as it goes (the fast path), and restored
to its value before the call if anything raises. Passes that write `.grad` hold
one process-wide lock, so threads calling `backward()` run one after another.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Sequence
from typing import Any

from .errors import AutogradMiniError, NumericOverflowError, grad_type_error, gradient_error, rule_error
from .graph import reverse_topological_order
from .value import NO_INPUTS, ConstantInputs, Value

_INF = math.inf
# `x.inputs.__class__ is not _CONSTANT` is `x.requires_grad` without a property call (see value.ConstantInputs).
_CONSTANT = ConstantInputs
_NO_INPUTS = NO_INPUTS  # every constant leaf's inputs (one identity test per edge in the float pass)


class _Absorb:
    """The .grad of a constant interior node during a float pass: whatever is added to it, it stays.

    The float pass tests each input for a constant leaf only (`inputs is
    _NO_INPUTS`, the cheapest test there is); the rarer constant nodes with
    inputs hold this instead, so what flows to them is dropped, with no check
    on the common path and nothing that can raise. `_walk` puts it in place
    and saves their .grad; the pass's end, or `_undo`, puts the .grad back.
    """

    __slots__ = ()

    def __add__(self, other: Any) -> _Absorb:
        return self

    __radd__ = __add__

    def __repr__(self) -> str:
        return "<the .grad of a constant during backward>"


_ABSORB = _Absorb()
# Reentrant, so a custom rule that itself calls backward() (on another graph) does not deadlock.
_LOCK = threading.RLock()


def backward_order(root: Value) -> tuple[list[Value], list[Value]]:
    """(interior, leaves): the nodes backward visits, each interior node before its inputs.

    Only nodes that require a gradient (constants are not listed). `interior`
    holds nodes with inputs (root first, if root has any); `leaves` the
    leaves, each once. Used by `gradients` and create_graph passes, which keep
    gradients in a dict; the float pass walks with `_walk`.
    """
    if not root.requires_grad:
        return [], []
    nodes = [n for n in reverse_topological_order(root) if n.inputs.__class__ is not _CONSTANT]
    return [n for n in nodes if n.inputs], [n for n in nodes if not n.inputs]


def _walk(root: Value, postorder: list[Value], saved: list[tuple[Value, Any]]) -> None:
    """List what a float pass visits; save and zero every .grad it will write that is not 0.0.

    Fills `postorder` with the interior nodes requiring a gradient, inputs
    first. A node (interior, or a leaf requiring a gradient) whose .grad is
    not 0.0 goes into `saved` as (node, .grad) and gets 0.0, so the pass
    starts from zero everywhere; nodes already at 0.0, the usual case in a
    training loop, cost one read. A leaf met again reads 0.0 and is not saved
    twice. A constant interior node is saved and gets `_ABSORB` (its inputs
    are not walked: no rule runs for it). `saved` is the caller's and appended
    to in step, so after an interruption half-way the caller still knows what
    to restore.

    An iterative depth-first search, as `graph.reverse_topological_order`: a
    node is pushed back under a `None` marker with its inputs above it (one C
    `extend`), and emitted when the marker resurfaces, i.e. after all its
    inputs. Constants are dropped when popped.
    """
    seen: set[Value] = set()
    stack: list[Value | None] = [root]
    pop, push, extend, mark = stack.pop, stack.append, stack.extend, seen.add
    emit, save = postorder.append, saved.append
    while stack:
        node = pop()
        if node is None:
            emit(pop())  # type: ignore[arg-type]
            continue
        inputs = node.inputs
        if not inputs:
            if node.grad != 0.0 and inputs is not _NO_INPUTS:
                save((node, node.grad))
                node.grad = 0.0
        elif node not in seen:  # seen first: most edges lead to a node met before
            mark(node)
            if inputs.__class__ is _CONSTANT:
                save((node, node.grad))
                node.grad = _ABSORB
                continue
            if node.grad != 0.0:
                save((node, node.grad))
                node.grad = 0.0
            push(node)
            push(None)
            extend(inputs)


def local_derivatives(node: Value) -> tuple[Any, ...]:
    """d node / d input for each of node's inputs (None where not differentiable).

    The op's rule with upstream gradient 1: the factor backward multiplies by
    on each edge, as shown by `draw` and `explain`.
    """
    if node.op is None:
        return ()
    return _rule(node, 1.0, [x._data for x in node.inputs])


def backward(root: Value, gradient: Any = 1.0, create_graph: bool = False) -> None:
    """Accumulate gradient * d root / d node into every node's `.grad`; see `Value.backward`."""
    if not isinstance(root, Value):
        raise TypeError(f"backward needs a Value, got {type(root).__name__}")
    if isinstance(gradient, bool) or not isinstance(gradient, (numbers.Real, Value)):
        got = f"{type(gradient).__name__}: {gradient!r:.40}"
        raise TypeError(f"backward: the seed gradient must be a number, got {got}")
    if create_graph is not True and create_graph is not False:
        raise TypeError(f"backward: create_graph must be True or False, got {create_graph!r:.40}")
    seed = gradient._data if isinstance(gradient, Value) else float(gradient)
    if not -_INF < seed < _INF:
        raise ValueError(f"backward: the seed gradient must be finite, got {seed!r}")
    with _LOCK:
        if create_graph:
            _backward_with_graph(root, gradient if isinstance(gradient, Value) else Value(seed))
        else:
            _backward_floats(root, seed)


def _backward_method(self: Value, gradient: Any = 1.0, *, create_graph: bool = False) -> None:
    """Accumulate gradient * d(self)/d(node) into `.grad` of every node self depends on.

    Visits the graph in reverse topological order, built without recursion,
    and applies each node's rule from the table: the chain rule (1.5),
    summed over every consumer of a node (1.8). `gradient` is the seed
    d(loss)/d(self), 1.0 by default (as torch's `backward(gradient)`).

    Calling it again on the same graph adds the pass's gradient to the
    leaves' `.grad` (twice the gradient after two calls, as in PyTorch, so
    minibatches can be accumulated; call `self.zero_grad()` in between to
    start over), while interior nodes hold the gradient of the latest pass
    only. Constants (`requires_grad=False`) get no gradient.

    All or nothing: if it raises (a rule undefined at a kink, an overflow,
    a custom rule that fails, KeyboardInterrupt), every `.grad` is left as
    it was before the call. Calls from several threads run one after
    another (a process-wide lock), so each sees a consistent graph.

    With `create_graph=True` (keyword only) the gradients are Values with
    graphs of their own, so they can be differentiated again.
    """
    backward(self, gradient, create_graph=create_graph)


# Attached here, not defined in value.py: the engine builds on `Value`, so the method that
# runs the engine joins the class from this layer and the core's imports run one way only.
_backward_method.__name__, _backward_method.__qualname__ = "backward", "Value.backward"
Value.backward = _backward_method


def _backward_floats(root: Value, seed: float) -> None:
    """The float fast path: rules on floats, gradients written into `.grad` as it goes.

    Every node this pass writes starts at 0.0 (`_walk` saves and zeroes the
    others); at the end each saved leaf gets old + this pass's gradient, as
    torch accumulates. If anything raises, `_undo` puts every .grad back.
    Unpacked by arity: building argument lists is most of the cost per node.
    Each sum is checked before it is stored, so no inf ever lands in a .grad. A
    first contribution is stored as it is (no new float).
    """
    if not root.requires_grad:
        return  # root is a constant: nothing depends on anything
    node: Value | None = root
    postorder: list[Value] = []  # inputs first, as walked
    saved: list[tuple[Value, Any]] = []
    walked = False
    try:
        _walk(root, postorder, saved)
        walked = True
        root.grad = seed  # 0.0 + seed: root was zeroed with the rest
        for node in reversed(postorder):
            g = node.grad
            if g == 0.0:
                continue  # nothing flows on: no rule runs (so no kink can raise) for a zero gradient
            op = node.op
            inputs = node.inputs
            if len(inputs) == 2:
                a, b = inputs
                ga, gb = op.vjp(g, node._data, a._data, b._data)
                if ga is not None and a.inputs is not _NO_INPUTS:
                    old = a.grad
                    if old != 0.0:
                        ga = old + ga
                    if ga.__class__ is not float:
                        ga = _as_grad(node, 0, ga)
                    elif not -_INF < ga < _INF:
                        raise gradient_error(op, [a._data, b._data], 0, ga)
                    a.grad = ga
                if gb is not None and b.inputs is not _NO_INPUTS:
                    old = b.grad
                    if old != 0.0:
                        gb = old + gb
                    if gb.__class__ is not float:
                        gb = _as_grad(node, 1, gb)
                    elif not -_INF < gb < _INF:
                        raise gradient_error(op, [a._data, b._data], 1, gb)
                    b.grad = gb
            elif len(inputs) == 1:
                (a,) = inputs
                (ga,) = op.vjp(g, node._data, a._data)
                if ga is not None and a.inputs is not _NO_INPUTS:
                    old = a.grad
                    if old != 0.0:
                        ga = old + ga
                    if ga.__class__ is not float:
                        ga = _as_grad(node, 0, ga)
                    elif not -_INF < ga < _INF:
                        raise gradient_error(op, [a._data], 0, ga)
                    a.grad = ga
            else:
                local = op.vjp(g, node._data, *[x._data for x in inputs])
                for i, (x, gx) in enumerate(zip(inputs, local)):
                    if gx is not None and x.inputs is not _NO_INPUTS:
                        old = x.grad
                        if old != 0.0:
                            gx = old + gx
                        if gx.__class__ is not float:
                            gx = _as_grad(node, i, gx)
                        elif not -_INF < gx < _INF:
                            raise gradient_error(op, [y._data for y in inputs], i, gx)
                        x.grad = gx
        node = None
        _commit(saved)
    except BaseException as exc:  # all or nothing, even for KeyboardInterrupt
        _undo(root, postorder, saved, walked)
        if isinstance(exc, AutogradMiniError) or node is None or node.op is None:
            raise  # already names its op
        datas = [x._data for x in node.inputs]
        if isinstance(exc, TypeError):  # old + g failed: the rule gave a gradient that is no number
            raise grad_type_error(node.op, datas, None, exc) from None
        if not isinstance(exc, (ArithmeticError, ValueError)):
            raise  # not about numbers (KeyboardInterrupt, a bug in a custom rule): re-raised as it is
        raise rule_error(node.op, datas, exc) from None


def _commit(saved: list[tuple[Value, Any]]) -> None:
    """leaf.grad = its old .grad + this pass's gradient, for every leaf `_walk` saved.

    Leaves whose old .grad was 0.0 already hold this pass's gradient. `old` may
    be a Value left in a leaf's .grad by an earlier create_graph pass (Value +
    float gives a Value). A constant's .grad (`_ABSORB`) gets its old value back.
    """
    for x, old in saved:
        if x.grad is _ABSORB:
            x.grad = old
        elif not x.inputs:
            total = old + x.grad
            if total.__class__ is float and not -_INF < total < _INF:
                name = f"{x.label!r}" if x.label is not None else f"of data {x._data!r}"
                raise NumericOverflowError(
                    f"backward: the gradient accumulated in the leaf {name} would be {total!r} "
                    f"(its .grad {old!r} plus this pass's {x.grad!r}); it overflows float64"
                )
            x.grad = total


def _undo(root: Value, postorder: list[Value], saved: list[tuple[Value, Any]], walked: bool) -> None:
    """Every .grad back to its value before the pass: the exception path only.

    Until the walk is over only the saved nodes were written (zeroed). After
    it, the pass may have written any node it visits: root, the interior nodes
    of `postorder` and the leaves requiring a gradient among their inputs;
    those the walk did not save held 0.0, and get it back.
    """
    if walked:
        root.grad = 0.0
        for n in postorder:
            n.grad = 0.0
            for x in n.inputs:
                if x.inputs.__class__ is tuple and not x.inputs:  # a leaf, not a constant
                    x.grad = 0.0
    for n, old in saved:
        n.grad = old


def _as_grad(node: Value, position: int, g: Any) -> Any:
    """A gradient sum that is not a float: a Value (a leaf's .grad left by a create_graph pass) stays;
    another real number becomes a float, checked to be finite; anything else (1j, a Decimal) is refused.
    `_ABSORB` (what flowed into a constant) stays, unchecked."""
    assert node.op is not None
    if g is _ABSORB or isinstance(g, Value):
        return g
    datas = [x._data for x in node.inputs]
    if isinstance(g, numbers.Real) and not isinstance(g, bool):
        try:
            f = float(g)
        except OverflowError:
            f = _INF
        if not -_INF < f < _INF:
            raise gradient_error(node.op, datas, position, f)
        return f
    raise grad_type_error(node.op, datas, position, g)


def _backward_with_graph(root: Value, seed: Value) -> None:
    interior, leaves = backward_order(root)
    grads = _propagate(root, interior, seed, create_graph=True)  # all computed before anything is written
    for node in interior:
        g = grads.get(node)
        node.grad = g if g is not None else Value(0.0)
    for node in leaves:
        g = grads.get(node)
        if g is not None:
            node.grad = node.grad + g


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d x for each x in `inputs`, leaving every `.grad` untouched.

    The functional form of backward (like `torch.autograd.grad`). With
    `create_graph=True` the results are Values that can be differentiated
    again; otherwise floats. An input `output` does not depend on, and a
    constant (`requires_grad=False`), gets 0.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients needs a Value output, got {type(output).__name__}")
    interior, _ = backward_order(output)
    seed: Any = Value(1.0) if create_graph else 1.0
    grads = _propagate(output, interior, seed, create_graph)
    zero: Any = Value(0.0) if create_graph else 0.0
    return [grads.get(x, zero) for x in inputs]


def _propagate(root: Value, interior: list[Value], seed: Any, create_graph: bool) -> dict[Value, Any]:
    """The chain rule over `interior` with gradients kept in a dict, not in `.grad`.

    With create_graph the rules run on Values (the node itself as `out`), so
    each gradient is recorded as a graph: gradients of gradients come from the
    same table rows. On floats a zero gradient stops there, as in `backward`
    (the same graph gives the same answer on every path).
    """
    grads: dict[Value, Any] = {root: seed}
    for node in interior:
        op = node.op
        g = grads.get(node)
        if op is None or g is None or (not create_graph and g == 0.0):
            continue
        if create_graph:
            operands = [x._data if i in op.nondiff else x for i, x in enumerate(node.inputs)]
            local = op.vjp(g, node, *operands)
        else:
            local = _rule(node, g, [x._data for x in node.inputs])
        for i, (x, gx) in enumerate(zip(node.inputs, local)):
            if gx is not None and x.inputs.__class__ is not _CONSTANT:
                previous = grads.get(x)
                total = gx if previous is None else previous + gx
                if not create_graph:
                    if total.__class__ is not float:
                        total = _as_grad(node, i, total)
                    elif not -_INF < total < _INF:
                        raise gradient_error(op, [y._data for y in node.inputs], i, total)
                grads[x] = total
    return grads


def _rule(node: Value, g: Any, datas: list[float]) -> tuple[Any, ...]:
    op = node.op
    assert op is not None
    try:
        return op.vjp(g, node._data, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(op, datas, exc) from None
