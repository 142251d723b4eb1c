"""The neuron view, the gradient colours, the typeset formulas and the fits, in headless Chromium.

Uses test_explore_browser's fixtures (Debian's chromium-headless-shell through
Playwright, no network, no console errors). Screenshots go to the test's
temporary folder, or to AUTOGRAD_MINI_SCREENSHOTS when set.
"""

import math
import re
import sys
from pathlib import Path

import pytest
import test_explore_browser as shared
from test_neuron_view import lecture_loss, lecture_neuron  # the lecture's graphs, built once

from autograd_mini import Value, explain, explore, sum_of
from autograd_mini.graph import forward_order
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import squared_error

open_page = shared.open_page



def demo_network():
    from autograd_mini.cli.demo import NETWORK_T, NETWORK_X

    model = MLP(2, [2, 1], bias=False, seed=2)
    x = [Value(v, label=f"x{i}") for i, v in enumerate(NETWORK_X)]
    loss = squared_error(model(x), Value(NETWORK_T, label="t"))
    loss.label = "E"
    return loss


def mazur_network():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import mazur

    model = mazur.build()
    ys = model.outputs([Value(v, label=f"i{k + 1}") for k, v in enumerate(mazur.INPUTS)])
    loss = sum_of([squared_error(y, t) for y, t in zip(ys, mazur.TARGETS)])
    loss.label = "E"
    return loss


def visible_neurons(page):
    return page.page.eval_on_selector_all("#neuron-view g.nv.neuron", """gs => gs
        .filter(g => g.getBoundingClientRect().width > 0)
        .map(g => ({neuron: g.getAttribute('data-neuron'), example: g.getAttribute('data-example'),
                    net: g.getAttribute('data-net'), out: g.getAttribute('data-out'),
                    dout: g.getAttribute('data-dout'), delta: g.getAttribute('data-delta'),
                    cls: g.getAttribute('class'), text: g.textContent}))""")


def test_the_lecture_loss_has_one_box_per_neuron_per_example_with_the_values_numbers(open_page):
    loss, model, outs = lecture_loss()
    page = open_page(explore(loss, max_nodes=400))
    assert page.page.get_attribute("body", "data-view") == "neurons"
    assert page.page.locator("#neuron-view g.nv.neuron[data-neuron][data-example]").count() == 9 * 4
    page.shot("lecture-start")
    loss.backward()
    for e in range(4):
        page.page.select_option("#example", str(e))
        assert page.page.get_attribute("#neuron-view", "data-example") == str(e)
        page.page.keyboard.press("End")
        shown = visible_neurons(page)
        assert len(shown) == 9 and {s["example"] for s in shown} == {str(e)}
        values = {v.label: v for v in forward_order(outs[e]) if v.label}
        for s in shown:
            assert s["net"] == repr(values[s["neuron"] + ".net"].data)
            assert s["out"] == repr(values[s["neuron"] + ".out"].data)
            assert s["dout"] == repr(values[s["neuron"] + ".out"].grad)
            assert s["delta"] == repr(values[s["neuron"] + ".net"].grad)
            assert f"{values[s['neuron'] + '.out'].data:.4g}" in s["text"]
        if e == 2:
            page.page.keyboard.press("Home")
            page.page.keyboard.press("b")
            page.page.keyboard.press("ArrowRight")
            page.page.keyboard.press("ArrowRight")
            page.shot("lecture-mid-backward")
            page.page.keyboard.press("End")
            page.shot("lecture-end")
    # the op-level state follows: at the neuron view's end every data-grad is the engine's
    assert page.step() == page.steps()
    grads = dict(page.grads())
    assert all(grads[p.label] == repr(p.grad) for p in model.parameters())


