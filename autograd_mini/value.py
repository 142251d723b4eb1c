"""`Value`: one scalar node of the computation graph.

A Value records which op produced it and from which inputs; it computes no
derivative itself. Forward values come from the op's row in `ops.OPS`, and
`backward()` (in `engine.py`) walks the recorded graph with the same rows.

Invariants the rest of the library relies on:
- `data` is always a finite float: assigning anything else raises at once, and
  an op whose result would be NaN or +-inf raises `DomainError` or
  `NumericOverflowError` at the op that caused it.
- `inputs` is an ordered tuple that keeps duplicates: `a * a` has `a` twice.
- A node refers only to its inputs and to its (shared) op row, never back, so
  a graph has no reference cycles and is freed by reference counting alone.
- `requires_grad` is False for constants: numbers lifted into a graph
  (`x * 2.0`), Values made with `requires_grad=False`, and every node all of
  whose inputs are constants. Backward gives constants no gradient and runs no
  rule for a constant node, so nothing about a constant can raise there.
  The flag is the type of `inputs` (a `ConstantInputs` tuple for a constant),
  not a slot of its own: see `ConstantInputs` for why.

Imports: errors, ops, graph, grad_mode, nothing else: `Value.backward` is attached
by `engine.py`, the layer above, which the package always imports (so the
core's import graph has no cycle, not even a late one).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, Union

from . import ops
from .errors import AutogradMiniError, format_number, forward_error
from .grad_mode import enable_grad as enable_grad
from .grad_mode import is_grad_enabled as is_grad_enabled
from .grad_mode import no_grad as no_grad
from .grad_mode import recording as _recording
from .graph import reverse_topological_order
from .ops import Op

_INF = math.inf


class ConstantInputs(tuple):  # type: ignore[type-arg]
    """The `inputs` tuple of a constant node (`requires_grad` False): its type is the flag.

    A tuple like any other (same items, order, length, equality), so every
    walk reads it as usual. Why not a slot: a seventh slot moves a Value from
    96 to 112 bytes (CPython's allocator rounds to 16) and adds one member to
    every garbage-collector traversal; measured, that cost 5% of the forward
    pass and of a wide backward. The engine tests `inputs.__class__` directly.
    """

    __slots__ = ()

    def __new__(cls, items: Iterable[Value] = ()) -> ConstantInputs:
        made = tuple.__new__(cls, items)
        return made if made else NO_INPUTS  # every empty one is NO_INPUTS itself


# Every constant leaf's inputs, this one object, so that the engine tells a constant leaf by
# one identity test (`x.inputs is NO_INPUTS`) on every edge of a pass.
NO_INPUTS = tuple.__new__(ConstantInputs)

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
        data:          the value, a finite float (checked on every assignment).
        grad:          d(root)/d(self) after `root.backward()`: a float, or a Value
                       when the gradient was built with `create_graph=True`.
        label:         an optional name shown in graphs and reports.
        op:            the `ops.Op` row that produced this node (None for a leaf).
        inputs:        the op's operands, in order, duplicates kept.
        requires_grad: False for a constant (see the module docstring).

    Comparisons (<, <=, >, >=) with numbers and Values compare `.data` and
    return plain bools, so `v > 0`, `sorted(values)` and `max(values)` work.
    `==` is identity, as in micrograd: Values are dict keys and set members
    all over the engine (gradients, traversals), and an `==` on data would make
    two distinct nodes equal while hashing them apart. Compare `a.data == b.data`.
    """

    __slots__ = ("_data", "grad", "op", "inputs", "label", "__weakref__")

    _data: float
    grad: Any
    op: Op | None
    inputs: tuple[Value, ...]
    label: str | None

    # Arithmetic operators and these methods are made from the table's rows right
    # after the class (see `_binary_method` and `_unary_method`).
    # `backward(gradient=1.0, *, create_graph=False)` is attached by engine.py.
    backward: Callable[..., None]
    exp: Callable[[], Value]
    log: Callable[[], Value]
    sqrt: Callable[[], Value]
    sin: Callable[[], Value]
    cos: Callable[[], Value]
    abs: Callable[[], Value]
    tanh: Callable[[], Value]
    sigmoid: Callable[[], Value]
    relu: Callable[[], Value]
    step: Callable[[], Value]
    sign: Callable[[], Value]

    def __init__(self, data: Number, label: str | None = None, *, requires_grad: bool = True) -> None:
        self._data = data if data.__class__ is float and -_INF < data < _INF else _as_data(data)
        self.grad = 0.0
        self.op = None
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value label must be a str or None, got {type(label).__name__}")
        self.label = label
        if requires_grad.__class__ is not bool:
            raise TypeError(f"Value requires_grad must be True or False, got {requires_grad!r:.40}")
        self.inputs = () if requires_grad else NO_INPUTS

    @property
    def requires_grad(self) -> bool:
        """False for a constant (see the module docstring); settable, to True or False."""
        return self.inputs.__class__ is not ConstantInputs

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value.__class__ is not bool:
            raise TypeError(f"Value requires_grad must be True or False, got {value!r:.40}")
        inputs = self.inputs
        self.inputs = tuple(inputs) if value else ConstantInputs(inputs)

    @property
    def data(self) -> float:
        """The value, a finite float. Assigning NaN, +-inf, a str or a bool raises at once."""
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        if value.__class__ is not float or not -_INF < value < _INF:
            value = _as_data(value)
        self._data = value

    def __repr__(self) -> str:
        grad = self.grad
        shown = f"Value(data={grad._data!r})" if isinstance(grad, Value) else repr(grad)
        text = f"Value(data={self._data!r}, grad={shown}"
        return text + (f", label={self.label!r})" if self.label is not None else ")")

    # --- plain-number views of the data -------------------------------------------------------
    def item(self) -> float:
        """The data as a float (as torch's `item()`)."""
        return self._data

    def __float__(self) -> float:
        return self._data

    def __int__(self) -> int:
        return int(self._data)

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self._data, ndigits)

    def __lt__(self, other: Any) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data < o

    def __le__(self, other: Any) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data <= o

    def __gt__(self, other: Any) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data > o

    def __ge__(self, other: Any) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data >= o

    __hash__ = object.__hash__  # identity, see the class docstring

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the whole graph below self, made without recursion.

        Op rows are shared, not copied; a shared node is copied once.
        """
        for node in reversed(reverse_topological_order(self)):  # inputs before consumers
            if id(node) not in memo:
                clone = _new(Value)
                clone._data = node._data
                clone.grad = copy.deepcopy(node.grad, memo)
                clone.op = node.op
                clone.inputs = node.inputs.__class__(memo[id(x)] for x in node.inputs)  # a constant's stays one
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

    # --- gradients: `backward` is attached by engine.py (see the class's attribute notes) ------

    def zero_grad(self) -> None:
        """Set `.grad` to 0.0 on self and on every node self depends on (leaves included)."""
        for node in reverse_topological_order(self):
            node.grad = 0.0


def _comparable(other: Any) -> float | None:
    if other.__class__ is Value or isinstance(other, Value):
        return other._data
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return other  # type: ignore[return-value]
    return None


# `data` reads the slot directly (a C-level getter, as fast as a plain slot); writes are checked.
Value.data = property(Value._data.__get__, Value.data.fset, None, Value.data.__doc__)  # type: ignore[attr-defined,method-assign,assignment]


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
        raise ValueError(f"Value data must be finite, got {format_number(value)}")
    return value


_new = object.__new__
_CONSTANT = ConstantInputs  # a module global: the fast paths below read it on every op
_is_recording = _recording.get


def _constant(x: Number) -> Value:
    """A number lifted into a graph: a leaf with no gradient (requires_grad False)."""
    node = _new(Value)
    node._data = x if x.__class__ is float and -_INF < x < _INF else _as_data(x)
    node.grad = 0.0
    node.op = None
    node.inputs = NO_INPUTS
    node.label = None
    return node


def _lift(x: object) -> Value | None:
    """x as a Value: Values pass through, numbers become constants (`_constant`), else None."""
    if x.__class__ is Value or isinstance(x, Value):
        return x  # type: ignore[return-value]
    if type(x) is float or (isinstance(x, numbers.Real) and not isinstance(x, bool)):
        return _constant(x)  # type: ignore[arg-type]
    return None


def apply(op: Op, *inputs: Value) -> Value:
    """Compute `op` on the inputs' data and record a node for it: the one checked forward.

    Raises DomainError or NumericOverflowError, naming the op and the
    operands, when the op is undefined there or its result is not finite.
    """
    datas = [v._data for v in inputs]
    try:
        if op.valid is not None and not op.valid(*datas):
            raise ValueError("outside the domain")
        data = op.forward(*datas)
        if data.__class__ is not float:
            data = _result_as_float(op, data)
    except AutogradMiniError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, datas, exc) from None
    if not -_INF < data < _INF:
        raise forward_error(op, datas, None, data)
    node = _new(Value)  # the node, made here rather than in a helper: apply runs once per net_j of (1.1)
    node._data = data
    node.grad = 0.0
    node.label = None
    if _is_recording():
        node.op = op
        # The usual case, a first input that is no constant, costs two tests.
        if not inputs or inputs[0].inputs.__class__ is _CONSTANT and all(_is_constant(x) for x in inputs):
            inputs = _CONSTANT(inputs)
        node.inputs = inputs
    else:  # an ordinary leaf, as a Value made by hand
        node.op = None
        node.inputs = ()
    return node


def _is_constant(x: Value) -> bool:
    return x.inputs.__class__ is _CONSTANT


def _result_as_float(op: Op, data: Any) -> float:
    """A custom forward's result as a float (10**400 raises OverflowError, reported as an overflow)."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"op {op.name!r}: forward returned {type(data).__name__}, expected a float")
    return float(data)


