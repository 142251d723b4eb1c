"""The live explorer's engine side and its server, without a browser.

recompute against building the graph anew and against the user's graph left
untouched; the snapshot's numbers against backward() and finite differences;
the nudge against direct evaluation and the second-order closed form; the
judging of guesses; the server's security (token, Host, sizes, headers); the
CLI's `explore --serve` (a usage error without --serve, Ctrl-C exits 130).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from autograd_mini import Value, no_grad
from autograd_mini.cli.commands import build_live
from autograd_mini.cli.parser import ParseError, parse
from autograd_mini.errors import DomainError
from autograd_mini.graph import forward_order
from autograd_mini.views.explorer.live import Question, Snapshot, judge, leaf_names, nudge, recompute
from autograd_mini.views.explorer.serve import MAX_BODY, make_server

ROOT = Path(__file__).resolve().parent.parent


def graph() -> tuple[Value, Value, Value]:
    x, w = Value(1.0, label="x"), Value(0.5, label="w")
    shared = x * w  # used twice: the copy must keep one node read twice
    y = shared.tanh() + shared * shared + x**2 + Value(3.0, requires_grad=False) * w
    y.label = "E"
    return y, x, w


def build(xv: float, wv: float) -> Value:
    return graph_at(xv, wv)[0]


def graph_at(xv: float, wv: float) -> tuple[Value, Value, Value]:
    y, x, w = graph()
    x.data, w.data = xv, wv
    return recompute(y, {}), x, w  # recompute with no changes is a forward pass at the new data


def state(root: Value) -> list[tuple[Any, ...]]:
    """Everything a node records, in forward order, for comparing graphs."""
    order = forward_order(root)
    index = {v: i for i, v in enumerate(order)}
    return [(v.data, v.grad, v.label, v.requires_grad, v.op and v.op.name, [index[x] for x in v.inputs])
            for v in order]


# --- recompute ------------------------------------------------------------------------------------
def test_recompute_copies_the_structure_at_new_values_and_leaves_the_graph_alone():
    y, x, w = graph()
    before = state(y)
    new = recompute(y, {x: 2.0})
    assert state(y) == before  # the user's graph: same data, grads, labels, structure
    fresh = graph()[0]
    next(v for v in forward_order(fresh) if v.label == "x").data = 2.0
    expected = state(recompute(fresh, {}))
    assert state(new) == expected
    # the structure is the same: the shared product is one node read twice
    shared = [v for v in forward_order(new) if v.op is not None and v.op.name == "mul" and v.inputs[0] is v.inputs[1]]
    assert len(shared) == 1
    direct = math.tanh(2.0 * 0.5) + (2.0 * 0.5) ** 2 + 2.0**2 + 3.0 * 0.5
    assert new.data == pytest.approx(direct, rel=1e-15)
    assert new.label == "E" and all(v is not u for v in forward_order(new) for u in forward_order(y))


def test_recompute_keeps_constants_and_records_under_no_grad():
    y, x, _ = graph()
    with no_grad():
        new = recompute(y, {x: -1.0})
    constants = [v.data for v in forward_order(new) if not v.requires_grad]
    assert constants == [v.data for v in forward_order(y) if not v.requires_grad] == [2.0, 3.0]  # x**2's 2, 3 * w's 3
    assert all(v.op is None or v.inputs for v in forward_order(new))  # recorded although no_grad was on
    new.backward()
    assert next(v for v in forward_order(new) if v.label == "x").grad != 0.0


def test_recompute_refuses_a_node_that_is_not_a_leaf_and_keeps_domain_errors():
    y, x, _ = graph()
    with pytest.raises(KeyError, match="not a leaf"):
        recompute(y, {y: 1.0})
    z = x.log()
    with pytest.raises(DomainError, match="log"):
        recompute(z, {x: -1.0})


def test_recompute_is_iterative():
    x = Value(1.0, label="x")
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    new = recompute(y, {x: 2.0})
    assert new.data == pytest.approx(2.0 * 1.0001**5000)


def test_leaf_names_use_labels_and_tell_duplicates_apart():
    a, b, c = Value(1.0, label="a"), Value(2.0, label="a"), Value(3.0)
    names = leaf_names(a * b + c)
    assert list(names.values()) == [a, b, c]
    assert all(n.startswith("a#") for n in list(names)[:2]) and list(names)[2].startswith("#")


# --- the snapshot's numbers -------------------------------------------------------------------------
def test_snapshot_numbers_are_backwards_and_agree_with_finite_differences():
    y, x, w = graph()
    root = recompute(y, {x: 0.7, w: -1.3})
    snap = Snapshot(root)
    reference = recompute(y, {x: 0.7, w: -1.3})
    reference.backward()
    order = forward_order(reference)
    assert [(n["data"], n["grad"]) for n in snap.nodes] == [
        (repr(v.data), repr(v.grad) if v.requires_grad else "") for v in order]
    assert all(v.grad == 0.0 for v in forward_order(root))  # the snapshot's own graph: .grad never written
    h = 1e-6
    for name, xv, wv in (("x", 0.7, -1.3), ("w", 0.7, -1.3)):
        plus = build(xv + h, wv).data if name == "x" else build(xv, wv + h).data
        minus = build(xv - h, wv).data if name == "x" else build(xv, wv - h).data
        assert snap.grad_of[name] == pytest.approx((plus - minus) / (2 * h), rel=1e-6)


def test_the_page_opens_at_its_last_step_with_data_on_every_node():
    snap = Snapshot(recompute(graph()[0], {}))
    page = snap.page()
    assert f'data-start="{snap.explorer.steps}"' in page
    data = re.findall(r'class="node value"[^>]*data-data="([^"]*)"', page)
    assert data == [n["data"] for n in snap.nodes]
    assert 'data-start="3"' in snap.page(3)
    assert f'data-backward="{snap.backward_start}"' in page  # the page's forward steps, as the questions count
    labels = re.findall(r'class="node value"[^>]*data-label="([^"]*)"', page)
    assert labels == [n["label"] for n in snap.nodes]


def test_the_questions_are_the_contributions_and_sum_to_each_gradient():
    """Each node's gradient is the sum of what its consumers pass it (1.8): the questions' answers."""
    snap = Snapshot(recompute(graph()[0], {}))
    sums: dict[str, float] = {}
    for q in snap.questions:
        assert q.answer == pytest.approx(q.g * q.local)
        sums[q.input] = sums.get(q.input, 0.0) + q.answer
    assert sums["x"] == pytest.approx(snap.grad_of["x"]) and sums["w"] == pytest.approx(snap.grad_of["w"])
    public = snap.state()["questions"]
    assert all("answer" not in q and "What does its rule pass to" in q["text"] for q in public)


# --- nudge ------------------------------------------------------------------------------------------
def test_nudge_observed_predicted_and_the_second_order_term():
    y, x, w = graph()
    before = state(y)
    result = nudge(y, "x", 0.1)
    assert state(y) == before
    assert result.observed == build(1.1, 0.5).data - build(1.0, 0.5).data
    assert result.predicted == Snapshot(recompute(y, {})).grad_of["x"] * 0.1
    # closed form: d2/dx2 [tanh(xw) + (xw)^2 + x^2 + 3w] = -2 w^2 tanh(xw) sech^2(xw) + 2 w^2 + 2
    t = math.tanh(0.5)
    assert result.curvature == pytest.approx(-2 * 0.25 * t * (1 - t * t) + 2 * 0.25 + 2, rel=1e-12)
    # the difference shrinks as h^2: halving h quarters it
    ratio = nudge(y, "x", 0.01).difference / nudge(y, "x", 0.005).difference
    assert ratio == pytest.approx(4.0, rel=0.01)
    small = nudge(y, "x", 0.01)
    assert [h for h, _ in small.smaller] == [0.005, 0.0025]
    assert small.smaller[0][1] == pytest.approx(nudge(y, "x", 0.005).difference, rel=1e-9)
    assert small.difference / small.smaller[1][1] == pytest.approx(16.0, rel=0.02)
    assert result.root.data == build(1.1, 0.5).data
    assert "observed change" in result.text() and result.public()["leaf"] == "x"


def test_nudge_refuses_unknown_leaves_and_bad_h():
    y = graph()[0]
    with pytest.raises(KeyError, match="no leaf named 'q'"):
        nudge(y, "q", 0.1)
    for h in (math.nan, math.inf, True, "0.1"):
        with pytest.raises(ValueError, match="h must be a finite number"):
            nudge(y, "x", h)  # type: ignore[arg-type]


@pytest.mark.parametrize(("expression", "values", "h"), [("sin(x)", {"x": 1.0}, 1e200),
                                                         ("x*w", {"x": -1.5, "w": 1e308}, 3.0)])
def test_a_nudge_whose_numbers_overflow_is_refused_clearly(expression, values, h):
    """1/2 f'' h^2 overflowed with a bare OverflowError (the server's thread died, no answer), and an
    infinite change (-1.5e308 to 1.5e308) could not go into JSON: the nudge says h is too large."""
    root = parse(expression).evaluate(values)
    with pytest.raises(ValueError, match=r"h = .* is too large: .* overflows float64"):
        nudge(root, "x", h)


def test_a_huge_nudge_of_a_linear_function_is_exact():
    """No second derivative to overflow: h = 1e308 on x*w moves it by exactly w*h (h**2 raised before)."""
    result = nudge(parse("x*w").evaluate({"x": 1.0, "w": 0.5}), "x", 1e308)
    assert result.observed == result.predicted == 0.5e308 and result.difference == 0.0
    assert result.public()["secondOrder"] == "0.0"


def test_an_overflowing_nudge_gets_a_400_with_the_reason_from_the_server(server):
    status, reply = api(server, "nudge", {"expression": "sin(x)", "values": {"x": 1.0}, "leaf": "x", "h": 1e200})
    assert status == 400 and "overflows float64" in reply["error"]
    status, reply = api(server, "recompute", {"expression": "x*w", "values": {"x": 1.0}})
    assert status == 200  # the server still answers


# --- judging guesses --------------------------------------------------------------------------------
@pytest.mark.parametrize(("guess", "kind"), [(-0.75, "right"), (-0.7501, "right"), (0.75, "wrong sign"),
                                             (0.5, "missing g"), (-1.5, "missing local"), (2.0, "wrong"),
                                             (math.inf, "wrong")])
def test_judge_marks_right_wrong_sign_and_the_missing_factor(guess, kind):
    q = Question(step=5, node="n", op="mul", input="x", g=-1.5, local=0.5, answer=-0.75)
    verdict = judge(guess, q)
    assert verdict.kind == kind
    assert "-0.75" in verdict.message


# --- the server -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    made = make_server(build_live, "tanh(x*w) + x**2", {"x": 1.0, "w": 0.5}, max_nodes=60)
    thread = threading.Thread(target=made.serve_forever, daemon=True)
    thread.start()
    yield made
    made.shutdown()
    made.server_close()


def fetch(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_server_binds_loopback_and_serves_the_page_with_the_token(server):
    assert server.server_address[0] == "127.0.0.1"
    status, headers, body = fetch(server.url)
    assert status == 200
    assert "script-src 'sha256-" in headers["Content-Security-Policy"]
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
    assert b'id="live"' in body


def test_the_explorer_page_is_served_with_its_scripts_hash_not_unsafe_inline(server):
    """/page's header CSP pins the page's own script as its meta tag does (issue 19, item 9):
    'unsafe-inline' in the header let any inline script run, had the meta tag been lost."""
    status, reply = api(server, "recompute", {"expression": "tanh(x*w) + x**2", "values": {"x": 1.0, "w": 0.5}})
    assert status == 200
    status, headers, body = fetch(server.url.replace("/?", f"/page?v={reply['version']}&"))
    assert status == 200
    header = headers["Content-Security-Policy"]
    script_src = next(d for d in header.split(";") if d.strip().startswith("script-src")).split()[1:]
    page = body.decode()
    meta = re.search(r"script-src ('sha256-[^']+')", page)
    assert meta and script_src == [meta[1]]  # the one hash, the same the page's meta tag gives
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)  # the one that runs (the data's has a type)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    assert script_src == [f"'sha256-{digest}'"]
    assert "frame-ancestors 'self'" in header


@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 43])
def test_every_request_without_the_right_token_gets_403(server, token):
    base = server.url.split("?")[0]
    for path in ("", "page?v=1", "api/recompute"):
        url = base + path + ("" if token is None else ("&" if "?" in path else "?") + f"token={token}")
        body = {"expression": "x", "values": {"x": 1}} if path.startswith("api") else None
        status, _, text = fetch(url, body)
        assert status == 403, (url, status)
        assert b"Value" not in text and b"<svg" not in text


def test_a_foreign_host_header_gets_403(server):
    status, _, _ = fetch(server.url, headers={"Host": "evil.example:80"})
    assert status == 403


def api(server: Any, action: str, body: Any) -> tuple[int, Any]:
    status, _, text = fetch(server.url.replace("/?", f"/api/{action}?"), body)
    return status, json.loads(text)


def test_recompute_answers_with_the_engines_numbers(server):
    status, reply = api(server, "recompute", {"expression": "x*y + sigmoid(x)", "values": {"x": 2.0, "w": 9}})
    assert status == 200
    root = parse("x*y + sigmoid(x)").evaluate({"x": 2.0, "y": 1.0})
    root.backward()
    assert [(n["data"], n["grad"]) for n in reply["nodes"]] == [
        (repr(v.data), repr(v.grad) if v.requires_grad else "") for v in forward_order(root)]
    status, headers, page = fetch(server.url.replace("/?", "/page?") + f"&v={reply['version']}")
    assert status == 200 and b"data-data=" in page
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("text", ["__import__('os')", "x.__class__", "x; y", "lambda: 1", "x" * 200 + "("])
def test_a_hostile_expression_gets_the_parsers_message(server, text):
    with pytest.raises(ParseError) as refused:
        parse(text)
    status, reply = api(server, "recompute", {"expression": text, "values": {}})
    assert status == 400 and reply == {"error": str(refused.value)}


def test_bad_requests_are_refused_with_a_reason(server):
    too_big = " " * (MAX_BODY + 1)
    status, _, _ = fetch(server.url.replace("/?", "/api/recompute?"), too_big.encode())
    assert status == 413
    big_graph = " + ".join(f"x*{i}" for i in range(40))  # over the server's max_nodes=60
    status, reply = api(server, "recompute", {"expression": big_graph, "values": {"x": 1}})
    # the served page comes from the command line: the limit is named as its option, not as a keyword
    assert status == 400 and "--max-nodes 60" in reply["error"] and "max_nodes=" not in reply["error"]
    for body, reason in (({"expression": "x", "values": {"x": "1"}}, "finite number"),
                         ({"expression": "x", "values": {"x": float("1e308") * 10}}, "finite number"),
                         ({"expression": 3}, "text"), ([1], "JSON object")):
        status, _, text = fetch(server.url.replace("/?", "/api/recompute?"),
                                json.dumps(body).replace("Infinity", "1e999").encode())
        assert status == 400 and reason in json.loads(text)["error"]
    status, _, _ = fetch(server.url.replace("/?", "/api/recompute?"), b"{not json")
    assert status == 400
    import http.client

    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest("POST", "/api/recompute?" + server.url.split("?")[1])
    connection.putheader("Transfer-Encoding", "chunked")  # no Content-Length: the size is unknown up front
    connection.endheaders()
    assert connection.getresponse().status == 411
    connection.close()
    status, _, _ = fetch(server.url.replace("/?", "/page?") + "&v=999999")
    assert status == 404


def test_nudge_and_judge_through_the_server(server):
    status, reply = api(server, "nudge", {"expression": "x**3", "values": {"x": 2.0}, "leaf": "x", "h": 0.5})
    assert status == 200
    assert float(reply["nudge"]["observed"]) == 2.5**3 - 2.0**3
    assert float(reply["nudge"]["predicted"]) == 12.0 * 0.5
    assert float(reply["nudge"]["secondOrder"]) == pytest.approx(0.5 * 12.0 * 0.25)
    assert reply["state"]["leaves"][0]["data"] == "2.5"
    version = reply["state"]["version"]
    status, verdict = api(server, "judge", {"version": version, "index": 0, "answer": 3 * 2.5**2})
    assert status == 200 and verdict["kind"] == "right"
    status, verdict = api(server, "judge", {"version": version, "index": 0, "answer": -3 * 2.5**2})
    assert verdict["kind"] == "wrong sign"
    status, reply = api(server, "nudge", {"expression": "x**3", "values": {"x": 2.0}, "leaf": "y", "h": 0.5})
    assert status == 400 and "no leaf named 'y'" in reply["error"]


# --- the command line --------------------------------------------------------------------------------
def run_cli(*args: str, **kw: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "autograd_mini", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_explore_needs_serve_and_a_good_expression():
    out, err = run_cli("explore", "x*2", "x=1").communicate(timeout=60)
    assert "give --serve" in err
    proc = run_cli("explore", "x.y", "x=1", "--serve", "--no-browser")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "attribute access" in err and "Traceback" not in err
    proc = run_cli("explore", " + ".join(f"x*{i}" for i in range(300)), "x=1", "--serve", "--no-browser")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "more than --max-nodes 500" in err and "max_nodes=" not in err
    assert out == ""  # refused before serving


def test_ctrl_c_stops_the_server_with_exit_130_and_no_traceback():
    proc = run_cli("explore", "x*w", "x=1", "w=2", "--serve", "--no-browser", "--port", "0")
    line = proc.stdout.readline()
    url = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", line)
    assert url, line
    assert fetch(url[0])[0] == 200  # it is serving
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err and err.strip() == "autograd-mini: error: interrupted"


def test_the_live_numbers_agree_with_pytorch_at_new_values():
    torch = pytest.importorskip("torch")
    y, x, w = graph()
    for xv, wv in ((0.3, -2.0), (-1.5, 0.25)):
        snap = Snapshot(recompute(y, {x: xv, w: wv}))
        tx = torch.tensor(xv, dtype=torch.float64, requires_grad=True)
        tw = torch.tensor(wv, dtype=torch.float64, requires_grad=True)
        shared = tx * tw
        ty = torch.tanh(shared) + shared * shared + tx**2 + 3.0 * tw
        ty.backward()
        assert float(snap.root.data) == pytest.approx(ty.item(), rel=1e-14)
        assert snap.grad_of["x"] == pytest.approx(tx.grad.item(), rel=1e-14)
        assert snap.grad_of["w"] == pytest.approx(tw.grad.item(), rel=1e-14)
