"""Shared pytest setup: the hypothesis profiles every test file runs under.

HYPOTHESIS_PROFILE=ci (used by CI) is derandomized, so a failure reproduces
exactly; the default "dev" profile explores new examples on each run.

Also shared: the `registry` fixture and `softplus_forward`, used by the tests of
custom ops (test_extend.py, test_gradcheck.py import it: `from conftest import ...`),
and `load_script(path)`, a script of the repository (docs/make_figures.py, the
examples) loaded as a module; `make_figures()` is the figures script's.
"""

import importlib.util
import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

from autograd_mini.extend import defop, remove_op
from autograd_mini.ops import OPS
from autograd_mini.primitives import exp, log

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def registry():
    """defop with a unique name per call; every op registered is removed afterwards."""
    names = []

    def register(base, *args, **kwargs):
        name = f"{base}_{uuid.uuid4().hex[:8]}"
        names.append(name)
        return name, defop(name, *args, **kwargs)

    yield register
    for name in names:
        if name in OPS:
            remove_op(name)


def softplus_forward(x):
    """log(1 + e^x) from the table's own ops, so every derivative order works."""
    return log(1.0 + exp(x))


def load_script(relative: str) -> ModuleType:
    """The repository's script at `relative` (e.g. "examples/mazur.py") loaded as a module."""
    path = Path(__file__).resolve().parent.parent / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_figures() -> ModuleType:
    """docs/make_figures.py as a module: the expressions the committed figures draw."""
    return load_script("docs/make_figures.py")


# --- the browser tests: Debian's chromium-headless-shell through Playwright (never `playwright install`)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CHROMIUM_CANDIDATES = ["chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "chromium",
                       "chromium-browser"]


def find_chromium() -> str | None:
    """The program AUTOGRAD_MINI_CHROMIUM names, else the first Chromium on PATH, else None."""
    configured = os.environ.get("AUTOGRAD_MINI_CHROMIUM")
    for candidate in [configured] if configured else CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module; skips with the reason when Playwright or Chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install chromium-headless-shell, or set AUTOGRAD_MINI_CHROMIUM")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def kernel_manager(tmp_path: Path) -> Any:
    """A Jupyter kernel running this interpreter (the venv's python), whatever kernels are installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp_path / "kernels" / "autograd-mini-test"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "autograd_mini tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return KernelManager(kernel_name="autograd-mini-test", kernel_spec_manager=specs)
