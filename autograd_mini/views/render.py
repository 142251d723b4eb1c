"""Finding a Graphviz `dot` and running it, with its output captured.

The lookup: AUTOGRAD_MINI_DOT (if set, it must work), then `dot` on PATH, then
the `graphviz-pure` wheel (this interpreter's scripts folders first, so an
unactivated venv or a Jupyter kernel finds it). The renderer runs in its own
process group with a timeout and capped output and memory; its warnings go to
the DEBUG log, its failures into a `RenderError`.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from functools import cache
from pathlib import Path
from typing import IO

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]  # no memory limit where the module is missing

from ..errors import AutogradMiniError

ENV_VAR = "AUTOGRAD_MINI_DOT"
PURE_NAME = "graphviz-pure"
DEFAULT_TIMEOUT = 60.0
# Larger than any drawing draw() allows by default (500 nodes: under 1 MB of SVG, 5 MB of PNG measured).
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024
# The renderer's address space, where the OS lets us set it (Linux): 500 nodes, the most draw()
# allows by default, took at most 160 MB; a 3,000-node graph took over 2 GB and is stopped here.
MAX_MEMORY_BYTES = 2 * 1024**3
# Up to this many nodes dot lays the graph out with its full effort; above it, with REDUCED_EFFORT.
FULL_LAYOUT_MAX_NODES = 150
# dot's cost is in the virtual nodes of long edges: a Value used at every level of a graph
# (x in x*y + x*y + ..., or in a Horner chain) has an edge across all ranks, so their number
# grows with depth squared (81,501 for a 501-node chain). Unlimited network simplex on them,
# and spline routing around the poorly placed ones, took 15-60 s at 400-500 nodes
# (graphviz-pure 0.2.2; 2 busy cores). nslimit/nslimit1 cap the iterations at 2 per node, and
# straight edges skip the routing: every shape measured up to 500 nodes then took under 2 s and
# 160 MB. nslimit alone was not enough (20 s: routing then explodes), nor were mclimit or
# searchsize (mincross is cheap below 500 nodes). Smaller graphs keep the curved, tidier layout.
REDUCED_EFFORT: tuple[str, ...] = ("-Gnslimit=2", "-Gnslimit1=2", "-Gsplines=line")
_POSIX = os.name == "posix"
_GRACE = 1.0  # seconds a renderer's leftover children may keep its output open after it exits
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The first element's name, after an XML declaration, comments and a DOCTYPE.
_FIRST_ELEMENT = re.compile(r"\A(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<([A-Za-z_][\w.:-]*)", re.S)

_log = logging.getLogger(__name__)
# On Windows a console program started from a GUI (a Jupyter kernel) would flash a window.
_NO_CONSOLE_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)

HOW_TO_GET_ONE = (
    f"install one with `pip install {PURE_NAME}` (a self-contained dot, no system package), "
    f"or install Graphviz so that `dot` is on PATH, "
    f"or set {ENV_VAR} to the path of any dot-compatible program. "
    "The DOT text (.source, .save('graph.dot')) works without a renderer."
)


class RendererNotFoundError(AutogradMiniError, RuntimeError):
    """No Graphviz renderer was found, or AUTOGRAD_MINI_DOT names one that does not exist."""


class RenderError(AutogradMiniError, RuntimeError):
    """The renderer ran but failed (bad exit status, timeout, or could not start)."""


def find_renderer() -> str | None:
    """The path of the renderer `draw` will use, or None when there is none.

    Raises RendererNotFoundError when AUTOGRAD_MINI_DOT is set but does not
    name an executable: a setting the user made is never silently ignored.
    """
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise RendererNotFoundError(
                f"{ENV_VAR}={configured!r} is not an executable program; point it at a dot-compatible "
                f"renderer or unset it to use `dot` on PATH or {PURE_NAME}"
            )
        return found
    system_dot = shutil.which("dot")
    if system_dot is not None:
        return system_dot
    return find_graphviz_pure()


def find_graphviz_pure() -> str | None:
    """The `graphviz-pure` executable of this environment, or None.

    Its wheel puts the program in the environment's scripts folder, which is
    not on PATH when the venv is not activated (a Jupyter kernel, or
    `venv/bin/python script.py`), so those folders are searched first.
    """
    for folder in _script_folders():
        found = shutil.which(PURE_NAME, path=str(folder))
        if found is not None:
            return found
    return shutil.which(PURE_NAME)


def _script_folders() -> list[Path]:
    """Where pip puts console programs for this interpreter, most specific first."""
    folders: list[Path] = []
    with _SYSCONFIG_LOCK:
        scripts, *user_scripts = _sysconfig_scripts()
    candidates = [scripts, os.path.dirname(sys.executable), *user_scripts]
    for candidate in candidates:
        if candidate and Path(candidate) not in folders:
            folders.append(Path(candidate))
    return folders


# sysconfig fills its tables on first use without a lock: two threads rendering at once in a fresh
# process could read them half-filled (AttributeError 'userbase'). Asked once, under this lock.
_SYSCONFIG_LOCK = threading.Lock()


@cache
def _sysconfig_scripts() -> tuple[str, ...]:
    """This interpreter's scripts folder, then its user scripts folder (call under _SYSCONFIG_LOCK)."""
    user_scheme = f"{os.name}_user"
    folders = [sysconfig.get_path("scripts")]
    if user_scheme in sysconfig.get_scheme_names():
        folders.append(sysconfig.get_path("scripts", user_scheme))
    return tuple(folders)


