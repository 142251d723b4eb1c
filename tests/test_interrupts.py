"""Ctrl-C during the command line: at any moment it ends the command with exit code 130 and the one
line "autograd-mini: error: interrupted", never a traceback (issue 19, item 8).

A real SIGINT is delivered (`_thread.interrupt_main`) from a trace function at chosen line events of
the demo, so it lands as Ctrl-C would: where Python checks for signals next, or held where the
command holds it."""

from __future__ import annotations

import _thread
import importlib.abc
import importlib.util
import io
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from autograd_mini.cli import app, commands, demo, main

INTERRUPTED = "autograd-mini: error: interrupted\n"


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so the demo draws its progress bar."""

    def isatty(self) -> bool:
        return True


def _demo_interrupted(tmp_path: Any, counted: Callable[[FrameType], bool], at: int | None) -> tuple[int, str, int]:
    """main(["demo", ...]) with SIGINT sent at the `at`-th line event of frames `counted` accepts.

    Returns the exit code, stderr and the number of counted events seen.
    """
    seen = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal seen
        if counted(frame):
            seen += 1
            if seen == at:
                sys.settrace(None)
                _thread.interrupt_main()
                return None
        return tracer

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), _Terminal()
    try:
        sys.settrace(tracer)
        try:
            code = main(["demo", "--out", str(tmp_path / f"out{at}")])
        except KeyboardInterrupt:  # escaped main(): a traceback for the user
            code = -1
        finally:
            sys.settrace(None)
        return code, sys.stderr.getvalue(), seen
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _last_line(stderr: str) -> str:
    """stderr after the progress bar's carriage returns."""
    return stderr.rsplit("\r", 1)[-1].lstrip()


@pytest.fixture
def short_demo(monkeypatch):
    monkeypatch.setattr(demo, "TRAINING_STEPS", 3)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # no picture: quicker, and matplotlib is not ours


def _in_package_or_tqdm(frame: FrameType) -> bool:
    """Frames of the package and of tqdm, except main()'s own: before its `try` and after its
    `return` a Ctrl-C is the entry point's to catch (__main__.py, _autograd_mini_cli.py)."""
    name = frame.f_code.co_filename
    if frame.f_code in (main.__code__, app.main.__code__):
        return False
    return "autograd_mini" in name or "tqdm" in name


def _building_the_bar(frame: FrameType) -> bool:
    """Frames inside tqdm's constructor, the window where Ctrl-C left a half-built bar."""
    while frame is not None:
        if frame.f_code.co_name == "__init__" and "tqdm" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


@pytest.fixture(scope="module")
def event_counts(tmp_path_factory):
    """How many events each filter sees in one uninterrupted run of the short demo."""
    mp = pytest.MonkeyPatch()
    mp.setattr(demo, "TRAINING_STEPS", 3)
    mp.setitem(sys.modules, "matplotlib", None)
    tmp = tmp_path_factory.mktemp("count")
    try:
        main(["demo", "--out", str(tmp / "warm"), "--no-progress"])  # the imports happen once, here
        counts = {f: _demo_interrupted(tmp, f, None)[2] for f in (_in_package_or_tqdm, _building_the_bar)}
    finally:
        mp.undo()
    assert all(counts.values()), counts
    return counts


# Anywhere in the demo (24 points of its events), and while the progress bar is built (16 points).
@pytest.mark.parametrize(("where", "fraction"), [("in_package_or_tqdm", i / 24) for i in range(24)]
                         + [("building_the_bar", i / 16) for i in range(16)])
def test_ctrl_c_during_the_demo_exits_130_quietly(short_demo, event_counts, tmp_path, where, fraction):
    event = {"in_package_or_tqdm": _in_package_or_tqdm, "building_the_bar": _building_the_bar}[where]
    at = 1 + int(fraction * (event_counts[event] - 1))
    code, stderr, _ = _demo_interrupted(tmp_path, event, at)
    assert code == 130
    assert _last_line(stderr) == INTERRUPTED and "Traceback" not in stderr and "Exception" not in stderr


