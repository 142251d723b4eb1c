"""Reverse-mode accumulation over a recorded graph of Values: `backward` and `gradients`.

First the reference backward, the whole idea: (1.5) at every node, summed over
consumers as (1.8). Then the float fast path that `y.backward()` runs, the same
pass written for speed and tested equal to it. Nothing here recurses.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Sequence
from typing import Any, Literal, overload

from .errors import AutogradMiniError, NumericOverflowError, grad_type_error, gradient_error, rule_error
from .grad_mode import ConstantInputs
from .graph import reverse_topological_order
from .value import Value

_INF = math.inf


# --- the reference backward --------------------------------------------------------------------
def backpropagate(root: Value, seed: Any, create_graph: bool = False) -> dict[Value, Any]:
    """d root / d node for every node that requires a gradient, times `seed`: the chain rule.

    Visits the nodes in reverse topological order (each after all of its
    consumers, constants left out), so a node's gradient g is complete when it
    is reached; its row's rule `vjp(g, out, *inputs)` gives g times each local
    derivative (1.5), added into each input's gradient: the sum over
    consumers of (1.8). With `create_graph` the rules run on Values, so every
    gradient is itself a graph (gradients of gradients from the same rows).
    On floats a zero gradient stops there: no rule runs for it.
    """
    grads: dict[Value, Any] = {root: seed}
    for node in reverse_topological_order(root, skip=ConstantInputs):
        g = grads.get(node)
        if g is None or not node.inputs or (not create_graph and g == 0.0):
            continue
        for i, (x, gx) in enumerate(zip(node.inputs, _vjp(node, g, create_graph))):
            if gx is not None and x.requires_grad:
                total = grads[x] + gx if x in grads else gx  # accumulate, never assign (1.8)
                grads[x] = total if create_graph else _checked_grad(node, i, total)
    return grads


def _vjp(node: Value, g: Any, create_graph: bool) -> tuple[Any, ...]:
    """The node's rule at upstream gradient g: on the inputs' floats, or on the Values themselves."""
    op = node.op
    assert op is not None
    if not create_graph:
        return _rule(node, g, [x._data for x in node.inputs])
    operands = [x._data if i in op.nondiff else x for i, x in enumerate(node.inputs)]
    return op.vjp(g, node, *operands)


@overload
def gradients(output: Value, inputs: Sequence[Value], create_graph: Literal[False] = False) -> list[float]: ...
@overload
def gradients(output: Value, inputs: Sequence[Value], create_graph: Literal[True]) -> list[Value]: ...
@overload
def gradients(output: Value, inputs: Sequence[Value], create_graph: bool) -> list[Any]: ...
def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d x for each x in `inputs`, leaving every `.grad` untouched.

    The functional form of backward (like `torch.autograd.grad`): floats, or
    with `create_graph=True` Values that can be differentiated again. An input
    `output` does not depend on, and a constant, gets 0.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients needs a Value output, got {type(output).__name__}")
    grads = backpropagate(output, Value(1.0) if create_graph else 1.0, create_graph)
    zero: Any = Value(0.0) if create_graph else 0.0
    return [grads.get(x, zero) for x in inputs]


def backward_order(root: Value) -> tuple[list[Value], list[Value]]:
    """(interior, leaves): the nodes backward visits, each interior node before its inputs.

    Constants are not listed. `interior` holds the nodes with inputs (root
    first, if it has any); `leaves` the leaves requiring a gradient, each once.
    """
    nodes = reverse_topological_order(root, skip=ConstantInputs)
    return [n for n in nodes if n.inputs], [n for n in nodes if not n.inputs]


def local_derivatives(node: Value) -> tuple[Any, ...]:
    """d node / d input for each of node's inputs (None where not differentiable).

    The op's rule with upstream gradient 1: the factor backward multiplies by
    on each edge, as shown by `draw` and `explain`.
    """
    if node.op is None:
        return ()
    return _rule(node, 1.0, [x._data for x in node.inputs])


# --- backward(): write the gradients into .grad ---------------------------------------------------
# Reentrant, so a custom rule that itself calls backward() (on another graph) does not deadlock.
_LOCK = threading.RLock()


def backward(root: Value, gradient: float | Value = 1.0, create_graph: bool = False) -> None:
    """Accumulate gradient * d(root)/d(node) into `.grad` of every node root depends on.

    Attached to the class as `Value.backward`. `gradient` is the seed
    d(loss)/d(root), 1.0 by default (as torch's `backward(gradient)`).
    Calling it again adds the pass's gradient to the leaves' `.grad` (call
    `zero_grad()` in between to start over), while interior nodes hold the
    latest pass's gradient only. Constants (`requires_grad=False`) get none.

    All or nothing: if it raises (a rule undefined at a kink, an overflow, a
    custom rule that fails, KeyboardInterrupt), every `.grad` is left as it
    was. Calls from several threads run one after another (a process-wide
    lock). With `create_graph=True` (keyword only) the gradients are Values
    with graphs of their own, so they can be differentiated again.
    """
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


def _backward_method(self: Value, gradient: float | Value = 1.0, *, create_graph: bool = False) -> None:
    backward(self, gradient, create_graph)


# Attached here, not defined in value.py: the engine builds on `Value`, so the method that
# runs the engine joins the class from this layer and the core's imports run one way only.
_backward_method.__doc__ = backward.__doc__
_backward_method.__name__, _backward_method.__qualname__ = "backward", "Value.backward"
Value.backward = _backward_method  # type: ignore[method-assign]  # declared in Value's body for checkers


def _backward_with_graph(root: Value, seed: Value) -> None:
    """create_graph=True: the reference pass on Values, then its results written into `.grad`."""
    grads = backpropagate(root, seed, create_graph=True)  # all computed before anything is written
    for node in reverse_topological_order(root, skip=ConstantInputs):
        g = grads.get(node)
        if node.inputs:
            node.grad = g if g is not None else Value(0.0)
        elif g is not None:
            node.grad = node.grad + g


# --- the float fast path: `backpropagate` on floats, written into .grad as it goes ----------------


def _backward_floats(root: Value, seed: float) -> None:
    """`backpropagate(root, seed)` with the gradients kept in `.grad` instead of a dict.

    Every node it writes starts at 0.0 (the others' .grad is saved first:
    usually none, in a training loop); at the end each saved leaf gets its old
    .grad plus this pass's, as torch accumulates; if anything raises, every
    .grad is put back. Keeping sums in `.grad` rather than a dict, unpacking by
    arity and calling nothing per edge are the optimisation: `backpropagate` on
    floats takes 2.6 times as long on the deep chain of bench_engine (2,000 steps).
    """
    leaves: list[Value] = []  # listed apart: the loop below visits only nodes with a rule
    order = reverse_topological_order(root, skip=ConstantInputs, leaves=leaves)  # interior, root first
    saved: list[tuple[Value, Any]] = []
    node: Value | None = None
    try:
        for nodes in (order, leaves):
            for n in nodes:
                if n.grad != 0.0:
                    saved.append((n, n.grad))
                    n.grad = 0.0
        root.grad = seed
        constant = ConstantInputs
        for node in order:
            g = node.grad
            if g == 0.0:
                continue  # nothing flows on: no rule runs (so no kink can raise)
            inputs = node.inputs
            # Unpacked by arity, each input's accumulate written out: a loop over zip(inputs, local)
            # for every node took this loop from 0.66 to 1.6 ms on bench_engine's chain (4,000 nodes).
            op = node.op
            if len(inputs) == 2:
                a, b = inputs
                ga, gb = op.vjp(g, node._data, a._data, b._data)  # type: ignore[union-attr]  # a node with inputs has an op
                if ga is not None and a.inputs.__class__ is not constant:
                    ga = ga if (old := a.grad) == 0.0 else old + ga
                    a.grad = ga if ga.__class__ is float and -_INF < ga < _INF else _checked_grad(node, 0, ga)
                if gb is not None and b.inputs.__class__ is not constant:
                    gb = gb if (old := b.grad) == 0.0 else old + gb
                    b.grad = gb if gb.__class__ is float and -_INF < gb < _INF else _checked_grad(node, 1, gb)
            elif len(inputs) == 1:
                (a,) = inputs
                (ga,) = op.vjp(g, node._data, a._data)  # type: ignore[union-attr]  # as above
                if ga is not None and a.inputs.__class__ is not constant:
                    ga = ga if (old := a.grad) == 0.0 else old + ga
                    a.grad = ga if ga.__class__ is float and -_INF < ga < _INF else _checked_grad(node, 0, ga)
            else:
                for i, (x, gx) in enumerate(zip(inputs, op.vjp(g, node._data, *[x._data for x in inputs]))):  # type: ignore[union-attr]  # as above
                    if gx is not None and x.inputs.__class__ is not constant:
                        gx = gx if (old := x.grad) == 0.0 else old + gx
                        x.grad = gx if gx.__class__ is float and -_INF < gx < _INF else _checked_grad(node, i, gx)
        node = None
        _commit(saved)
    except BaseException as exc:  # all or nothing, even for KeyboardInterrupt
        for nodes in (order, leaves):
            for n in nodes:
                n.grad = 0.0  # what every node the pass may write held, unless saved
        for n, old in saved:
            n.grad = old
        if isinstance(exc, AutogradMiniError) or node is None or node.op is None:
            raise  # already names its op
        datas = [x._data for x in node.inputs]
        if isinstance(exc, TypeError):  # old + g failed: the rule gave a gradient that is no number
            raise grad_type_error(node.op, datas, None, exc) from None
        if not isinstance(exc, (ArithmeticError, ValueError)):
            raise  # not about numbers (KeyboardInterrupt, a bug in a custom rule): re-raised as it is
        raise rule_error(node.op, datas, exc) from None


def _commit(saved: list[tuple[Value, Any]]) -> None:
    """leaf.grad = its old .grad + this pass's gradient, for every saved leaf.

    `old` may be a Value left by an earlier create_graph pass (Value + float is a Value).
    """
    for x, old in saved:
        if not x.inputs:
            total = old + x.grad
            if total.__class__ is float and not -_INF < total < _INF:
                name = f"{x.label!r}" if x.label is not None else f"of data {x._data!r}"
                raise NumericOverflowError(
                    f"backward: the gradient accumulated in the leaf {name} would be {total!r} "
                    f"(its .grad {old!r} plus this pass's {x.grad!r}); it overflows float64"
                )
            x.grad = total


# --- checks shared by both passes --------------------------------------------------------------
def _checked_grad(node: Value, position: int, g: Any) -> Any:
    """A gradient sum, checked: a finite float stays, another real number becomes one, a Value (a
    leaf's .grad left by a create_graph pass) stays; NaN, +-inf and non-numbers (1j, a str) raise."""
    assert node.op is not None
    if g.__class__ is float and -_INF < g < _INF or isinstance(g, Value):
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


def _rule(node: Value, g: Any, datas: list[float]) -> tuple[Any, ...]:
    """The node's rule on floats; a failure there becomes a typed error naming the op."""
    op = node.op
    assert op is not None
    try:
        return op.vjp(g, node._data, *datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise rule_error(op, datas, exc) from None