def test_steps_reveal_forward_then_delta_and_jump_and_speed(open_page):
    loss, *_ = lecture_loss()
    page = open_page(explore(loss, max_nodes=400))
    page.page.click("#next")
    first = visible_neurons(page)
    computed = [s for s in first if s["out"]]
    assert [s["neuron"] for s in computed] == ["L1.N0"] and all(not s["delta"] for s in first)
    assert page.page.get_attribute("#neuron-view g.nv.neuron[data-neuron='L1.N0'][data-example='0']",
                                   "class").count("current") == 1
    page.page.click("#backward")
    page.page.click("#next")
    after = {s["neuron"]: s for s in visible_neurons(page)}
    assert after["L3.N0"]["delta"] and not after["L2.N0"]["delta"]  # the output's delta first (1.6), (1.3)
    options = page.page.eval_on_selector_all("#jump option", "os => os.map(o => [o.textContent, o.value])")
    target = next(v for t, v in options if "L2.N1 (backward)" in t)
    page.page.select_option("#jump", target)
    assert page.page.get_attribute("#neuron-view", "data-step") == target
    speeds = page.page.eval_on_selector_all("#speed option", "os => os.map(o => 1000 / Number(o.value))")
    assert max(speeds) > 1 and sum(1 for s in speeds if s > 1) >= 3


def test_colours_follow_the_sign_of_the_gradient(open_page):
    loss, *_ = lecture_loss()
    page = open_page(explore(loss, max_nodes=400))
    page.page.keyboard.press("End")
    shown = visible_neurons(page)
    for s in shown:
        delta = float(s["delta"])
        want = "gzero" if delta == 0 else "gpos" if delta > 0 else "gneg"
        assert want in s["cls"], s
    fills = page.page.eval_on_selector_all("#neuron-view g.nv.neuron", """gs => gs
        .filter(g => g.getBoundingClientRect().width > 0)
        .map(g => [Number(g.getAttribute('data-delta')) > 0, getComputedStyle(g.querySelector('rect')).fill])""")
    assert {f for pos, f in fills if pos}.isdisjoint({f for pos, f in fills if not pos})
    # edges: the weight's sign in the forward pass, dE/dw's in the backward pass; they differ somewhere
    edge_classes = "(gs) => gs.filter(g => g.getBoundingClientRect().width > 0).map(g => g.getAttribute('class'))"
    backward = page.page.eval_on_selector_all("#neuron-view g.nv-edge", edge_classes)
    page.page.keyboard.press("Home")
    forward = page.page.eval_on_selector_all("#neuron-view g.nv-edge", edge_classes)
    assert any(("pos" in a) != ("pos" in b) for a, b in zip(forward, backward))
    # the op-level view: boxes by gradient sign too
    page.page.click("#view-ops")
    page.page.keyboard.press("End")
    boxes = page.page.eval_on_selector_all("g.node.value", """gs => gs.map(g => [g.getAttribute('data-grad'),
        g.getAttribute('class'), getComputedStyle(g.querySelector('polygon')).fill])""")
    signed = [(float(g), c, f) for g, c, f in boxes if g and float(g) != 0]
    assert all(("gpos" in c) == (g > 0) and ("gneg" in c) == (g < 0) for g, c, f in signed)
    assert {f for g, c, f in signed if g > 0}.isdisjoint({f for g, c, f in signed if g < 0})


def test_a_click_on_a_neuron_opens_its_op_level_nodes(open_page):
    loss, *_ = lecture_loss()
    page = open_page(explore(loss, max_nodes=400))
    page.page.select_option("#example", "1")
    page.page.keyboard.press("End")
    page.page.click("#neuron-view g.nv.neuron[data-neuron='L2.N3'][data-example='1']")
    assert page.page.get_attribute("body", "data-view") == "ops"
    details = page.page.inner_text("#details")
    assert "L2.N3.out[example 1]" in details.splitlines()[0]
    node = page.page.locator('g.node.value[data-label="L2.N3.out"][data-example="1"]')
    box, area = node.bounding_box(), page.page.locator("#graph").bounding_box()
    assert area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area["width"]
    assert area["y"] <= box["y"] and box["y"] + box["height"] <= area["y"] + area["height"]
    assert box["width"] < area["width"] / 2  # the box's cells measured where they are drawn
    page.shot("lecture-expanded")
    page.page.click("#view-neurons")
    assert page.page.get_attribute("body", "data-view") == "neurons"


def math_sizes(page, selector):
    return page.page.eval_on_selector_all(selector, """ms => ms.map(m => {
        const r = m.getBoundingClientRect(); return [m.namespaceURI, r.width, r.height]; })""")


