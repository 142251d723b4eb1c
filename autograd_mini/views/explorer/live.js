// The live explorer's controls: a number input and a slider per leaf, a nudge, "predict, then see",
// and (served) an expression box, around the explorer page of the current numbers in an iframe.
// It does no calculus: every number comes from Python (live.py) through a backend: the local
// server (httpBackend, serve.py) or the notebook widget (widget.py).
function liveExplorer(root, backend) {
  "use strict";
  var start = backend.start(root);
  var expression = start.expression;
  var values = start.values || {};
  var state = null;
  var sequence = 0;  // only the answer to the latest request is shown
  var asked = 0;  // predict mode: the question on screen
  var rightCount = 0;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }

  // --- the controls ---------------------------------------------------------------------
  root.textContent = "";
  var bar = add(root, el("div", {"class": "live-bar"}));
  var box = null;
  if (backend.served) {
    var form = add(bar, el("form", {id: "expression-form"}));
    add(form, el("label", {"for": "expression"}, "expression "));
    box = add(form, el("input", {id: "expression", type: "text", spellcheck: "false", value: expression}));
    add(form, el("button", {id: "redraw", type: "submit"}, "Redraw"));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      expression = box.value;
      recompute();
    });
  }
  var rootText = add(bar, el("span", {id: "root-value"}));
  var error = add(root, el("pre", {id: "error", role: "alert", hidden: "hidden"}));
  var leaves = add(root, el("div", {id: "leaves"}));

  var tools = add(root, el("div", {"class": "live-tools"}));
  var nudgeBox = add(tools, el("section", {id: "nudge-panel"}));
  add(nudgeBox, el("span", {"class": "title"}, "Nudge "));
  var nudgeLeaf = add(nudgeBox, el("select", {id: "nudge-leaf", title: "the leaf to move"}));
  add(nudgeBox, el("label", {"for": "nudge-h"}, " by h = "));
  var nudgeH = add(nudgeBox, el("input", {id: "nudge-h", type: "number", step: "any", value: "0.1"}));
  var nudgeButton = add(nudgeBox, el("button", {id: "nudge", type: "button"}, "Nudge"));
  var nudgeResult = add(nudgeBox, el("pre", {id: "nudge-result"}));

  var predictBox = add(tools, el("section", {id: "predict-panel"}));
  var predictLabel = add(predictBox, el("label", {"class": "title"}));
  var predict = add(predictLabel, el("input", {id: "predict", type: "checkbox"}));
  predictLabel.appendChild(document.createTextNode(" Predict, then see"));
  var question = add(predictBox, el("div", {id: "question"}));
  var answer = add(predictBox, el("input", {id: "answer", type: "text", placeholder: "your number", hidden: "hidden"}));
  var check = add(predictBox, el("button", {id: "check", type: "button", hidden: "hidden"}, "Check"));
  var verdict = add(predictBox, el("div", {id: "verdict"}));

  var frame = add(root, el("iframe", {id: "explorer", sandbox: "allow-scripts", title: "the explorer page"}));

  // --- talking to Python ----------------------------------------------------------------------
  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function call(kind, payload, then, after) {
    var mine = ++sequence;
    backend.call(kind, payload).then(function (reply) {
      if (after) { after(); }
      if (mine !== sequence && kind !== "judge") { return; }  // a newer request is on its way
      if (reply.error) { showError(reply.error); return; }
      showError("");
      then(reply);
    }, function (failure) {
      if (after) { after(); }
      showError("the engine did not answer: " + failure);
    });
  }

  // One recompute in flight at a time: a slider dragged meanwhile sends its latest values once it returns.
  var busy = false;
  var again = false;
  function recompute() {
    if (busy) { again = true; return; }
    busy = true;
    call("recompute", {expression: expression, values: values}, show, function () {
      busy = false;
      if (again) { again = false; recompute(); }
    });
  }

  function show(next) {
    state = next;
    values = {};
    state.leaves.forEach(function (leaf) { values[leaf.name] = Number(leaf.data); });
    rootText.textContent = state.root.name + " = " + state.root.data;
    drawLeaves();
    if (predict.checked) { ask(0); } else { page(null); }
  }

  function page(step) { backend.show(frame, state.version, step); }

  // --- one number input and one slider per leaf -----------------------------------------------
  function drawLeaves() {
    var names = state.leaves.map(function (l) { return l.name; }).join("\u0000");
    if (leaves.getAttribute("data-names") !== names) {
      leaves.textContent = "";
      nudgeLeaf.textContent = "";
      state.leaves.forEach(function (leaf) { leafControl(leaf); add(nudgeLeaf, el("option", {}, leaf.name)); });
      leaves.setAttribute("data-names", names);
    }
    state.leaves.forEach(function (leaf) {
      var row = leaves.querySelector("[data-row=\"" + CSS.escape(leaf.name) + "\"]");
      var input = row.querySelector("input[data-leaf]");
      if (document.activeElement !== input) { input.value = leaf.data; }
      row.querySelector("input[type=range]").value = leaf.data;
      row.querySelector(".leaf-grad").textContent = "d" + state.root.name + "/d" + leaf.name + " = " + leaf.grad;
    });
  }

  function leafControl(leaf) {
    var row = add(leaves, el("div", {"class": "leaf", "data-row": leaf.name}));
    add(row, el("label", {"class": "leaf-name"}, leaf.name + " = "));
    var x = Number(leaf.data);
    var reach = 2 * Math.max(1, Math.abs(x));  // the slider's range is chosen once, around the first value
    var input = add(row, el("input", {type: "number", step: "any", "data-leaf": leaf.name, value: leaf.data}));
    var slider = add(row, el("input", {type: "range", "data-slider": leaf.name, min: String(x - reach),
      max: String(x + reach), step: String(reach / 100), value: leaf.data}));
    add(row, el("span", {"class": "leaf-grad"}));
    function set(text) {
      var v = Number(text);
      if (text.trim() === "" || !isFinite(v)) { showError(leaf.name + ": type a number"); return; }
      values[leaf.name] = v;
      recompute();
    }
    input.addEventListener("change", function () { set(input.value); });
    slider.addEventListener("input", function () { input.value = slider.value; set(slider.value); });
  }

  // --- nudge: the change observed next to the linear prediction ----------------------------------
  nudgeButton.addEventListener("click", function () {
    var h = Number(nudgeH.value);
    if (nudgeH.value.trim() === "" || !isFinite(h)) { showError("h: type a number"); return; }
    call("nudge", {expression: expression, values: values, leaf: nudgeLeaf.value, h: h}, function (reply) {
      nudgeResult.textContent = reply.nudge.text;
      ["observed", "predicted", "difference", "secondOrder"].forEach(function (k) {
        nudgeResult.setAttribute("data-" + k.toLowerCase(), reply.nudge[k] === null ? "" : reply.nudge[k]);
      });
      show(reply.state);
    });
  });

  // --- predict, then see: each contribution asked before the page shows it --------------------
  function ask(i) {
    asked = i;
    if (i === 0) { rightCount = 0; }
    var qs = state.questions;
    answer.value = "";
    if (i >= qs.length) {
      question.textContent = qs.length ? "Done: " + rightCount + " of " + qs.length + " right." :
        "Nothing to predict: no gradient flows in this graph.";
      answer.hidden = check.hidden = true;
      page(null);
      return;
    }
    question.textContent = "Backward step " + qs[i].step + ": " + qs[i].text;
    question.setAttribute("data-index", String(i));
    answer.hidden = check.hidden = false;
    page(qs[i].step - 1);  // the page waits just before the step that shows the number
  }

  function judgeAnswer() {
    var text = answer.value;
    var guess = Number(text);
    if (text.trim() === "" || !isFinite(guess)) { verdict.textContent = "type a number, such as -0.25"; return; }
    var i = asked;
    call("judge", {version: state.version, index: i, answer: guess}, function (reply) {
      verdict.textContent = "step " + state.questions[i].step + ", to " + state.questions[i].input + ": " +
        reply.message;
      verdict.setAttribute("data-kind", reply.kind);
      if (reply.kind === "right") { rightCount += 1; }
      ask(i + 1);  // the page moves on to just before the next question's step: this number is now shown
    });
  }
  check.addEventListener("click", judgeAnswer);
  answer.addEventListener("keydown", function (event) { if (event.key === "Enter") { judgeAnswer(); } });
  predict.addEventListener("change", function () {
    verdict.textContent = "";
    if (!state) { return; }
    if (predict.checked) { ask(0); } else { question.textContent = ""; answer.hidden = check.hidden = true; page(null); }
  });

  backend.listen(show);
  if (start.state) { show(start.state); } else { recompute(); }
}

// The local server's backend: JSON over fetch, the token taken from the page's own URL.
function httpBackend() {
  "use strict";
  var token = new URLSearchParams(window.location.search).get("token") || "";
  var q = "?token=" + encodeURIComponent(token);
  return {
    served: true,
    start: function (root) { return JSON.parse(root.getAttribute("data-initial")); },
    call: function (kind, payload) {
      return fetch("/api/" + kind + q, {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(payload), credentials: "omit"}).then(function (r) { return r.json(); });
    },
    show: function (frame, version, step) {
      frame.src = "/page" + q + "&v=" + version + (step === null ? "" : "&step=" + step);
    },
    listen: function () {}
  };
}