def test_ctrl_c_in_a_finalizer_is_not_dropped(monkeypatch, capsys):
    """A KeyboardInterrupt raised in a finalizer (here a generator's close) would be printed as
    "Exception ignored" and lost; the command must still end as interrupted."""

    def generator():
        try:
            yield 1
        finally:
            raise KeyboardInterrupt  # Ctrl-C landing while the generator is closed

    def gradients(*args: Any, **kwargs: Any) -> list[float]:
        running = generator()
        next(running)
        del running  # closed here: the KeyboardInterrupt goes to sys.unraisablehook
        for _ in range(1000):  # the interpreter checks for signals in loops
            pass
        return [1.0]

    monkeypatch.setattr(commands, "gradients", gradients)
    assert main(["grad", "x", "x=1"]) == 130
    assert capsys.readouterr().err == INTERRUPTED


def test_ctrl_c_while_reporting_another_error_still_exits_130(monkeypatch, capsys):
    def broken(*args: Any, **kwargs: Any) -> list[float]:
        raise RuntimeError("a bug")

    def interrupted_traceback(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the traceback of the bug is printed

    monkeypatch.setattr(commands, "gradients", broken)
    monkeypatch.setattr(app.traceback, "print_exception", interrupted_traceback)
    assert main(["grad", "x", "x=1"]) == 130
    assert capsys.readouterr().err == INTERRUPTED


def test_held_interrupts_raise_at_the_end_of_the_block():
    from autograd_mini.cli.interrupts import held_interrupts

    done = []
    with pytest.raises(KeyboardInterrupt):
        with held_interrupts():
            _thread.interrupt_main()
            for _ in range(1000):  # signals are checked here, and held
                pass
            done.append("the block ran to its end")
    assert done == ["the block ran to its end"]


def _interrupted_and_converted() -> None:
    """Ctrl-C lands, and the code it lands in reports it as an ImportError (as numpy's import does)."""
    try:
        _thread.interrupt_main()
        for _ in range(1000):  # the interpreter checks for signals in loops
            pass
    except KeyboardInterrupt:
        raise ImportError('PyCapsule_Import could not import module "datetime"') from None


def test_ctrl_c_that_a_library_turns_into_another_error_still_exits_130(monkeypatch, capsys):
    def gradients(*args: Any, **kwargs: Any) -> list[float]:
        _interrupted_and_converted()
        return [1.0]

    monkeypatch.setattr(commands, "gradients", gradients)
    assert main(["grad", "x", "x=1"]) == 130
    assert capsys.readouterr().err == INTERRUPTED  # not "internal error" with a traceback


class _InterruptedImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """matplotlib's stand-in: its import is hit by Ctrl-C and says ImportError, as a C extension's does."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name.split(".")[0] != "matplotlib":
            return None
        return importlib.util.spec_from_loader(name, self, is_package=name == "matplotlib")

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        _interrupted_and_converted()
        module.use = lambda backend: None


def test_ctrl_c_while_matplotlib_loads_is_no_missing_matplotlib(monkeypatch, tmp_path):
    names = ("matplotlib", "matplotlib.pyplot")
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    printed = io.StringIO()
    try:
        with pytest.raises(KeyboardInterrupt):
            demo.plot_moons(demo.Report(printed, 80), demo.MLP(2, [1], seed=0), [[0.0, 0.0]], [0], [1.0],
                            tmp_path / "m.png", demo.DemoResult())
    finally:
        for name in names:  # the stand-ins go; monkeypatch puts the real modules back
            if isinstance(getattr(sys.modules.get(name), "__loader__", None), _InterruptedImport):
                del sys.modules[name]
    assert "skipped" not in printed.getvalue()


def test_a_held_ctrl_c_wins_over_an_error_of_the_block():
    from autograd_mini.cli.interrupts import held_interrupts

    with pytest.raises(KeyboardInterrupt) as caught:
        with held_interrupts():
            _thread.interrupt_main()
            for _ in range(1000):
                pass
            raise ImportError("cut short")
    assert isinstance(caught.value.__context__, ImportError)


def test_held_interrupts_change_nothing_outside_the_main_thread():
    import threading

    from autograd_mini.cli.interrupts import held_interrupts

    seen = []

    def body() -> None:
        with held_interrupts():
            seen.append("ran")

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == ["ran"]