def test_formulas_are_mathml_with_their_equation_numbers(open_page):
    loss, *_ = lecture_loss()
    page = open_page(explore(loss, max_nodes=400))
    start = math_sizes(page, "#step-text math")  # the start sums up (1.1)-(1.8)
    assert len(start) == 5 and all(w > 20 and h > 8 for _, w, h in start)
    page.page.click("#backward")
    page.page.click("#next")
    sizes = math_sizes(page, "#step-text math")
    assert len(sizes) >= 3
    assert all(ns == "http://www.w3.org/1998/Math/MathML" and w > 20 and h > 8 for ns, w, h in sizes)
    eqs = page.page.eval_on_selector_all("#step-text .eq", "es => es.map(e => e.textContent)")
    assert any("(1.6)" in e for e in eqs) and "(1.3)" in eqs and "(1.5)" in eqs
    assert page.page.locator("#step-text math mfrac").count() >= 2  # dE/dO_j as a fraction
    # the op view's backward steps and the explain paths in the details panel
    page.page.click("#view-ops")
    page.page.keyboard.press("Home")
    assert len(math_sizes(page, "#step-text math")) == 3  # the op view's start: (1.5), (1.8)
    page.page.keyboard.press("b")
    page.page.keyboard.press("ArrowRight")
    assert all(w > 0 and h > 0 for _, w, h in math_sizes(page, "#step-text math"))
    assert math_sizes(page, "#step-text math")
    page.page.locator('g.node.value[data-label="L1.N0.w0"]').dispatch_event("click")
    sizes = math_sizes(page, "#details .typeset math")
    assert sizes and all(w > 0 and h > 0 for _, w, h in sizes)


def test_the_delta_row_is_typeset_with_its_equation_numbers(open_page):
    model = MLP(2, [2, 1], seed=4)
    x, t = [0.05, 0.10], 0.01
    loss = squared_error(model(x), t)
    page = open_page(explore(loss, model=model, x=x, t=t, view="ops"))
    page.page.keyboard.press("End")
    page.page.locator('g.node.value[data-label="L1.N0.out"]').dispatch_event("click")
    sizes = math_sizes(page, "#details .typeset.delta math")
    assert len(sizes) == 4 + 2 + 1 and all(w > 0 and h > 0 for _, w, h in sizes)  # net, O, dE/dO, delta; w; b
    eqs = page.page.eval_on_selector_all("#details .typeset.delta .eq", "es => es.map(e => e.textContent)")
    assert eqs[:4] == ["(1.1)", "(1.2)", "(1.7), (1.8)", "(1.3)"] and eqs[4] == "(1.5)"
    texts = page.page.eval_on_selector_all("#details .typeset.delta math", "ms => ms.map(m => m.textContent)")
    from autograd_mini.nn.delta import delta_table

    row = delta_table(model, x, t).row("L1.N0")
    assert texts[3].endswith(f"{row.delta:.6g}") and texts[0].endswith(f"{row.net:.6g}")


def test_latex_of_the_lecture_neuron():
    o, _ = lecture_neuron()
    w1 = next(v for v in forward_order(o) if v.label == "w1")
    text = explain(o, w1).latex()
    assert text.count("{") == text.count("}") and r"\frac{\partial o}{\partial n}" in text


def inside(page, graph_selector, node_selector):
    """[(node, rect)] of the nodes not wholly inside the graph area (and not under the side panel)."""
    return page.page.evaluate("""([graphSel, nodeSel]) => {
        const a = document.querySelector(graphSel).getBoundingClientRect();
        const aside = document.querySelector('aside').getBoundingClientRect();
        const open = getComputedStyle(document.querySelector('aside')).display !== 'none';
        const out = [];
        document.querySelectorAll(nodeSel).forEach(g => {
            const r = g.getBoundingClientRect();
            if (r.width === 0) { return; }
            const ok = r.left >= a.left - 0.5 && r.right <= a.right + 0.5 && r.top >= a.top - 0.5
                && r.bottom <= a.bottom + 0.5;
            const covered = open && r.right > aside.left && r.left < aside.right && r.bottom > aside.top
                && r.top < aside.bottom;
            if (!ok || covered) { out.push([g.getAttribute('data-node') || g.getAttribute('data-key'),
                                            [r.left, r.top, r.right, r.bottom], [a.left, a.top, a.right, a.bottom]]); }
        });
        return out; }""", [graph_selector, node_selector])


