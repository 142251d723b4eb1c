"""The explorer page driven in a real browser: headless Chromium through Playwright.

Playwright's own browsers are never downloaded: the tests launch Debian's
`chromium-headless-shell` (or the program named by AUTOGRAD_MINI_CHROMIUM)
through `executable_path`, and skip with the reason when there is none.
Every test fails on a console error, an uncaught exception, or any request
that is not file:, data: or about:. Screenshots go to the test's temporary
folder, or to AUTOGRAD_MINI_SCREENSHOTS when set.
"""

import os
from pathlib import Path

import pytest
from conftest import find_chromium

from autograd_mini import Value, explore
from autograd_mini.graph import forward_order
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import squared_error

ALLOWED_SCHEMES = ("file:", "data:", "about:")


class Page:
    """A loaded explorer page plus what it tried: requests, console errors."""

    def __init__(self, page, shots):
        self.page = page
        self.shots = shots
        self.requests = []
        self.errors = []

    def step(self):
        return int(self.page.get_attribute("body", "data-step"))

    def steps(self):
        return int(self.page.get_attribute("body", "data-steps"))

    def grads(self):
        """{data-label: data-grad} for every Value in the graph."""
        return self.page.eval_on_selector_all(
            "g.node.value", "gs => gs.map(g => [g.getAttribute('data-label'), g.getAttribute('data-grad')])")

    def shot(self, name):
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def open_page(browser, tmp_path):
    shots = Path(os.environ.get("AUTOGRAD_MINI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    opened = []

    def load(explorer, width=1400, height=800):
        path = explorer.save(tmp_path / "page.html")
        context = browser.new_context(viewport={"width": width, "height": height})
        page = Page(context.new_page(), shots)
        page.page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.page.on("pageerror", lambda e: page.errors.append(str(e)))

        def route(r):
            url = r.request.url
            page.requests.append(url)
            if url.startswith(ALLOWED_SCHEMES):
                r.continue_()
            else:
                r.abort()

        page.page.route("**/*", route)
        page.page.goto(path.as_uri())
        opened.append((context, page))
        return page

    yield load
    for context, page in opened:
        context.close()
        assert any(u.startswith("file:") for u in page.requests), "the request recorder saw not even the page"
        outside = [u for u in page.requests if not u.startswith(ALLOWED_SCHEMES)]
        assert outside == [], f"the page made requests outside file:, data:, about: {outside}"
        assert page.errors == [], f"console errors: {page.errors}"


def neuron():
    x1, x2 = Value(0.05, label="x1"), Value(0.10, label="x2")
    w1, w2, b = Value(0.15, label="w1"), Value(0.20, label="w2"), Value(0.35, label="b")
    out = (w1 * x1 + w2 * x2 + b).sigmoid()
    out.label = "O"
    loss = squared_error(out, 0.01)
    loss.label = "E"
    return loss


def mlp(nouts=(6, 6, 1), x=(0.5, -0.3, 0.8), t=0.25):
    model = MLP(len(x), list(nouts), seed=3)
    return squared_error(model(list(x)), t), model, list(x), t


def with_model(model, x, t):
    """explore's model arguments, once delta_table (contract 3, helper views) is there."""
    import autograd_mini.nn.delta

    return {"model": model, "x": x, "t": t} if hasattr(autograd_mini.nn.delta, "delta_table") else {}


def engine_grads(root, labels):
    root.backward()
    return {label: repr(v.grad) for label, v in labels.items()}


def labelled(root):
    from autograd_mini.graph import reverse_topological_order

    return {v.label: v for v in reverse_topological_order(root) if v.label}


def test_step_through_a_neuron_with_the_keyboard(open_page):
    loss = neuron()
    page = open_page(explore(loss))
    n = page.steps()
    assert page.step() == 0
    grads = dict(page.grads())
    assert grads["w1"] == "" and grads["x1"] == "" and grads["b"] == ""  # no leaf shows a gradient yet
    assert all(g == "" for g in grads.values())
    page.shot("neuron-start")
    history = [page.grads()]
    for k in range(1, n + 1):
        page.page.keyboard.press("ArrowRight")
        assert page.step() == k
        history.append(page.grads())
    page.page.keyboard.press("ArrowRight")  # past the end: stays
    assert page.step() == n
    shown = dict(page.grads())
    expected = engine_grads(loss, labelled(loss))
    for label, grad in expected.items():
        assert shown[label] == grad, label
    constants = constant_labels(page)
    assert len(constants) == 1  # the target 0.01, lifted into squared_error: requires_grad=False
    assert all((g == "") == (label in constants) for label, g in shown.items())  # the rest all have one
    page.shot("neuron-end")
    for k in range(n - 1, n - 4, -1):  # ArrowLeft undoes a step
        page.page.keyboard.press("ArrowLeft")
        assert page.step() == k and page.grads() == history[k]
    page.page.keyboard.press("Home")
    assert page.step() == 0 and page.grads() == history[0]
    page.page.keyboard.press("End")
    assert page.step() == n and page.grads() == history[n]
    page.page.keyboard.press("b")
    assert page.page.get_attribute("body", "data-phase") == "forward"
    page.page.keyboard.press("ArrowRight")
    assert page.page.get_attribute("body", "data-phase") == "backward"
    assert dict(page.grads())["E"] == "1.0"  # the seed, first thing the backward pass shows


def test_step_through_an_mlp_with_the_buttons(open_page):
    loss, model, x, t = mlp()
    page = open_page(explore(loss, view="ops", **with_model(model, x, t)))
    n = page.steps()
    cells = page.page.eval_on_selector_all("g.node", "gs => gs.length")
    assert cells >= 100  # a graph of the size the page must stay usable at
    page.shot("mlp-start")
    forward_steps = int(page.page.get_attribute("body", "data-backward"))
    for k in range(1, n + 1):
        page.page.click("#next")
        assert page.step() == k
        if k == forward_steps // 2:
            page.shot("mlp-mid-forward")
            values = page.page.eval_on_selector_all("g.node.value.pending", "gs => gs.length")
            assert values > 0  # half the forward pass: some nodes have no value yet
        if k == forward_steps + (n - forward_steps) // 2:
            page.shot("mlp-mid-backward")
    assert page.page.is_disabled("#next")
    expected = engine_grads(loss, {p.label: p for p in model.parameters()})
    shown = dict(page.grads())
    for label, grad in expected.items():
        assert shown[label] == grad, label
    page.shot("mlp-end")
    before = page.grads()
    page.page.click("#prev")  # the final step only fills in gradients no path reaches: none here
    page.page.click("#prev")  # undoes the last rule: its inputs lose their gradients again
    assert page.step() == n - 2
    undone = [label for (label, g), (_, g_end) in zip(page.grads(), before) if g != g_end]
    weights = [label for label in undone if label.startswith("L")]  # one consumer each: empty again
    assert weights and all(g == "" for label, g in page.grads() if label in weights)
    page.page.click("#next")
    page.page.click("#next")
    assert page.grads() == before
    page.page.click("#backward")
    assert page.step() == forward_steps
    assert all(g == "" for _, g in page.grads())  # the backward pass has not started
    page.page.click("#reset")
    assert page.step() == 0 and page.page.is_disabled("#prev")


def constant_labels(page):
    """The labels of the boxes the page shows as constants, checked to read so."""
    boxes = page.page.eval_on_selector_all(
        "g.node.value.constant", "gs => gs.map(g => [g.getAttribute('data-label'), g.textContent])")
    assert all("const: no grad" in text and "grad ?" not in text for _, text in boxes)
    return {label for label, _ in boxes}


def inside(page, selector):
    """Whether the element's box on screen lies inside the graph's area."""
    return page.page.evaluate(
        """s => { const a = document.querySelector('#graph').getBoundingClientRect();
                  const r = document.querySelector(s).getBoundingClientRect();
                  return r.left >= a.left - 0.5 && r.right <= a.right + 0.5 && r.top >= a.top - 0.5
                         && r.bottom <= a.bottom + 0.5; }""", selector)


def scale(page):
    """Screen pixels per SVG point now."""
    return page.page.evaluate("() => document.querySelector('#graph svg').getScreenCTM().a")


def test_a_small_graph_is_shown_whole_at_the_start_and_the_end(open_page):
    loss = neuron()
    page = open_page(explore(loss))
    every_node = "g.node.value, g.node.op"
    count = page.page.eval_on_selector_all(every_node, "gs => gs.length")
    root = 'g.node.value[data-label="E"]'
    for key in ["Home", "ArrowRight", "ArrowRight", "End", "Home", "End"]:
        page.page.keyboard.press(key)
        if page.step() in (0, page.steps()):
            assert inside(page, root) and inside(page, 'g.node.value[data-label="x1"]'), (key, page.step())
            boxes = page.page.eval_on_selector_all(every_node, "gs => gs.map(g => g.getBoundingClientRect())")
            area = page.page.eval_on_selector("#graph", "g => g.getBoundingClientRect()")
            assert len(boxes) == count and all(
                b["x"] >= area["x"] - 0.5 and b["x"] + b["width"] <= area["x"] + area["width"] + 0.5
                and b["y"] >= area["y"] - 0.5 and b["y"] + b["height"] <= area["y"] + area["height"] + 0.5
                for b in boxes), key
            assert scale(page) >= 0.8  # the labels (11pt) at 9px or more: readable
    page.shot("small-graph-end")
    page.page.click("#zoom-in")
    page.page.click("#zoom-in")
    assert not inside(page, root) or not inside(page, 'g.node.value[data-label="x1"]')  # zoomed in: cut
    page.page.click("#fit")
    assert inside(page, root) and inside(page, 'g.node.value[data-label="x1"]')


def test_a_big_graph_follows_each_step_at_a_readable_scale(open_page):
    loss, *_ = mlp()
    page = open_page(explore(loss, view="ops"))
    assert scale(page) == pytest.approx(1.0)  # does not fit whole: the readable scale, not the fit
    for k in range(1, page.steps()):
        page.page.keyboard.press("ArrowRight")
        node = page.page.eval_on_selector("g.node.value.current", "g => g.getAttribute('data-node')")
        assert inside(page, f'g.node.value[data-node="{node}"]'), k  # each step's node is in sight
    page.page.click("#fit")
    whole = page.page.evaluate(
        "() => { const a = document.querySelector('#graph').getBoundingClientRect();"
        " const b = document.querySelector('#graph svg > g').getBoundingClientRect();"
        " return b.left >= a.left - 1 && b.right <= a.right + 1 && b.top >= a.top - 1 && b.bottom <= a.bottom + 1; }")
    assert whole  # Fit always shows the whole graph


def test_play_runs_to_the_end_and_pauses(open_page):
    page = open_page(explore(neuron()))
    page.page.select_option("#speed", "50")
    page.page.click("#play")
    assert page.page.text_content("#play") == "Pause"
    # Polled from Python: the page's CSP forbids the string evaluation wait_for_function uses.
    for _ in range(400):
        if page.step() == page.steps() and page.page.text_content("#play") == "Play":
            break
        page.page.wait_for_timeout(50)
    assert page.step() == page.steps() and page.page.text_content("#play") == "Play"


def test_clicking_a_node_fills_details_with_its_paths_and_delta_row(open_page):
    import autograd_mini.nn.delta

    loss, model, x, t = mlp(nouts=(2, 1), x=(0.05, 0.10), t=0.01)
    page = open_page(explore(loss, view="ops", **with_model(model, x, t)))
    assert "Click a node" in page.page.text_content("#details")
    page.page.keyboard.press("End")
    page.page.click("#fit")
    page.page.click('g.node.value[data-label="L1.N0.w0"]')
    details = page.page.text_content("#details")
    assert "L1.N0.w0" in details and "path 1" in details and "chain rule" in details
    assert "d #1/d L1.N0.w0 = " in details  # the explain report, in the page's names
    if hasattr(autograd_mini.nn.delta, "delta_table"):
        assert "(1.3)" in details and "hidden layer 1" in details and "delta_j" in details
    # Every character of the long path lines and the delta row is in sight: they wrap, none is clipped.
    blocks = page.page.eval_on_selector_all(
        "#details pre, #details dd", "els => els.map(e => [e.className, e.scrollWidth, e.clientWidth])")
    assert any(name == "explain" for name, _, _ in blocks) and any(name == "delta" for name, _, _ in blocks)
    assert all(scroll <= client for _, scroll, client in blocks), blocks
    lines = page.page.eval_on_selector_all("#details pre.explain .line", "ls => ls.map(l => l.textContent)")
    assert max(len(line) for line in lines) > 70  # lines longer than the panel is wide: they need wrapping
    page.shot("details-open")
    page.page.click('g.node.value.constant >> nth=0')  # an input x_i: a constant
    assert "constant" in page.page.text_content("#details h2")
    assert "none: a constant (requires_grad=False) gets no gradient" in page.page.text_content("#details dl")
    page.page.click('g.node.value[data-label="L2.N0.out"]')
    assert "L2.N0.out" in page.page.text_content("#details h2")


def test_zoom_and_pan_change_the_view_not_the_state(open_page):
    import re

    loss, *_ = mlp()
    explorer = explore(loss, view="ops")
    whole = [float(v) for v in re.search(r'viewBox="([^"]*)"', explorer.svg)[1].split()]
    page = open_page(explorer)
    numbers = lambda: [float(v) for v in page.page.get_attribute("#graph svg", "viewBox").split()]  # noqa: E731
    start = numbers()
    assert start[2] < whole[2]  # a big graph starts at a readable scale, not fitted
    page.page.click("#zoom-in")
    zoomed = numbers()
    assert zoomed[2] < start[2] and zoomed[3] < start[3]
    page.page.mouse.move(400, 400)
    page.page.mouse.down()
    page.page.mouse.move(300, 350, steps=5)
    page.page.mouse.up()
    panned = numbers()
    assert panned[2:] == zoomed[2:] and panned[0] > zoomed[0] and panned[1] > zoomed[1]
    page.page.mouse.wheel(0, 300)
    assert numbers()[2] > panned[2]
    page.page.click("#fit")
    assert numbers() == whole
    assert page.step() == 0
    page.page.keyboard.press("End")
    page.shot("mlp-fitted-end")


def test_a_300_node_mlp_page_steps_to_the_engines_gradients(open_page):
    loss, model, x, t = mlp(nouts=(12, 12, 1), x=(0.1, 0.2, 0.3, 0.4), t=0.5)
    explorer = explore(loss, **with_model(model, x, t))
    assert len(explorer.data.nodes) >= 300
    page = open_page(explorer)
    page.shot("mlp300-start")
    page.page.keyboard.press("b")
    for _ in range(60):
        page.page.keyboard.press("ArrowRight")
    page.shot("mlp300-mid-backward")
    page.page.keyboard.press("End")
    expected = engine_grads(loss, {p.label: p for p in model.parameters()})
    shown = dict(page.grads())
    assert all(shown[label] == grad for label, grad in expected.items())
    page.page.click("#fit")
    page.shot("mlp300-fitted-end")


def test_the_chromium_setting_is_used_and_a_missing_one_found_as_none(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRAD_MINI_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert find_chromium() is None  # the tests then skip, saying how to get one
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("AUTOGRAD_MINI_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)


def test_a_node_of_one_example_says_so_and_steps_to_the_engines_gradients(open_page):
    """The lecture's loss over four examples: each neuron's pass names its example in the details panel."""
    model = MLP(3, [4, 4, 1], seed=0)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    outs = [model(x) for x in xs]
    loss = sum((out - y) ** 2 for out, y in zip(outs, [1.0, -1.0, -1.0, 1.0]))
    page = open_page(explore(loss, max_nodes=400))
    node = page.page.locator('g.node.value[data-label="L1.N0.out"][data-example="2"]')
    assert node.count() == 1
    node.dispatch_event("click")
    details = page.page.inner_text("#details")
    assert "example 2" in details.splitlines()[0] and "L1.N0.out[example 2]" in details
    page.page.keyboard.press("End")
    loss.backward()
    shown = page.page.eval_on_selector_all(
        'g.node.value[data-example="2"]',
        "gs => gs.map(g => [g.getAttribute('data-label'), g.getAttribute('data-grad')])")
    expected = {v.label: repr(v.grad) for v in forward_order(outs[2]) if v.label and v.label.endswith(".out")}
    assert {label: grad for label, grad in shown if label.endswith(".out")} == expected


def test_an_injected_inline_script_does_not_run(open_page):
    """The CSP allows the page's own script by its hash: a second inline script is blocked."""
    page_html = explore(Value(2.0, label="a") * Value(3.0, label="b")).html()
    hostile = page_html.replace("</body>", "<script>document.title = 'injected';</script></body>")

    class Saved:  # what open_page loads: an object with .save(path)
        def save(self, target):
            Path(target).write_text(hostile, encoding="utf-8")
            return Path(target)

    page = open_page(Saved())
    assert page.page.title() != "injected"
    assert page.step() == 0 and page.page.get_attribute("body", "data-phase") == "start"  # its own script ran
    page.errors.clear()  # the blocked script is reported on the console as a CSP violation


# --- forward mode: explore(root, forward_mode=leaf) (issue 23, item 3) ---------------------------
def lecture_neuron_parts(x1, x2, w1, w2, b):
    """The micrograd lecture's neuron: its interior nodes, labelled, inputs first (o last)."""
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    return x1w1, x2w2, s, n, o


LECTURE = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
INTERIOR = ["x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"]


def lecture_neuron():
    leaves = {name: Value(x, label=name) for name, x in LECTURE.items()}
    parts = lecture_neuron_parts(*(leaves[k] for k in ("x1", "x2", "w1", "w2", "b")))
    for label, v in zip(INTERIOR, parts):
        v.label = label
    return parts[-1], leaves


@pytest.mark.parametrize("seed", ["x1", "w1", "x2", "b"])
def test_forward_mode_steps_show_jvps_tangents_and_end_at_the_gradient(open_page, seed):
    import math

    from autograd_mini.forward import jvp

    o, leaves = lecture_neuron()
    order = ("x1", "x2", "w1", "w2", "b")
    _, expected_tangents = jvp(lecture_neuron_parts, [LECTURE[k] for k in order],
                               [1.0 if k == seed else 0.0 for k in order])
    expected = dict(zip(INTERIOR, expected_tangents))
    expected.update({k: 1.0 if k == seed else 0.0 for k in order})
    page = open_page(explore(o, forward_mode=leaves[seed], rankdir="LR"))
    assert page.page.get_attribute("body", "data-tangent-of") is not None
    backward = int(page.page.get_attribute("body", "data-backward"))
    assert backward == len(INTERIOR)
    for k in range(page.steps() + 1):
        shown = dict(page.page.eval_on_selector_all(
            "g.node.value", "gs => gs.map(g => [g.getAttribute('data-label'), g.getAttribute('data-tangent')])"))
        known = set(order) | set(INTERIOR[:min(k, backward)])  # leaves from the start, each node from its step on
        for label, text in shown.items():
            if label in known:
                assert math.isclose(float(text), expected[label], rel_tol=1e-12, abs_tol=1e-15), (k, label, text)
            else:
                assert text == "", (k, label, text)
        if k == backward:  # the last forward step: the root's tangent, written as the chain rule forwards
            formulas = page.page.eval_on_selector_all("#step-text .formula", "fs => fs.map(f => f.textContent)")
            last = formulas[-1].replace("\u2212", "-")  # t_o = local x t_n = numbers = t_o, then its .eq
            assert last.endswith("forward mode") and f"{expected['o']:.6g}forward mode" in last, formulas
            assert f"{expected['n']:.6g}" in last
            if seed == "x1":
                page.shot("fwd_lecture_neuron_x1")
        if k < page.steps():
            page.page.click("#next")
    assert page.step() == page.steps() and page.page.get_attribute("body", "data-phase") == "done"
    grads = engine_grads(o, leaves)
    root_tangent = page.page.get_attribute('g.node.value[data-label="o"]', "data-tangent")
    assert math.isclose(float(root_tangent), float(grads[seed]), rel_tol=1e-12, abs_tol=1e-15)
    assert page.page.text_content('g.node.value[data-label="o"] text.tangent') == f"t = {float(grads[seed]):.4g}"


def test_without_forward_mode_no_node_carries_a_tangent(open_page):
    o, _ = lecture_neuron()
    page = open_page(explore(o, rankdir="LR"))
    page.page.click("#next")
    assert page.page.get_attribute("body", "data-tangent-of") is None
    assert page.page.eval_on_selector_all("g.node.value[data-tangent], text.tangent", "gs => gs.length") == 0
