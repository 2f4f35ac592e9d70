"""The HTML, CSS and JavaScript of an explorable graph (``viz.explore``): all inline, no network.

The script only shows what Python computed: each step lists the text fields
of the picture that change (``set``), and showing step k applies steps 0..k
in order, so Previous and Reset need no arithmetic either. The picture's
records are found by their ``<title>`` (the node's name in dot); a record's
last text is its gradient, the one before its value. Zoomed (the picture at
its own size, in a box that scrolls), each step scrolls that box, never the
page, to show the current op when it is out of view.
"""

from __future__ import annotations

import json

__all__ = ["page_fragment"]

_STYLE = """
.sgx { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #202124; outline: none; }
.sgx-bar { display: flex; gap: .5em; align-items: center; margin: .4em 0 .6em; flex-wrap: wrap; }
.sgx-bar button { font: inherit; padding: .25em .9em; cursor: pointer; }
.sgx-count { color: #5f6368; margin-left: .5em; }
.sgx-main { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.sgx-graph { flex: 3 1 520px; min-width: 0; overflow: auto; }
.sgx-graph svg { max-width: 100%; height: auto; }
.sgx-natural .sgx-graph { max-height: 85vh; }
.sgx-natural .sgx-graph svg { max-width: none; }
.sgx-panel { flex: 1 1 320px; border: 1px solid #dadce0; border-radius: 6px; padding: .4em 1em;
             background: #f8f9fa; }
.sgx-panel h3 { margin: .3em 0; font-size: 1.05em; }
.sgx-panel h4 { margin: .8em 0 .2em; font-size: .95em; }
.sgx-panel p { margin: .3em 0; }
.sgx-panel table { border-collapse: collapse; font-size: 13px; }
.sgx-panel th, .sgx-panel td { border-bottom: 1px solid #e0e0e0; padding: .15em .6em .15em 0;
                               text-align: left; }
.sgx-panel td + td { font-family: ui-monospace, Menlo, Consolas, monospace; }
.sgx-forward .sgx-title { color: #1967d2; }
.sgx-backward .sgx-title, .sgx-seed .sgx-title { color: #c5221f; }
.sgx g.sgx-current polygon, .sgx g.sgx-current ellipse { stroke: #d93025; stroke-width: 3px; }
.sgx g.node.sgx-current polygon { fill: #fce8e6; }
.sgx g.sgx-input polygon { stroke: #1a73e8; stroke-width: 2.5px; }
.sgx g.sgx-edge path { stroke: #d93025; stroke-width: 2px; }
.sgx g.sgx-edge polygon { stroke: #d93025; fill: #d93025; }
.sgx text.sgx-changed { fill: #c5221f; font-weight: bold; }
"""

