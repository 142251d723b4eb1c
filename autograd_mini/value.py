"""`Value`: one scalar node of the computation graph, and the ops that build nodes.

A Value records which row of the derivative table (`ops.py`) produced it and
from which inputs; it computes no derivative itself. `backward()` is attached by
`engine.py`, the layer above, so the core's imports run one way with no cycle.
Imports: errors, ops, graph, grad_mode.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Union, overload

from . import ops
from .errors import AutogradMiniError, format_number, forward_error
from .grad_mode import NO_INPUTS, ConstantInputs, recording
from .grad_mode import enable_grad as enable_grad
from .grad_mode import is_grad_enabled as is_grad_enabled
from .grad_mode import no_grad as no_grad
from .graph import reverse_topological_order
from .ops import Op

_INF = math.inf

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
        inputs:        the op's operands, in order, duplicates kept (`a * a` has `a` twice).
        requires_grad: False for a constant (see `ConstantInputs`).

    Each operator and function below applies one row of the table through
    `_binary` or `_unary`, and every node is made by `_node`. An op whose result
    would be NaN or +-inf raises `DomainError` or `NumericOverflowError` naming
    the op and its operands. `backward` is defined in `engine.py` and attached
    to the class there.

    `float(v)` is the data, so `math.tanh(v)` works but returns a float: it
    leaves the graph (no gradient flows through it); use `v.tanh()`.
    Comparisons (<, <=, >, >=) compare `.data` and return bools. `==` is
    identity, as in micrograd: Values are dict keys all over the engine.
    A node refers only to its inputs, never back, so graphs have no cycles.
    """

    __slots__ = ("_data", "grad", "op", "inputs", "label", "__weakref__")

    _data: float
    grad: Any
    op: Op | None
    inputs: tuple[Value, ...]
    label: str | None

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
        """False for a constant (see `ConstantInputs`); settable, to True or False."""
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

    # --- arithmetic: each operator applies one row of the table --------------------------------
    def __add__(self, other: Operand) -> Value:
        """self + other (op `add`)."""
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        """other + self, for a number other (op `add`)."""
        return _binary(ops.ADD, other, self)

    def __sub__(self, other: Operand) -> Value:
        """self - other (op `sub`)."""
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Number) -> Value:
        """other - self, for a number other (op `sub`)."""
        return _binary(ops.SUB, other, self)

    def __mul__(self, other: Operand) -> Value:
        """self * other (op `mul`)."""
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        """other * self, for a number other (op `mul`)."""
        return _binary(ops.MUL, other, self)

    def __truediv__(self, other: Operand) -> Value:
        """self / other (op `div`); raises DomainError for other == 0."""
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        """other / self, for a number other (op `div`)."""
        return _binary(ops.DIV, other, self)

    def __pow__(self, exponent: Operand) -> Value:
        """x ** n for a number n (op `pow`), x ** y for a Value y (op `pow_value`, needs x > 0)."""
        if exponent.__class__ is Value or isinstance(exponent, Value):
            return apply(ops.POW_VALUE, self, exponent)
        return _binary(ops.POW, self, exponent)

    def __rpow__(self, base: Number) -> Value:
        """n ** x for a number base n (op `pow_value`): needs n > 0, as d/dx n**x = n**x log n."""
        lifted = lift(base)
        return NotImplemented if lifted is None else apply(ops.POW_VALUE, lifted, self)

    def __neg__(self) -> Value:
        """-self (op `neg`)."""
        return _unary(ops.NEG, self)

    def __pos__(self) -> Value:
        """self itself: no node is recorded."""
        return self

    def __abs__(self) -> Value:
        """|self| (op `abs`), with derivative sign(self) (0 at 0)."""
        return _unary(ops.ABS, self)

    # --- elementary functions (ops.UNARY_FUNCTIONS), and the two derivative helpers -------------
    def exp(self) -> Value:
        """e ** self; raises NumericOverflowError above 709.78."""
        return _unary(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; raises DomainError for self <= 0."""
        return _unary(ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root; raises DomainError for self < 0."""
        return _unary(ops.SQRT, self)

    def sin(self) -> Value:
        """Sine (radians), with derivative cos."""
        return _unary(ops.SIN, self)

    def cos(self) -> Value:
        """Cosine (radians), with derivative -sin."""
        return _unary(ops.COS, self)

    def abs(self) -> Value:
        """|self|, with derivative sign(self) (0 at 0); the same as abs(self)."""
        return _unary(ops.ABS, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent, finite for every input."""
        return _unary(ops.TANH, self)

    def sigmoid(self) -> Value:
        """The logistic function phi of (1.2), finite everywhere; derivative (1.3)."""
        return _unary(ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(self, 0), with derivative 1 for self > 0 and 0 otherwise."""
        return _unary(ops.RELU, self)

    def step(self) -> Value:
        """1.0 where self > 0, else 0.0 (the derivative of relu); not differentiable."""
        return _unary(ops.STEP, self)

    def sign(self) -> Value:
        """-1.0, 0.0 or 1.0 (the derivative of abs); not differentiable."""
        return _unary(ops.SIGN, self)

    # --- plain numbers: the data, leaving the graph --------------------------------------------
    def item(self) -> float:
        """The data as a float (as torch's `item()`)."""
        return self._data

    def __float__(self) -> float:
        """The data: `float(v)`, and `math.tanh(v)` alike, leave the graph (see the class docstring)."""
        return self._data

    def __int__(self) -> int:
        return int(self._data)

    @overload
    def __round__(self, ndigits: None = None) -> int: ...
    @overload
    def __round__(self, ndigits: int) -> float: ...
    def __round__(self, ndigits: int | None = None) -> float:
        return round(self._data, ndigits)

    def __lt__(self, other: Operand) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data < o

    def __le__(self, other: Operand) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data <= o

    def __gt__(self, other: Operand) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data > o

    def __ge__(self, other: Operand) -> bool:
        o = _comparable(other)
        return NotImplemented if o is None else self._data >= o

    __hash__ = object.__hash__  # identity, see the class docstring

    # --- the graph below self -------------------------------------------------------------------
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
        result: Value = memo[id(self)]
        return result

    def zero_grad(self) -> None:
        """Set `.grad` to 0.0 on self and on every node self depends on (leaves included)."""
        for node in reverse_topological_order(self):
            node.grad = 0.0

    if TYPE_CHECKING:  # defined in engine.py, which attaches it; declared here for checkers and editors

        def backward(self, gradient: float | Value = 1.0, *, create_graph: bool = False) -> None:
            """Accumulate gradient * d(self)/d(node) into every node's `.grad` (engine.py)."""


# `data` reads the slot directly (its C-level getter, as fast as a plain slot); writes are checked.
_data_property = Value.__dict__["data"]
Value.data = property(Value.__dict__["_data"].__get__, _data_property.fset, None, _data_property.__doc__)  # type: ignore[method-assign,assignment]  # the same property, a faster getter


def _comparable(other: object) -> float | None:
    if other.__class__ is Value or isinstance(other, Value):
        return other._data
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return other  # type: ignore[return-value]  # a Real compares with a float
    return None


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
                f"Value data must be finite, got an int of {int(data).bit_length()} bits, beyond float64"  # type: ignore[call-overload]  # a Real has __trunc__
            ) from None
    if not -_INF < value < _INF:
        raise ValueError(f"Value data must be finite, got {format_number(value)}")
    return value


# --- making nodes ----------------------------------------------------------------------------
_new = object.__new__
_is_recording = recording.get


def _node(op: Op | None, data: float, inputs: tuple[Value, ...]) -> Value:
    """The one node constructor: a node holding `data`, made by `op` from `inputs`.

    `op` None makes a leaf (`inputs` () or NO_INPUTS). Inside `no_grad()` an
    op's node is recorded as a plain leaf. A node all of whose inputs are
    constants is a constant itself (its inputs a `ConstantInputs`).
    """
    node = _new(Value)  # not Value(...): __init__'s checks are done by the callers; this runs once per op
    node._data = data
    node.grad = 0.0
    node.label = None
    if op is None:
        node.op = None
        node.inputs = inputs
    elif _is_recording():
        node.op = op
        node.inputs = inputs
        if inputs[0].inputs.__class__ is ConstantInputs:  # usually the one test: a first input that is no constant
            for x in inputs:
                if x.inputs.__class__ is not ConstantInputs:
                    break
            else:
                node.inputs = ConstantInputs(inputs)
    else:
        node.op = None
        node.inputs = ()
    return node


def constant(x: Number) -> Value:
    """A number lifted into a graph: a leaf that takes no gradient (requires_grad False)."""
    return _node(None, x if x.__class__ is float and -_INF < x < _INF else _as_data(x), NO_INPUTS)


def lift(x: object) -> Value | None:
    """x as a Value: Values pass through, numbers become constants, anything else gives None."""
    if x.__class__ is Value or isinstance(x, Value):
        return x
    if x.__class__ is float and -_INF < x < _INF:  # constant(x) less one call (numbers in sums)
        return _node(None, x, NO_INPUTS)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return constant(x)  # type: ignore[arg-type]  # any Real: _as_data converts and checks it
    return None


def lift_all(values: Iterable[object], caller: str | Callable[[], str], what: str = "item {}") -> list[Value]:
    """A new list of the values, numbers lifted to constants (`lift`).

    An item that is neither raises TypeError "{caller}: {what} must be a Value, ...",
    `what` formatted with the item's index ("item 3", "input 0", "ys[1]");
    `caller` may be a function giving the name, called only then. The one
    such loop: sum_of, dot, nn's forward passes, losses and custom ops use it.
    """
    items: list[Any] = list(values)
    for i, v in enumerate(items):
        if v.__class__ is not Value:  # the common case, Values, costs one test
            lifted = lift(v)
            if lifted is None:
                name = caller() if callable(caller) else caller
                raise TypeError(f"{name}: {what.format(i)} must be a Value, int or float, got {type(v).__name__}")
            items[i] = lifted
    return items


def apply(op: Op, *inputs: Value) -> Value:
    """Compute `op` on the inputs' data and record its node: the checked forward of any row.

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
    return _node(op, data, inputs)


def _result_as_float(op: Op, data: Any) -> float:
    """A custom forward's result as a float (10**400 raises OverflowError, reported as an overflow)."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"op {op.name!r}: forward returned {type(data).__name__}, expected a float")
    return float(data)


# `_binary` and `_unary` are `apply` for the built-in rows that have no `valid` and always
# return floats: the operators are the engine's hottest path, and skipping the argument list
# and those checks is most of the cost per op. Same errors, same node.
def _binary(op: Op, a: Any, b: Any) -> Value:
    """`a <op> b`, one of them a Value; a number is lifted. NotImplemented for other types."""
    if a.__class__ is not Value:  # a finite float (`2.0 * x`) made a constant in one call, not three
        a = _node(None, a, NO_INPUTS) if a.__class__ is float and -_INF < a < _INF else lift(a)
        if a is None:
            return NotImplemented  # type: ignore[no-any-return]  # the operator's protocol: Python tries the other operand
    if b.__class__ is not Value:
        b = _node(None, b, NO_INPUTS) if b.__class__ is float and -_INF < b < _INF else lift(b)
        if b is None:
            return NotImplemented  # type: ignore[no-any-return]  # as above
    x = a._data
    y = b._data
    try:
        data = op.forward(x, y)
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, [x, y], exc) from None
    if not -_INF < data < _INF:
        raise forward_error(op, [x, y], None, data)
    return _node(op, data, (a, b))


def _unary(op: Op, a: Value) -> Value:
    """`op(a)` for a unary built-in row, as `_binary`."""
    x = a._data
    try:
        data = op.forward(x)
    except (ArithmeticError, ValueError) as exc:
        raise forward_error(op, [x], exc) from None
    if not -_INF < data < _INF:
        raise forward_error(op, [x], None, data)
    return _node(op, data, (a,))


def sum_of(values: Iterable[Operand]) -> Value:
    """sum(values) as one n-ary node (op `sum`) instead of a chain of adds: a net_j of (1.1)."""
    items = lift_all(values, "sum_of")
    if not items:
        raise ValueError("sum_of needs at least one value")
    return apply(ops.SUM, *items)


def dot(weights: Iterable[Operand], xs: Iterable[Operand]) -> Value:
    """sum_k weights[k] * xs[k] as one node (op `dot`): net_j of (1.1)."""
    w = lift_all(weights, "dot")
    x = lift_all(xs, "dot")
    if len(w) != len(x) or not w:
        raise ValueError(f"dot needs two non-empty sequences of equal length, got {len(w)} and {len(x)}")
    return apply(ops.DOT, *w, *x)
