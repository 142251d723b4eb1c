// The explorer page's script: shows precomputed steps; it does no calculus.
// Every number comes from Python (autograd_mini/views/explorer/data.py) in the JSON
// block #explorer-data. State after k steps = the leaves' data, then the
// changes of steps 1..k applied in order.
// It is the first of three files that page.py puts, in this order, into the page's one
// script, inside one function scope: explorer.js (the op-level view), neuron_view.js (the
// neuron view), controls.js (buttons, keys, the start). They share that scope's names.

  var data = unshared(JSON.parse(document.getElementById("explorer-data").textContent));
  var steps = data.steps;
  var nodes = data.nodes;
  var body = document.body;
  var svg = document.querySelector("#graph svg");
  var step = 0;
  var timer = null;

  // The data comes with each repeated piece stored once (sharing.py): {"shared": table, "data": ...}, where
  // {"@": k} stands for the table's k-th entry (which may refer to earlier ones) and {"\n": lines} for
  // the text of those lines. Restored as it was; the restored pieces are shared, and only ever read.
  function unshared(packed) {
    var table = [];
    var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
    function restore(value) {
      if (Array.isArray(value)) { return value.map(restore); }
      if (value === null || typeof value !== "object") { return value; }
      if (has(value, "@")) { return table[value["@"]]; }
      if (has(value, "\n")) { return restore(value["\n"]).join("\n"); }
      var out = {};
      Object.keys(value).forEach(function (k) { out[k] = restore(value[k]); });
      return out;
    }
    packed.shared.forEach(function (entry) { table.push(restore(entry)); });
    return restore(packed.data);
  }

  // --- the SVG elements, found once -------------------------------------------------
  var boxes = {};  // node id -> {g, dataText, gradText}
  Array.prototype.forEach.call(svg.querySelectorAll("g.node.value"), function (g) {
    var texts = g.querySelectorAll("text");  // the last two cells are "data ..." and "grad ..."
    boxes[g.getAttribute("data-node")] = {
      g: g, dataText: texts[texts.length - 2], gradText: texts[texts.length - 1]
    };
  });

  function centreInCell(text) {  // the page rewrites the text: keep it in the middle of its cell
    var cell = text.previousElementSibling;
    if (!cell || cell.tagName.toLowerCase() !== "polygon") { return; }
    var b = cell.getBBox();
    text.setAttribute("x", String(b.x + b.width / 2));
    text.setAttribute("text-anchor", "middle");
  }
  var centred = false;
  function centreCells() {  // once the drawing is displayed: a hidden one has no boxes to measure
    if (centred || !svg.getBoundingClientRect().width) { return; }
    centred = true;
    Object.keys(boxes).forEach(function (id) {
      centreInCell(boxes[id].dataText);
      centreInCell(boxes[id].gradText);
    });
  }

  var opNodes = {};  // "n5_op" -> g
  Array.prototype.forEach.call(svg.querySelectorAll("g.node.op"), function (g) {
    opNodes[g.getAttribute("data-node")] = g;
  });
  var edges = {};  // "n0->n5_op" -> [g, ...] (an input used twice has two edges)
  var edgesInto = {};  // "n5_op" -> [g, ...]
  Array.prototype.forEach.call(svg.querySelectorAll("g.edge"), function (g) {
    var key = g.querySelector("title").textContent;
    (edges[key] = edges[key] || []).push(g);
    var dst = key.split("->")[1];
    (edgesInto[dst] = edgesInto[dst] || []).push(g);
  });

  // --- rendering the state after k steps -------------------------------------------
  function stateAt(k) {
    var state = {data: {}, grad: {}, tone: {}, revealed: {}, tangent: {}};
    Object.keys(nodes).forEach(function (id) {
      if (nodes[id].kind === "leaf" || nodes[id].kind === "constant") { state.data[id] = nodes[id].shown; }
      if (nodes[id].tangent) { state.tangent[id] = nodes[id].tangent; }
    });
    for (var i = 0; i < k; i++) {
      var s = steps[i];
      Object.keys(s.data).forEach(function (id) { state.data[id] = s.data[id]; });
      Object.keys(s.grad).forEach(function (id) { state.grad[id] = s.grad[id]; });
      Object.keys(s.tone || {}).forEach(function (id) { state.tone[id] = s.tone[id]; });
      Object.keys(s.tangent || {}).forEach(function (id) { state.tangent[id] = s.tangent[id]; });
      s.reveal.forEach(function (id) { state.revealed[id] = true; });
    }
    return state;
  }

  function setClass(el, name, on) {
    if (on) { el.classList.add(name); } else { el.classList.remove(name); }
  }

  function render(k) {
    step = Math.max(0, Math.min(steps.length, k));
    var state = stateAt(step);
    var current = step > 0 ? steps[step - 1] : null;
    var receivers = {};
    if (current) { current.receivers.forEach(function (id) { receivers[id] = true; }); }
    Object.keys(boxes).forEach(function (id) {
      var box = boxes[id];
      var known = Object.prototype.hasOwnProperty.call(state.data, id);
      var constant = nodes[id].constant;  // requires_grad=False: backward() never gives it a gradient
      var grad = constant ? null : state.grad[id];
      box.dataText.textContent = "data " + (known ? state.data[id] : "?");
      box.gradText.textContent = constant ? "const: no grad" : "grad " + (grad ? grad[0] : "?");
      box.g.setAttribute("data-grad", grad ? grad[1] : "");
      setClass(box.g, "constant", constant);
      setClass(box.g, "pending", !known);
      setClass(box.g, "current", !!current && current.node === id && current.phase !== "done");
      setClass(box.g, "receiving", !!receivers[id]);
      setTone(box.g, grad ? state.tone[id] : null);
      if (data.tangentOf) { showTangent(box, state.tangent[id]); }
    });
    Object.keys(opNodes).forEach(function (id) {
      var of = opNodes[id].getAttribute("data-of");
      setClass(opNodes[id], "pending", !Object.prototype.hasOwnProperty.call(state.data, of));
      setClass(opNodes[id], "current", !!current && current.node === of && current.phase !== "done");
      (edgesInto[id] || []).forEach(function (g) { setClass(g, "revealed", !!state.revealed[id]); });
    });
    Object.keys(edges).forEach(function (key) {
      edges[key].forEach(function (g) { g.classList.remove("active"); });
    });
    Array.prototype.forEach.call(svg.querySelectorAll("text.contrib"), function (t) { t.remove(); });
    if (current) {
      current.edges.forEach(function (e) {
        (edges[e[0] + "->" + e[1]] || []).forEach(function (g) {
          g.classList.add("active");
          var text = current.contrib && current.contrib[e[0]];
          if (text) { drawAlong(g, text); }
        });
      });
    }
    showStep(current);
    body.setAttribute("data-step", String(step));
    body.setAttribute("data-phase", current ? current.phase : "start");
    showCounter(step, steps.length);
    if ((step === 0 || step === steps.length) && fitsWhole()) {
      fit();
    } else if (step === 0) {
      startView();
    } else {  // a step brings its nodes into sight; the end of a big graph, those of the last rule
      var shown = current.phase === "done" && step > 1 ? steps[step - 2] : current;
      follow([shown.node].concat(shown.receivers).map(function (id) { return boxes[id].g; }));
    }
  }

  // Forward mode (explore(root, forward_mode=x)): each box's tangent t = d node/d x, written under it
  // once its forward step (or, for a leaf, the start) has computed it; data-tangent has the exact number.
  function showTangent(box, tangent) {
    box.g.setAttribute("data-tangent", tangent ? tangent[1] : "");
    if (!box.tangentText) {
      if (!svg.getBoundingClientRect().width) { return; }  // not displayed yet: nothing to measure
      var cell = box.g.querySelector("polygon");
      var b = (cell || box.g).getBBox();
      var t = document.createElementNS("http://www.w3.org/2000/svg", "text");
      t.setAttribute("class", "tangent");
      t.setAttribute("x", String(b.x + b.width / 2));
      t.setAttribute("y", String(b.y + b.height + 10));
      t.setAttribute("text-anchor", "middle");
      box.g.appendChild(t);
      box.tangentText = t;
    }
    box.tangentText.textContent = tangent ? "t = " + tangent[0] : "";
    setClass(box.g, "seed", box.g.getAttribute("data-node") === data.tangentOf);
  }

  var TONES = ["pos1", "pos2", "pos3", "pos4", "neg1", "neg2", "neg3", "neg4", "zero"];
  function setTone(el, tone) {  // the gradient's sign and size, as Python graded it
    TONES.forEach(function (t) { el.classList.remove("g" + t); });
    if (tone) { el.classList.add("g" + tone); }
  }

  function drawAlong(g, text) {  // the contribution g x local, written at the middle of the edge
    var path = g.querySelector("path");
    if (!path || !path.getTotalLength) { return; }
    var length = path.getTotalLength();
    var start = path.getPointAtLength(0);
    var end = path.getPointAtLength(length);
    var mid = path.getPointAtLength(length * 0.55);
    var t = document.createElementNS("http://www.w3.org/2000/svg", "text");
    t.setAttribute("class", "contrib");
    // Beside the edge, on the side it comes from: two edges into one op keep their texts apart.
    var leftward = end.x - start.x < -1;
    var horizontal = Math.abs(end.y - start.y) < Math.abs(end.x - start.x) / 3;
    t.setAttribute("x", String(horizontal ? mid.x : mid.x + (leftward ? 7 : -7)));
    t.setAttribute("y", String(horizontal ? mid.y - 6 : mid.y + 4));
    t.setAttribute("text-anchor", horizontal ? "middle" : leftward ? "start" : "end");
    t.textContent = text;
    g.appendChild(t);
  }

  function showStep(current) {
    var title = document.getElementById("step-title");
    var text = document.getElementById("step-text");
    text.textContent = "";
    if (!current) {
      title.textContent = "Start: the leaves have their values";
      addLine(text, "Forward pass: " + data.backwardStart + " steps, one node's value each, inputs first.");
      addLine(text, "Backward pass: " + (steps.length - data.backwardStart - 1) + " steps, one node's rule each, " +
        "root first; then the gradients backward() leaves.");
      if (data.tangentOf) {
        addLine(text, "Forward mode: each forward step also computes its node's tangent t = d node/d " +
          nodes[data.tangentOf].name + ", inputs first, from the seed t = 1.");
      }
      (data.intro || []).forEach(function (line) { addFormula(text, line); });
      return;
    }
    title.textContent = current.title;
    current.lines.forEach(function (line, i) {
      var typeset = current.math && current.math[i];
      if (typeset) { addFormula(text, typeset); } else { addLine(text, line); }
    });
  }

  function addLine(parent, line) {
    var p = document.createElement("div");
    p.className = "line";
    p.textContent = line;
    parent.appendChild(p);
  }

  // --- the details panel ---------------------------------------------------------------
  function showDetails(id) {
    var info = nodes[id];
    var panel = document.getElementById("details");
    var state = stateAt(step);
    panel.textContent = "";
    var h = document.createElement("h2");
    var ofExample = info.example !== null && info.example !== undefined ? ", example " + info.example : "";
    h.textContent = info.name + "  (" + info.kind + ofExample + ")";
    panel.appendChild(h);
    var grad = state.grad[id];
    var gradText = info.constant ? "none: a constant (requires_grad=False) gets no gradient"
      : grad ? grad[0] : "not reached yet";
    var facts = [
      ["data", info.data], ["grad now", gradText],
      ["forward", info.forward], ["rule", info.rule]
    ];
    if (data.tangentOf) {
      var tangent = state.tangent[id];
      facts.push(["tangent now", "d " + info.name + "/d " + nodes[data.tangentOf].name + " = " +
        (tangent ? tangent[0] : "not computed yet")]);
    }
    if (info.example !== null && info.example !== undefined) {
      facts.push(["example", "example " + info.example + " (its own forward pass; the weights are shared)"]);
    }
    if (info.neuron) { facts.push(["neuron", info.neuron]); }
    if (info.symbol) { facts.push(["in (1.1)-(1.10)", info.symbol]); }
    var dl = document.createElement("dl");
    facts.forEach(function (f) {
      var dt = document.createElement("dt");
      dt.textContent = f[0];
      var dd = document.createElement("dd");
      dd.textContent = f[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    panel.appendChild(dl);
    if (info.deltaMath) {
      var rowHeading = document.createElement("h3");
      rowHeading.textContent = "Delta table row: " + info.delta.split("\n")[0];
      panel.appendChild(rowHeading);
      var rowBox = document.createElement("div");
      rowBox.className = "typeset delta";
      info.deltaMath.forEach(function (line) { addFormula(rowBox, line); });
      panel.appendChild(rowBox);
      addBlock(panel, "The row as text", info.delta, "delta");
    } else if (info.delta) { addBlock(panel, "Delta table row", info.delta, "delta"); }
    var h3 = document.createElement("h3");
    h3.textContent = "Chain-rule paths to the root (explain)";
    panel.appendChild(h3);
    var typeset = document.createElement("div");
    typeset.className = "typeset";
    (info.explainMath || []).forEach(function (line) { addFormula(typeset, line); });
    panel.appendChild(typeset);
    addBlock(panel, "The same as text", info.explain, "explain");
    Object.keys(boxes).forEach(function (other) { setClass(boxes[other].g, "selected", other === id); });
    if (body.classList.contains("panel-closed")) { togglePanel(true); }  // a click asks for the details
    panel.scrollIntoView({block: "nearest"});
  }

  function addBlock(panel, heading, text, cls) {  // one block per line: a long line wraps, indented
    var h = document.createElement("h3");
    h.textContent = heading;
    var pre = document.createElement("pre");
    pre.className = cls;
    text.split("\n").forEach(function (line) {
      var span = document.createElement("span");
      span.className = "line";
      span.textContent = line;
      pre.appendChild(span);
    });
    panel.appendChild(h);
    panel.appendChild(pre);
  }

  // --- zoom and pan through the viewBox ------------------------------------------------
  var full = svg.viewBox.baseVal;
  var home = {x: full.x, y: full.y, width: full.width, height: full.height};
  var view = {x: home.x, y: home.y, width: home.width, height: home.height};

  function applyView() {
    svg.setAttribute("viewBox", [view.x, view.y, view.width, view.height].join(" "));
  }

  function toSvg(clientX, clientY) {
    var pt = svg.createSVGPoint();
    pt.x = clientX;
    pt.y = clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  function zoom(factor, clientX, clientY) {
    var rect = svg.getBoundingClientRect();
    var at = toSvg(clientX === undefined ? rect.left + rect.width / 2 : clientX,
                   clientY === undefined ? rect.top + rect.height / 2 : clientY);
    view.x = at.x - (at.x - view.x) * factor;
    view.y = at.y - (at.y - view.y) * factor;
    view.width *= factor;
    view.height *= factor;
    applyView();
  }

  // Screen pixels per SVG point. The labels are laid out at 11 units, shown at 11px at READABLE.
  // A graph that fits whole at READABLE or more is shown whole, centred, at the start and the end;
  // a bigger one opens at READABLE on the first node computed and is followed step by step
  // ("Fit all" shows it whole). A fit never enlarges past MOST.
  var READABLE = 1.0;
  var MOST = 1.5;

  function area() {  // the drawing's box on screen, or null while it is not displayed
    var rect = svg.getBoundingClientRect();
    return rect.width && rect.height && svg.getScreenCTM() ? rect : null;
  }

  function fitScale(rect) { return Math.min(rect.width / home.width, rect.height / home.height); }

  function fitsWhole() {
    var rect = area();
    return !!rect && fitScale(rect) >= READABLE;
  }

  function fit() {  // the whole graph, centred (the viewBox is centred by the default xMidYMid meet)
    view = {x: home.x, y: home.y, width: home.width, height: home.height};
    var rect = area();
    if (rect && fitScale(rect) > MOST) {
      view.width = rect.width / MOST;
      view.height = rect.height / MOST;
      view.x = home.x + (home.width - view.width) / 2;
      view.y = home.y + (home.height - view.height) / 2;
    }
    applyView();
  }

  function clampView() {  // keep the graph in sight: centred on an axis where it is smaller than the view
    [["x", "width"], ["y", "height"]].forEach(function (axis) {
      var pos = axis[0];
      var size = axis[1];
      if (view[size] >= home[size]) {
        view[pos] = home[pos] + (home[size] - view[size]) / 2;
      } else {
        view[pos] = Math.max(home[pos], Math.min(home[pos] + home[size] - view[size], view[pos]));
      }
    });
  }

  function centreOn(rect) {  // pan so the screen rectangle `rect` is in the middle, keeping the zoom
    var centre = toSvg(rect.left + rect.width / 2, rect.top + rect.height / 2);
    view.x = centre.x - view.width / 2;
    view.y = centre.y - view.height / 2;
    clampView();
    applyView();
  }

  // The start: a graph that fits is shown whole; a bigger one at a readable scale, centred on
  // the op of the first node the forward pass computes (its inputs on one side, it on the other).
  function startView() {
    fit();
    var rect = area();
    if (!rect || fitScale(rect) >= READABLE) { return; }
    view.width = rect.width / READABLE;
    view.height = rect.height / READABLE;
    applyView();
    var first = opNodes[steps[0].node + "_op"] || boxes[steps[0].node].g;
    centreOn(first.getBoundingClientRect());
  }

  function follow(gs) {  // pan so the step's nodes are in sight (centred on them), keeping the zoom
    var r = union(gs);
    var s = area();
    if (!s) { return; }  // not displayed (a hidden tab)
    if (r.width > s.width || r.height > s.height) { r = gs[0].getBoundingClientRect(); }  // too spread out: the node itself
    if (r.left >= s.left && r.right <= s.right && r.top >= s.top && r.bottom <= s.bottom) { return; }
    centreOn(r);
  }

  function union(gs) {  // the screen rectangle around the elements `gs`
    var rects = gs.map(function (g) { return g.getBoundingClientRect(); });
    var r = {
      left: Math.min.apply(null, rects.map(function (b) { return b.left; })),
      right: Math.max.apply(null, rects.map(function (b) { return b.right; })),
      top: Math.min.apply(null, rects.map(function (b) { return b.top; })),
      bottom: Math.max.apply(null, rects.map(function (b) { return b.bottom; }))
    };
    r.width = r.right - r.left;
    r.height = r.bottom - r.top;
    return r;
  }

  function showCounter(k, n) {  // "step k / n", and the buttons that cannot move further disabled
    document.getElementById("counter").textContent = "step " + k + " / " + n;
    document.getElementById("prev").disabled = k === 0;
    document.getElementById("reset").disabled = k === 0;
    document.getElementById("next").disabled = k === n;
  }

  // Wheel zoom and drag pan on `el`, whose viewBox `getView()` holds; `zoomBy` and `apply` redraw.
  // Returns a function giving when the last pan ended (a click right after a pan is not a click).
  function panAndZoom(el, getView, zoomBy, apply) {
    var drag = null;
    var ended = 0;
    el.addEventListener("wheel", function (event) {
      event.preventDefault();
      zoomBy(Math.pow(1.0015, event.deltaY), event.clientX, event.clientY);
    }, {passive: false});
    el.addEventListener("pointerdown", function (event) {
      drag = {x: event.clientX, y: event.clientY, moved: false};
    });
    el.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x;
      var dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      drag.moved = true;
      var v = getView();
      var rect = el.getBoundingClientRect();
      var scale = Math.max(v.width / rect.width, v.height / rect.height);
      v.x -= dx * scale;
      v.y -= dy * scale;
      drag.x = event.clientX;
      drag.y = event.clientY;
      apply();
    });
    window.addEventListener("pointerup", function () {
      if (drag && drag.moved) { ended = Date.now(); }
      drag = null;
    });
    return function () { return ended; };
  }
  var panEnded = panAndZoom(svg, function () { return view; }, zoom, applyView);

