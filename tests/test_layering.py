"""The house reads bottom-up, one direction only.

The core at the package root (errors <- primitives <- ops <- value <- engine)
imports no subpackage; above it the layers are tape <- nn <- views <- cli, each
importing only from itself and the layers below. Checked on the source
(module-level and function-level imports alike), and on what `import
autograd_mini` loads: neither numpy nor graphviz.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograd_mini"

# core module -> the package modules it may import (function-level imports included)
CORE = {
    "errors": set(),
    "primitives": set(),
    "graph": set(),
    "grad_mode": set(),
    "ops": {"errors", "primitives"},
    "value": {"errors", "ops", "graph", "grad_mode"},  # engine attaches Value.backward from above
    "engine": {"errors", "graph", "grad_mode", "value"},
}
LAYERS = ["", "tape", "nn", "views", "check", "cli"]  # "" is the core at the root; each may import those before it
TAPE = ["trace", "recording", "reference", "replay", "arrays", "failures", "planner", "schedule"]  # one direction


def module_name(path):
    """The dotted name below the package: 'value', 'tape.trace', 'views.explorer' (a package's __init__)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def package_imports(module):
    """Every module of the package that `module` imports, as a dotted name below the package."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)]
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found |= {".".join([*base, *name.split(".")]) for name in names}
    return {name for name in found if name in MODULES or name.split(".")[0] in MODULES}


def layer_of(module):
    top = module.split(".")[0]
    return top if top in LAYERS else ""


@pytest.mark.parametrize("module", sorted(CORE))
def test_each_core_module_imports_only_below_it(module):
    assert package_imports(module) <= CORE[module]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in ("", "__main__")))
def test_each_module_imports_only_its_own_layer_and_those_below(module):
    allowed = set(LAYERS[: LAYERS.index(layer_of(module)) + 1])
    assert {layer_of(name) for name in package_imports(module)} <= allowed, package_imports(module)


def test_the_tape_reads_in_one_direction():
    """trace -> replay -> failures -> schedule: no tape module imports one above it."""
    for i, module in enumerate(TAPE):
        imported = {name.removeprefix("tape.") for name in package_imports(f"tape.{module}")}
        assert not imported & set(TAPE[: i + 1]), (module, imported)


def test_the_package_import_graph_has_no_cycle():
    """Module-level and function-level imports of every module of the package, one direction only."""
    graph = {module: package_imports(module) for module in MODULES}
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


def test_the_package_root_holds_the_core_and_few_modules():
    root = [path.stem for path in PACKAGE.glob("*.py") if path.stem not in ("__init__", "__main__")]
    assert len(root) <= 15, sorted(root)


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


@pytest.mark.parametrize("old, new", [("losses", "nn.losses"), ("optim", "nn.optim"), ("datasets", "nn.datasets"),
                                      ("delta", "nn.delta"), ("train", "nn.train"), ("render", "views.render")])
def test_the_modules_the_readme_named_before_the_subpackages_still_import(old, new):
    import importlib

    assert importlib.import_module(f"autograd_mini.{old}") is importlib.import_module(f"autograd_mini.{new}")
