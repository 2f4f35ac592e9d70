// The Python side of the Playground (docs/playground.md, playground.js), in a module Web Worker: Pyodide
// with scalargrad and Graphviz run the code typed in the page, so the page stays responsive while it runs
// and Stop can end a run that never does (the page terminates this worker and starts a fresh one).
//
// While the code runs, sys.stdout is a small Python writer (LineWriter, from runtime.js) that posts each
// line the moment it is printed: a run that prints and then loops has shown what it printed. sys.stderr stays
// Pyodide's own stream, whose handler posts each line too: Pyodide writes a failed run's traceback there
// and reads it back as the error's message, which another sys.stderr would leave empty.
//
// Messages to the page: {type: "ready", version, seconds}, {type: "failed", text} (Python did not load),
// {type: "line", kind: "stdout" | "stderr", text}, {type: "show", kind, content} (render()'s picture or
// explorable page, scalargrad/viz/browser.py), {type: "done", seconds, error?} (error: the traceback).
// From the page: {type: "run", code}.

import { helperNamespace, startGraphviz, startPython } from "./runtime.js";

// The name tracebacks give the code: without <angle brackets>, so Pyodide keeps the source and a
// traceback shows each line that failed
const CODE_FILE = "playground.py";

// Run in the worker's own namespace, never in the user's
const HELPERS = `
import os
import sys


def start_output(post_line):
    """sys.stdout posts its lines to the page while the code runs."""
    sys.stdout = LineWriter(lambda line: post_line("stdout", line))
    return sys.stdout


def end_output(writer):
    """The last lines without a newline are sent on, and the next run gets the streams back (even if
    this one replaced sys.stdout or sys.stderr)."""
    writer.close_line()
    for stream in (sys.__stdout__, sys.__stderr__):
        stream.flush()
        os.fsync(stream.fileno())  # Pyodide's batched handler gets a last line without a newline
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
`;

let pyodide = null;
let helpers = null;

function seconds(since) {
  return (performance.now() - since) / 1000;
}

function postLine(kind, text) {
  postMessage({ type: "line", kind, text });
}

// Pyodide's traceback goes through the frames of its own code that ran the user's; those are not the
// user's concern. The frames of the code as typed (CODE_FILE) and of scalargrad are kept.
function userTraceback(message) {
  const lines = message.replace(/\n+$/, "").split("\n");
  const kept = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^ {2}File "\/lib\/python[^"]*\/_pyodide\//.test(lines[i])) {
      while (i + 1 < lines.length && /^ {4}/.test(lines[i + 1])) i++; // its source lines and ^^^ marks
      continue;
    }
    kept.push(lines[i]);
  }
  return kept.join("\n");
}

function describe(error) {
  const isPython = error && error.constructor && error.constructor.name === "PythonError";
  return isPython ? userTraceback(error.message) : String(error && error.stack ? error.stack : error);
}

async function runCode(code) {
  const dict = pyodide.globals.get("dict");
  const namespace = dict(); // each run starts from nothing: no name survives from the last one
  dict.destroy();
  namespace.set("__name__", "__main__");
  const started = performance.now();
  let failure = null;
  const writer = helpers.get("start_output")(postLine);
  try {
    const result = await pyodide.runPythonAsync(code, { globals: namespace, filename: CODE_FILE });
    if (result && typeof result.destroy === "function") result.destroy(); // a Python object's proxy
  } catch (error) {
    failure = error;
  }
  try {
    helpers.get("end_output")(writer);
    writer.destroy();
    namespace.destroy();
  } catch (error) {
    failure = failure || error;
  }
  const done = { type: "done", seconds: seconds(started) };
  if (failure) done.error = describe(failure);
  postMessage(done);
}

self.onmessage = ({ data }) => {
  if (data.type === "run") runCode(data.code);
};

const started = performance.now();
try {
  // Python and Graphviz load side by side; neither needs the other until code runs
  const [python] = await Promise.all([
    startPython({ stdout: (text) => postLine("stdout", text), stderr: (text) => postLine("stderr", text) }),
    startGraphviz(), // sets globalThis.scalargradLayout, which render() calls
  ]);
  globalThis.scalargradShow = (kind, content) => postMessage({ type: "show", kind, content });
  helpers = helperNamespace(python, HELPERS);
  const version = python.runPython("import sys; sys.version.split()[0]");
  pyodide = python;
  postMessage({ type: "ready", version, seconds: seconds(started) });
} catch (error) {
  postMessage({ type: "failed", text: String(error) });
}