def require_renderer() -> str:
    """`find_renderer()`, or a RendererNotFoundError that says how to get one."""
    found = find_renderer()
    if found is None:
        raise RendererNotFoundError(f"no Graphviz renderer found to draw the graph: {HOW_TO_GET_ONE}")
    return found


def render(source: str, fmt: str, timeout: float = DEFAULT_TIMEOUT, node_count: int | None = None) -> bytes:
    """Run the renderer on DOT `source` and return its output in format `fmt` (svg, png, ...).

    `node_count` (the drawing's nodes) picks the layout effort: see
    `layout_options`. stdout and stderr are captured; on success the
    renderer's warnings go to the DEBUG log, on failure they become the
    RenderError's message. The renderer runs in its own process group, which
    is killed as a whole on a timeout; an output over MAX_OUTPUT_BYTES, or an
    SVG or PNG that is not one, is a RenderError too.
    """
    program = require_renderer()
    command = [program, f"-T{fmt}", *layout_options(node_count)]
    name = f"{program} -T{fmt}"
    returncode, stdout, stderr = run_capped(command, source.encode("utf-8"), timeout, name)
    message = _clamp(stderr.decode("utf-8", errors="replace").strip())
    if returncode != 0 or not stdout:
        detail = message or "no message on stderr"
        if returncode < 0 or "memory allocation" in message:
            detail += f" (the renderer may have hit its memory limit of {MAX_MEMORY_BYTES >> 20} MB)"
        raise RenderError(f"{name} failed (exit status {returncode}): {detail}")
    _check_format(stdout, fmt, name)
    if message:
        _log.debug("%s: %s", name, message)
    return stdout


def layout_options(node_count: int | None) -> tuple[str, ...]:
    """Command-line layout attributes for a drawing of `node_count` nodes (none when unknown or small)."""
    if node_count is None or node_count <= FULL_LAYOUT_MAX_NODES:
        return ()
    return REDUCED_EFFORT