# The two fast paths below inline `apply` for the built-in unary and binary
# rows: the arithmetic operators are the engine's hottest path, and building argument lists,
# calling `valid` (None for these rows) and one more call are most of the cost per op.
# Same checks, same errors, same node.
def _binary_method(op: Op, reflected: bool = False) -> Callable[[Value, Any], Value]:
    """`self <op> other` (or `other <op> self` when reflected) for a binary row."""
    forward = op.forward

    def method(self: Value, other: Any) -> Value:
        if other.__class__ is not Value:
            # A float operand (`x * 2.0`) is made a constant here: one call instead of `_lift`'s two.
            other = _constant(other) if other.__class__ is float else _lift(other)
            if other is None:
                return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        x = a._data
        y = b._data
        try:
            data = forward(x, y)
        except (ArithmeticError, ValueError) as exc:
            raise forward_error(op, [x, y], exc) from None
        if not -_INF < data < _INF:
            raise forward_error(op, [x, y], None, data)
        node = _new(Value)  # as in `apply`
        node._data = data
        node.grad = 0.0
        node.label = None
        if _is_recording():
            node.op = op
            if a.inputs.__class__ is not _CONSTANT or b.inputs.__class__ is not _CONSTANT:
                node.inputs = (a, b)
            else:
                node.inputs = _CONSTANT((a, b))
        else:
            node.op = None
            node.inputs = ()
        return node

    method.__name__ = f"{'r' if reflected else ''}{op.name}"
    method.__doc__ = f"Op `{op.name}` ({op.symbol}) of the derivative table."
    return method


