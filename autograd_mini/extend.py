"""Adding an op to the engine: `defop`, and what op authors build on (as HIPS's extend.py).

A custom op becomes one more row of the derivative table (`ops.OPS`), so
`backward()`, gradients of gradients, `gradcheck`, `draw` and `explain` work on it
unchanged. Write its forward and rule `vjp(g, out, *inputs)` with ordinary
arithmetic and `autograd_mini.primitives` (not `math`), so the rule also runs on
Values; `defop`'s docstring shows one. A rule calling `math.exp` silently loses second
derivatives: `gradcheck(..., order=2)` catches that.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from . import ops
from .errors import OpRegistrationError
from .ops import Op, register
from .value import Value, apply, constant, lift, lift_all

# The op author's surface, as HIPS's extend.py: what defop builds on, for code that applies rows itself.
__all__ = ["Op", "Value", "apply", "constant", "defop", "is_custom", "lift", "lift_all", "register", "remove_op"]

_CUSTOM: set[str] = set()


def defop(
    name: str,
    forward: Callable[..., Any],
    vjp: Callable[..., Any],
    arity: int | None = 1,
    *,
    domain: str = "every real number",
    valid: Callable[..., Any] | None = None,
    nondiff: tuple[int, ...] = (),
    symbol: str | None = None,
    sample: ops.Sample | None = None,
    replace: bool = False,
) -> Callable[..., Value]:
    """Register the op `name` in the derivative table; return a function applying it.

    >>> from autograd_mini import Value, grad
    >>> from autograd_mini.primitives import exp, log, sigmoid
    >>> softplus = defop(
    ...     "softplus_doc",
    ...     forward=lambda x: log(1.0 + exp(x)),
    ...     vjp=lambda g, out, x: (g * sigmoid(x),),   # one gradient per input
    ... )
    >>> round(softplus(Value(0.0)).data, 6)
    0.693147
    >>> grad(lambda x: softplus(x))(0.0), grad(grad(lambda x: softplus(x)))(0.0)
    (0.5, 0.25)

    name:     an identifier, not already registered (unless `replace=True`,
              which may replace a custom op, never a built-in one).
    forward:  forward(*inputs) -> the output, on floats (and Values/arrays).
    vjp:      vjp(g, out, *inputs) -> tuple of one gradient (or None) per input.
    arity:    number of inputs (a positive int), or None for any number >= 1.
    domain:   where the op is defined, in words, used in error messages.
    valid:    optional predicate on the input floats; outside it the op raises
              DomainError naming `domain`.
    nondiff:  positions of inputs that are constants of the op: the rule
              returns None for them and receives them as floats even when
              differentiating twice.
    symbol:   short label for graphs (defaults to `name`).
    sample:   optional sampling domain, as the built-in rows have (see `ops.Op`):
              `autograd_mini.testing` then draws inputs inside it, e.g.
              `sample=((ops.POSITIVE,),)` for an op defined for x > 0.

    The returned function takes Values or numbers (numbers become constant
    leaves) and returns the output Value. Raises OpRegistrationError for an
    inconsistent definition; the rule's output is checked on first use and
    whenever it runs, so a rule returning the wrong number of gradients raises
    OpRegistrationError naming the op.
    """
    _check_definition(name, forward, vjp, arity, nondiff, valid, replace)
    op = Op(name, arity, forward, _checked_vjp(name, vjp, nondiff),
            domain=domain, valid=valid, nondiff=tuple(nondiff), symbol=symbol, sample=sample)
    register(op, replace=replace)
    _CUSTOM.add(name)
    return _applier(op, vjp)


def is_custom(name: str) -> bool:
    """True if the op `name` was added with `defop`."""
    return name in _CUSTOM


def remove_op(name: str) -> None:
    """Remove a custom op from the table (built-in rows cannot be removed).

    Graphs already built keep working: their nodes hold the row itself.
    """
    if name not in _CUSTOM:
        raise OpRegistrationError(f"{name!r} is not a custom op registered with defop; nothing removed")
    del ops.OPS[name]
    _CUSTOM.discard(name)


# --- checks at registration ------------------------------------------------------------
def _check_definition(
    name: Any,
    forward: Any,
    vjp: Any,
    arity: Any,
    nondiff: Any,
    valid: Any,
    replace: bool,
) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise OpRegistrationError(f"defop: the op name must be an identifier, got {name!r}")
    if name in ops.OPS:
        if name not in _CUSTOM:
            raise OpRegistrationError(f"defop({name!r}): {name!r} is a built-in op and cannot be replaced")
        if not replace:
            raise OpRegistrationError(
                f"defop({name!r}): an op named {name!r} is already registered; pass replace=True to redefine it"
            )
    if arity is not None and (isinstance(arity, bool) or not isinstance(arity, int) or arity < 1):
        raise OpRegistrationError(f"defop({name!r}): arity must be a positive int or None, got {arity!r}")
    for role, fn in (("forward", forward), ("vjp", vjp), ("valid", valid)):
        if role == "valid" and fn is None:
            continue
        if not callable(fn):
            raise OpRegistrationError(f"defop({name!r}): {role} must be callable, got {type(fn).__name__}")
    if arity is not None:
        _check_accepts(name, "forward", forward, arity, "forward(*inputs)")
        _check_accepts(name, "vjp", vjp, arity + 2, "vjp(g, out, *inputs)")
    _check_nondiff(name, nondiff, arity)


def _check_accepts(name: str, role: str, fn: Callable[..., Any], n: int, form: str) -> None:
    """Refuse a function that cannot take n positional arguments (when Python can tell)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # some builtins have no signature: the first call will tell
    try:
        signature.bind(*([0.0] * n))
    except TypeError:
        raise OpRegistrationError(
            f"defop({name!r}): {role} must accept {n} positional argument{'s' if n != 1 else ''} "
            f"({form} for arity {n - 2 if role == 'vjp' else n}), but its signature is {role}{signature}"
        ) from None