def run_capped(command: list[str], data: bytes, timeout: float, name: str) -> tuple[int, bytes, bytes]:
    """Run `command` with `data` on stdin; return (exit status, stdout, stderr).

    Raises RenderError when it cannot start, runs longer than `timeout`
    seconds or writes more than MAX_OUTPUT_BYTES; in each case the whole
    process group (the renderer and anything it started) is killed first.
    """
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=_POSIX, creationflags=_NO_CONSOLE_WINDOW,
        )
    except OSError as exc:
        raise RenderError(f"could not run the renderer {command[0]}: {exc}") from None
    _limit_memory(process.pid)  # before its input is written, so before it allocates much
    out = _Reader(process.stdout, MAX_OUTPUT_BYTES)
    err = _Reader(process.stderr, MAX_MESSAGE_BYTES, truncate=True)
    threading.Thread(target=_feed, args=(process.stdin, data), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and not out.overflowed.is_set():
            if time.monotonic() >= deadline:
                raise RenderError(f"{name} did not finish within {timeout:g} s")
            out.overflowed.wait(min(0.05, max(deadline - time.monotonic(), 0.0)))
        # Exited: a child it left behind may still hold the pipes open; it gets a moment, then is killed.
        for reader in (out, err):
            reader.thread.join(min(_GRACE, max(deadline - time.monotonic(), 0.0)))
        if out.thread.is_alive() or err.thread.is_alive():
            _kill_group(process)
            for reader in (out, err):
                reader.thread.join(_GRACE)
            if out.thread.is_alive() or err.thread.is_alive():  # it left the group (setsid) and lives on
                raise RenderError(f"{name} exited but left a process holding its output open")
        if out.overflowed.is_set():
            raise RenderError(f"{name} wrote more than {MAX_OUTPUT_BYTES} bytes; stopped it")
    except BaseException:
        _kill_group(process)
        raise
    finally:
        _reap(process)
    return process.returncode, out.data(), err.data()


class _Reader:
    """Reads a pipe on a thread, keeping at most `cap` bytes; beyond that it sets `overflowed`."""

    def __init__(self, pipe: IO[bytes] | None, cap: int, truncate: bool = False) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.cap = cap
        self.truncate = truncate
        self.overflowed = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        assert pipe is not None
        with pipe:
            while chunk := pipe.read1(1 << 16):  # type: ignore[attr-defined]  # a BufferedReader: IO[bytes] lacks read1
                if self.size < self.cap:
                    self.chunks.append(chunk[: self.cap - self.size])
                self.size += len(chunk)
                if self.size > self.cap and not self.truncate:
                    self.overflowed.set()
                    return

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _limit_memory(pid: int) -> None:
    """Cap the renderer's address space at MAX_MEMORY_BYTES (Linux only; elsewhere the timeout bounds it)."""
    prlimit = getattr(resource, "prlimit", None) if resource is not None else None
    if prlimit is None:
        return
    try:
        prlimit(pid, resource.RLIMIT_AS, (MAX_MEMORY_BYTES, MAX_MEMORY_BYTES))
    except (OSError, ValueError):  # already exited, or a lower hard limit is set: keep what is there
        pass


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    """Write `data` to the renderer's stdin and close it; a renderer that stops reading is not an error here."""
    assert pipe is not None
    try:
        with pipe:
            pipe.write(data)
    except OSError:  # BrokenPipeError: it exited or closed stdin; its exit status tells the rest
        pass


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the renderer and, on POSIX, every process of its session (a wrapper's children too)."""
    if _POSIX:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its own group: start_new_session=True
            return
        except OSError:  # already gone
            pass
    try:
        process.kill()
    except OSError:
        pass


def _reap(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL was sent; the OS is slow
        _log.debug("renderer %d did not exit after SIGKILL", process.pid)


def _check_format(output: bytes, fmt: str, name: str) -> None:
    """An SVG must be an SVG document and a PNG a PNG: exit status 0 with garbage is a failure."""
    if fmt == "png" and not output.startswith(_PNG_SIGNATURE):
        raise RenderError(f"{name} exited 0 but its output is not a PNG (starts with {output[:16]!r})")
    if fmt == "svg" and not _looks_like_svg(output):
        raise RenderError(f"{name} exited 0 but its output is not an SVG document (starts with {output[:40]!r})")


def _looks_like_svg(output: bytes) -> bool:
    """UTF-8 text whose first element is <svg ...> and which ends with </svg>."""
    try:
        text = output.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False
    first_element = _FIRST_ELEMENT.search(text)
    return first_element is not None and first_element.group(1) == "svg" and text.endswith("</svg>")


def _clamp(message: str, limit: int = 2000) -> str:
    """The renderer's stderr, shortened for an error message."""
    return message if len(message) <= limit else message[:limit] + f" ... ({len(message) - limit} more characters)"
