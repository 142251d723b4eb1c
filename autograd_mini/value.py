"""`Value`: one scalar node of the computation graph.

A Value records which op produced it and from which inputs; it computes no
derivative itself. Forward values come from the op's row in `ops.OPS`, and
`backward()` (in `engine.py`) walks the recorded graph with the same rows.

Invariants the rest of the library relies on:
- `data` is always a finite float: an op whose result would be NaN or +-inf
  raises `DomainError` or `NumericOverflowError` at the op that caused it.
- `inputs` is an ordered tuple that keeps duplicates: `a * a` has `a` twice.
- A node refers only to its inputs and to its (shared) op row, never back, so
  a graph has no reference cycles and is freed by reference counting alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Union

from . import ops
from .errors import AutogradMiniError, forward_error
from .errors import describe_call as describe_call  # re-exported for checking, _tape_schedule (until they use errors)
from .ops import Op

_INF = math.inf
_recording: contextvars.ContextVar[bool] = contextvars.ContextVar("autograd_mini_recording", default=True)

Number = int | float
Operand = Union["Value", int, float]  # noqa: UP007 (a forward reference)


class Value:
    """A scalar that remembers how it was computed.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad
    7.0

    Attributes:
        data:   the value, a finite float.
        grad:   d(root)/d(self) after `root.backward()`: a float, or a Value when
                the gradient was built with `create_graph=True`.
        label:  an optional name shown in graphs and reports.
        op:     the `ops.Op` row that produced this node (None for a leaf).
        inputs: the op's operands, in order, duplicates kept.
    """

    __slots__ = ("data", "grad", "op", "inputs", "label", "__weakref__")

    data: float
    grad: Any
    op: Op | None
    inputs: tuple[Value, ...]
    label: str | None

    # Arithmetic operators and these methods are made from the table's rows right
    # after the class (see `_binary_method` and `_unary_method`).
    exp: Callable[[], Value]
    log: Callable[[], Value]
    sqrt: Callable[[], Value]
    abs: Callable[[], Value]
    tanh: Callable[[], Value]
    sigmoid: Callable[[], Value]
    relu: Callable[[], Value]

    def __init__(self, data: Number, label: str | None = None) -> None:
        self.data = _as_data(data)
        self.grad = 0.0
        self.op = None
        self.inputs = ()
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value label must be a str or None, got {type(label).__name__}")
        self.label = label

    def __repr__(self) -> str:
        grad = self.grad
        shown = f"Value(data={grad.data!r})" if isinstance(grad, Value) else repr(grad)
        text = f"Value(data={self.data!r}, grad={shown}"
        return text + (f", label={self.label!r})" if self.label is not None else ")")

    def __float__(self) -> float:
        return self.data

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the whole graph below self, made without recursion.

        Op rows are shared, not copied; a shared node is copied once.
        """
        from .engine import reverse_topological_order

        for node in reversed(reverse_topological_order(self)):  # inputs before consumers
            if id(node) not in memo:
                clone = _new(Value)
                clone.data = node.data
                clone.grad = copy.deepcopy(node.grad, memo)
                clone.op = node.op
                clone.inputs = tuple(memo[id(x)] for x in node.inputs)
                clone.label = node.label
                memo[id(node)] = clone
        return memo[id(self)]

    # --- arithmetic and elementary functions: each applies one row of the table ----------
    # The methods are made from the rows by `_binary_method` / `_unary_method` below.
    def __pow__(self, exponent: Operand) -> Value:
        """x ** n for a number n (op `pow`), x ** y for a Value y (op `pow_value`, needs x > 0)."""
        if exponent.__class__ is Value or isinstance(exponent, Value):
            return apply(ops.POW_VALUE, self, exponent)
        return _pow_number(self, exponent)

    def __rpow__(self, base: Number) -> Value:
        """n ** x for a number base n: needs n > 0, as its derivative in x is n**x log n."""
        lifted = _lift(base)
        return NotImplemented if lifted is None else apply(ops.POW_VALUE, lifted, self)

    def __pos__(self) -> Value:
        return self

    # --- gradients --------------------------------------------------------------------------
    def backward(self, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(node) into `.grad` of every node self depends on.

        Visits the graph in reverse topological order, built without recursion,
        and applies each node's rule from the table: the chain rule (1.5),
        summed over every consumer of a node (1.8).

        Calling it again on the same graph adds to the leaves' gradients (twice
        the gradient after two calls, as in PyTorch, so minibatches can be
        accumulated; call `zero_grad` or set `.grad = 0.0` in between to start
        over), while interior nodes hold the gradient of the latest pass only.

        With `create_graph=True` the gradients are Values with graphs of their
        own, so they can be differentiated again.
        """
        from .engine import backward

        backward(self, create_graph=create_graph)


def _as_data(data: object) -> float:
    """`data` as a finite float, or a TypeError / ValueError naming what was given."""
    if type(data) is float:
        value = data
    elif isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"Value data must be an int or float, got {type(data).__name__}: {data!r:.60}")
    else:
        try:
            value = float(data)
        except OverflowError:
            raise ValueError(
                f"Value data must be finite, got an int of {int(data).bit_length()} bits, beyond float64"
            ) from None
    if not -_INF < value < _INF:
        raise ValueError(f"Value data must be finite, got {value!r}")
    return value


def _lift(x: object) -> Value | None:
    """x as a Value: Values pass through, numbers become constant leaves, else None."""
    if x.__class__ is Value or isinstance(x, Value):
        return x
    if type(x) is float or (isinstance(x, numbers.Real) and not isinstance(x, bool)):
        return Value(x)
    return None


_new = object.__new__


def apply(op: Op, *inputs: Value) -> Value:
    """Compute `op` on the inputs' data and record a node for it.

    Raises DomainError or NumericOverflowError, naming the op and the
    operands, when the op is undefined there or its result is not finite.
    """
    datas = [v.data for v in inputs]
    try:
        if op.valid is not None and not op.valid(*datas):
            raise ValueError("outside the domain")
        data = op.forward(*datas)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc) from None
    if data.__class__ is not float:
        data = _result_as_float(op, data)
    if not -_INF < data < _INF:
        raise forward_error(op, datas, None, data)
    return _record(op, data, inputs)


def _record(op: Op, data: float, inputs: tuple[Value, ...]) -> Value:
    """A new node for `op` (a leaf inside no_grad); data is already a finite float."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = None
    if _recording.get():
        node.op = op
        node.inputs = inputs
    else:
        node.op = None
        node.inputs = ()
    return node


