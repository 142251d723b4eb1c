"""`autograd-mini explore "EXPR" x=1 --serve`: the live explorer as a local web page.

The standard library's ThreadingHTTPServer (nothing to install; a thread per request).
Security as Jupyter's: 127.0.0.1 only, Host checked, a random token on every request
(403), bodies over 64 KiB refused (413), graphs over `max_nodes` refused, no file access,
CSP by hash. Expressions come from the caller's `build` (the CLI's safe grammar, never
eval). The contract and the security model in full: docs/explorer.md, "The live page".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import math
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from ...errors import AutogradMiniError
from ...value import Value
from ..draw import DEFAULT_MAX_NODES, count_nodes
from .live import Snapshot, judge, nudge

MAX_BODY = 64 * 1024
"""Largest request body accepted, in bytes (413 beyond)."""
KEPT_VERSIONS = 16
"""Snapshots kept for /page and /api/judge; older versions get 404."""
HOST = "127.0.0.1"

Build = Callable[[str, Mapping[str, float]], Value]
"""(expression text, {name: value}) -> its root Value, on fresh leaves labelled with the names.
Names the expression uses but `values` lacks get a default; it raises ValueError (e.g. the parser's
ParseError) or AutogradMiniError with a message for the page."""



class InputError(ValueError):
    """A request the page should explain: its message is shown in the page."""


class LiveSession:
    """The server's state: the snapshots by version, and the work of each API call."""

    def __init__(self, build: Build, max_nodes: int = DEFAULT_MAX_NODES) -> None:
        self.build = build
        self.max_nodes = max_nodes
        self.lock = threading.Lock()
        self.version = 0
        self.snapshots: dict[int, Snapshot] = {}

    def _keep(self, snapshot: Snapshot) -> dict[str, Any]:
        with self.lock:
            self.version += 1
            self.snapshots[self.version] = snapshot
            for old in [v for v in self.snapshots if v <= self.version - KEPT_VERSIONS]:
                del self.snapshots[old]
            return {"version": self.version, **snapshot.state()}

    def snapshot(self, version: int) -> Snapshot:
        with self.lock:
            found = self.snapshots.get(version)
        if found is None:
            raise LookupError(version)
        return found

    def _root(self, request: Mapping[str, Any]) -> Value:
        text = request.get("expression")
        values = request.get("values", {})
        if not isinstance(text, str):
            raise InputError("the expression must be text")
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            raise InputError("values must be an object of name: number")
        numbers = {name: _number(v, name) for name, v in values.items()}
        try:
            return self.build(text, numbers)
        except (AutogradMiniError, ValueError) as exc:
            raise InputError(str(exc)) from None

    def recompute(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """{"expression", "values"} -> the new state (its version, the engine's numbers, the questions)."""
        return self._keep(self._snapshot(self._root(request)))

    def nudge(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """{"expression", "values", "leaf", "h"} -> the nudge's numbers and the state at the new value."""
        root = self._root(request)
        leaf, h = request.get("leaf"), _number(request.get("h"), "h")
        if not isinstance(leaf, str):
            raise InputError("pick a leaf to nudge")
        try:
            moved = nudge(root, leaf, h)
        except (KeyError, AutogradMiniError, ValueError) as exc:
            raise InputError(str(exc).strip("'\"")) from None
        return {"nudge": moved.public(), "state": self._keep(self._snapshot(moved.root))}

    def judge(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """{"version", "index", "answer"} -> the verdict on a guessed contribution."""
        version, index = request.get("version"), request.get("index")
        if isinstance(version, bool) or not isinstance(version, int) or isinstance(index, bool) \
                or not isinstance(index, int):
            raise InputError("version and index must be integers")
        try:
            question = self.snapshot(version).questions[index]
        except (LookupError, IndexError):
            raise InputError(f"no question {index} of version {version}") from None
        return judge(_number(request.get("answer"), "answer"), question).public()

    def _snapshot(self, root: Value) -> Snapshot:
        count = count_nodes(root)  # the page's expression box: the limit is the command's --max-nodes
        if count.total > self.max_nodes:
            raise InputError(f"the graph has {count} to draw, more than --max-nodes {self.max_nodes}; restart "
                             f"with --max-nodes {count.total} to draw it (the page may be slow)")
        try:
            return Snapshot(root, max_nodes=self.max_nodes)
        except (AutogradMiniError, ValueError) as exc:
            raise InputError(str(exc)) from None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name}: give a finite number, got {json.dumps(value)[:40]}")
    return float(value)


def _package_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# The explorer page's header CSP pins its script by the hash the page's own meta tag gives (page.py
# computes it from the script it inlines; the tag is in the head, before any text of the graph, whose
# quotes are escaped). 'unsafe-inline' would let any inline script run. Its inline style stays allowed.
_META_SCRIPT_SRC = re.compile(r"script-src ('sha256-[A-Za-z0-9+/]+={0,2}')")


def _page_csp(page: str) -> str:
    """/page's Content-Security-Policy header for `page`, an explorer page."""
    found = _META_SCRIPT_SRC.search(page, 0, page.find("</head>"))
    script = found[1] if found else "'none'"
    return (f"default-src 'none'; script-src {script}; "
            "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def shell_page(expression: str, values: Mapping[str, float]) -> tuple[str, str]:
    """The served page (controls, expression box, iframe) and its CSP, which allows its own inline code only."""
    script = "\n" + _package_text("live.js") + "\nliveExplorer(document.getElementById('live'), httpBackend());\n"
    style = "\n" + _package_text("live.css") + "\n"
    start = html.escape(json.dumps({"expression": expression, "values": dict(values)}), quote=True)
    csp = (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; connect-src 'self'; "
           "frame-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<title>autograd_mini live explorer</title>\n<style>{style}</style>\n</head>\n'
            f'<body>\n<div id="live" data-served="1" data-initial="{start}"></div>\n'
            f"<script>{script}</script>\n</body>\n</html>\n")
    return page, csp


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a connection may sit idle or half-sent before its thread gives up

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet: the request lines carry the token, which has no place in a log."""

    def _allowed(self) -> dict[str, list[str]] | None:
        """The query if the Host and the token are right, else None after answering 403."""
        host = self.headers.get("Host", "")
        query = parse_qs(urlsplit(self.path).query)
        token = query.get("token", [""])[0]
        if host not in self.server.hosts or not hmac.compare_digest(token.encode(), self.server.token.encode()):
            self._send(HTTPStatus.FORBIDDEN, b"403 forbidden: this page needs the token printed with its URL\n",
                       "text/plain; charset=utf-8")
            return None
        return query

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        query = self._allowed()
        if query is None:
            return
        route = urlsplit(self.path).path
        if route == "/":
            page, csp = self.server.shell
            self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8", csp)
        elif route == "/page":
            try:
                snapshot = self.server.session.snapshot(int(query.get("v", [""])[0]))
                step = query.get("step", [""])[0]
                body = snapshot.page(int(step) if step else None)
            except (LookupError, ValueError):
                self._send(HTTPStatus.NOT_FOUND, b"no such version\n", "text/plain; charset=utf-8")
                return
            self._send(HTTPStatus.OK, body.encode(), "text/html; charset=utf-8", _page_csp(body))
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        if self._allowed() is None:
            return
        actions = {"/api/recompute": self.server.session.recompute, "/api/nudge": self.server.session.nudge,
                   "/api/judge": self.server.session.judge}
        action = actions.get(urlsplit(self.path).path)
        length = self.headers.get("Content-Length")
        if action is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such action"})
        elif length is None or not length.isdigit():
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "a Content-Length is required"})
        elif int(length) > MAX_BODY:
            self.close_connection = True  # the body is not read
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"the request is over {MAX_BODY} bytes"})
        else:
            try:
                request = json.loads(self.rfile.read(int(length)))
                if not isinstance(request, dict):
                    raise InputError("the request must be a JSON object")
                self._json(HTTPStatus.OK, action(request))
            except (InputError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, allow_nan=False).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str, csp: str = "default-src 'none'") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for a request in progress

    def __init__(self, port: int, session: LiveSession, shell: tuple[str, str]) -> None:
        super().__init__((HOST, port), _Handler)
        self.session = session
        self.shell = shell
        self.token = secrets.token_urlsafe(32)
        bound = self.server_address[1]
        self.hosts = {f"{HOST}:{bound}", f"localhost:{bound}"}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/?token={self.token}"


def make_server(build: Build, expression: str, values: Mapping[str, float], *, port: int = 0,
                max_nodes: int = DEFAULT_MAX_NODES) -> _Server:
    """A server for the live page of `expression` at `values` (not yet serving; `.url`, `.serve_forever()`).

    Port 0 picks a free port. The expression is built once here, so a bad one fails
    before anything is served (the builder's error, or ValueError over `max_nodes`).
    """
    Snapshot(build(expression, values), max_nodes=max_nodes)
    return _Server(port, LiveSession(build, max_nodes), shell_page(expression, values))


class Output(Protocol):
    """Where `serve` prints its URL: a text stream's `write` and `flush`."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def serve(build: Build, expression: str, values: Mapping[str, float], *, port: int = 0, open_browser: bool = True,
          max_nodes: int = DEFAULT_MAX_NODES, out: Output) -> None:
    """Serve the live page until Ctrl-C (KeyboardInterrupt propagates: the CLI exits 130)."""
    server = make_server(build, expression, values, port=port, max_nodes=max_nodes)
    try:
        print(f"live explorer at {server.url}\n(only this machine can open it; Ctrl-C stops it)", file=out)
        out.flush()
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.serve_forever()
    finally:
        server.server_close()
