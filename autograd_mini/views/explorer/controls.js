// The explorer page's controls (part 3 of the page's one script; see explorer.js): one set of
// buttons and keys for both views, the side panel, and the start.
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
      if (Date.now() - nvPanEnded() < 300) { return; }  // the end of a pan, not a click
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
    if (Date.now() - panEnded() < 300) { return; }  // the end of a pan, not a click
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
      f: function () { if (mode === "neurons") { nvFit(); } else { fit(); } },
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
  var start = Number(body.getAttribute("data-start")) || 0;  // the live explorer opens at the end
  if (mode === "neurons") { nvRender(start ? length() : 0); } else { render(start); }
