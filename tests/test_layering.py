"""The core reads bottom-up: errors <- primitives <- ops <- value <- engine, no loops.

Checked on the source (module-level and function-level imports alike), and on
what `import autograd_mini` loads: neither numpy nor graphviz.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograd_mini"

# module -> the package modules it may import (function-level imports included)
ALLOWED = {
    "errors": set(),
    "primitives": set(),
    "graph": set(),
    "grad_mode": set(),
    "ops": {"errors", "primitives"},
    "value": {"errors", "ops", "graph", "grad_mode", "engine"},  # engine: the one late import, in backward
    "engine": {"errors", "graph", "value"},
}


def package_imports(module):
    """(imported module, is at module level) for every import of the package in `module`."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            found += [(name.split(".")[0], id(node) in top) for name in names]
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_each_core_module_imports_only_below_it(module):
    assert {name for name, _ in package_imports(module)} <= ALLOWED[module]


def test_value_imports_engine_only_late_and_once():
    late = [name for name, top in package_imports("value") if not top]
    assert late == ["engine"]
    assert all(top for name, top in package_imports("value") if name != "engine")


def test_import_loads_neither_numpy_nor_graphviz():
    code = "import sys, autograd_mini; print(sorted(m for m in ('numpy', 'graphviz') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lazy_names_still_import_from_the_package():
    import autograd_mini

    for name in autograd_mini.__all__:
        assert getattr(autograd_mini, name) is not None
    from autograd_mini import Drawing, Tape, trace  # noqa: F401

    with pytest.raises(AttributeError):
        autograd_mini.no_such_name  # noqa: B018
