"""The served live explorer in a real browser: headless Chromium through Playwright.

`autograd-mini explore EXPR ... --serve --no-browser` runs in a subprocess; the
page is driven as a user would (a leaf's input, the expression box, the nudge,
predict mode) and every node's data-data/data-grad in the explorer iframe is
checked against the engine's numbers for the new values. Skipped without
playwright or a Chromium (as test_explore_browser.py). Every test fails on a
console error (a CSP violation is one) or a request outside the server.
Screenshots before and after a nudge go to AUTOGRAD_MINI_SCREENSHOTS or tmp.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from autograd_mini.cli.parser import ParseError, parse
from autograd_mini.graph import forward_order
from autograd_mini.value import Value

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = "tanh(x*w) + x**2"


def engine_nodes(text: str, values: dict[str, float]) -> list[tuple[str, str]]:
    """(data-data, data-grad) of each node n0, n1, ... as the engine gives them: repr of .data and of
    the .grad backward() leaves ("" for a constant, which backward never gives a gradient)."""
    root = parse(text).evaluate(values)
    root.backward()
    return [(repr(v.data), repr(v.grad) if v.requires_grad else "") for v in forward_order(root)]


def engine_root(text: str, values: dict[str, float]) -> Value:
    return parse(text).evaluate(values)


@pytest.fixture(scope="module")
def server():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "autograd_mini", "explore", EXPRESSION, "x=1", "w=0.5", "--serve",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        assert found, f"no URL in {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        yield found[0]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)




@pytest.fixture
def expected_errors() -> list[str]:
    """Console messages a test expects (Chromium logs every 4xx answer as an error)."""
    return []


@pytest.fixture
def page(browser, server, expected_errors):
    origin = server.split("/?")[0]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith((origin + "/", "about:", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(server)
    yield page
    context.close()
    unexpected = [e for e in errors if not any(x in e for x in expected_errors)]
    assert unexpected == [], f"console errors: {unexpected}"
    assert outside == [], f"requests outside the server: {outside}"


def shown_nodes(page) -> list[tuple[str, str]]:
    """(data-data, data-grad) of every g.node.value in the explorer iframe, by data-node n0, n1, ..."""
    frame = page.frame_locator("#explorer")
    pairs = frame.locator("g.node.value").evaluate_all(
        "gs => gs.map(g => [g.getAttribute('data-node'), g.getAttribute('data-data'), g.getAttribute('data-grad')])")
    return [(d, g) for _, d, g in sorted(pairs, key=lambda p: int(p[0][1:]))]


def at_end(page) -> bool:
    body = page.frame_locator("#explorer").locator("body")
    return body.get_attribute("data-step") == body.get_attribute("data-steps")


def wait_for(page, condition, what: str, seconds: float = 20.0) -> None:
    """Poll `condition()` until it holds (a wait for the page, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception as exc:  # the iframe is being replaced  # noqa: BLE001
            last = exc
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what} ({last})")


def settled(page, text: str, values: dict[str, float]) -> None:
    """Wait until the iframe shows the engine's numbers for `values`, at its final step."""
    expected = engine_nodes(text, values)
    wait_for(page, lambda: shown_nodes(page) == expected and at_end(page),
             f"the explorer to show {values}: expected {expected}")


def test_the_first_page_shows_the_engines_numbers_at_the_end(page):
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    assert page.locator('input[data-leaf="x"]').input_value() == "1.0"
    assert page.locator('input[data-leaf="w"]').input_value() == "0.5"
    assert page.locator('input[type=range][data-slider="x"]').count() == 1
    assert page.locator("#expression").input_value() == EXPRESSION


def test_changing_a_leaf_recomputes_every_value_and_gradient(page):
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    page.locator('input[data-leaf="x"]').fill("-1.75")
    page.locator('input[data-leaf="x"]').press("Enter")
    settled(page, EXPRESSION, {"x": -1.75, "w": 0.5})
    root = engine_root(EXPRESSION, {"x": -1.75, "w": 0.5})
    assert page.locator("#root-value").text_content() == f"f = {root.data!r}"


