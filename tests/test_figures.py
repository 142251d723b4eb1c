"""The pictures read right (issue 11, item 18): the committed figures under docs/ and the demo's
network graph, checked through their rendered coordinates.

The layout checks render with graphviz-pure, whose output is the same on every platform.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import make_figures

from autograd_mini import Value, draw
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import squared_error
from autograd_mini.views.render import ENV_VAR, find_graphviz_pure

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
FIGURES = make_figures()  # the README neuron and the MLP loss, as docs/make_figures.py builds them
README_NEURON = (
    'x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.5, label="b")',
    "y = (x * w + b).tanh()",
)


@pytest.fixture
def pure(monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_graphviz_pure()
    if found is None:
        pytest.skip("graphviz-pure is not installed")
    monkeypatch.setenv(ENV_VAR, found)


def texts(svg: str) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text element."""
    return [(t.text or "", float(t.get("x", 0)), float(t.get("y", 0))) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def position(svg: str, text: str) -> tuple[float, float]:
    (found,) = [(x, y) for t, x, y in texts(svg) if t == text]
    return found


def cluster_box(svg: str, name: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the cluster `name`'s outline."""
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "cluster" and g.findtext(f"{SVG}title") == name:
            outline = g.find(f"{SVG}polygon")
            if outline is not None:
                points = [tuple(map(float, p.split(","))) for p in outline.get("points", "").split()]
            else:  # a rounded cluster is a path
                numbers = list(map(float, re.findall(r"-?\d+(?:\.\d+)?", g.find(f"{SVG}path").get("d", ""))))
                points = list(zip(numbers[::2], numbers[1::2]))
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            return min(xs), min(ys), max(xs), max(ys)
    raise AssertionError(f"no cluster {name}")


def test_expression_figure_is_the_neuron_of_the_readme_code_above_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code_before_figure = readme.split("(docs/expression.svg)")[0].rsplit("```python", 1)[1]
    assert all(line in code_before_figure for line in README_NEURON)
    committed = sorted(t for t, _, _ in texts((ROOT / "docs" / "expression.svg").read_text(encoding="utf-8")))
    for expected in ("x", "w", "b", "y", "data 2", "data -3", "data 6.5", "grad 1"):
        assert expected in committed
    assert not any(t in committed for t in ("x1", "w1", "x2", "w2"))


def test_expression_figure_matches_a_fresh_drawing(pure: None) -> None:
    fresh = sorted(t for t, _, _ in texts(draw(FIGURES.neuron_expression(), show_derivatives=True).svg()))
    committed = sorted(t for t, _, _ in texts((ROOT / "docs" / "expression.svg").read_text(encoding="utf-8")))
    assert fresh == committed


@pytest.mark.parametrize("source", ["committed", "LR", "TB"])
def test_collapsed_mlp_keeps_neuron_order_and_room_between_layers(source: str, pure: None) -> None:
    if source == "committed":
        svg, rankdir = (ROOT / "docs" / "mlp.svg").read_text(encoding="utf-8"), "LR"
    else:
        svg, rankdir = draw(FIGURES.mlp_loss(), collapse_neurons=True, rankdir=source).svg(), source
    across = 1 if rankdir == "LR" else 0  # LR: N0..N3 top to bottom (y grows); TB: left to right (x grows)
    for layer in (1, 2):
        places = [position(svg, f"L{layer}.N{j}")[across] for j in range(4)]
        assert places == sorted(places), f"layer {layer} neurons out of order: {places}"
    if rankdir == "LR":
        gap = cluster_box(svg, "cluster_L2")[0] - cluster_box(svg, "cluster_L1")[2]
        assert gap >= 60, f"only {gap:.0f} pt between layer 1 and layer 2 for 16 edges"


def test_labels_of_inputs_into_a_neuron_stay_on_their_edges(pure: None) -> None:
    """The demo's network: x0 and x1 each feed both hidden neurons, with their factor on the edge.

    Those labels used to sit where the edges bend into the neuron boxes, four in a column a few
    points from the dot nodes; now each sits on the open stretch of its own edge.
    """
    model = MLP(2, [2, 1], bias=False, seed=2)
    x = [Value(0.35, label="x0"), Value(0.9, label="x1")]
    loss = squared_error(model(x), Value(0.5, label="t"))
    loss.backward()
    drawing = draw(loss, group_neurons=True, show_derivatives=True, highlight=model.layers[0].neurons[0].w[0])
    svg = ET.fromstring(drawing.svg())
    inputs = {g.findtext(f"{SVG}title"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}
    names = {t.text: title for title, g in inputs.items() for t in g.iter(f"{SVG}text")}
    checked = 0
    for g in svg.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title") or ""
        if g.get("class") != "edge" or title.split("->")[0] not in (names["x0"], names["x1"]):
            continue
        label = g.find(f"{SVG}text")
        assert label is not None
        head = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", g.find(f"{SVG}path").get("d", ""))][-2]
        assert head - float(label.get("x", 0)) > 100, f"label {label.text} of {title} sits at the bend"
        checked += 1
    assert checked == 4
