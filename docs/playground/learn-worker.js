// The Python side of "Watch it learn", in a module Web Worker: Pyodide with scalargrad runs the training
// script the page shows, exactly as written, so the page stays responsive and Stop can terminate it.
//
// How progress reaches the page without changing the script: while it runs, sys.stdout is a small
// Python writer (LineWriter, from runtime.js) that hands each printed line to onLine, synchronously, in
// the middle of the script. On a progress line ("step 100: loss 0.3123, accuracy 0.955") onLine calls
// back into Python (grid_view) to read the script's model and data from its namespace, and posts the
// numbers and the decision boundary to the page.
//
// Messages to the page: {type: "ready"}, {type: "failed", text} (Python did not load),
// {type: "progress", step, loss, accuracy, line, view?}, {type: "line", text} (any other output),
// {type: "done", seconds, viewSeconds, view}, {type: "error", text} (the script raised: its traceback).
// From the page: {type: "run", code}.

import { helperNamespace, startPython } from "./runtime.js";

const PROGRESS = /^step (\d+): loss (\S+), accuracy (\S+)$/;
// The boundary costs a pass of the model over every grid cell: at most one every VIEW_INTERVAL ms, and
// never more than a third of the time (the first and the last one are always drawn).
const VIEW_INTERVAL = 250;

// Run in the worker's own namespace, never in the script's: the boundary as the model sees it.
const HELPERS = `
import json
import sys

from scalargrad import no_grad

GRID = 32  # cells per side


def bounds(points, margin=0.25):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin]


def grid_view(namespace, with_points):
    """The class the script's model gives each cell of a GRID x GRID grid over its data, row by row
    from the top, as JSON (with the data points themselves if asked)."""
    model, x, y = namespace["model"], namespace["x"], namespace["y"]
    left, right, bottom, top = bounds(x)
    width, height = (right - left) / GRID, (top - bottom) / GRID
    cells = [[left + (i + 0.5) * width, top - (j + 0.5) * height] for j in range(GRID) for i in range(GRID)]
    with no_grad():
        outputs = model(cells)
    view = {"grid": GRID, "bounds": [left, right, bottom, top],
            "classes": [max(range(len(out)), key=lambda c: out[c].data) for out in outputs]}
    if with_points:
        view["points"] = [[float(v) for v in p] for p in x]
        view["labels"] = [int(label) for label in y]
    return json.dumps(view)


def run_script(code, namespace, on_line):
    """Run code in namespace as python script.py would, its output line by line to on_line."""
    writer, saved = LineWriter(on_line), sys.stdout
    sys.stdout = writer
    try:
        exec(compile(code, "script.py", "exec"), namespace)
    finally:
        sys.stdout = saved
        writer.close_line()
`;

let pyodide = null;
let helpers = null;
let run = null; // the run under way: its namespace and timings

function onLine(line) {
  const match = PROGRESS.exec(line);
  if (!run || !match) {
    postMessage({ type: "line", text: line });
    return;
  }
  const now = performance.now();
  const first = !run.sentPoints;
  const due = now - run.lastView >= Math.max(VIEW_INTERVAL, 2 * run.lastViewCost);
  const message = { type: "progress", step: Number(match[1]), loss: Number(match[2]),
                    accuracy: Number(match[3]), line };
  if (first || due) message.view = view(!run.sentPoints);
  postMessage(message);
}

// The decision boundary of the script's model now (and, the first time, its data points).
function view(withPoints) {
  const start = performance.now();
  const text = helpers.get("grid_view")(run.namespace, withPoints);
  run.sentPoints ||= withPoints;
  run.lastView = performance.now();
  run.lastViewCost = run.lastView - start;
  run.viewTime += run.lastViewCost;
  return JSON.parse(text);
}

// A traceback from the script's first frame on: the worker's own frames above it are no help to a reader.
function scriptTraceback(text) {
  const lines = text.split("\n");
  const first = lines.findIndex((line) => line.includes('File "script.py"'));
  return first > 0 ? ["Traceback (most recent call last):", ...lines.slice(first)].join("\n") : text;
}

function runScript(code) {
  const dict = pyodide.globals.get("dict");
  run = { namespace: dict(), sentPoints: false, lastView: 0, lastViewCost: 0, viewTime: 0 };
  dict.destroy();
  run.namespace.set("__name__", "__main__"); // as `python script.py` runs it
  const start = performance.now();
  try {
    helpers.get("run_script")(code, run.namespace, onLine);
    const seconds = (performance.now() - start) / 1000;
    const last = run.namespace.has("model") && run.namespace.has("x") ? view(!run.sentPoints) : null;
    postMessage({ type: "done", seconds, viewSeconds: run.viewTime / 1000, view: last });
  } catch (error) {
    postMessage({ type: "error", text: scriptTraceback(String(error.message || error)) });
  } finally {
    run.namespace.destroy();
    run = null;
  }
}

self.onmessage = ({ data }) => {
  if (data.type === "run") runScript(data.code);
};

try {
  const postLine = (text) => postMessage({ type: "line", text });
  pyodide = await startPython({ stdout: postLine, stderr: postLine });
  helpers = helperNamespace(pyodide, HELPERS);
  postMessage({ type: "ready" });
} catch (error) {
  postMessage({ type: "failed", text: `Python did not load: ${error.message || error}` });
}
