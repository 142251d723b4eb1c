// The explorer page's script: shows precomputed steps; it does no calculus.
// Every number comes from Python (autograd_mini/views/explorer/data.py) in the JSON
// block #explorer-data. State after k steps = the leaves' data, then the
// changes of steps 1..k applied in order.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var steps = data.steps;
  var nodes = data.nodes;
  var body = document.body;
  var svg = document.querySelector("#graph svg");
  var step = 0;
  var timer = null;

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
    var state = {data: {}, grad: {}, tone: {}, revealed: {}};
    Object.keys(nodes).forEach(function (id) {
      if (nodes[id].kind === "leaf" || nodes[id].kind === "constant") { state.data[id] = nodes[id].shown; }
    });
    for (var i = 0; i < k; i++) {
      var s = steps[i];
      Object.keys(s.data).forEach(function (id) { state.data[id] = s.data[id]; });
      Object.keys(s.grad).forEach(function (id) { state.grad[id] = s.grad[id]; });
      Object.keys(s.tone || {}).forEach(function (id) { state.tone[id] = s.tone[id]; });
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
    document.getElementById("counter").textContent = "step " + step + " / " + steps.length;
    document.getElementById("prev").disabled = step === 0;
    document.getElementById("reset").disabled = step === 0;
    document.getElementById("next").disabled = step === steps.length;
    if ((step === 0 || step === steps.length) && fitsWhole()) {
      fit();
    } else if (step === 0) {
      startView();
    } else {  // a step brings its nodes into sight; the end of a big graph, those of the last rule
      var shown = current.phase === "done" && step > 1 ? steps[step - 2] : current;
      follow([shown.node].concat(shown.receivers).map(function (id) { return boxes[id].g; }));
    }
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

  // Screen pixels per SVG point. The labels are laid out at 11pt, shown at 11px at READABLE.
  // A graph that fits whole at FITS or more (text at 9px or larger) is shown whole, centred,
  // at the start and the end; a bigger one is followed step by step at READABLE. A fit never
  // enlarges past MOST.
  var READABLE = 1.0;
  var FITS = 0.8;
  var MOST = 1.5;

  function area() {  // the drawing's box on screen, or null while it is not displayed
    var rect = svg.getBoundingClientRect();
    return rect.width && rect.height && svg.getScreenCTM() ? rect : null;
  }

  function fitScale(rect) { return Math.min(rect.width / home.width, rect.height / home.height); }

  function fitsWhole() {
    var rect = area();
    return !!rect && fitScale(rect) >= FITS;
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
    if (!rect || fitScale(rect) >= FITS) { return; }
    view.width = rect.width / READABLE;
    view.height = rect.height / READABLE;
    applyView();
    var first = opNodes[steps[0].node + "_op"] || boxes[steps[0].node].g;
    centreOn(first.getBoundingClientRect());
  }

  function follow(gs) {  // pan so the step's nodes are in sight (centred on them), keeping the zoom
    var rects = gs.map(function (g) { return g.getBoundingClientRect(); });
    var r = {
      left: Math.min.apply(null, rects.map(function (b) { return b.left; })),
      right: Math.max.apply(null, rects.map(function (b) { return b.right; })),
      top: Math.min.apply(null, rects.map(function (b) { return b.top; })),
      bottom: Math.max.apply(null, rects.map(function (b) { return b.bottom; }))
    };
    r.width = r.right - r.left;
    r.height = r.bottom - r.top;
    var s = area();
    if (!s) { return; }  // not displayed (a hidden tab)
    if (r.width > s.width || r.height > s.height) { r = rects[0]; }  // too spread out: the node itself
    if (r.left >= s.left && r.right <= s.right && r.top >= s.top && r.bottom <= s.bottom) { return; }
    centreOn(r);
  }

  var drag = null;
  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoom(Math.pow(1.0015, event.deltaY), event.clientX, event.clientY);
  }, {passive: false});
  svg.addEventListener("pointerdown", function (event) {
    drag = {x: event.clientX, y: event.clientY, moved: false};
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x;
    var dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    drag.moved = true;
    var rect = svg.getBoundingClientRect();
    var scale = Math.max(view.width / rect.width, view.height / rect.height);
    view.x -= dx * scale;
    view.y -= dy * scale;
    drag.x = event.clientX;
    drag.y = event.clientY;
    applyView();
  });
  var dragEnded = 0;
  window.addEventListener("pointerup", function () {
    if (drag && drag.moved) { dragEnded = Date.now(); }
    drag = null;
  });

  // --- the neuron view ---------------------------------------------------------------------
  var nv = data.neuronView;
  var nvBox = document.getElementById("neuron-view");
  var nvStep = 0;
  var nvExample = nv ? nv.examples[0] : 0;
  var nvEls = {};
  var nvEdges = {};
  var MATHML = "http://www.w3.org/1998/Math/MathML";
  if (nv) {
    Array.prototype.forEach.call(nvBox.querySelectorAll("g.nv"), function (g) { nvEls[g.getAttribute("data-key")] = g; });
    Array.prototype.forEach.call(nvBox.querySelectorAll("g.nv-edge"), function (g) {
      nvEdges[g.getAttribute("data-edge")] = g;
    });
    var exampleSelect = document.getElementById("example");
    nv.examples.forEach(function (e) {
      var o = document.createElement("option");
      o.value = String(e);
      o.textContent = nv.examples.length > 1 ? e + ": x = [" + nv.inputs[String(e)].join(", ") + "]" : "the only one";
      exampleSelect.appendChild(o);
    });
    exampleSelect.disabled = nv.examples.length < 2;
    exampleSelect.addEventListener("change", function () {
      pause();
      nvExample = Number(exampleSelect.value);
      nvRender(nvStep);
    });
    var jump = document.getElementById("jump");
    nv.jumps.forEach(function (j) {
      var o = document.createElement("option");
      o.value = String(j[1]);
      o.textContent = j[0];
      jump.appendChild(o);
    });
    jump.addEventListener("change", function () {
      if (jump.value === "") { return; }
      pause();
      setView("neurons");
      nvRender(Number(jump.value));
      jump.value = "";
    });
  }

  function nvSteps() { return nv.steps[String(nvExample)]; }

  // The neuron view is always shown whole; it "fits" when its smallest text (12 units) is 11px or more.
  var NV_SMALLEST_TEXT = 12;
  function nvFits() {
    var svgEl = nvBox.querySelector("svg");
    var rect = svgEl.getBoundingClientRect();
    var box = svgEl.viewBox.baseVal;
    return !!rect.width && Math.min(rect.width / box.width, rect.height / box.height) * NV_SMALLEST_TEXT >= 11;
  }

  function fitsNow() { return mode === "neurons" ? nvFits() : fitsWhole(); }

  // The neuron view's zoom and pan, through its viewBox (as the op view's): wheel, drag, -/Fit/+.
  var nvSvg = nv ? nvBox.querySelector("svg") : null;
  var nvHome = nvSvg ? {x: nvSvg.viewBox.baseVal.x, y: nvSvg.viewBox.baseVal.y,
                        width: nvSvg.viewBox.baseVal.width, height: nvSvg.viewBox.baseVal.height} : null;
  var nvView = nvHome ? {x: nvHome.x, y: nvHome.y, width: nvHome.width, height: nvHome.height} : null;
  var nvDrag = null;
  var nvDragEnded = 0;
  function nvApply() { nvSvg.setAttribute("viewBox", [nvView.x, nvView.y, nvView.width, nvView.height].join(" ")); }
  function nvFit() {
    nvView = {x: nvHome.x, y: nvHome.y, width: nvHome.width, height: nvHome.height};
    nvApply();
  }
  function nvZoom(factor, clientX, clientY) {
    var rect = nvSvg.getBoundingClientRect();
    var pt = nvSvg.createSVGPoint();
    pt.x = clientX === undefined ? rect.left + rect.width / 2 : clientX;
    pt.y = clientY === undefined ? rect.top + rect.height / 2 : clientY;
    var at = pt.matrixTransform(nvSvg.getScreenCTM().inverse());
    nvView.x = at.x - (at.x - nvView.x) * factor;
    nvView.y = at.y - (at.y - nvView.y) * factor;
    nvView.width *= factor;
    nvView.height *= factor;
    nvApply();
  }
  function nvFollow(g) {  // pan so the step's box is in sight, keeping the zoom
    var r = g.getBoundingClientRect();
    var s = nvSvg.getBoundingClientRect();
    if (!r.width || (r.left >= s.left && r.right <= s.right && r.top >= s.top && r.bottom <= s.bottom)) { return; }
    var scale = Math.max(nvView.width / s.width, nvView.height / s.height);
    nvView.x += (r.left + r.width / 2 - (s.left + s.width / 2)) * scale;
    nvView.y += (r.top + r.height / 2 - (s.top + s.height / 2)) * scale;
    nvApply();
  }
  if (nvSvg) {
    nvSvg.addEventListener("wheel", function (event) {
      event.preventDefault();
      nvZoom(Math.pow(1.0015, event.deltaY), event.clientX, event.clientY);
    }, {passive: false});
    nvSvg.addEventListener("pointerdown", function (event) { nvDrag = {x: event.clientX, y: event.clientY, moved: false}; });
    nvSvg.addEventListener("pointermove", function (event) {
      if (!nvDrag) { return; }
      var dx = event.clientX - nvDrag.x;
      var dy = event.clientY - nvDrag.y;
      if (!nvDrag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      nvDrag.moved = true;
      var rect = nvSvg.getBoundingClientRect();
      var scale = Math.max(nvView.width / rect.width, nvView.height / rect.height);
      nvView.x -= dx * scale;
      nvView.y -= dy * scale;
      nvDrag.x = event.clientX;
      nvDrag.y = event.clientY;
      nvApply();
    });
    window.addEventListener("pointerup", function () {
      if (nvDrag && nvDrag.moved) { nvDragEnded = Date.now(); }
      nvDrag = null;
    });
  }

  function setText(g, cls, text) {
    var t = g.querySelector("text." + cls);
    if (t) { t.textContent = text; }
  }

  function nvRender(k) {
    var list = nvSteps();
    nvStep = Math.max(0, Math.min(list.length, k));
    var current = nvStep > 0 ? list[nvStep - 1] : null;
    render(current ? current.opStep : 0);  // the op-level view follows: the same numbers, the same contract
    var shown = {};
    for (var i = 0; i < nvStep; i++) {
      list[i].reveal.forEach(function (r) { (shown[r[0]] = shown[r[0]] || {})[r[1]] = true; });
    }
    Array.prototype.forEach.call(nvBox.querySelectorAll("[data-example]"), function (g) {
      if (g.classList.contains("example") || g.classList.contains("example-edges")) {
        g.style.display = g.getAttribute("data-example") === String(nvExample) ? "" : "none";
      }
    });
    Object.keys(nvEls).forEach(function (key) {
      var info = nv.nodes[key];
      var g = nvEls[key];
      var s = shown[key] || {};
      if (info.kind === "neuron") {
        setText(g, "net", s.net ? "net  " + info.net : "net  ?");
        setText(g, "out", s.out ? "O  " + info.out : "O  ?");
        setText(g, "dout", s.dout ? "\u2202E/\u2202O  " + info.dout : "");
        setText(g, "delta", s.delta ? "\u03b4  " + info.delta : "");
        g.setAttribute("data-net", s.net ? info.netExact : "");
        g.setAttribute("data-out", s.out ? info.outExact : "");
        g.setAttribute("data-dout", s.dout ? info.doutExact : "");
        g.setAttribute("data-delta", s.delta ? info.deltaExact : "");
        setTone(g, s.delta ? info.tone : null);
        setClass(g, "pending", !s.out);
      } else if (info.kind === "loss") {
        setText(g, "val", s.data ? (nv.examples.length > 1 ? "term " + info.term : "E  " + info.data) : "?");
        setClass(g, "pending", !s.data);
      }
      setClass(g, "current", !!current && current.key === key);
    });
    var active = {};
    if (current) { current.edges.forEach(function (id) { active[id] = true; }); }
    Object.keys(nvEdges).forEach(function (id) {
      var e = nv.edges[id];
      var g = nvEdges[id];
      var path = g.querySelector("path");
      if (e.weight !== null) {
        var grad = !!(shown[e.to] && shown[e.to].delta);
        path.style.strokeWidth = String(grad ? e.gWidth : e.wWidth);
        ["pos", "neg", "zero"].forEach(function (c) { g.classList.remove(c); });
        g.classList.add(grad ? e.gSign : e.wSign);
        setClass(g, "grad", grad);
        g.querySelector("title").textContent = e.weight + " = " + e.w + (grad ? ";  dE/dw (this example) = " + e.g : "");
      }
      setClass(g, "active", !!active[id]);
      setClass(g, "dim", !!current && current.phase !== "done" && !active[id]);
    });
    nvShowStep(current, list);
    if (current && current.key && nvEls[current.key]) { nvFollow(nvEls[current.key]); }
    nvBox.setAttribute("data-step", String(nvStep));
    nvBox.setAttribute("data-steps", String(list.length));
    nvBox.setAttribute("data-example", String(nvExample));
    nvBox.setAttribute("data-phase", current ? current.phase : "start");
    document.getElementById("counter").textContent = "step " + nvStep + " / " + list.length;
    document.getElementById("prev").disabled = nvStep === 0;
    document.getElementById("reset").disabled = nvStep === 0;
    document.getElementById("next").disabled = nvStep === list.length;
  }

  // A formula from Python in its short form (mathml.packed): a leaf is a string, its kind's letter
  // then its text; a node a list led by its letter. Built as MathML elements: text only, never markup.
  var LEAF = {i: "mi", n: "mn", o: "mo", t: "mtext"};
  var NODE = {r: "mrow", s: "msub", f: "mfrac", p: "msup"};
  function buildMath(tree) {
    var el;
    if (typeof tree === "string") {
      el = document.createElementNS(MATHML, LEAF[tree.charAt(0)]);
      el.textContent = tree.slice(1);
      if (tree.charAt(0) === "i" && tree.length > 2) { el.setAttribute("mathvariant", "normal"); }
      return el;
    }
    el = document.createElementNS(MATHML, NODE[tree[0]]);
    tree.slice(1).forEach(function (child) { el.appendChild(buildMath(child)); });
    return el;
  }

  function addFormula(parent, line) {  // a typeset formula with its equation number beside it
    var div = document.createElement("div");
    div.className = "line formula";
    if (line.math) {
      var math = document.createElementNS(MATHML, "math");
      math.setAttribute("display", "block");
      math.appendChild(buildMath(line.math));
      math.setAttribute("aria-label", line.text || math.textContent);
      div.appendChild(math);
      var eq = document.createElement("span");
      eq.className = "eq";
      eq.textContent = line.eq;
      div.appendChild(eq);
    } else {
      div.textContent = line.text;
    }
    parent.appendChild(div);
  }

  function nvShowStep(current, list) {
    var title = document.getElementById("step-title");
    var text = document.getElementById("step-text");
    text.textContent = "";
    if (!current) {
      title.textContent = "Start: example " + nvExample + "'s inputs";
      addLine(text, "Forward: one step per neuron, layer by layer: net_j (1.1), O_j (1.2); then the loss.");
      addLine(text, "Backward: one step per neuron, output first: dE/dO_j (1.6) or (1.7)/(1.8), delta_j (1.3), " +
        "dE/dw_ij (1.5). Edges show the weights (colour: sign, thickness: size), then dE/dw_ij.");
      addLine(text, "Click a neuron to open its op-level nodes.");
      (nv.intro || []).forEach(function (line) { addFormula(text, line); });
      return;
    }
    title.textContent = current.title;
    current.lines.forEach(function (line) { addFormula(text, line); });
  }

  var mode = body.getAttribute("data-view");
  function setView(name) {
    if (!nv) { name = "ops"; }
    mode = name;
    body.setAttribute("data-view", name);
    centreCells();
    setClass(document.getElementById("view-neurons") || body, "on", name === "neurons");
    setClass(document.getElementById("view-ops") || body, "on", name === "ops");
  }

  // One set of controls for both views: the neuron view's steps, or the op-level steps.
  function position() { return mode === "neurons" ? nvStep : step; }
  function length() { return mode === "neurons" ? nvSteps().length : steps.length; }
  function go(k) {
    if (mode === "neurons") { nvRender(k); } else { render(k); }
  }
  function backwardStart() { return mode === "neurons" ? nvSteps()[0].backwardStart : data.backwardStart; }

  // --- controls ---------------------------------------------------------------------------
  function play() {
    if (timer !== null) { pause(); return; }
    if (position() === length()) { go(0); }
    timer = window.setInterval(function () {
      if (position() >= length()) { pause(); return; }
      go(position() + 1);
    }, Number(document.getElementById("speed").value));
    document.getElementById("play").textContent = "Pause";
  }

  function pause() {
    if (timer !== null) { window.clearInterval(timer); }
    timer = null;
    document.getElementById("play").textContent = "Play";
  }

  function togglePanel(open) {
    var closed = open === undefined ? !body.classList.contains("panel-closed") : !open;
    setClass(body, "panel-closed", closed);
    document.getElementById("panel").setAttribute("aria-expanded", closed ? "false" : "true");
    if ((step === 0 || step === steps.length) && fitsWhole()) { fit(); }
  }

  function on(id, handler) { document.getElementById(id).addEventListener("click", handler); }
  on("next", function () { pause(); go(position() + 1); });
  on("prev", function () { pause(); go(position() - 1); });
  on("reset", function () { pause(); go(0); });
  on("backward", function () { pause(); go(backwardStart()); });
  on("play", play);
  on("zoom-in", function () { if (mode === "neurons") { nvZoom(1 / 1.25); } else { zoom(1 / 1.25); } });
  on("zoom-out", function () { if (mode === "neurons") { nvZoom(1.25); } else { zoom(1.25); } });
  on("fit", function () { if (mode === "neurons") { nvFit(); } else { fit(); } });
  on("panel", function () { togglePanel(); });
  if (nv) {
    on("view-neurons", function () { pause(); setView("neurons"); nvRender(nvStep); });
    on("view-ops", function () { pause(); setView("ops"); render(step); });
    nvBox.addEventListener("click", function (event) {
      if (Date.now() - nvDragEnded < 300) { return; }  // the end of a pan, not a click
      var g = event.target.closest("g.nv");
      if (!g) { return; }
      var info = nv.nodes[g.getAttribute("data-key")];
      if (!info || !info.node) { return; }
      pause();
      setView("ops");
      render(step);
      showDetails(info.node);
      expandTo(info.members || [info.node], info.node);
    });
  }
  document.getElementById("speed").addEventListener("change", function () {
    if (timer !== null) { pause(); play(); }
  });

  function expandTo(ids, main) {  // the op-level view at a readable scale on a neuron's nodes
    fit();
    var rect = area();
    if (!rect) { return; }
    var gs = ids.map(function (id) { return boxes[id] ? boxes[id].g : opNodes[id]; }).filter(Boolean);
    if (!gs.length) { return; }
    if (fitScale(rect) < READABLE) {
      view.width = rect.width / READABLE;
      view.height = rect.height / READABLE;
      applyView();
    }
    follow(gs.concat(boxes[main] ? [boxes[main].g] : []));
    if (boxes[main]) { centreOn(boxes[main].g.getBoundingClientRect()); }
  }


  svg.addEventListener("click", function (event) {
    if (Date.now() - dragEnded < 300) { return; }  // the end of a pan, not a click
    var g = event.target.closest("g.node");
    if (!g) { return; }
    showDetails(g.getAttribute("data-of") || g.getAttribute("data-node"));
  });

  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    if (tag === "SELECT" || tag === "INPUT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey) { return; }
    var actions = {
      ArrowRight: function () { pause(); go(position() + 1); },
      ArrowLeft: function () { pause(); go(position() - 1); },
      Home: function () { pause(); go(0); },
      End: function () { pause(); go(length()); },
      b: function () { pause(); go(backwardStart()); },
      p: function () { togglePanel(); },
      n: function () { if (nv) { pause(); setView("neurons"); nvRender(nvStep); } },
      o: function () { if (nv) { pause(); setView("ops"); render(step); } },
      " ": play
    };
    var action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  window.addEventListener("resize", function () {  // keep the whole graph in sight where it was shown
    if ((step === 0 || step === steps.length) && fitsWhole()) { fit(); }
  });

  setView(mode);
  // The side panel sits beside the graph, never over it. In a narrow frame (a notebook) it starts
  // folded; in a window it folds when that is what lets the whole graph be shown readably.
  if (window.innerWidth < 1100) {
    togglePanel(false);
  } else if (!fitsNow()) {
    togglePanel(false);
    if (!fitsNow()) { togglePanel(true); }
  }
  if (mode === "neurons") { nvRender(0); } else { render(0); }
}());