def _check_nondiff(name: str, nondiff: Any, arity: int | None) -> None:
    if not isinstance(nondiff, (tuple, list)):
        raise OpRegistrationError(f"defop({name!r}): nondiff must be a tuple of input positions, got {nondiff!r}")
    for i in nondiff:
        if isinstance(i, bool) or not isinstance(i, int) or i < 0 or (arity is not None and i >= arity):
            raise OpRegistrationError(
                f"defop({name!r}): nondiff position {i!r} is not an input position (arity {arity})"
            )


# --- checks at use -----------------------------------------------------------------------
def _checked_vjp(name: str, vjp: Callable[..., Any], nondiff: tuple[int, ...]) -> Callable[..., tuple[Any, ...]]:
    """The user's rule, wrapped so that a malformed result raises a clear error.

    The table row holds this wrapper, so every caller (backward, gradients of
    gradients, draw, explain, the tape) gets the check without knowing about it.
    """

    def checked(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        return _check_rule_result(name, vjp(g, out, *inputs), len(inputs), nondiff)

    checked.__name__ = f"{name}_vjp"
    checked.__doc__ = vjp.__doc__
    checked.__wrapped__ = vjp  # type: ignore[attr-defined]  # functools' convention; Callable declares no such attribute
    return checked


def _check_rule_result(name: str, grads: Any, n_inputs: int, nondiff: tuple[int, ...]) -> tuple[Any, ...]:
    if isinstance(grads, list):
        grads = tuple(grads)
    if not isinstance(grads, tuple):
        raise OpRegistrationError(
            f"op {name!r}: its vjp returned a {type(grads).__name__}, not a tuple of {n_inputs} "
            f"gradient{'s' if n_inputs != 1 else ''} (for one input write `return (g * ...,)`)"
        )
    if len(grads) != n_inputs:
        raise OpRegistrationError(
            f"op {name!r}: its vjp returned {len(grads)} gradient{'s' if len(grads) != 1 else ''} "
            f"for {n_inputs} input{'s' if n_inputs != 1 else ''}; it must return one (or None) per input"
        )
    for i in nondiff:
        if i < n_inputs and grads[i] is not None:
            raise OpRegistrationError(
                f"op {name!r}: input {i} is declared nondiff, so its vjp must return None there, got {grads[i]!r}"
            )
    # A numpy scalar (np.float64 is a float subclass) becomes a plain float, so the
    # engine's finiteness checks, which test for float exactly, see every gradient.
    return tuple(float(g) if _is_scalar_number(g) else g for g in grads)


def _is_scalar_number(x: Any) -> bool:
    return type(x) is not float and isinstance(x, numbers.Real) and not isinstance(x, bool)


def _applier(op: Op, vjp: Callable[..., Any]) -> Callable[..., Value]:
    """The user-facing function for `op`: lifts numbers, checks arity, applies the row."""
    probed = False

    def apply_op(*inputs: Any) -> Value:
        nonlocal probed
        if op.arity is not None and len(inputs) != op.arity:
            raise TypeError(f"{op.name} takes {op.arity} input{'s' if op.arity != 1 else ''}, got {len(inputs)}")
        if not inputs:
            raise TypeError(f"{op.name} needs at least one input")
        values = lift_all(inputs, op.name, "input {}")
        out = apply(op, *values)
        if not probed:
            probed = _probe_rule(op, vjp, out, values)
        return out

    apply_op.__name__ = op.name
    apply_op.__qualname__ = op.name
    apply_op.__doc__ = f"Apply the custom op {op.name!r} (defined with autograd_mini.extend.defop)."
    return apply_op


def _probe_rule(op: Op, vjp: Callable[..., Any], out: Value, inputs: list[Value]) -> bool:
    """Run the rule once on the first inputs, outside the engine, to check its shape.

    The engine reports rule failures during backward as DomainError; checking
    here first makes a malformed rule raise OpRegistrationError at first use.
    Returns False (probe again next time) if the rule cannot be evaluated here.
    """
    datas = [x.data for x in inputs]
    try:
        grads = vjp(1.0, out.data, *datas)
    except (ArithmeticError, ValueError):
        return False
    _check_rule_result(op.name, grads, len(datas), op.nondiff)
    return True
