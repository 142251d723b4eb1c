"""docs/backprop.ipynb runs from top to bottom on the installed library (its asserts
compare the derivation's hand computations with the engine), every graph in it
renders inline as SVG, and the committed file carries no outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import kernel_manager
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parent.parent / "docs"
NOTEBOOK = DOCS / "backprop.ipynb"
STRIP = (
    'python -c "import nbformat as n, sys; nb = n.read(sys.argv[1], 4); '
    "[c.update(outputs=[], execution_count=None, metadata={}) for c in nb.cells if c.cell_type == 'code']; "
    'n.write(nb, sys.argv[1])" docs/backprop.ipynb'
)


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count or "execution" in c.metadata)]
    assert not dirty, f"cells {dirty} of {NOTEBOOK.name} hold outputs; strip them with:\n{STRIP}"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("notebook")
    # The kernel's connection file and IPython profile go to tmp, not to the home directory.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
        mp.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
        nb = nbformat.read(NOTEBOOK, as_version=4)
        km = kernel_manager(tmp_path)
        client = NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(DOCS)}})
        client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails
    return nb


def _outputs(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for out in cell.outputs:
                yield i, cell, out


def test_notebook_runs_every_cell_without_error(executed):
    errors = [(i, out.get("ename")) for i, _, out in _outputs(executed) if out.output_type == "error"]
    assert not errors
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)


def test_every_graph_renders_inline_as_svg(executed):
    drawing_cells = [i for i, c in enumerate(executed.cells)
                     if c.cell_type == "code" and c.source.strip().splitlines()[-1].startswith("draw(")]
    assert len(drawing_cells) >= 2
    graphs = [(i, out) for i, _, out in _outputs(executed)
              if out.output_type in ("execute_result", "display_data")
              and out.data.get("text/plain", "").startswith("<Drawing")]
    assert [i for i, _ in graphs] == drawing_cells
    for i, out in graphs:
        svg = out.data.get("image/svg+xml")
        assert svg, f"cell {i}: the graph has no image/svg+xml output, only {sorted(out.data)}"
        assert "<svg" in svg and "</svg>" in svg


def test_the_notebook_prints_the_derivations_numbers(executed):
    text = "\n".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                     for _, _, out in _outputs(executed))
    assert "engine: w_b.grad = -0.020888" in text  # (1.9), the README's first example
    assert "engine: w_a.grad = +0.003776" in text  # (1.10)
    assert "gradcheck ok" in text
    assert "Mazur 0.298371109" in text and "autograd_mini 0.35891648" in text
