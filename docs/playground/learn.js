// "Watch it learn": the settings make a training script, the page shows it, and a Web Worker
// (learn-worker.js) runs that same text with scalargrad under Pyodide. The worker posts each progress
// line with the model's decision boundary; this page draws them. Stop terminates the worker.

const $ = (id) => document.getElementById(id);
const settingsForm = $("learn-settings");
const trainButton = $("learn-train");
const stopButton = $("learn-stop");
const copyButton = $("learn-copy");
const status = $("learn-status");
const codeBlock = $("learn-code");
const output = $("learn-output");
const boundaryCanvas = $("learn-boundary");
const curveCanvas = $("learn-curve");

const REPORT_EVERY = 25; // steps between progress lines
// Class colours: strong for the points, the same lighter for the cells of the boundary
const COLOURS = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];
const DATASETS = {
  moons: { name: "make_moons", classes: 2, call: "make_moons(n_samples=200, noise=0.1, seed=0)" },
  circles: { name: "make_circles", classes: 2,
             call: "make_circles(n_samples=200, noise=0.1, factor=0.5, seed=0)" },
  spirals: { name: "make_spirals", classes: 3,
             call: "make_spirals(n_samples=210, n_classes=3, noise=0.2, seed=0)" },
  xnor: { name: "xor", classes: 2, call: "xor(n_samples=200, noise=0.15, seed=0)",
          note: "# XNOR: label 1 when both inputs are (nearly) equal\n" },
};

// The settings, checked: only these words and numbers are ever written into the script's text.
function settings() {
  const value = (name) => settingsForm.elements[name].value;
  const oneOf = (name, allowed) => {
    if (!allowed.includes(value(name))) throw new Error(`${name} must be one of ${allowed.join(", ")}`);
    return value(name);
  };
  const number = (name, isInteger) => {
    const n = Number(value(name));
    if (!(Number.isFinite(n) && n > 0 && (!isInteger || Number.isInteger(n)))) {
      throw new Error(`${name} must be a positive ${isInteger ? "integer" : "number"}`);
    }
    return n;
  };
  return { dataset: oneOf("dataset", Object.keys(DATASETS)), layers: number("layers", true),
           width: number("width", true), activation: oneOf("activation", ["relu", "tanh", "sigmoid"]),
           optimizer: oneOf("optimizer", ["adam", "sgd"]), lr: number("lr", false),
           batchSize: number("batch", true), steps: number("steps", true) };
}

// The script for the settings: what the worker runs, and what `python script.py` runs unchanged.
export function scriptFor(s) {
  const data = DATASETS[s.dataset];
  const sizes = [2, ...Array(s.layers).fill(s.width)];
  const layers = sizes.slice(1).map((size, i) => `    Linear(${sizes[i]}, ${size}, activation='${s.activation}'),`);
  const optimizer = s.optimizer === "adam" ? `Adam(model.parameters(), lr=${s.lr})`
    : `SGD(model.parameters(), lr=${s.lr}, momentum=0.9)`;
  const shape = [...sizes, data.classes].join("-");
  const optimizerName = s.optimizer === "adam" ? "Adam" : "SGD";
  return `"""Watch it learn: ${data.name}, a ${shape} network (${s.activation}),
${optimizerName} with lr=${s.lr}, ${s.steps} steps on batches of ${s.batchSize}."""
import random

from scalargrad import no_grad
from scalargrad.data import ${data.name}
from scalargrad.nn import ${optimizerName}, CrossEntropyLoss, Linear, Sequential

random.seed(0)  # weights and batches are drawn from Python's random module
${data.note || ""}x, y = ${data.call}
classes = max(y) + 1

model = Sequential([
${layers.join("\n")}
    Linear(${s.width}, classes),  # one score per class
])
loss_fn = CrossEntropyLoss()
optimizer = ${optimizer}


def evaluate():
    """The loss and the accuracy on every point, without recording a graph."""
    with no_grad():
        outputs = model(x)
        loss = loss_fn(outputs, y)
    predicted = [max(range(classes), key=lambda c: out[c].data)  # the class of the highest score
                 for out in outputs]
    right = sum(guess == label for guess, label in zip(predicted, y))
    return loss.data, right / len(y)


steps, batch_size = ${s.steps}, ${s.batchSize}
for step in range(steps + 1):
    if step % ${REPORT_EVERY} == 0 or step == steps:
        loss, accuracy = evaluate()
        print(f"step {step}: loss {loss:.4f}, accuracy {accuracy:.3f}")
    if step == steps:
        break
    batch = random.sample(range(len(x)), batch_size)  # a random batch of points
    optimizer.zero_grad()
    loss = loss_fn(model([x[i] for i in batch]), [y[i] for i in batch])
    loss.backward()
    optimizer.step()
`;
}