def test_the_slider_recomputes_too(page):
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    slider = page.locator('input[type=range][data-slider="w"]')
    slider.evaluate("s => { s.value = s.min; s.dispatchEvent(new Event('input')); }")
    low = float(slider.get_attribute("min"))
    settled(page, EXPRESSION, {"x": 1.0, "w": low})
    # a drag: many input events at once; the page ends on the engine's numbers for the last one
    slider.evaluate("s => { for (let k = 0; k <= 20; k++) { s.value = String(Number(s.min) + k * Number(s.step)); "
                    "s.dispatchEvent(new Event('input')); } }")
    last = float(slider.input_value())
    assert last == float(page.locator('input[data-leaf="w"]').input_value())
    settled(page, EXPRESSION, {"x": 1.0, "w": last})


def test_a_new_expression_is_parsed_and_drawn(page):
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    page.locator("#expression").fill("x*y + sigmoid(x) - 3")
    page.locator("#redraw").click()
    # x keeps its value; y, new, starts at 1.0; w is no longer used
    settled(page, "x*y + sigmoid(x) - 3", {"x": 1.0, "y": 1.0})
    assert page.locator('input[data-leaf="y"]').count() == 1
    assert page.locator('input[data-leaf="w"]').count() == 0
    page.locator('input[data-leaf="y"]').fill("0.25")
    page.locator('input[data-leaf="y"]').press("Enter")
    settled(page, "x*y + sigmoid(x) - 3", {"x": 1.0, "y": 0.25})


@pytest.mark.parametrize("hostile", ["__import__('os').system('ls')", "x.__class__", "open('/etc/passwd')",
                                     "(" * 200 + "x" + ")" * 200])
def test_a_hostile_expression_gets_the_parsers_message_in_the_page(page, hostile, expected_errors):
    expected_errors.append("the server responded with a status of 400 (Bad Request)")  # the refusal itself
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    with pytest.raises(ParseError) as refused:
        parse(hostile)
    page.locator("#expression").fill(hostile)
    page.locator("#redraw").click()
    error = page.locator("#error")
    wait_for(page, lambda: error.is_visible(), "the error")
    assert error.text_content() == str(refused.value)
    # the page still shows the last good graph
    assert shown_nodes(page) == engine_nodes(EXPRESSION, {"x": 1.0, "w": 0.5})


