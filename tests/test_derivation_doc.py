"""docs/backprop-derivation.md: its walk-through numbers are the library's, and it
says what the source derivation says where the issue asked (1.6, 1.7, labels).

The walk-through table is parsed, the chain of (1.9)/(1.10) rebuilt from its
input rows with `Value`, and every other row compared with the engine at the
precision the document prints.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_mini import Value, draw
from autograd_mini.engine import local_derivatives
from autograd_mini.nn.losses import squared_error
from autograd_mini.views.render import find_renderer

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC = DOCS / "backprop-derivation.md"
INPUTS = ("O_j-2", "w_j-2,j-1", "w_j-1,j", "t")


def _walkthrough() -> dict[str, str]:
    """quantity -> value text, from the `| quantity | formula | value | equation |` table."""
    text = DOC.read_text(encoding="utf-8")
    table = re.search(r"^\| quantity \| formula \| value \| equation \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", text, re.M)
    assert table, "docs/backprop-derivation.md must keep its walk-through table"
    rows = {}
    for line in table.group(1).splitlines():
        quantity, _formula, value, _eq = (cell.strip() for cell in line.strip("|").split("|"))
        rows[quantity] = value
    return rows


def _chain(rows: dict[str, str]) -> dict[str, Value]:
    """The chain O_j-2 -> j-1 -> j -> E built from the table's inputs, after backward,
    labelled as docs/make_figures.py labels it for docs/chain.svg."""
    x, w_a, w_b, t = (Value(float(rows[name]), label=name) for name in INPUTS)
    net_a = w_a * x
    o_a = net_a.sigmoid()
    net_b = w_b * o_a
    y = net_b.sigmoid()
    loss = squared_error(y, t)
    for node, label in ((net_a, "net_j-1"), (o_a, "O_j-1"), (net_b, "net_j"), (y, "O_j = y"), (loss, "E")):
        node.label = label
    loss.backward()
    return {"O_j-2": x, "w_j-2,j-1": w_a, "w_j-1,j": w_b, "t": t, "net_j-1": net_a, "O_j-1": o_a,
            "net_j": net_b, "O_j": y, "E": loss}


def _library_value(quantity: str, nodes: dict[str, Value]) -> float:
    """What the engine says the quantity is: data, dE/d(node) = node.grad, a local
    derivative d(result)/d(input) of the table's rule, or delta = dE/dnet."""
    if quantity.startswith("delta_"):
        return nodes["net_" + quantity.removeprefix("delta_")].grad
    if quantity.startswith("d") and "/d" in quantity:
        top, bottom = quantity[1:].split("/d")
        if top == "E":
            return nodes[bottom].grad
        result, wrt = nodes[top], nodes[bottom]
        return local_derivatives(result)[result.inputs.index(wrt)]
    return nodes[quantity].data


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


ROWS = _walkthrough()


def test_the_walkthrough_covers_every_factor_of_1_9_and_1_10():
    expected = {"dE/dO_j", "dO_j/dnet_j", "dnet_j/dw_j-1,j", "dE/dw_j-1,j", "dnet_j/dO_j-1", "dE/dO_j-1",
                "dO_j-1/dnet_j-1", "dnet_j-1/dw_j-2,j-1", "dE/dw_j-2,j-1", "delta_j", "delta_j-1", "E"}
    assert expected <= set(ROWS)


@pytest.mark.parametrize("quantity", [q for q in ROWS if q not in INPUTS])
def test_walkthrough_row_is_what_the_library_computes(quantity):
    printed = ROWS[quantity]
    actual = _library_value(quantity, _chain(ROWS))
    assert abs(actual - float(printed)) <= 0.5 * 10 ** -_decimals(printed) + 1e-15, (quantity, printed, actual)


def test_walkthrough_products_are_the_gradients_of_1_9_and_1_10():
    # The doc's products, multiplied out from its own printed factors, land on its printed gradients.
    f = {q: float(v) for q, v in ROWS.items()}
    assert f["dE/dw_j-1,j"] == pytest.approx(f["dE/dO_j"] * f["dO_j/dnet_j"] * f["dnet_j/dw_j-1,j"], rel=2e-5)
    assert f["dE/dO_j-1"] == pytest.approx(f["dE/dO_j"] * f["dO_j/dnet_j"] * f["dnet_j/dO_j-1"], rel=2e-5)
    assert f["dE/dw_j-2,j-1"] == pytest.approx(
        f["dE/dO_j-1"] * f["dO_j-1/dnet_j-1"] * f["dnet_j-1/dw_j-2,j-1"], rel=2e-5
    )


def _svg_texts(svg: str) -> list[str]:
    return sorted(t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))


def test_the_chain_figure_shows_the_walkthrough():
    svg = (DOCS / "chain.svg").read_text(encoding="utf-8")
    assert "](chain.svg)" in DOC.read_text(encoding="utf-8")
    texts = _svg_texts(svg)
    for text in ("w_j-2,j-1", "w_j-1,j", "net_j-1", "O_j-1", "data 0.35", "grad 0.003776", "grad -0.02089"):
        assert text in texts, text


@pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer on this machine")
def test_the_chain_figure_is_the_walkthroughs_chain_drawn_today():
    nodes = _chain(ROWS)
    fresh = draw(nodes["E"], show_derivatives=True, highlight=nodes["w_j-2,j-1"])
    committed = (DOCS / "chain.svg").read_text(encoding="utf-8")
    assert _svg_texts(committed) == _svg_texts(fresh.svg()), "rerun python docs/make_figures.py"


def test_the_doc_writes_1_6_and_1_7_as_the_derivation_does():
    text = DOC.read_text(encoding="utf-8")
    assert "d/dy 1/2 (t - y)^2" in text  # the step where the sign turns (1.6)
    assert "dE(O_j)/dO_j = dE(net_u, net_v, ..., net_w)/dO_j" in text  # (1.7)
    assert "E = sum_k 1/2 * (t_k - y_k)^2" in text  # the multi-output loss, an extension of (1.4)
    assert "`L{l}.N{j}.w{k}`" in text and "receiving" in text
    assert "delta_j = dE/dnet_j" in text and "Package: the delta notation" in text