// ---- drawing --------------------------------------------------------------------------------------------

let points = null; // {points, labels} of the data set being trained on
let history = []; // [{step, loss, accuracy}] of this run
let totalSteps = 0;

function rgb([r, g, b], alpha = 1) {
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function drawBoundary(view) {
  const context = boundaryCanvas.getContext("2d");
  const { width, height } = boundaryCanvas;
  context.clearRect(0, 0, width, height);
  if (!view) return;
  const [left, right, bottom, top] = view.bounds;
  // Cell edges rounded to whole pixels, so that no two cells overlap (their tints would add up)
  const edgeX = (i) => Math.round((i * width) / view.grid);
  const edgeY = (j) => Math.round((j * height) / view.grid);
  view.classes.forEach((label, k) => { // rows from the top, as the worker made them
    const i = k % view.grid;
    const j = Math.floor(k / view.grid);
    context.fillStyle = rgb(COLOURS[label % COLOURS.length], 0.3);
    context.fillRect(edgeX(i), edgeY(j), edgeX(i + 1) - edgeX(i), edgeY(j + 1) - edgeY(j));
  });
  boundaryCanvas.dataset.bounds = view.bounds.join(",");
  boundaryCanvas.dataset.grid = view.grid;
  if (!points) return;
  points.points.forEach(([px, py], k) => {
    context.beginPath();
    context.arc((px - left) / (right - left) * width, (top - py) / (top - bottom) * height, 3.5, 0, 2 * Math.PI);
    context.fillStyle = rgb(COLOURS[points.labels[k] % COLOURS.length]);
    context.fill();
    context.strokeStyle = "white";
    context.stroke();
  });
}

function drawCurve() {
  const context = curveCanvas.getContext("2d");
  const { width, height } = curveCanvas;
  const pad = { left: 12, right: 12, top: 30, bottom: 28 }; // the legend above, the steps below
  const plot = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  context.clearRect(0, 0, width, height);
  context.strokeStyle = "#999";
  context.strokeRect(pad.left, pad.top, plot.w, plot.h);
  context.fillStyle = "#555";
  context.font = "12px sans-serif";
  context.textAlign = "left";
  context.fillText("0", pad.left, height - 8);
  context.textAlign = "center";
  context.fillText("step", pad.left + plot.w / 2, height - 8);
  context.textAlign = "right";
  context.fillText(`${totalSteps}`, width - pad.right, height - 8);
  context.textAlign = "left";
  curveCanvas.dataset.points = history.length;
  if (history.length === 0) return;
  const finite = history.map((h) => h.loss).filter(Number.isFinite);
  const maxLoss = Math.max(...finite, 1e-9);
  const x = (step) => pad.left + (step / Math.max(totalSteps, 1)) * plot.w;
  const line = (value, top, colour, label, labelX) => {
    context.beginPath();
    history.forEach((h, k) => {
      const y = pad.top + (1 - Math.min(value(h) / top, 1)) * plot.h;
      if (k === 0) context.moveTo(x(h.step), y);
      else context.lineTo(x(h.step), y);
    });
    context.strokeStyle = colour;
    context.lineWidth = 2;
    context.stroke();
    context.lineWidth = 1;
    context.fillStyle = colour;
    context.fillText(label, labelX, 18);
  };
  line((h) => h.loss, maxLoss, "#d62728", `loss (top: ${maxLoss.toFixed(2)})`, pad.left);
  line((h) => h.accuracy, 1, "#2ca02c", "accuracy (top: 1)", pad.left + plot.w / 2);
}

// ---- the worker -----------------------------------------------------------------------------------------

let worker = null;
let ready = false;
let training = false;
let lastStep = 0;

function setStatus(text) {
  status.textContent = text;
}

function showControls() {
  trainButton.disabled = !ready || training;
  stopButton.disabled = !training;
  for (const element of settingsForm.elements) element.disabled = training;
}

// Pyodide waits forever when its WebAssembly cannot be fetched: say so rather than load with no end
const SLOW_LOAD = 45_000; // ms

function startWorker() {
  ready = false;
  worker = new Worker(new URL("./learn-worker.js", import.meta.url), { type: "module" });
  const starting = worker;
  setTimeout(() => {
    if (worker === starting && !ready && status.textContent.startsWith("Loading")) {
      setStatus(`Python has not loaded after ${SLOW_LOAD / 1000} s: the browser's console may say why`);
    }
  }, SLOW_LOAD);
  worker.onmessage = ({ data }) => handle(data);
  worker.onerror = (event) => {
    training = false;
    setStatus(`The worker failed: ${event.message || "could not start it"}`);
    showControls();
  };
}

function handle(message) {
  if (message.type === "ready") {
    ready = true;
    if (!status.textContent.startsWith("Stopped")) setStatus("Ready");
  } else if (message.type === "failed") {
    setStatus(message.text);
  } else if (message.type === "line") {
    output.textContent += message.text + "\n";
  } else if (message.type === "progress") {
    output.textContent += message.line + "\n";
    output.scrollTop = output.scrollHeight;
    lastStep = message.step;
    history.push({ step: message.step, loss: message.loss, accuracy: message.accuracy });
    if (message.view?.points) points = { points: message.view.points, labels: message.view.labels };
    if (message.view) drawBoundary(message.view);
    drawCurve();
    setStatus(`Training… step ${message.step}: loss ${message.loss}, accuracy ${message.accuracy.toFixed(3)}`);
  } else if (message.type === "done") {
    training = false;
    if (message.view?.points) points = { points: message.view.points, labels: message.view.labels };
    if (message.view) drawBoundary(message.view);
    const last = history.at(-1);
    const accuracy = last ? last.accuracy.toFixed(3) : "?";
    // For the tests' timings: the script's time, and the part of it the boundary pictures took
    status.dataset.seconds = message.seconds.toFixed(3);
    status.dataset.viewSeconds = message.viewSeconds.toFixed(3);
    setStatus(`Done: accuracy ${accuracy} in ${message.seconds.toFixed(1)} s`);
  } else if (message.type === "error") {
    training = false;
    output.textContent += message.text;
    setStatus(`The script failed: ${message.text.trim().split("\n").at(-1)}`);
  }
  showControls();
}

function train() {
  if (!ready || training) return;
  const code = scriptFor(settings());
  codeBlock.textContent = code;
  training = true;
  history = [];
  points = null;
  lastStep = 0;
  totalSteps = settings().steps;
  output.textContent = "";
  drawBoundary(null);
  drawCurve();
  setStatus("Training… step 0");
  showControls();
  worker.postMessage({ type: "run", code });
}

// Stop: the worker is busy in Python and reads no message until the script ends, so it is ended
// and a fresh one starts loading at once, ready for the next Train.
function stop() {
  if (!training) return;
  worker.terminate();
  training = false;
  setStatus(`Stopped at step ${lastStep}`);
  startWorker();
  showControls();
}

async function copy() {
  try {
    await navigator.clipboard.writeText(codeBlock.textContent);
    copyButton.textContent = "Copied";
  } catch {
    // No clipboard (an insecure page, a refused permission): select the code for Ctrl+C instead
    getSelection().selectAllChildren(codeBlock);
    copyButton.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { copyButton.textContent = "Copy"; }, 2000);
}

function showCode() {
  codeBlock.textContent = scriptFor(settings());
}

settingsForm.addEventListener("change", showCode);
settingsForm.addEventListener("submit", (event) => event.preventDefault());
trainButton.addEventListener("click", train);
stopButton.addEventListener("click", stop);
copyButton.addEventListener("click", copy);
showCode();
drawCurve();
showControls();
startWorker();
