// The Playground page (docs/playground.md): an editor, Run and Stop buttons, what the code printed and the
// graphs it rendered. The code runs in a module Web Worker (playground-worker.js) under Pyodide, with the
// scalargrad zip the site build made from its checkout, so the page stays responsive while it runs; Stop
// terminates the worker and starts a fresh one. The worker posts each printed line as it is printed, and
// what render() shows (scalargrad/viz/browser.py); this page puts it in the page as text, a parsed SVG
// element or an iframe's srcdoc: never as markup of this page.

// The examples to pick from. The first is the README's quickstart, word for word
// (tests/train/test_playground_browser.py compares them).
const EXAMPLES = [
  {
    title: "Quickstart: f = x0*w0 + x1*w1 + b",
    code: `from scalargrad import Scalar

x0, x1 = Scalar(0.1, name='x0'), Scalar(0.2, name='x1')   # inputs
w0, w1 = Scalar(0.3, name='w0'), Scalar(0.4, name='w1')   # weights
b = Scalar(0.5, name='b')                                 # bias

f = (x0 * w0) + (x1 * w1) + b    # the forward pass records the graph
f.backward()                     # the backward pass fills in every .grad

print(f'forward: {f.data}')
print(f'df/dw0: {w0.grad}')
print(f'df/dw1: {w1.grad}')
`,
  },
  {
    title: "A neuron: y = tanh(x*w + b), drawn",
    code: `from scalargrad import Scalar

x = Scalar(2.0, name='x')      # the input
w = Scalar(-0.5, name='w')     # its weight
b = Scalar(0.3, name='b')      # the bias

y = (x * w + b).tanh()
y.backward()

print(f'y = {y.data:.6f}')
for leaf in (x, w, b):
    print(f'dy/d{leaf.name} = {leaf.grad:.6f}')

y.render()    # the graph, each box with its value and gradient
`,
  },
  {
    title: "The micrograd lecture's neuron, explorable",
    code: `# The neuron of micrograd's lecture, on micrograd's Value API (scalargrad.compat.micrograd)
from scalargrad.compat.micrograd import Value
from scalargrad.viz import explore_graph

x1 = Value(2.0, label='x1')
x2 = Value(0.0, label='x2')
w1 = Value(-3.0, label='w1')
w2 = Value(1.0, label='w2')
b = Value(6.8813735870195432, label='b')
x1w1 = x1*w1; x1w1.label = 'x1*w1'
x2w2 = x2*w2; x2w2.label = 'x2*w2'
x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = 'x1*w1 + x2*w2'
n = x1w1x2w2 + b; n.label = 'n'
o = n.tanh(); o.label = 'o'
print(f'n = {n.data:.4f}, o = {o.data:.4f}')

o.backward()
print(', '.join(f'{v.label}: {v.grad:.4f}' for v in (x1, w1, x2, w2)))

explore_graph(o.scalar)    # step through it with Next and Previous
`,
  },
  {
    title: "A new op with defop: cube",
    code: `# Declare an op once: its float value and its derivative rule (scalargrad.extend.defop)
from scalargrad import Scalar, gradcheck
from scalargrad.extend import defop

@defop("cube", lambda x: x * x * x)
def cube(maths, x, y, constant):     # d/dx x**3 = 3 x**2
    return 3.0 * x * x

x = Scalar(1.5, name='x')
y = cube(x)
y.backward()
print(f'cube({x.data}) = {y.data}, dy/dx = {x.grad}')

# backward's gradient against finite differences, at a few points
print('gradcheck:', all(gradcheck(cube, [v]) for v in (-2.0, 0.3, 1.5)))

(cube(x) + x).render()    # the new op is drawn by its name
`,
  },
];

const root = document.querySelector(".sgp");
const editor = root.querySelector(".sgp-editor");
const runButton = root.querySelector(".sgp-run");
const stopButton = root.querySelector(".sgp-stop");
const picker = root.querySelector(".sgp-examples");
const statusLine = root.querySelector(".sgp-status");
const output = root.querySelector(".sgp-output");
const graphs = root.querySelector(".sgp-graphs");

let worker = null;
let ready = false; // the worker has Python loaded and runs nothing
let running = false; // a run was asked for and has not ended (it may wait for a restarted worker)
let runStarted = 0; // when it was asked for (performance.now())

