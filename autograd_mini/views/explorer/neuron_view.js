// The explorer page's neuron view (part 2 of the page's one script; see explorer.js): layers as
// columns, one box per neuron and example, weights as edges; every number precomputed in Python
// (neuron_view.py), shown here.
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

  // The neuron view's zoom and pan, through its viewBox (as the op view's): wheel, drag, -/Fit all/+.
  // It opens whole where its smallest text (12 units) is 11 px or more on screen; a bigger network
  // opens at that scale on the example's inputs, and "Fit all" shows it whole.
  var NV_SMALLEST_TEXT = 12;
  var NV_READABLE = 11 / NV_SMALLEST_TEXT;  // screen pixels per unit
  var nvSvg = nv ? nvBox.querySelector("svg") : null;
  var nvHome = nvSvg ? {x: nvSvg.viewBox.baseVal.x, y: nvSvg.viewBox.baseVal.y,
                        width: nvSvg.viewBox.baseVal.width, height: nvSvg.viewBox.baseVal.height} : null;
  var nvView = nvHome ? {x: nvHome.x, y: nvHome.y, width: nvHome.width, height: nvHome.height} : null;
  function nvApply() { nvSvg.setAttribute("viewBox", [nvView.x, nvView.y, nvView.width, nvView.height].join(" ")); }
  function nvArea() {  // the drawing's box on screen, or null while it is not displayed
    var rect = nvSvg.getBoundingClientRect();
    return rect.width && rect.height ? rect : null;
  }
  function nvFits() {  // the whole network at a readable scale (measured against all of it, not the zoom)
    var rect = nvSvg ? nvArea() : null;
    return !!rect && Math.min(rect.width / nvHome.width, rect.height / nvHome.height) >= NV_READABLE;
  }

  function fitsNow() { return mode === "neurons" ? nvFits() : fitsWhole(); }

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
    nvClamp();
    nvApply();
  }
  function nvClamp() {  // keep the network in sight: centred on an axis where it is smaller than the view
    [["x", "width"], ["y", "height"]].forEach(function (axis) {
      var pos = axis[0];
      var size = axis[1];
      nvView[pos] = nvView[size] >= nvHome[size] ? nvHome[pos] + (nvHome[size] - nvView[size]) / 2
        : Math.max(nvHome[pos], Math.min(nvHome[pos] + nvHome[size] - nvView[size], nvView[pos]));
    });
  }
  function nvStartView() {  // too big to read whole: the readable scale, on the inputs and the first neuron
    var rect = nvArea();
    if (!rect) { return; }
    nvView.width = rect.width / NV_READABLE;
    nvView.height = rect.height / NV_READABLE;
    nvApply();
    var inputs = Array.prototype.slice.call(
      nvBox.querySelectorAll('g.nv.input[data-example="' + nvExample + '"]'));
    var first = nvSteps().length && nvEls[nvSteps()[0].key];
    var shown = union(inputs.concat(first ? [first] : []));
    if (shown.width > rect.width || shown.height > rect.height) { shown = union(inputs); }
    if (shown.width > rect.width || shown.height > rect.height) { shown = union(inputs.slice(0, 1)); }
    var pt = nvSvg.createSVGPoint();
    pt.x = shown.left + shown.width / 2;
    pt.y = shown.top + shown.height / 2;
    var centre = pt.matrixTransform(nvSvg.getScreenCTM().inverse());
    nvView.x = centre.x - nvView.width / 2;
    nvView.y = centre.y - nvView.height / 2;
    nvClamp();
    nvApply();
  }
  var nvPanEnded = nvSvg ? panAndZoom(nvSvg, function () { return nvView; }, nvZoom, nvApply) : function () { return 0; };

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
    if ((nvStep === 0 || nvStep === list.length) && nvFits()) {
      nvFit();
    } else if (nvStep === 0) {
      nvStartView();
    } else if (current && current.key && nvEls[current.key]) {
      nvFollow(nvEls[current.key]);
    }
    nvBox.setAttribute("data-step", String(nvStep));
    nvBox.setAttribute("data-steps", String(list.length));
    nvBox.setAttribute("data-example", String(nvExample));
    nvBox.setAttribute("data-phase", current ? current.phase : "start");
    showCounter(nvStep, list.length);
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

