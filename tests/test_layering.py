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
    "value": {"errors", "ops", "graph", "grad_mode"},  # engine attaches Value.backward from above
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


def test_the_package_import_graph_has_no_cycle():
    """Module-level and function-level imports of every module of the package, one direction only."""
    graph = {path.stem: {name for name, _ in package_imports(path.stem)} for path in PACKAGE.glob("*.py")}
    state: dict[str, int] = {}

    def cycle_from(start):  # iterative depth-first search; returns a cycle as a list, or None
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            for nxt in pending:
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    return path[path.index(nxt):] + [nxt]
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, iter(sorted(graph[nxt]))))
                    break
            else:
                state[node] = 2
                path.pop()
                stack.pop()
        return None

    cycles = [c for module in sorted(graph) if module not in state and (c := cycle_from(module))]
    assert cycles == []


def test_backward_is_a_method_of_value_once_the_package_is_imported():
    code = "from autograd_mini.value import Value; x = Value(3.0); (x * x).backward(); print(x.grad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "6.0"


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