def smallest_text_px(page, svg_selector, font_units):
    """The on-screen size of text drawn at `font_units` in the SVG: font size x the screen scale."""
    return font_units * page.page.evaluate(f"document.querySelector('{svg_selector}').getScreenCTM().a")


@pytest.mark.parametrize("size", [(960, 640), (1400, 900)])
def test_the_lecture_neuron_is_whole_and_readable_at_start_and_end(open_page, size):
    page = open_page(explore(lecture_neuron()[0]), *size)
    for when in ("start", "end"):
        if when == "end":
            page.page.keyboard.press("End")
        assert inside(page, "#graph", "g.node") == []
        assert smallest_text_px(page, "#graph svg", 11) >= 11  # node text is 11 units (dotgraph.FONT_SIZE)
        page.shot(f"lecture-neuron-{size[0]}-{when}")
    page.page.click("#panel")
    assert not page.page.locator("aside").is_visible() or size[0] < 1100
    page.page.click("#panel")


@pytest.mark.parametrize("size", [(960, 640), (1400, 900)])
def test_the_demo_network_is_whole_and_readable_in_both_views(open_page, size):
    page = open_page(explore(demo_network()), *size)
    assert page.page.get_attribute("body", "data-view") == "neurons"
    for when in ("start", "end"):
        if when == "end":
            page.page.keyboard.press("End")
        assert inside(page, "#neuron-view", "#neuron-view g.nv") == []
        assert smallest_text_px(page, "#neuron-view svg", 12) >= 11  # the smallest neuron-view text is 12 units
    # its op-level view, opened with the view switch and on its own: 16 Values, 7 ops, whole at 11 px
    # (each op in line above its box: a rank fewer per op)
    page.page.keyboard.press("Home")
    page.page.click("#view-ops")
    ops = open_page(explore(demo_network(), view="ops"), *size)
    for p in (page, ops):
        assert p.page.get_attribute("body", "data-view") == "ops"
        for when in ("start", "end"):
            if when == "end":
                p.page.keyboard.press("End")
                assert p.step() == p.steps()
            assert p.page.locator("#graph g.node").count() == 16 + 7  # Values and ops
            assert inside(p, "#graph", "g.node") == []
            assert smallest_text_px(p, "#graph svg", 11) >= 11  # node text is 11 units (dotgraph.FONT_SIZE)
            p.shot(f"demo-ops-{size[0]}-{when}")


def test_mazur_and_demo_screenshots(open_page):
    for name, loss in (("demo", demo_network()), ("mazur", mazur_network())):
        page = open_page(explore(loss))
        page.shot(f"{name}-start")
        page.page.click("#backward")
        page.page.click("#next")
        page.page.click("#next")
        page.shot(f"{name}-mid-backward")
        nodes = {s["neuron"]: s for s in visible_neurons(page)}
        assert all(s["out"] for s in nodes.values())
        page.page.keyboard.press("End")
        page.shot(f"{name}-end")
        assert all(s["delta"] and math.isfinite(float(s["delta"])) for s in visible_neurons(page))


def view_box(page, svg_selector):
    return [float(v) for v in page.page.get_attribute(svg_selector, "viewBox").split()]


def test_the_neuron_view_zooms_and_pans_without_changing_the_state(open_page):
    model = MLP(4, [12, 12, 1], seed=3)
    loss = squared_error(model([0.1, 0.2, 0.3, 0.4]), 0.5)
    page = open_page(explore(loss))
    box = lambda: view_box(page, "#neuron-view svg")  # noqa: E731
    page.page.click("#fit")
    whole = box()
    for _ in range(3):
        page.page.click("#zoom-in")
    zoomed = box()
    assert zoomed[2] < whole[2] * 0.6 and page.page.get_attribute("#neuron-view", "data-step") == "0"
    # stepping to a box out of sight pans to it, keeping the zoom
    page.page.select_option("#jump", next(v for t, v in page.page.eval_on_selector_all(
        "#jump option", "os => os.map(o => [o.textContent, o.value])") if "L1.N11 (forward)" in t))
    moved = box()
    assert math.isclose(moved[2], zoomed[2]) and moved[:2] != zoomed[:2]
    current = page.page.locator("#neuron-view g.nv.neuron.current").bounding_box()
    area = page.page.locator("#neuron-view").bounding_box()
    assert area["y"] <= current["y"] and current["y"] + current["height"] <= area["y"] + area["height"]
    assert smallest_text_px(page, "#neuron-view svg", 12) >= 11  # zoomed in, a 12-neuron layer's numbers are readable
    page.page.click("#fit")
    assert box() == whole
    page.page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    page.page.mouse.wheel(0, 300)  # wheel down: zoom out around the pointer
    assert box()[2] > whole[2]