function setState(state, message) {
  root.dataset.state = state; // loading, ready, running, stopped or failed: what the tests wait for
  statusLine.textContent = message;
}

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`;
}

// One line of output (stdout and stderr arrive a line at a time, in the order they were printed)
function print(text, kind) {
  const line = document.createElement("span");
  line.className = `sgp-${kind}`;
  line.textContent = `${text}\n`;
  output.append(line);
}

// As tall as the explorable page, as its panel grows and shrinks from step to step
function fitFrame(frame) {
  const body = frame.contentDocument && frame.contentDocument.body;
  if (!body) return;
  const fit = () => {
    const style = getComputedStyle(body);
    const height = body.scrollHeight + parseFloat(style.marginTop) + parseFloat(style.marginBottom) + 4;
    frame.style.height = `${Math.max(240, Math.min(height, 1600))}px`;
  };
  new ResizeObserver(fit).observe(body);
  fit();
}

// scalargrad.viz.browser.show: "svg" is a picture, "html" a whole explorable-graph page
function showGraph(kind, content) {
  if (kind === "svg") {
    const parsed = new DOMParser().parseFromString(content, "image/svg+xml");
    const svg = parsed.documentElement;
    if (svg.nodeName !== "svg" || parsed.querySelector("parsererror")) {
      throw new Error("scalargradShow: the picture is not SVG");
    }
    const figure = document.createElement("div");
    figure.className = "sgp-picture";
    figure.append(document.importNode(svg, true));
    graphs.append(figure);
  } else if (kind === "html") {
    // A page of its own, with its own script (Next, Previous): in a frame, from the text Python made.
    // Not sandboxed: the code that made it could reach this page anyway (Pyodide's js module), and
    // Chromium does not draw a sandboxed frame in a headless screenshot.
    const frame = document.createElement("iframe");
    frame.className = "sgp-explorer";
    frame.title = "The explorable graph: Next and Previous step through the forward and backward passes";
    frame.addEventListener("load", () => fitFrame(frame), { once: true });
    frame.srcdoc = content;
    graphs.append(frame);
    root.classList.add("sgp-has-explorer"); // wide: the graph goes below the output, at full width
  } else {
    throw new Error(`scalargradShow: unknown kind ${kind}`);
  }
}

function showButtons() {
  runButton.disabled = running || (!ready && !worker.restarted);
  stopButton.disabled = !running;
}

function clearResults() {
  output.replaceChildren();
  graphs.replaceChildren();
  root.classList.remove("sgp-has-explorer");
}

// A run is posted at once, or, right after a Stop, when the fresh worker is ready
function run() {
  if (running || (!ready && !worker.restarted)) return;
  running = true;
  runStarted = performance.now();
  clearResults();
  setState("running", ready ? "Running…" : "Running… once Python has restarted");
  showButtons();
  if (ready) startRun();
}

function startRun() {
  ready = false;
  worker.postMessage({ type: "run", code: editor.value });
}

// Stop: the worker is busy in Python and reads no message until the code ends, so it is ended and a
// fresh one starts loading at once; the next Run waits until it is ready.
function stop() {
  if (!running) return;
  worker.terminate();
  running = false;
  startWorker(true);
  setState("stopped", `Stopped after ${seconds(runStarted)}: Python is restarting`);
  showButtons();
}

function handle(message) {
  if (message.type === "line") {
    print(message.text, message.kind);
  } else if (message.type === "show") {
    try {
      showGraph(message.kind, message.content);
    } catch (error) {
      print(String(error), "error");
    }
  } else if (message.type === "done") {
    if (message.error) print(message.error, "error");
    running = false;
    ready = true;
    setState("ready", `${message.error ? "Failed" : "Ran"} in ${message.seconds.toFixed(2)} s`);
  } else if (message.type === "ready") {
    ready = true;
    if (running) {
      startRun(); // a Run pressed while the fresh worker was loading
    } else if (worker.restarted) {
      setState("ready", `${statusLine.textContent.replace(/: Python is restarting$/, "")}; ready again`);
    } else {
      setState("ready", `Ready: Python ${message.version}, loaded in ${message.seconds.toFixed(2)} s`);
    }
  } else if (message.type === "failed") {
    couldNotStart(message.text);
  }
  showButtons();
}

function couldNotStart(reason) {
  running = false;
  ready = false;
  worker.restarted = false;
  setState("failed", "Python could not be loaded: see below.");
  clearResults();
  print(`The playground could not start Python in this page: ${reason}`, "error");
  if (location.protocol === "file:") {
    print("This page was opened as a file: serve the site over http (mkdocs serve) and open it there.", "error");
  }
  console.error(`Playground: Python could not be loaded: ${reason}`);
  showButtons();
}

function startWorker(restarted) {
  ready = false;
  worker = new Worker(new URL("./playground-worker.js", import.meta.url), { type: "module" });
  worker.restarted = restarted; // after a Stop: Run may be pressed before it is ready
  worker.onmessage = ({ data }) => handle(data);
  worker.onerror = (event) => {
    event.preventDefault();
    couldNotStart(event.message || "its script could not be started");
  };
}

function fillExamples() {
  EXAMPLES.forEach((example, index) => {
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = example.title;
    picker.append(option);
  });
  picker.addEventListener("change", () => {
    editor.value = EXAMPLES[Number(picker.value)].code;
    fitEditor();
    editor.focus();
  });
  editor.value = EXAMPLES[0].code;
  fitEditor();
}

// The editor shows the whole code, up to 40 lines (then it scrolls); dragging its corner sizes it by hand
function fitEditor() {
  editor.rows = Math.min(Math.max(editor.value.split("\n").length + 1, 8), 40);
}

// Tab indents by 4 spaces; Escape then Tab leaves the editor, as keyboard users expect Tab to
let tabLeaves = false;
function onEditorKey(event) {
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
    event.preventDefault();
    run();
  } else if (event.key === "Escape") {
    tabLeaves = true;
  } else if (event.key === "Tab" && !event.shiftKey && !tabLeaves && !event.ctrlKey && !event.altKey) {
    event.preventDefault();
    editor.setRangeText("    ", editor.selectionStart, editor.selectionEnd, "end");
  } else {
    tabLeaves = false;
  }
}

fillExamples();
editor.addEventListener("keydown", onEditorKey);
editor.addEventListener("input", fitEditor);
runButton.addEventListener("click", run);
stopButton.addEventListener("click", stop);
setState("loading", "Loading Python…");
startWorker(false);