def _binary_method(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    """`self <op> other` (or `other <op> self` when reflected) for a binary row.

    The same contract as `apply`, specialised because arithmetic operators are
    the engine's hottest path: no argument lists, the row's forward bound once.
    """
    forward = op.forward

    def method(self: Value, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        x = a.data
        y = b.data
        try:
            data = forward(x, y)
        except (ArithmeticError, ValueError) as exc:
            raise forward_error(op, [x, y], exc) from None
        if not -_INF < data < _INF:
            raise forward_error(op, [x, y], None, data)
        return _record(op, data, (a, b))

    method.__name__ = f"{'r' if reflected else ''}{op.name}"
    method.__doc__ = f"Op `{op.name}` ({op.symbol}) of the derivative table."
    return method


def _unary_method(op: Op, doc: str) -> Callable[[Value], Value]:
    """`self.<op>()` for a unary row, specialised like `_binary_method`."""
    forward = op.forward

    def method(self: Value) -> Value:
        x = self.data
        try:
            data = forward(x)
        except (ArithmeticError, ValueError) as exc:
            raise forward_error(op, [x], exc) from None
        if not -_INF < data < _INF:
            raise forward_error(op, [x], None, data)
        return _record(op, data, (self,))

    method.__name__ = op.name
    method.__doc__ = doc
    return method


Value.__add__ = _binary_method(ops.ADD)
Value.__radd__ = _binary_method(ops.ADD, reflected=True)
Value.__sub__ = _binary_method(ops.SUB)
Value.__rsub__ = _binary_method(ops.SUB, reflected=True)
Value.__mul__ = _binary_method(ops.MUL)
Value.__rmul__ = _binary_method(ops.MUL, reflected=True)
Value.__truediv__ = _binary_method(ops.DIV)
Value.__rtruediv__ = _binary_method(ops.DIV, reflected=True)
_pow_number = _binary_method(ops.POW)
Value.__neg__ = _unary_method(ops.NEG, "-self.")
Value.__abs__ = _unary_method(ops.ABS, "|self|, with derivative sign(self) (0 at 0).")
Value.abs = Value.__abs__
Value.exp = _unary_method(ops.EXP, "e ** self; raises NumericOverflowError above 709.78.")
Value.log = _unary_method(ops.LOG, "Natural logarithm; raises DomainError for self <= 0.")
Value.sqrt = _unary_method(ops.SQRT, "Square root; raises DomainError for self < 0.")
Value.tanh = _unary_method(ops.TANH, "Hyperbolic tangent, finite for every input.")
Value.sigmoid = _unary_method(ops.SIGMOID, "The logistic function phi of (1.2), finite everywhere; derivative (1.3).")
Value.relu = _unary_method(ops.RELU, "max(self, 0), with derivative 1 for self > 0 and 0 otherwise.")


def _result_as_float(op: Op, data: Any) -> float:
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"op {op.name!r}: forward returned {type(data).__name__}, expected a float")
    return float(data)


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Within this block ops record no inputs: results are leaves.

    Uses a context variable, so it is local to the current thread or asyncio
    task. Also usable as a decorator.
    """
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Record ops again inside a `no_grad()` block (as torch.enable_grad does)."""
    token = _recording.set(True)
    try:
        yield
    finally:
        _recording.reset(token)


def is_grad_enabled() -> bool:
    """False inside `no_grad()`."""
    return _recording.get()


def sum_of(values: Iterable[Operand]) -> Value:
    """sum(values) as one n-ary node (op `sum`) instead of a chain of adds."""
    items = _lift_all(values, "sum_of")
    if not items:
        raise ValueError("sum_of needs at least one value")
    return apply(ops.SUM, *items)


def dot(weights: Iterable[Operand], xs: Iterable[Operand]) -> Value:
    """sum_k weights[k] * xs[k] as one node (op `dot`): net_j of (1.1)."""
    w = _lift_all(weights, "dot")
    x = _lift_all(xs, "dot")
    if len(w) != len(x) or not w:
        raise ValueError(f"dot needs two non-empty sequences of equal length, got {len(w)} and {len(x)}")
    return apply(ops.DOT, *w, *x)


def _lift_all(values: Iterable[Operand], caller: str | Callable[[], str], what: str = "item {}") -> list[Value]:
    """A new list of the values, numbers lifted to constant Values (`_lift`).

    An item that is neither raises TypeError "{caller}: {what} must be a Value, ...",
    `what` being formatted with the item's index ("item 3", "input 0", "ys[1]");
    `caller` may be a function giving the name, called only then (nn's forward
    passes name the model without formatting its name on every call).
    The one such loop: sum_of, dot, nn's forward passes, losses and custom ops use it.
    """
    items = list(values)
    for i, v in enumerate(items):
        if v.__class__ is not Value:  # the common case, Values, costs one test
            lifted = _lift(v)
            if lifted is None:
                name = caller() if callable(caller) else caller
                raise TypeError(f"{name}: {what.format(i)} must be a Value, int or float, got {type(v).__name__}")
            items[i] = lifted
    return items