def _unary_method(op: Op, doc: str) -> Callable[[Value], Value]:
    """`self.<op>()` for a unary row, specialised like `_binary_method`."""
    forward = op.forward

    def method(self: Value) -> Value:
        x = self._data
        try:
            data = forward(x)
        except (ArithmeticError, ValueError) as exc:
            raise forward_error(op, [x], exc) from None
        if not -_INF < data < _INF:
            raise forward_error(op, [x], None, data)
        node = _new(Value)  # as in `apply`
        node._data = data
        node.grad = 0.0
        node.label = None
        if _is_recording():
            node.op = op
            node.inputs = (self,) if self.inputs.__class__ is not _CONSTANT else _CONSTANT((self,))
        else:
            node.op = None
            node.inputs = ()
        return node

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

_FUNCTION_DOCS = {
    "exp": "e ** self; raises NumericOverflowError above 709.78.",
    "log": "Natural logarithm; raises DomainError for self <= 0.",
    "sqrt": "Square root; raises DomainError for self < 0.",
    "sin": "Sine (radians), with derivative cos.",
    "cos": "Cosine (radians), with derivative -sin.",
    "abs": "|self|, with derivative sign(self) (0 at 0).",
    "tanh": "Hyperbolic tangent, finite for every input.",
    "sigmoid": "The logistic function phi of (1.2), finite everywhere; derivative (1.3).",
    "relu": "max(self, 0), with derivative 1 for self > 0 and 0 otherwise.",
}
for _name in ops.UNARY_FUNCTIONS:  # one method per elementary-function row of the table
    setattr(Value, _name, _unary_method(ops.OPS[_name], _FUNCTION_DOCS.get(_name, f"Op `{_name}` of the table.")))
Value.step = _unary_method(ops.STEP, "1.0 where self > 0, else 0.0 (the derivative of relu); not differentiable.")
Value.sign = _unary_method(ops.SIGN, "-1.0, 0.0 or 1.0 (the derivative of abs); not differentiable.")


def sum_of(values: Iterable[Operand]) -> Value:
    """sum(values) as one n-ary node (op `sum`) instead of a chain of adds: a net_j of (1.1)."""
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
    """A new list of the values, numbers lifted to constants (`_lift`).

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
