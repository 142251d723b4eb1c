"""`LiveExplorer(y)`: the live explorer as a notebook widget (anywidget, the optional extra `live`).

The widget shows a number input and a slider per leaf, the nudge and the
predict mode (live.js) around the explorer page of the current numbers. A
change of a leaf, from the page or from the kernel (`w.set_leaf("x", 2.0)` or
assigning `w.values`), re-runs forward and backward in the kernel with the
engine on a copy of the graph (`live.recompute`): the user's Values are only
read. The synced `state` trait holds the engine's numbers (each node's data and
grad as repr, the leaves, the questions); the page asks the kernel for pages,
nudges and verdicts with custom messages.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import anywidget
import traitlets

from ...value import Value
from ..draw import DEFAULT_MAX_NODES
from .live import Nudge, Snapshot, judge, leaf_names, nudge, recompute

KEPT_VERSIONS = 16

_GLUE = """
export default {
  render({ model, el }) {
    var pending = {};
    var counter = 0;
    model.on("msg:custom", function (msg) {
      var done = pending[msg.id];
      if (done) { delete pending[msg.id]; done(msg.reply); }
    });
    var backend = {
      served: false,
      start: function () { return {expression: null, values: model.get("values"), state: model.get("state")}; },
      call: function (kind, payload) {
        return new Promise(function (resolve) {
          counter += 1;
          pending[counter] = resolve;
          model.send({id: counter, kind: kind, payload: payload});
        });
      },
      show: function (frame, version, step) {
        backend.call("page", {version: version, step: step}).then(function (r) {
          if (r.page) { frame.srcdoc = r.page; }
        });
      },
      listen: function (show) { model.on("change:state", function () { show(model.get("state")); }); }
    };
    var root = document.createElement("div");
    root.id = "live";
    el.appendChild(root);
    liveExplorer(root, backend);
  }
};
"""


def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


class LiveExplorer(anywidget.AnyWidget):
    """The live explorer of `root`'s graph in a notebook: change a leaf, see every value and gradient.

    Attributes (synced with the page):
        values: {leaf name: number}; assigning it recomputes (names as `live.leaf_names`).
        state:  the engine's numbers for the current values: "root", "leaves", "nodes"
                (each node's id, label, data and grad, as Python's repr), "questions", "version".
        nudged: the last nudge's numbers (observed, predicted, difference, ...), or {}.
    """

    _esm = _text("live.js") + _GLUE
    _css = _text("live.css")
    values = traitlets.Dict().tag(sync=True)
    state = traitlets.Dict().tag(sync=True)
    nudged = traitlets.Dict().tag(sync=True)

    def __init__(self, root: Value, *, max_nodes: int = DEFAULT_MAX_NODES) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"LiveExplorer needs a Value, got {type(root).__name__}")
        self._graph = recompute(root, {})  # a private copy, so nothing here ever writes to the user's graph
        self._leaves = leaf_names(self._graph)
        self._max_nodes = max_nodes
        self._version = 0
        self._snapshots: dict[int, Snapshot] = {}
        first = self._snapshot({})
        super().__init__(values={name: v.data for name, v in self._leaves.items()}, state=first)
        self.observe(self._on_values, names="values")
        self.on_msg(self._on_message)

    @property
    def snapshot(self) -> Snapshot:
        """The current numbers' snapshot (its `.root` is the recomputed graph)."""
        return self._snapshots[self._version]

    def set_leaf(self, name: str, value: float) -> None:
        """Give leaf `name` a new value: forward and backward run again, `state` follows."""
        self.values = {**self.values, name: value}

    def nudge(self, name: str, h: float) -> Nudge:
        """Move leaf `name` by h: the observed change, dE/dleaf * h and their difference (also in `nudged`)."""
        moved = nudge(self.snapshot.root, name, h)
        self.nudged = moved.public()
        self.set_leaf(name, self.values[name] + h)
        return moved

    @traitlets.validate("values")
    def _check_values(self, proposal: Any) -> dict[str, float]:
        values = proposal["value"]
        if stray := [n for n in values if n not in self._leaves]:
            raise traitlets.TraitError(f"LiveExplorer: no leaf named {stray[0]!r}; the leaves are "
                                       f"{', '.join(self._leaves)}")
        for name, v in values.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise traitlets.TraitError(f"LiveExplorer: {name} must be a finite number, got {v!r}")
        return {name: float(v) for name, v in values.items()}

    def _on_values(self, change: dict[str, Any]) -> None:
        self.state = self._snapshot(change["new"])

    def _snapshot(self, values: dict[str, float]) -> dict[str, Any]:
        root = recompute(self._graph, {self._leaves[name]: v for name, v in values.items()})
        self._version += 1
        self._snapshots[self._version] = Snapshot(root, max_nodes=self._max_nodes)
        self._snapshots.pop(self._version - KEPT_VERSIONS, None)
        return {"version": self._version, **self._snapshots[self._version].state()}

    def _on_message(self, _: Any, content: dict[str, Any], buffers: Any) -> None:
        """A request from the page: recompute, nudge, judge or page; the reply goes back with its id."""
        kind, payload = content.get("kind"), content.get("payload") or {}
        try:
            reply = self._answer(kind, payload)
        except Exception as exc:  # the page shows why; the kernel keeps running  # noqa: BLE001
            reply = {"error": str(exc)}
        self.send({"id": content.get("id"), "reply": reply})

    def _answer(self, kind: Any, payload: dict[str, Any]) -> dict[str, Any]:
        if kind == "recompute":
            self.values = {**self.values, **payload.get("values", {})}
            return dict(self.state)
        if kind == "nudge":
            moved = self.nudge(str(payload.get("leaf")), payload.get("h"))  # type: ignore[arg-type]  # nudge checks h
            return {"nudge": moved.public(), "state": dict(self.state)}
        if kind == "judge":
            question = self._snapshots[int(payload["version"])].questions[int(payload["index"])]
            return judge(float(payload["answer"]), question).public()
        if kind == "page":
            step = payload.get("step")
            return {"page": self._snapshots[int(payload["version"])].page(None if step is None else int(step))}
        raise ValueError(f"unknown request {kind!r}")
