"""Finding a Graphviz `dot` and running it, with its output captured.

`draw` builds DOT text with the `graphviz` package but renders it here, so
that a fresh `pip install` renders with no system package: the lookup tries,
in order,

1. the environment variable AUTOGRAD_MINI_DOT (a path or a command name of
   any dot-compatible program; if set, it must work: it is never skipped),
2. `dot` on PATH (a system Graphviz),
3. `graphviz-pure` (the self-contained port from PyPI, a dependency of
   autograd_mini): first in this interpreter's scripts folder and beside
   `sys.executable`, so it is found from an unactivated venv or a Jupyter
   kernel, then in the user scripts folder, then on PATH.

The renderer runs with stdout and stderr captured and a timeout: warnings are
logged at DEBUG level on the "autograd_mini.render" logger and never printed;
a failure raises `RenderError` carrying the renderer's own message.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .errors import AutogradMiniError

ENV_VAR = "AUTOGRAD_MINI_DOT"
PURE_NAME = "graphviz-pure"
DEFAULT_TIMEOUT = 60.0

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
    candidates = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        candidates.append(sysconfig.get_path("scripts", user_scheme))
    for candidate in candidates:
        if candidate and Path(candidate) not in folders:
            folders.append(Path(candidate))
    return folders


def require_renderer() -> str:
    """`find_renderer()`, or a RendererNotFoundError that says how to get one."""
    found = find_renderer()
    if found is None:
        raise RendererNotFoundError(f"no Graphviz renderer found to draw the graph: {HOW_TO_GET_ONE}")
    return found


def render(source: str, fmt: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Run the renderer on DOT `source` and return its output in format `fmt` (svg, png, ...).

    stdout and stderr are captured; on success the renderer's warnings go to
    the DEBUG log, on failure they become the RenderError's message.
    """
    program = require_renderer()
    command = [program, f"-T{fmt}"]
    try:
        done = subprocess.run(
            command,
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            creationflags=_NO_CONSOLE_WINDOW,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{program} -T{fmt} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise RenderError(f"could not run the renderer {program}: {exc}") from None
    message = done.stderr.decode("utf-8", errors="replace").strip()
    if done.returncode != 0 or not done.stdout:
        detail = message or "no message on stderr"
        raise RenderError(f"{program} -T{fmt} failed (exit status {done.returncode}): {detail}")
    if message:
        _log.debug("%s -T%s: %s", program, fmt, message)
    return done.stdout
