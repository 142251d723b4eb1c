"""Load a learner's engine class from `path/to/engine.py:Value` or `package.module:Value`.

Loading runs the learner's file (or module) and nothing else: the file is
executed as a module through `importlib.util.spec_from_file_location`, with
its own folder on `sys.path` for the time of the import (so that it can
import its sibling files), an empty standard input (an `input()` at import
fails at once instead of waiting) and `IMPORT_SECONDS` to finish (a file that
trains a network at import is stopped). Every way this can fail, a
`sys.exit()` at import included, is an `EngineLoadError` with a one-line
message.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .adapter import LOADED_PREFIX, Adapter
from .run import EngineTimeout, time_limit

IMPORT_SECONDS = 30.0
"""Time allowed to import the learner's file or module."""
_AT_IMPORT = "put the code that runs a demo under  if __name__ == \"__main__\":"


class EngineLoadError(Exception):
    """The engine could not be loaded: no such file, module or class, or its import raised."""


def load_engine(target: str) -> Any:
    """The class named by `target` ("engine.py:Value" or "pkg.module:Value"), or the `Adapter` instance
    ("engine.py:adapter", for an engine with other names: `adapter = MyAdapter(Scalar)` in the file)."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise EngineLoadError(f"give the file (or module) and the class: ENGINE.py:Value, got {target!r}")
    if not name.isidentifier():
        raise EngineLoadError(f"{name!r} is not a class name")
    is_file = where.endswith(".py") or "/" in where or "\\" in where
    module = _load_file(Path(where)) if is_file else _load_module(where)
    try:
        engine = getattr(module, name)
    except AttributeError:
        defined = sorted(k for k, v in vars(module).items() if isinstance(v, type) and not k.startswith("_"))
        raise EngineLoadError(f"{where} has no class {name!r} (it defines: {', '.join(defined) or 'no class'})") \
            from None
    if not isinstance(engine, type | Adapter):
        raise EngineLoadError(f"{where}:{name} is a {type(engine).__name__}, not a class (or an Adapter)")
    return engine


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise EngineLoadError(f"no such file: {path}")
    module_name = f"{LOADED_PREFIX}{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise EngineLoadError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickle look their module up here
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        with _importing():
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise EngineLoadError(f"syntax error in {path}, line {exc.lineno}: {exc.msg}") from None
    except (Exception, SystemExit, EngineTimeout) as exc:  # noqa: BLE001 - whatever the learner's file raises
        sys.modules.pop(module_name, None)
        raise EngineLoadError(f"importing {path} {_failed(exc)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _load_module(name: str) -> Any:
    try:
        with _importing():
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise EngineLoadError(f"no such module: {name} (a file needs its .py: {name}.py)") from None
        raise EngineLoadError(f"importing {name} raised {_one_line(exc)}") from None
    except SyntaxError as exc:
        raise EngineLoadError(f"syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}") from None
    except (Exception, SystemExit, EngineTimeout) as exc:  # noqa: BLE001 - whatever the module raises at import
        raise EngineLoadError(f"importing {name} {_failed(exc)}") from None


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """An empty stdin and a time limit for the learner's import."""
    stdin = sys.stdin
    sys.stdin = io.StringIO()
    try:
        with time_limit(IMPORT_SECONDS):
            yield
    finally:
        sys.stdin = stdin


def _failed(exc: BaseException) -> str:
    """How an import failed, as the end of a sentence that starts with "importing FILE"."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}) (or exit()): {_AT_IMPORT}"
    if isinstance(exc, EngineTimeout):
        return f"took more than {IMPORT_SECONDS:g} s (does it train a network at import?): {_AT_IMPORT}"
    return f"raised {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