_SCRIPT = """
(function () {
  var script = document.currentScript;
  var root = (script && script.parentNode && script.parentNode.classList.contains("sgx") && script.parentNode)
             || document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script.sgx-data").textContent);
  var steps = data.steps, at = 0, byTitle = {};
  root.querySelectorAll("svg g.node, svg g.edge").forEach(function (g) {
    var title = g.querySelector("title");
    if (title) byTitle[title.textContent] = g;
  });
  function part(name) { return root.querySelector(".sgx-" + name); }
  function field(node, name) {  // the <text> of a record's value or gradient
    var g = byTitle[node];
    if (!g) return null;
    var texts = g.querySelectorAll("text");
    return texts[texts.length - (name === "grad" ? 1 : 2)] || null;
  }
  function mark(name, cls) { if (byTitle[name]) byTitle[name].classList.add(cls); }
  function reveal() {  // zoomed, the picture scrolls in its box: bring the current op into it, centred
    var box = part("graph"), marked = root.querySelectorAll("svg g.node.sgx-current");
    if (!marked.length) return;
    var r = {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity};
    marked.forEach(function (g) {
      var b = g.getBoundingClientRect();
      r = {left: Math.min(r.left, b.left), top: Math.min(r.top, b.top),
           right: Math.max(r.right, b.right), bottom: Math.max(r.bottom, b.bottom)};
    });
    var v = box.getBoundingClientRect(), left = v.left + box.clientLeft, top = v.top + box.clientTop;
    var right = left + box.clientWidth, bottom = top + box.clientHeight;
    if (r.left < left || r.right > right) box.scrollLeft += (r.left + r.right - left - right) / 2;
    if (r.top < top || r.bottom > bottom) box.scrollTop += (r.top + r.bottom - top - bottom) / 2;
  }
  function addCells(table, values, tag) {
    var row = table.insertRow();
    values.forEach(function (v) {
      var cell = document.createElement(tag);
      cell.textContent = v;
      row.appendChild(cell);
    });
  }
  function fill(table, head, rows) {
    table.textContent = "";
    if (!head) return;
    addCells(table, head, "th");
    rows.forEach(function (r) { addCells(table, r, "td"); });
  }
  function show(k) {
    at = Math.max(0, Math.min(k, steps.length - 1));
    var step = steps[at], state = {};
    for (var i = 0; i <= at; i++) steps[i].set.forEach(function (s) { state[s[0] + " " + s[1]] = s; });
    Object.keys(state).forEach(function (key) {
      var s = state[key], text = field(s[0], s[1]);
      if (text) text.textContent = s[1] + " " + s[2];
    });
    root.querySelectorAll(".sgx-current, .sgx-input, .sgx-edge, .sgx-changed").forEach(function (e) {
      e.classList.remove("sgx-current", "sgx-input", "sgx-edge", "sgx-changed");
    });
    if (step.node) {
      mark(step.node, "sgx-current");
      if (step.inputs.length) {
        mark(step.node + "op", "sgx-current");
        mark(step.node + "op->" + step.node, "sgx-edge");
      }
      step.inputs.forEach(function (p) {
        mark(p, "sgx-input");
        mark(p + "->" + step.node + "op", "sgx-edge");
      });
      reveal();
    }
    if (at > 0) {
      step.set.forEach(function (s) { var t = field(s[0], s[1]); if (t) t.classList.add("sgx-changed"); });
    }
    root.classList.remove("sgx-start", "sgx-forward", "sgx-seed", "sgx-backward", "sgx-done");
    root.classList.add("sgx-" + step.phase);
    part("title").textContent = step.title;
    var text = part("text");
    text.textContent = "";
    step.text.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      text.appendChild(p);
    });
    fill(part("table"), step.table && step.table.head, step.table ? step.table.rows : []);
    fill(part("leaves"), ["leaf", "data", "grad"], data.leaves.map(function (leaf) {
      var s = state[leaf.node + " grad"];
      return [leaf.label, leaf.data, s ? s[3] : "?"];
    }));
    part("count").textContent = "step " + (at + 1) + " of " + steps.length;
    part("prev").disabled = at === 0;
    part("next").disabled = at === steps.length - 1;
  }
  part("reset").addEventListener("click", function () { show(0); });
  part("prev").addEventListener("click", function () { show(at - 1); });
  part("next").addEventListener("click", function () { show(at + 1); });
  part("zoom").addEventListener("click", function () { root.classList.toggle("sgx-natural"); reveal(); });
  (data.page ? document : root).addEventListener("keydown", function (event) {
    var go = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0}[event.key];
    if (go === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    event.stopPropagation();  // in a notebook: the arrow keys step here, not through the cells
    show(go);
  });
  show(0);
})();
"""

_LAYOUT = """<div class="sgx" id="%(id)s" tabindex="0">
<style>%(style)s</style>
<div class="sgx-bar">
<button type="button" class="sgx-reset">Reset</button>
<button type="button" class="sgx-prev">&#9664; Previous</button>
<button type="button" class="sgx-next">Next &#9654;</button>
<span class="sgx-count"></span>
<button type="button" class="sgx-zoom"
 title="the picture at its own size, or fitted to the width">Zoom</button>
</div>
<div class="sgx-main">
<div class="sgx-graph">
%(svg)s
</div>
<div class="sgx-panel">
<h3 class="sgx-title"></h3>
<div class="sgx-text"></div>
<table class="sgx-table"></table>
<h4>Leaves</h4>
<table class="sgx-leaves"></table>
</div>
</div>
<script type="application/json" class="sgx-data">%(data)s</script>
<script>%(script)s</script>
</div>"""


def page_fragment(svg: str, data: dict, element_id: str) -> str:
    """The explorer as one ``<div id=element_id>``: the controls, ``svg`` (dot's picture, inline), the
    panel, ``data`` (``steps``, ``leaves``, ``page``) as JSON, and the script that shows it."""
    # "<" escaped: no name in the data can close the <script> it sits in
    text = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    return _LAYOUT % {"id": element_id, "style": _STYLE, "svg": svg, "data": text,
                      "script": _SCRIPT % {"id": element_id}}
