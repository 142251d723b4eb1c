"""Which nodes take a gradient: the switch `no_grad` / `enable_grad`, and constants.

`ConstantInputs` marks a node that requires no gradient; the switch says whether ops
record their inputs at all.

The switch is a context variable, so it is local to the current thread or
asyncio task. Both managers also work as decorators, on plain functions,
generator functions, async functions and async generators: the mode holds
while the function's body runs (between resumptions of a generator or
coroutine, the caller's own mode is back in force). This module imports
nothing from the package.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

recording: contextvars.ContextVar[bool] = contextvars.ContextVar("autograd_mini_recording", default=True)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """False inside `no_grad()`."""
    return recording.get()


class _GradMode:
    """A context manager and decorator that sets recording to `self.enabled`."""

    enabled = True

    def __init__(self) -> None:
        self._tokens: list[contextvars.Token[bool]] = []

    def __enter__(self) -> None:
        self._tokens.append(recording.set(self.enabled))

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        recording.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        """Decorate `func` so that its body runs in this mode (also generators and coroutines)."""
        enabled = self.enabled
        kind = _kind(func)
        if kind == "async generator":
            return _wrap_async_generator(func, enabled)  # type: ignore[return-value]  # same signature as func; the kind is known at run time only
        if kind == "generator":
            return _wrap_generator(func, enabled)  # type: ignore[return-value]  # as above
        if kind == "coroutine":

            @functools.wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                # The coroutine runs in the caller's task context: set for the whole
                # body, reset at the end (awaits inside see the mode too).
                token = recording.set(enabled)
                try:
                    return await func(*args, **kwargs)
                finally:
                    recording.reset(token)

            return coroutine  # type: ignore[return-value]  # as above

        @functools.wraps(func)
        def plain(*args: Any, **kwargs: Any) -> Any:
            token = recording.set(enabled)
            try:
                return func(*args, **kwargs)
            finally:
                recording.reset(token)

        return plain  # type: ignore[return-value]  # as above


# The code flags `inspect` tests (importing inspect would cost more than the rest of the core).
_CO_GENERATOR, _CO_COROUTINE, _CO_ASYNC_GENERATOR = 0x20, 0x80, 0x200


def _kind(func: Callable[..., Any]) -> str:
    """"generator", "coroutine", "async generator" or "function", as inspect.is*function tell them."""
    code = getattr(func, "__code__", None)
    flags = code.co_flags if code is not None else 0
    if flags & _CO_ASYNC_GENERATOR:
        return "async generator"
    if flags & _CO_GENERATOR:
        return "generator"
    if flags & _CO_COROUTINE:
        return "coroutine"
    return "function"


def _wrap_generator(func: Callable[..., Any], enabled: bool) -> Callable[..., Any]:
    """The generator's body runs in the mode; each yield hands the caller's mode back.

    Uses set rather than tokens, since a generator may be resumed from another
    context (another thread or task) than the one that started it.
    """

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        outer = recording.get()
        recording.set(enabled)
        try:
            gen = func(*args, **kwargs)
            to_send: Any = None
            exc: BaseException | None = None
            while True:
                try:
                    item = gen.throw(exc) if exc is not None else gen.send(to_send)
                except StopIteration as stop:
                    return stop.value
                recording.set(outer)
                to_send, exc = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    outer = recording.get()
                    recording.set(enabled)
                    gen.close()
                    raise
                except BaseException as thrown:  # thrown in by the caller: pass it on
                    exc = thrown
                outer = recording.get()
                recording.set(enabled)
        finally:
            recording.set(outer)

    return generator


def _wrap_async_generator(func: Callable[..., Any], enabled: bool) -> Callable[..., Any]:
    """Like `_wrap_generator`, for async generators."""

    @functools.wraps(func)
    async def generator(*args: Any, **kwargs: Any) -> Any:
        outer = recording.get()
        recording.set(enabled)
        try:
            gen = func(*args, **kwargs)
            to_send: Any = None
            exc: BaseException | None = None
            while True:
                try:
                    item = await (gen.athrow(exc) if exc is not None else gen.asend(to_send))
                except StopAsyncIteration:
                    return
                recording.set(outer)
                to_send, exc = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    outer = recording.get()
                    recording.set(enabled)
                    await gen.aclose()
                    raise
                except BaseException as thrown:
                    exc = thrown
                outer = recording.get()
                recording.set(enabled)
        finally:
            recording.set(outer)

    return generator


class no_grad(_GradMode):  # noqa: N801 (named like torch.no_grad)
    """Within this block ops record no inputs: results are leaves.

    Local to the current thread or asyncio task. Also a decorator, on
    functions, generators and coroutines alike.
    """

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 (named like torch.enable_grad)
    """Record ops again inside a `no_grad()` block (as torch.enable_grad does)."""

    enabled = True


# --- constants: nodes that take no gradient -------------------------------------------------------
class ConstantInputs(tuple):  # type: ignore[type-arg]  # a tuple of Values; tuple[Value, ...] cannot be subclassed here
    """The `inputs` of a constant node (`requires_grad` False): the type of the tuple is the flag.

    Constants are numbers lifted into a graph (`x * 2.0`), Values made with
    `requires_grad=False`, and nodes all of whose inputs are constants;
    backward gives them nothing and runs no rule for them. A tuple like any
    other, so every walk reads it as usual. Not a slot of its own: a seventh
    slot took a Value from 96 to 112 bytes and cost 5% of a forward pass.
    """

    __slots__ = ()

    def __new__(cls, items: Iterable[Any] = ()) -> ConstantInputs:  # Values (this module imports none)
        made = tuple.__new__(cls, items)
        return made if made else NO_INPUTS


# The inputs of every constant leaf: one object, so the float backward tells a constant leaf by identity.
NO_INPUTS = tuple.__new__(ConstantInputs)
