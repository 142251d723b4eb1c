"""Ctrl-C for the command line: every interrupt ends the command quietly with exit code 130.

A KeyboardInterrupt can land on any line, and three kinds of place turn it into a traceback:
a library's constructor (tqdm's leaves a half-built bar whose `__del__` fails), a C extension's
import (numpy's reports it as an ImportError), and a finalizer (a generator's close), where
Python prints "Exception ignored" and drops it. `held_interrupts` keeps Ctrl-C out of the first
two; `watching_ctrl_c` remembers every Ctrl-C and re-raises one a finalizer dropped.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pressed: list[int] = []
"""The SIGINTs received inside `watching_ctrl_c`: any, and a failure is taken for the interrupt."""


def _raise_and_remember(signum: int, frame: FrameType | None) -> None:
    """Python's own SIGINT handler (raise KeyboardInterrupt), remembering that it ran."""
    _pressed.append(signum)
    raise KeyboardInterrupt


def _handles_ctrl_c() -> bool:
    """Whether Ctrl-C raises KeyboardInterrupt here: the main thread, with Python's handler (or ours)."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _raise_and_remember))


def ctrl_c_pressed() -> bool:
    """Whether Ctrl-C was pressed inside the current `watching_ctrl_c` block."""
    return bool(_pressed)


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block; raise its KeyboardInterrupt when the block ends.

    For calls that must not be cut in half. Where Ctrl-C does not raise KeyboardInterrupt
    (another thread, SIGINT ignored or handled by someone else), the block runs as it is.
    """
    if not _handles_ctrl_c():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if received:  # also when the block failed: the user asked to stop, and that is what happens
            _pressed.extend(received)
            raise KeyboardInterrupt


@contextmanager
def watching_ctrl_c() -> Iterator[None]:
    """Inside the block, remember every Ctrl-C (`ctrl_c_pressed`), and raise one a finalizer dropped.

    Python reports an exception in a finalizer to `sys.unraisablehook` (which prints "Exception
    ignored in ...") and goes on. For a KeyboardInterrupt this hook instead arms a profile function
    that raises it at the next call or return outside the hook: in the code the finalizer
    interrupted (raising from the hook itself would be dropped too).
    """
    if not _handles_ctrl_c():
        yield
        return
    handler, hook_before, profile = signal.getsignal(signal.SIGINT), sys.unraisablehook, sys.getprofile()

    def raise_outside_the_hook(frame: FrameType, event: str, arg: object) -> None:
        if frame.f_code is not hook.__code__:
            sys.setprofile(profile)
            raise KeyboardInterrupt

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            sys.setprofile(raise_outside_the_hook)
        else:
            hook_before(unraisable)

    _pressed.clear()
    signal.signal(signal.SIGINT, _raise_and_remember)
    sys.unraisablehook = hook
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        sys.unraisablehook = hook_before
        sys.setprofile(profile)
