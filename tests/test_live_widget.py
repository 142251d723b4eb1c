"""The live explorer's notebook widget under a real kernel (nbclient): set a leaf from the kernel
side and the widget's synced state holds the engine's numbers for the new value; the user's
Values are never written. Skipped without anywidget (the optional extra `live`)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import kernel_manager

from autograd_mini import Value
from autograd_mini.graph import forward_order

pytest.importorskip("anywidget", reason="anywidget is not installed (pip install autograd-mini[live])")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    f"import sys\nsys.path.insert(0, {str(ROOT)!r})  # this checkout, whatever is installed\nimport json",
    "from autograd_mini import Value\n"
    "from autograd_mini.views.explorer.widget import LiveExplorer\n"
    "x, w = Value(1.0, label='x'), Value(0.5, label='w')\n"
    "y = (x * w).tanh() + x**2\n"
    "y.label = 'E'\n"
    "live = LiveExplorer(y)\n"
    "live",
    "live.set_leaf('x', 2.0)\n"
    "print(json.dumps({'state': live.state, 'user': [x.data, x.grad, w.data, w.grad]}))",
    "moved = live.nudge('w', 0.1)\n"
    "print(json.dumps({'nudged': live.nudged, 'values': live.values, 'state': live.state}))",
    "try:\n    live.set_leaf('x', float('nan'))\nexcept Exception as exc:\n    print(type(exc).__name__, exc)",
]


def engine(xv: float, wv: float) -> list[tuple[str, str]]:
    x, w = Value(xv, label="x"), Value(wv, label="w")
    y = (x * w).tanh() + x**2
    y.backward()
    return [(repr(v.data), repr(v.grad) if v.requires_grad else "") for v in forward_order(y)]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("live-widget")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
        mp.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
        client = nbclient.NotebookClient(nb, km=kernel_manager(tmp_path), timeout=300,
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    return [c.outputs for c in nb.cells]


def printed(cell_outputs) -> str:
    return "".join(o.get("text", "") for o in cell_outputs if o.get("output_type") == "stream")


def test_the_widget_is_displayed_as_a_widget_view(outputs):
    data = [o["data"] for o in outputs[1] if o.get("output_type") == "execute_result"]
    assert data and "application/vnd.jupyter.widget-view+json" in data[0]


def test_setting_a_leaf_from_the_kernel_updates_the_state_with_the_engines_numbers(outputs):
    shown = json.loads(printed(outputs[2]))
    assert [(n["data"], n["grad"]) for n in shown["state"]["nodes"]] == engine(2.0, 0.5)
    assert shown["state"]["leaves"][0] == {"name": "x", "data": "2.0", "grad": engine(2.0, 0.5)[0][1]}
    assert shown["user"] == [1.0, 0.0, 0.5, 0.0]  # the user's Values: read, never written


def test_a_nudge_from_the_kernel_reports_and_moves_the_leaf(outputs):
    shown = json.loads(printed(outputs[3]))
    assert shown["values"] == {"x": 2.0, "w": 0.6}
    assert [(n["data"], n["grad"]) for n in shown["state"]["nodes"]] == engine(2.0, 0.6)
    observed = (math.tanh(2.0 * 0.6) + 4.0) - (math.tanh(2.0 * 0.5) + 4.0)
    assert float(shown["nudged"]["observed"]) == pytest.approx(observed, rel=1e-12)
    assert float(shown["nudged"]["predicted"]) == pytest.approx(2.0 * (1 - math.tanh(1.0) ** 2) * 0.1, rel=1e-12)


def test_a_bad_value_is_refused_with_its_name(outputs):
    assert printed(outputs[4]).startswith("TraitError LiveExplorer: x must be a finite number, got nan")


def test_the_package_does_not_import_anywidget():
    code = "import sys, autograd_mini; print('anywidget' in sys.modules, 'ipywidgets' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert found.stdout.split() == ["False", "False"]


def test_the_pages_requests_are_answered_in_the_kernel():
    """What the page's messages get back: pages, states, verdicts, nudges (the widget's `_answer`)."""
    from autograd_mini.views.explorer.widget import LiveExplorer

    x, w = Value(1.0, label="x"), Value(0.5, label="w")
    live = LiveExplorer((x * w).tanh() + x**2)
    state = live._answer("recompute", {"values": {"x": 3.0}})
    assert [(n["data"], n["grad"]) for n in state["nodes"]] == engine(3.0, 0.5)
    page = live._answer("page", {"version": state["version"], "step": None})["page"]
    assert 'data-data="3.0"' in page and f'data-start="{live.snapshot.explorer.steps}"' in page
    q = live.snapshot.questions[0]
    assert live._answer("judge", {"version": state["version"], "index": 0, "answer": q.answer})["kind"] == "right"
    moved = live._answer("nudge", {"leaf": "x", "h": -0.5})
    assert moved["state"]["leaves"][0]["data"] == "2.5" and live.values == {"x": 2.5, "w": 0.5}
    with pytest.raises(ValueError, match="unknown request"):
        live._answer("eval", {})
    assert (x.data, x.grad, w.data, w.grad) == (1.0, 0.0, 0.5, 0.0)
