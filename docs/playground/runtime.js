// Starting scalargrad in a web page or a Web Worker: Pyodide (CPython compiled to WebAssembly) with the
// package zip the site build made from the checkout, and Graphviz compiled to WebAssembly (@viz-js/viz)
// for render(). Every file comes from this folder of the site (docs/site_tools/playground.py puts them
// there): nothing is fetched from the web.

import { loadPyodide } from "./pyodide/pyodide.mjs";

const HERE = new URL("./", import.meta.url);
const PACKAGES = "/home/pyodide/packages"; // where scalargrad.zip is unpacked; first on sys.path

// Pyodide with scalargrad importable. stdout and stderr take each line Python prints (optional).
export async function startPython({ stdout, stderr } = {}) {
  const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", HERE).href });
  if (stdout) pyodide.setStdout({ batched: stdout });
  if (stderr) pyodide.setStderr({ batched: stderr });
  const response = await fetch(new URL("scalargrad.zip", HERE));
  if (!response.ok) throw new Error(`scalargrad.zip: HTTP ${response.status}`);
  pyodide.unpackArchive(await response.arrayBuffer(), "zip", { extractDir: PACKAGES });
  pyodide.pyimport("sys").path.insert(0, PACKAGES);
  return pyodide;
}

// Graphviz for render(): scalargrad.viz.browser calls globalThis.scalargradLayout(source, format)
// and expects the layout as text at once, which viz-js's renderString gives.
export async function startGraphviz() {
  const { instance } = await import("./viz.js");
  const viz = await instance();
  globalThis.scalargradLayout = (source, format) => viz.renderString(source, { format });
  return viz;
}

// A Python stream that hands each whole line written to onLine (a JS function) as it is written, so a
// worker posts a script's output while the script runs. Pyodide's own batched stdout handler will not
// do for that: it runs without the interpreter's lock, so it cannot call back into Python.
const LINE_WRITER = `
import io


class LineWriter(io.TextIOBase):
    """A stream that calls on_line with each whole line written (without its newline)."""

    def __init__(self, on_line):
        self.on_line, self.pending = on_line, ""

    def writable(self):
        return True

    def write(self, text):
        *lines, self.pending = (self.pending + text).split("\\n")
        for line in lines:
            self.on_line(line)
        return len(text)

    def close_line(self):
        if self.pending:
            self.on_line(self.pending)
            self.pending = ""
`;

// A fresh namespace holding LineWriter and then the Python source `helpers` (a worker's own functions,
// kept apart from the user's code).
export function helperNamespace(pyodide, helpers) {
  const namespace = pyodide.globals.get("dict")();
  pyodide.runPython(LINE_WRITER, { globals: namespace });
  pyodide.runPython(helpers, { globals: namespace });
  return namespace;
}
