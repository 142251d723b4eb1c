"""The functional API: `grad`, `value_and_grad`, `hessian`, `hvp`, as in HIPS autograd and JAX.

Each turns a function of scalars into one computing its derivatives with
`engine.gradients`: floats for number arguments; Values, built with
`create_graph=True`, for Value arguments or inside another of these calls, so
`grad(grad(f))` is exact. A function returning a number is a constant (derivative 0).

>>> from autograd_mini import grad
>>> f = lambda x: x * x * x          # x**3
>>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
(12.0, 12.0, 6.0)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, overload

from .engine import gradients
from .value import Value, enable_grad, sum_of

Argnums = int | Sequence[int]
Function = Callable[..., Value | float]
"""What the functional API differentiates: a function of numbers (or Values) returning a scalar."""


# The types of the functions returned: floats for number arguments, Values for Value arguments
# (Value mode); arguments of any other type (not differentiated) give Any.
class Derivative(Protocol):
    """`grad(f)` for an int `argnums`: `grad(f)(2.0)` is a float, `grad(f)(Value(2.0))` a Value."""

    @overload
    def __call__(self, *args: float, **kwargs: Any) -> float: ...
    @overload
    def __call__(self, *args: Value | float, **kwargs: Any) -> Value: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class Derivatives(Protocol):
    """`grad(f, argnums=(0, 1))`: a tuple of derivatives, floats or Values as for `Derivative`."""

    @overload
    def __call__(self, *args: float, **kwargs: Any) -> tuple[float, ...]: ...
    @overload
    def __call__(self, *args: Value | float, **kwargs: Any) -> tuple[Value, ...]: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]: ...


class ValueAndDerivative(Protocol):
    """`value_and_grad(f)`: (f(*args), df/d args[argnums])."""

    @overload
    def __call__(self, *args: float, **kwargs: Any) -> tuple[float, float]: ...
    @overload
    def __call__(self, *args: Value | float, **kwargs: Any) -> tuple[Value, Value]: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]: ...


class ValueAndDerivatives(Protocol):
    """`value_and_grad(f, argnums=(0, 1))`: (f(*args), a tuple of derivatives)."""

    @overload
    def __call__(self, *args: float, **kwargs: Any) -> tuple[float, tuple[float, ...]]: ...
    @overload
    def __call__(self, *args: Value | float, **kwargs: Any) -> tuple[Value, tuple[Value, ...]]: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...]]: ...


class Hessian(Protocol):
    """`hessian(f)`: the matrix of second derivatives, a list of rows."""

    @overload
    def __call__(self, *args: float, **kwargs: Any) -> list[list[float]]: ...
    @overload
    def __call__(self, *args: Value | float, **kwargs: Any) -> list[list[Value]]: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> list[list[Any]]: ...


class HessianVectorProduct(Protocol):
    """`hvp(f)`: `hvp(f)(args, v)`, the list H(args) v (floats for numbers; Values in Value mode)."""

    @overload
    def __call__(self, args: Sequence[float], v: Sequence[float]) -> list[float]: ...
    @overload
    def __call__(self, args: Sequence[Any], v: Sequence[Any]) -> list[Any]: ...


# > 0 while a grad/value_and_grad/hessian/hvp evaluates its function: calls made
# inside must return Values so that the outer call can differentiate them.
_nesting: contextvars.ContextVar[int] = contextvars.ContextVar("autograd_mini_nesting", default=0)


@overload
def grad(f: Function, argnums: int = 0) -> Derivative: ...
@overload
def grad(f: Function, argnums: Sequence[int]) -> Derivatives: ...
def grad(f: Function, argnums: Argnums = 0) -> Derivative | Derivatives:
    """The function computing df/d(args[argnums]) of `f`.

    `f` takes numbers or Values and returns a scalar Value. `grad(f)(2.0, 3.0)`
    returns a float, or a tuple of floats when `argnums` is a tuple; with Value
    arguments (or inside an outer `grad`) it returns Values, so
    `grad(grad(f))` is the exact second derivative. Keyword arguments are
    passed through to `f` and never differentiated.

    Raises ValueError for an `argnums` out of range of the call's positional
    arguments and TypeError when a differentiated argument is not a number or
    Value, or when `f` does not return a Value or number.
    """
    _check_argnums_type(argnums, "grad")

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        _, derivatives = _value_and_gradients(f, argnums, args, kwargs, "grad")
        return derivatives

    return grad_f


@overload
def value_and_grad(f: Function, argnums: int = 0) -> ValueAndDerivative: ...
@overload
def value_and_grad(f: Function, argnums: Sequence[int]) -> ValueAndDerivatives: ...
def value_and_grad(f: Function, argnums: Argnums = 0) -> ValueAndDerivative | ValueAndDerivatives:
    """Like `grad`, but the new function returns `(f(*args), gradient)`.

    The value is a float in number mode and the Value `f` returned in Value
    mode; the gradient has the same form as `grad`'s result.
    """
    _check_argnums_type(argnums, "value_and_grad")

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return _value_and_gradients(f, argnums, args, kwargs, "value_and_grad")

    return value_and_grad_f


def hessian(f: Function, argnums: Argnums | None = None) -> Hessian:
    """The function computing the matrix of second derivatives of `f`.

    `hessian(f)(x, y, ...)` returns a list of lists H with
    H[i][j] = d2 f / d args[i] d args[j], over every positional argument
    (or over `argnums`): floats in number mode, Values in Value mode. Each row
    is the gradient of one first derivative, taken through the same table.
    """
    if argnums is not None:
        _check_argnums_type(argnums, "hessian")

    @functools.wraps(f)
    def hessian_f(*args: Any, **kwargs: Any) -> list[list[Any]]:
        with _differentiating(args, argnums, "hessian") as (positions, as_values):
            inputs, out = _evaluate(f, args, kwargs, positions, as_values, "hessian")
            first = gradients(out, inputs, create_graph=True)
            return [gradients(g, inputs, create_graph=as_values) for g in first]

    return hessian_f


def hvp(f: Function, argnums: Argnums | None = None) -> HessianVectorProduct:
    """The function computing the Hessian-vector product H(args) v of `f`.

    `hvp(f)(args, v)` returns the list sum_j H[i][j] v[j] without building H:
    it differentiates the scalar sum_j (df/d args[j]) v[j] once more, so it
    costs two backward passes whatever the number of arguments.
    """
    if argnums is not None:
        _check_argnums_type(argnums, "hvp")

    def hvp_f(args: Sequence[Any], v: Sequence[Any]) -> list[Any]:
        args = tuple(args)
        with _differentiating(args, argnums, "hvp") as (positions, as_values):
            if len(v) != len(positions):
                raise ValueError(f"hvp: v has {len(v)} entries but {len(positions)} arguments are differentiated")
            inputs, out = _evaluate(f, args, {}, positions, as_values, "hvp")
            first = gradients(out, inputs, create_graph=True)
            directional = sum_of([g * vj for g, vj in zip(first, v, strict=True)])
            return gradients(directional, inputs, create_graph=as_values)

    hvp_f.__name__ = hvp_f.__qualname__ = f"hvp_of_{getattr(f, '__name__', 'f')}"
    return hvp_f


# --- shared machinery ------------------------------------------------------------------
@contextlib.contextmanager
def evaluating() -> Iterator[bool]:
    """Mark a transformation's call of its function, as grad does; yields whether an outer one runs.

    Inside, grad, hessian, ... return Values (forward.jvp evaluates f in it, so jvp(grad(f), ...) works).
    """
    outer = _nesting.get() > 0
    depth = _nesting.set(_nesting.get() + 1)
    try:
        yield outer
    finally:
        _nesting.reset(depth)


def _value_and_gradients(
    f: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...], kwargs: dict[str, Any], caller: str
) -> tuple[Any, Any]:
    with _differentiating(args, argnums, caller) as (positions, as_values):
        inputs, out = _evaluate(f, args, kwargs, positions, as_values, caller)
        derivatives = gradients(out, inputs, create_graph=as_values)
    value = out if as_values else float(out)
    if isinstance(argnums, int):
        return value, derivatives[0]
    return value, tuple(derivatives)


@contextlib.contextmanager
def _differentiating(
    args: tuple[Any, ...], argnums: Argnums | None, caller: str
) -> Iterator[tuple[list[int], bool]]:
    """Validate the call, pick the mode and mark the evaluation as nested.

    Yields the positions to differentiate and whether to work in Value mode.
    Recording is switched on for the duration (as `torch.func.grad` does), so
    asking for a derivative inside `no_grad()` still works.
    """
    positions = _positions(argnums, len(args), caller)
    for i in positions:
        _check_scalar(args[i], i, caller)
    as_values = _nesting.get() > 0 or any(isinstance(a, Value) for a in args)
    depth = _nesting.set(_nesting.get() + 1)
    try:
        with enable_grad():
            yield positions, as_values
    finally:
        _nesting.reset(depth)


def _evaluate(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    positions: list[int],
    as_values: bool,
    caller: str,
) -> tuple[list[Value], Any]:
    """Call f with the differentiated arguments replaced by input nodes.

    In Value mode an argument `a` becomes an identity node `a + 0`, and derivatives are
    taken with respect to it: that keeps nested derivatives apart, so in
    `grad(lambda x: grad(lambda y: x * y)(x))` the inner derivative is x (not 2x) and
    the outer one 1, as in JAX.
    """
    call_args = list(args)
    inputs = []
    for i in positions:
        a = args[i]
        # Value mode: an identity node, so derivatives count only the paths
        # through this argument (see the module docstring).
        node = a + 0.0 if as_values and isinstance(a, Value) else Value(a.data if isinstance(a, Value) else a)
        inputs.append(node)
        call_args[i] = node
    out = f(*call_args, **kwargs)
    if isinstance(out, Value):
        return inputs, out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return inputs, Value(out)  # type: ignore[arg-type]  # any Real: Value converts and checks it; a constant
    name = getattr(f, "__name__", repr(f))
    raise TypeError(f"{caller}: {name} must return a scalar Value (or a number), got {type(out).__name__}")


def _check_argnums_type(argnums: Any, caller: str) -> None:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple, list)):
        raise TypeError(f"{caller}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if isinstance(argnums, (tuple, list)):
        if not argnums:
            raise ValueError(f"{caller}: argnums must not be empty")
        for a in argnums:
            if isinstance(a, bool) or not isinstance(a, int):
                raise TypeError(f"{caller}: argnums must contain ints, got {a!r}")
        if len(set(argnums)) != len(argnums):
            raise ValueError(f"{caller}: argnums has a repeated position: {argnums!r}")


def _positions(argnums: Argnums | None, n_args: int, caller: str) -> list[int]:
    """argnums as a list of non-negative positions, checked against the call."""
    if argnums is None:
        if n_args == 0:
            raise ValueError(f"{caller}: the function was called without positional arguments")
        return list(range(n_args))
    wanted = [argnums] if isinstance(argnums, int) else list(argnums)
    positions = []
    for a in wanted:
        if not -n_args <= a < n_args:
            raise ValueError(
                f"{caller}: argnums={argnums!r} is out of range: the function was called with "
                f"{n_args} positional argument{'s' if n_args != 1 else ''} (valid positions 0..{n_args - 1})"
            )
        positions.append(a % n_args)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{caller}: argnums={argnums!r} names the same argument twice")
    return positions


def _check_scalar(a: Any, i: int, caller: str) -> None:
    if isinstance(a, Value):
        return
    if isinstance(a, bool) or not isinstance(a, numbers.Real):
        raise TypeError(
            f"{caller}: argument {i} is differentiated, so it must be an int, float or Value, "
            f"got {type(a).__name__}: {a!r:.60}"
        )