def test_nudge_shows_observed_predicted_and_difference(page, tmp_path):
    shots = Path(os.environ.get("AUTOGRAD_MINI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    page.screenshot(path=str(shots / "live_before_nudge.png"))
    page.locator("#nudge-leaf").select_option("x")
    page.locator("#nudge-h").fill("0.1")
    page.locator("#nudge").click()
    settled(page, EXPRESSION, {"x": 1.1, "w": 0.5})
    page.screenshot(path=str(shots / "live_after_nudge.png"))
    result = page.locator("#nudge-result")
    before, after = engine_root(EXPRESSION, {"x": 1.0, "w": 0.5}), engine_root(EXPRESSION, {"x": 1.1, "w": 0.5})
    x = next(v for v in forward_order(before) if v.label == "x")
    before.backward()
    assert float(result.get_attribute("data-observed")) == after.data - before.data
    assert float(result.get_attribute("data-predicted")) == x.grad * 0.1
    difference = float(result.get_attribute("data-difference"))
    assert difference == (after.data - before.data) - x.grad * 0.1
    # the second-order term explains the difference: 1/2 f'' h^2, f'' by central differences
    f = [engine_root(EXPRESSION, {"x": 1.0 + d, "w": 0.5}).data for d in (-1e-4, 0.0, 1e-4)]
    curvature = (f[0] - 2 * f[1] + f[2]) / 1e-8
    assert float(result.get_attribute("data-secondorder")) == pytest.approx(0.5 * curvature * 0.01, rel=1e-3)
    assert difference == pytest.approx(0.5 * curvature * 0.01, rel=0.2)
    assert "observed change" in result.text_content()


def test_predict_mode_asks_before_it_shows_and_marks_the_answer(page):
    settled(page, EXPRESSION, {"x": 1.0, "w": 0.5})
    page.locator("#predict").check()
    frame_body = page.frame_locator("#explorer").locator("body")
    root = engine_root(EXPRESSION, {"x": 1.0, "w": 0.5})
    backward_start = len([v for v in forward_order(root) if v.op is not None])
    # the first backward step (the root's add) is asked with the page waiting just before it
    wait_for(page, lambda: frame_body.get_attribute("data-step") == str(backward_start), "the page before the step")
    assert "What does its rule pass to" in page.locator("#question").text_content()
    assert page.locator("#question").get_attribute("data-index") == "0"
    page.locator("#answer").fill("1")
    page.locator("#check").click()
    verdict = page.locator("#verdict")
    wait_for(page, lambda: verdict.get_attribute("data-kind") == "right", "a right verdict")
    page.locator("#answer").fill("-1")  # the add's second input also gets g x 1 = 1
    page.locator("#check").click()
    wait_for(page, lambda: verdict.get_attribute("data-kind") == "wrong sign", "a wrong-sign verdict")
    # both numbers of the root's step asked: the page now shows that step
    wait_for(page, lambda: int(frame_body.get_attribute("data-step")) > backward_start, "the step shown")


MOCK_MODEL = """
window.model = {
  listeners: {},
  data: INITIAL,
  get: function (key) { return this.data[key]; },
  on: function (event, f) { (this.listeners[event] = this.listeners[event] || []).push(f); },
  send: function (message) {
    var self = this;
    window.py(JSON.stringify(message)).then(function (reply) {
      (self.listeners["msg:custom"] || []).forEach(function (f) { f(JSON.parse(reply)); });
    });
  }
};
"""


def test_the_notebook_widgets_front_end_talks_to_the_kernel_side(browser):
    """The widget's ESM in Chromium with a stand-in for anywidget's model whose messages reach the
    real LiveExplorer in this process (what the kernel does with them), through expose_function."""
    pytest.importorskip("anywidget", reason="anywidget is not installed (pip install autograd-mini[live])")
    import base64
    import json

    from autograd_mini.views.explorer.widget import LiveExplorer

    x, w = Value(1.0, label="x"), Value(0.5, label="w")
    y = (x * w).tanh() + x**2
    live = LiveExplorer(y)
    text = "tanh(x*w) + x**2"  # the same graph, for engine_nodes' reference numbers
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def kernel(message: str) -> str:
        content = json.loads(message)
        try:
            reply = live._answer(content["kind"], content["payload"])
        except Exception as exc:  # noqa: BLE001 (as the widget's own handler)
            reply = {"error": str(exc)}
        return json.dumps({"id": content["id"], "reply": reply})

    page.expose_function("py", kernel)
    esm = base64.b64encode(LiveExplorer._esm.encode()).decode()
    initial = json.dumps({"values": live.values, "state": live.state})
    page.set_content(f"<style>{LiveExplorer._css}</style><div id=el></div>"
                     f"<script>{MOCK_MODEL.replace('INITIAL', initial)}</script>"
                     f"<script type=module>import w from 'data:text/javascript;base64,{esm}';"
                     "w.render({model: window.model, el: document.getElementById('el')});</script>")
    settled(page, text, {"x": 1.0, "w": 0.5})
    assert page.locator("#expression").count() == 0  # the graph is the user's: no expression box
    page.locator('input[data-leaf="x"]').fill("2")
    page.locator('input[data-leaf="x"]').press("Enter")
    settled(page, text, {"x": 2.0, "w": 0.5})
    assert live.values == {"x": 2.0, "w": 0.5}
    live.set_leaf("w", 0.25)  # from the kernel: anywidget syncs `state` and fires change:state
    page.evaluate("s => { model.data.state = s; model.listeners['change:state'].forEach(f => f()); }", live.state)
    settled(page, text, {"x": 2.0, "w": 0.25})
    assert page.locator('input[data-leaf="w"]').input_value() == "0.25"
    page.locator("#nudge-leaf").select_option("x")
    page.locator("#nudge-h").fill("-0.5")
    page.locator("#nudge").click()
    settled(page, text, {"x": 1.5, "w": 0.25})
    assert "observed change" in page.locator("#nudge-result").text_content()
    context.close()
    assert errors == []
    assert (x.data, x.grad, w.data, w.grad) == (1.0, 0.0, 0.5, 0.0)