def moons_network():
    """The demo's training network, MLP(2, [16, 16, 1]), on one example of the moons: 33 neurons."""
    from autograd_mini.nn.datasets import make_moons

    X, y = make_moons(4, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    return squared_error(model([Value(v, label=f"x{i}") for i, v in enumerate(X[0])]), float(y[0]))


@pytest.mark.parametrize("size", [(960, 640), (1400, 900)])
def test_a_wide_network_opens_readable_on_its_inputs_and_fit_all_shows_it_whole(open_page, size):
    explorer = explore(moons_network(), max_nodes=600)
    page = open_page(explorer, *size)
    assert page.page.get_attribute("body", "data-view") == "neurons"
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', explorer.neurons.svg).groups())
    area = page.page.locator("#neuron-view").bounding_box()
    assert min(area["width"] / width, area["height"] / height) * 12 < 11  # whole, its smallest text is under 11 px
    assert smallest_text_px(page, "#neuron-view svg", 12) == pytest.approx(11)  # so it opens at 11 px
    assert inside(page, "#neuron-view", '#neuron-view g.nv.input') == []  # on the example's inputs
    assert inside(page, "#neuron-view", "#neuron-view g.nv") != []  # not all of it
    page.shot(f"wide-start-{size[0]}")
    assert page.page.locator("#fit").is_visible() and page.page.text_content("#fit") == "Fit all"
    page.page.click("#fit")
    assert inside(page, "#neuron-view", "#neuron-view g.nv") == []  # every box in sight
    assert page.page.locator("#neuron-view g.nv.neuron").count() == 33
    page.page.keyboard.press("Home")  # the start again: back at the readable scale
    assert smallest_text_px(page, "#neuron-view svg", 12) == pytest.approx(11)
    page.page.keyboard.press("ArrowRight")  # each step pans its neuron into sight, at that scale
    assert inside(page, "#neuron-view", "#neuron-view g.nv.neuron.current") == []
    page.page.keyboard.press("End")
    assert smallest_text_px(page, "#neuron-view svg", 12) == pytest.approx(11)
    # its op view (over a thousand nodes) the same way: 11 px on the first node computed, f fits it all
    page.page.click("#view-ops")
    page.page.keyboard.press("Home")
    assert smallest_text_px(page, "#graph svg", 11) == pytest.approx(11)
    first = page.page.eval_on_selector("body", "b => b.getAttribute('data-step')")
    assert first == "0" and inside(page, "#graph", "g.node") != []  # not all of it
    page.page.keyboard.press("ArrowRight")
    assert inside(page, "#graph", "g.node.value.current") == []
    page.page.keyboard.press("f")
    assert page.page.evaluate(  # the whole drawing in sight (its nodes are under 3 px at this scale: 1 px slack)
        "() => { const a = document.querySelector('#graph').getBoundingClientRect();"
        " const b = document.querySelector('#graph svg > g').getBoundingClientRect();"
        " return b.left >= a.left - 1 && b.right <= a.right + 1 && b.top >= a.top - 1 && b.bottom <= a.bottom + 1; }")


def test_the_page_restores_its_shared_data(open_page):
    loss, *_ = lecture_loss()
    explorer = explore(loss, max_nodes=400)
    page = open_page(explorer)
    page.page.click("#view-ops")
    for name in ("L1.N0.w0", "L2.N3.out[example 1]"):
        node = next(k for k, n in explorer.data.nodes.items() if n["name"] == name)
        page.page.locator(f'g.node.value[data-node="{node}"]').dispatch_event("click")
        lines = page.page.eval_on_selector_all("#details pre.explain .line", "ls => ls.map(l => l.textContent)")
        assert "\n".join(lines) == explorer.data.nodes[node]["explain"]  # its lines were stored once for all
        assert page.page.locator("#details .typeset:not(.delta) .line").count() == len(
            explorer.data.nodes[node]["explainMath"])
