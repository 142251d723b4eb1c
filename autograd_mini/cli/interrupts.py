"""Ctrl-C for the command line: every interrupt ends the command quietly with exit code 130.

A KeyboardInterrupt can land on any line. Two places turn it into a traceback: inside
a library's constructor (tqdm's leaves a half-built bar whose `__del__` fails), and inside
a finalizer (a generator's close, a `__del__`), where Python prints "Exception ignored"
and drops it. `held_interrupts` covers the first, `interrupts_kept` the second.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _handles_ctrl_c() -> bool:
    """Whether Ctrl-C raises KeyboardInterrupt here: the main thread, Python's own SIGINT handler."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block; raise its KeyboardInterrupt when the block ends.

    For short calls that must not be cut in half. Where Ctrl-C does not raise
    KeyboardInterrupt (another thread, SIGINT ignored or handled), the block runs as it is.
    """
    if not _handles_ctrl_c():
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """A Ctrl-C that lands in a finalizer inside the block is sent again instead of being dropped.

    Python reports an exception in a finalizer to `sys.unraisablehook` (which prints
    "Exception ignored in ...") and goes on; for a KeyboardInterrupt this hook instead signals
    the main thread again, so the interrupt reaches the code the finalizer interrupted.
    """
    if not _handles_ctrl_c():
        yield
        return
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _thread.interrupt_main()  # a SIGINT as the interpreter sees one: raised at its next check
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous
