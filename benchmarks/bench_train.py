"""Training benchmark: one MLP training step, seven ways, measured side by side in one run.

What it measures
----------------
Two workloads, each a small MLP trained with plain SGD on synthetic data drawn
from a seeded ``random.Random`` (the same batches for every implementation):

* ``W1``: MLP 16-32-16-3 (relu hidden layers, identity output), batch 32,
  MSE loss (mean over all 32 x 3 outputs), SGD lr 0.01; inputs uniform in
  [-1, 1], targets uniform in [-1, 1].
* ``W2``: a digits-sized MLP 64-32-10 (relu hidden, identity output), batch 32,
  cross-entropy over 10 classes, SGD lr 0.01; inputs uniform in [0, 1]
  (like scaled 8x8 digit images), labels 0-9.

Each workload is trained, from the same initial weights (uniform in
+-1/sqrt(fan_in), as torch and scalargrad draw them), by

* (a) scalargrad's public API: ``Sequential``/``Linear``, ``MSELoss`` or
  ``CrossEntropyLoss``, ``SGD``; a step is ``out = [model(x) for x in xb];
  loss = loss_fn(out, yb); opt.zero_grad(); loss.backward(); opt.step()``.
* (b) hand-written pure-Python float code doing the same maths: lists of
  floats, forward and backward sample by sample with ``sum(map(mul, ...))``
  dot products and list comprehensions, weight gradients summed over the
  batch, then the SGD update. This is the bar scalargrad is held to.
* (c) micrograd 0.1.0 (PyPI) at its default settings (cyclic GC on): its
  ``MLP(nin, [...])`` with the same weights copied in, the loss built from its
  ``Value`` ops, ``model.zero_grad(); loss.backward()`` and
  ``p.data -= lr * p.grad``. micrograd 0.1.0 has no ``exp`` or ``log`` (and
  ``**`` takes only a number exponent), so cross-entropy cannot be built from
  its ops: for W2 its column trains with MSE against one-hot targets instead
  (the same network; the loss is a few hundred cheap nodes against ~150,000
  for the network), and is checked against scalargrad's ``MSELoss`` on the
  same one-hot targets. The output says so.
* (d) PyTorch, batched: one float64 tensor per batch, ``torch.nn.Linear``
  layers, ``torch.optim.SGD``. Batches are turned into tensors before timing.
  torch runs on one thread (``torch.set_num_threads(1)``): batch-32 matmuls
  gain nothing from more, and a thread pool on a 2-core machine stalls by
  50x whenever another process holds a core.
* (e) PyTorch, one 0-dim float64 tensor per number (per weight and per input
  element), the network built node by node like micrograd; very slow, so only
  a few steps are run. Input tensors are made before timing.
* (f) scalargrad again, with graph replay: the step of (a) is built once, at
  the first step, over placeholder Scalars (``scalargrad.replay.Replay``);
  every step then feeds the batch's values, recomputes the nodes in place and
  runs backward in the cached order. The build is inside the timing.
* (g) scalargrad again, with the graph of (f) compiled to one Python function
  (``scalargrad.compile.CompiledGraph``, fast form); a step is
  ``opt.zero_grad(); loss = compiled(values); opt.step()``, the call running
  forward and backward at once into the model's Scalars, and ``SGD.step()``
  updating them. Unlike (f), the Replay is built and compiled once per
  workload, from the first batch's shape, at the start (before the agreement
  check), outside every timed run (each run resets the model's weights to the
  initial ones); the build and compile
  times are reported on their own, with the number of steps after which (g)
  has earned them back against (b), (a) and (f):
  ``(build + compile) / (step time of the other - step time of (g))``, or
  "never" if (g) is not faster. (f)'s step time includes its own build,
  spread over the run's steps.

Before anything is timed every implementation takes one step from the
initial weights; the loss at step 1 and every weight after it must agree with
scalargrad's within 1e-9 relative, or the script exits 1 with a message. The
report also says whether (g)'s step 1 gives the same bits as (f)'s (it
should, on CPython up to 3.11 and on PyPy).

It then reports, per training sample (one step's time / 32), the best of a few
repeats (``time.perf_counter``, default GC settings, leftover garbage
collected between runs outside the timing; one untimed warm-up run first, for
PyPy's JIT; the repeats of all columns are interleaved, and on CPython the
objects alive before a timed run -- imported modules such as torch, the model,
the data -- are set aside with ``gc.freeze()``, so no column's full
collections walk objects it did not make, which would otherwise inflate
micrograd's GC-bound time); the ratios a/b and f/b (target <= 2), g/b (target
<= 0.8: faster than the hand-written floats), c/a (target >= 50), a/f (what
replay gains), f/g (what compiling gains over replay), a/d and e/a; and the
peak memory of a few steps for (a), (b), (c), (f) (``tracemalloc`` peak
above the start, model already built; not available on PyPy; not for (g):
under tracemalloc each allocation inside one long function costs a walk of
its line table, which made 3 steps of (g) take 40-200 s on CPython 3.11).
Targets are printed as met/NOT met, never asserted.

How to run
----------
From the repository root (no install needed: the script puts the repository
root on ``sys.path``)::

    python benchmarks/bench_train.py            # 50 steps (micrograd and torch-scalar: 3)
    python benchmarks/bench_train.py --quick    # about a minute
    python benchmarks/bench_train.py --steps 200 --repeats 5
    python benchmarks/bench_train.py --quick --profile   # + cProfile of (a)
    pypy3 benchmarks/bench_train.py --quick     # torch/micrograd columns skipped if missing

micrograd (``pip install micrograd==0.1.0``) and torch are optional: a column
whose package is missing is skipped with a note (under PyPy, micrograd's pure
Python source can be put on ``PYTHONPATH``). Exit codes: 0 all implementations
agree, 1 they disagree.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import math
import os
import platform
import pstats
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import mul, sub
from typing import Any, Callable

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import scalargrad  # after the sys.path line above
from scalargrad import Scalar
from scalargrad.compile import CompiledGraph
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, MSELoss, Sequential
from scalargrad.replay import Replay

REL_TOL = 1e-9
SPEED_VS_FLOAT_TARGET = 2.0  # a / b, at most
SPEED_VS_MICROGRAD_TARGET = 50.0  # c / a, at least
COMPILED_VS_FLOAT_TARGET = 0.8  # g / b, at most

Layer = tuple[list[list[float]], list[float]]  # (weight rows, one per output unit; biases)
Batch = tuple[list[list[float]], list[Any]]  # (inputs, targets: float lists or class ids)


# --------------------------------------------------------------------------
# Workloads and data.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    """An MLP training problem: layer sizes, loss, learning rate, batch size."""

    key: str
    title: str
    sizes: tuple[int, ...]
    loss: str  # "mse" or "ce"
    lr: float
    batch: int
    seed: int
    pool: int = 512  # samples in the synthetic data set; batches cycle through it


WORKLOADS = (
    Workload("W1", "MLP 16-32-16-3, MSE", (16, 32, 16, 3), "mse", 0.01, 32, 1),
    Workload("W2", "MLP 64-32-10, cross-entropy", (64, 32, 10), "ce", 0.01, 32, 2),
)


def init_layers(w: Workload) -> list[Layer]:
    """Initial weights: uniform in +-1/sqrt(fan_in) from a seeded generator (torch's default bound)."""
    rng = random.Random(w.seed)
    layers = []
    for n_in, n_out in zip(w.sizes, w.sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)
        rows = [[rng.uniform(-bound, bound) for _ in range(n_in)] for _ in range(n_out)]
        layers.append((rows, [rng.uniform(-bound, bound) for _ in range(n_out)]))
    return layers


def make_batches(w: Workload, steps: int) -> list[Batch]:
    """``steps`` batches cycling through a seeded synthetic data set."""
    rng = random.Random(w.seed + 1000)
    n_in, n_out = w.sizes[0], w.sizes[-1]
    if w.loss == "mse":
        xs = [[rng.uniform(-1.0, 1.0) for _ in range(n_in)] for _ in range(w.pool)]
        ys: list[Any] = [[rng.uniform(-1.0, 1.0) for _ in range(n_out)] for _ in range(w.pool)]
    else:
        xs = [[rng.random() for _ in range(n_in)] for _ in range(w.pool)]
        ys = [rng.randrange(n_out) for _ in range(w.pool)]
    per_epoch = w.pool // w.batch
    out = []
    for s in range(steps):
        i = (s % per_epoch) * w.batch
        out.append((xs[i:i + w.batch], ys[i:i + w.batch]))
    return out


def one_hot(ys: Sequence[int], n: int) -> list[list[float]]:
    """Class ids as one-hot float lists."""
    rows = []
    for y in ys:
        row = [0.0] * n
        row[y] = 1.0
        rows.append(row)
    return rows


def flat(layers: Sequence[Layer]) -> list[float]:
    """All parameters in scalargrad's ``parameters()`` order: per neuron its weights, then its bias."""
    out: list[float] = []
    for rows, bias in layers:
        for row, b in zip(rows, bias):
            out.extend(row)
            out.append(b)
    return out


# --------------------------------------------------------------------------
# Implementations. Each has prepare(batches) (untimed data conversion),
# step(prepared_batch) -> loss at that step, and params() -> flat floats.
# --------------------------------------------------------------------------

class Impl:
    """Base of the implementations under test."""

    one_hot = False  # train a classification workload with MSE against one-hot targets
    n_out = 0

    def prepare(self, batches: list[Batch]) -> list[Any]:
        """Convert batches to this implementation's input format (outside the timing)."""
        if self.one_hot:
            return [(xb, one_hot(yb, self.n_out)) for xb, yb in batches]
        return batches

    def step(self, batch: Any) -> float:
        """One SGD step on ``batch``; returns the loss before the update."""
        raise NotImplementedError

    def params(self) -> list[float]:
        """Every parameter's value, in ``flat()`` order."""
        raise NotImplementedError


class ScalargradImpl(Impl):
    """(a) scalargrad's public API: Sequential of Linear, MSELoss/CrossEntropyLoss, SGD."""

    def __init__(self, w: Workload, layers: list[Layer], loss: str | None = None) -> None:
        n = len(layers)
        modules = [Linear(len(rows[0]), len(rows), activation="relu" if i < n - 1 else "identity")
                   for i, (rows, _) in enumerate(layers)]
        for lin, (rows, bias) in zip(modules, layers):
            lin.initialize(list(zip(rows, bias)))
        self.model = Sequential(modules)
        self.one_hot = (loss or w.loss) == "mse" and w.loss == "ce"
        self.n_out = w.sizes[-1]
        self.loss_fn = MSELoss() if (loss or w.loss) == "mse" else CrossEntropyLoss()
        self.opt = SGD(self.model.parameters(), lr=w.lr)

    def step(self, batch: Batch) -> float:
        """The README's training step."""
        xb, yb = batch
        model, opt = self.model, self.opt
        out = [model(x) for x in xb]
        loss = self.loss_fn(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    def params(self) -> list[float]:
        """Parameter values in ``parameters()`` order."""
        return [p.data for p in self.model.parameters()]

    def record(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay:
        """The step's graph (model outputs and loss), recorded over placeholder Scalars shaped like the batch.

        It is fed with ``batch_values(xb, yb)``.
        """
        xs = [[Scalar(v) for v in x] for x in xb]
        ys = [[Scalar(v) for v in y] if isinstance(y, list) else Scalar(y) for y in yb]
        inputs = [p for x in xs for p in x] + _flat_targets(ys)
        return Replay(lambda: self.loss_fn([self.model(x) for x in xs], ys), inputs)


class ScalargradReplayImpl(ScalargradImpl):
    """(f) (a) with its graph built once, at the first step, and then replayed (``scalargrad.replay``)."""

    def __init__(self, w: Workload, layers: list[Layer], loss: str | None = None) -> None:
        super().__init__(w, layers, loss)
        self.replay: Replay | None = None

    def step(self, batch: Batch) -> float:
        """Feed the batch to the placeholders, then forward, zero_grad, backward, step."""
        xb, yb = batch
        values = batch_values(xb, yb)
        if self.replay is None:
            self.replay = self.record(xb, yb)
        loss = self.replay.forward(values)
        self.opt.zero_grad()
        self.replay.backward()
        self.opt.step()
        return loss


def _flat_targets(yb: Sequence[Any]) -> list[Any]:
    """Targets (numbers, or lists of them) as one flat list."""
    return [v for y in yb for v in (y if isinstance(y, list) else [y])]


def batch_values(xb: Sequence[Sequence[float]], yb: Sequence[Any]) -> list[Any]:
    """A batch as the flat value list its recorded graph is fed (``ScalargradImpl.record``)."""
    return [v for x in xb for v in x] + _flat_targets(yb)


@dataclass
class CompiledSetup:
    """Column (g) on one workload: its model, loss, SGD and compiled step, built once and shared by every
    run."""

    impl: ScalargradImpl  # the model the compiled step reads and writes, with its loss and optimizer
    compiled: CompiledGraph
    build_s: float  # recording the Replay
    compile_s: float  # CompiledGraph(replay): writing the source and Python's compile()


_COMPILED: dict[tuple[str, int], CompiledSetup] = {}  # (workload, batch size) -> its setup


def compiled_setup(w: Workload, layers: list[Layer], xb: Sequence[Any], yb: Sequence[Any]) -> CompiledSetup:
    """Column (g)'s setup for ``w`` at this batch size: built, timed and compiled at the first call, then
    reused."""
    key = (w.key, len(xb))
    if key not in _COMPILED:
        impl = ScalargradImpl(w, layers)
        gc.collect()  # no pending garbage of earlier work collected inside the timing
        t0 = time.perf_counter()
        replay = impl.record(xb, yb)
        t1 = time.perf_counter()
        compiled = CompiledGraph(replay, form="fast")
        t2 = time.perf_counter()
        _COMPILED[key] = CompiledSetup(impl, compiled, t1 - t0, t2 - t1)
    return _COMPILED[key]


class ScalargradCompiledImpl(Impl):
    """(g) (f)'s graph compiled once per workload (``CompiledGraph``), outside the timing; then run as one
    call."""

    def __init__(self, w: Workload, layers: list[Layer]) -> None:
        self.w, self.layers = w, layers
        self.setup: CompiledSetup | None = None

    def prepare(self, batches: list[Batch]) -> list[Any]:
        """Fetch (or build and compile, at the first run) the workload's setup; reset its weights to
        ``layers``."""
        xb, yb = batches[0]
        self.setup = compiled_setup(self.w, self.layers, xb, yb)
        for p, v in zip(self.setup.impl.model.parameters(), flat(self.layers)):
            p.data, p.grad = v, 0.0
        return batches

    def step(self, batch: Batch) -> float:
        """zero_grad, the compiled forward and backward, SGD step."""
        xb, yb = batch
        setup = self.setup
        opt = setup.impl.opt
        opt.zero_grad()
        loss = setup.compiled(batch_values(xb, yb))
        opt.step()
        return loss

    def params(self) -> list[float]:
        """Parameter values in ``parameters()`` order."""
        return self.setup.impl.params()


class FloatImpl(Impl):
    """(b) hand-written pure-Python float code: the same maths on lists of floats."""

    def __init__(self, w: Workload, layers: list[Layer]) -> None:
        self.W = [[list(row) for row in rows] for rows, _ in layers]
        self.b = [list(bias) for _, bias in layers]
        self.lr = w.lr
        self.ce = w.loss == "ce"

    def step(self, batch: Batch) -> float:
        """Forward sample by sample, loss and its gradient, backward, SGD update."""
        xb, yb = batch
        Ws, bs, lr = self.W, self.b, self.lr
        last = len(Ws) - 1
        inputs = []  # each layer's input, one list per sample
        H = xb
        for k in range(last):
            inputs.append(H)
            Wb = list(zip(Ws[k], bs[k]))
            H = [[z if z > 0.0 else 0.0 for z in [sum(map(mul, row, h)) + bj for row, bj in Wb]] for h in H]
        inputs.append(H)
        Wb = list(zip(Ws[last], bs[last]))
        out = [[sum(map(mul, row, h)) + bj for row, bj in Wb] for h in H]

        # Loss and d(loss)/d(output) per sample.
        n_batch = len(out)
        if self.ce:
            losses, D = [], []
            inv_b = 1.0 / n_batch
            for z, t in zip(out, yb):
                m = max(z)
                e = [math.exp(v - m) for v in z]
                s = sum(e)
                losses.append(m + math.log(s) - z[t])
                scale = inv_b / s
                d = [v * scale for v in e]
                d[t] -= inv_b
                D.append(d)
            loss = sum(losses) / n_batch
        else:
            diffs = [list(map(sub, o, t)) for o, t in zip(out, yb)]
            n = n_batch * len(out[0])
            loss = sum([d * d for row in diffs for d in row]) / n
            scale = 2.0 / n
            D = [[scale * d for d in row] for row in diffs]

        # Backward layer by layer: weight gradients summed over the batch
        # (a dot product over the batch per weight), then the update.
        for k in range(last, -1, -1):
            H = inputs[k]
            Dc = list(zip(*D))  # per output unit, its delta in each sample
            Hc = list(zip(*H))  # per input, its value in each sample
            gW = [[sum(map(mul, dc, hc)) for hc in Hc] for dc in Dc]
            gb = [sum(dc) for dc in Dc]
            if k:  # delta of the previous layer's output, through its relu (h > 0 iff z > 0)
                WT = list(zip(*Ws[k]))
                D = [[sum(map(mul, col, d)) if hi > 0.0 else 0.0 for col, hi in zip(WT, h)]
                     for d, h in zip(D, H)]
            Ws[k] = [[wi - lr * g for wi, g in zip(row, grow)] for row, grow in zip(Ws[k], gW)]
            bs[k] = [bj - lr * g for bj, g in zip(bs[k], gb)]
        return loss

    def params(self) -> list[float]:
        """Parameter values in ``flat()`` order."""
        return flat(list(zip(self.W, self.b)))


def importable(module: str) -> bool:
    """Whether ``module`` can be imported here."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


class MicrogradImpl(Impl):
    """(c) micrograd 0.1.0's MLP, loss from its Value ops, manual SGD (MSE only: no exp/log)."""

    def __init__(self, w: Workload, layers: list[Layer]) -> None:
        from micrograd.nn import MLP

        self.model = MLP(w.sizes[0], list(w.sizes[1:]))
        for layer, (rows, bias) in zip(self.model.layers, layers):
            for neuron, row, b in zip(layer.neurons, rows, bias):
                for p, v in zip(neuron.w, row):
                    p.data = v
                neuron.b.data = b
        self.parameters = self.model.parameters()
        self.lr = w.lr
        self.one_hot = w.loss == "ce"
        self.n_out = w.sizes[-1]

    def step(self, batch: Batch) -> float:
        """Forward, mean squared error over all outputs, backward, ``p.data -= lr * p.grad``."""
        xb, yb = batch
        model = self.model
        out = [model(x) for x in xb]
        n = len(out) * len(out[0])
        loss = sum((o - t) ** 2 for os_, ts in zip(out, yb) for o, t in zip(os_, ts)) / n
        model.zero_grad()
        loss.backward()
        lr = self.lr
        for p in self.parameters:
            p.data -= lr * p.grad
        return loss.data

    def params(self) -> list[float]:
        """Parameter values in micrograd's order (the same as ``flat()``)."""
        return [p.data for p in self.parameters]


class TorchBatchedImpl(Impl):
    """(d) PyTorch float64, one tensor per batch, torch.nn.Linear layers, torch.optim.SGD."""

    def __init__(self, w: Workload, layers: list[Layer]) -> None:
        import torch

        self.torch = torch
        mods: list[Any] = []
        for i, (rows, bias) in enumerate(layers):
            lin = torch.nn.Linear(len(rows[0]), len(rows)).double()
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(rows, dtype=torch.float64))
                lin.bias.copy_(torch.tensor(bias, dtype=torch.float64))
            mods.append(lin)
            if i < len(layers) - 1:
                mods.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*mods)
        self.loss_fn = torch.nn.MSELoss() if w.loss == "mse" else torch.nn.CrossEntropyLoss()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=w.lr)
        self.ce = w.loss == "ce"

    def prepare(self, batches: list[Batch]) -> list[Any]:
        """Each batch as an input tensor and a target tensor (float64, or int64 class ids)."""
        torch = self.torch
        ydtype = torch.int64 if self.ce else torch.float64
        return [(torch.tensor(xb, dtype=torch.float64), torch.tensor(yb, dtype=ydtype)) for xb, yb in batches]

    def step(self, batch: Any) -> float:
        """zero_grad, forward, loss, backward, step."""
        x, y = batch
        opt = self.opt
        opt.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def params(self) -> list[float]:
        """Parameter values in ``flat()`` order."""
        layers = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return flat([(m.weight.tolist(), m.bias.tolist()) for m in layers])


class TorchScalarImpl(Impl):
    """(e) PyTorch with one 0-dim float64 tensor per weight and per input element, built like micrograd."""

    def __init__(self, w: Workload, layers: list[Layer]) -> None:
        import torch

        self.torch = torch

        def t(v: float) -> Any:
            return torch.tensor(v, dtype=torch.float64, requires_grad=True)

        self.layers = [([[t(v) for v in row] for row in rows], [t(b) for b in bias]) for rows, bias in layers]
        self.parameters = [p for rows, bias in self.layers for row, b in zip(rows, bias) for p in (*row, b)]
        self.lr = w.lr
        self.ce = w.loss == "ce"

    def prepare(self, batches: list[Batch]) -> list[Any]:
        """Every input number as its own 0-dim tensor (made here, outside the timing)."""
        torch = self.torch
        return [([[torch.tensor(v, dtype=torch.float64) for v in x] for x in xb], yb) for xb, yb in batches]

    def step(self, batch: Any) -> float:
        """Neuron by neuron with scalar tensors, loss, backward, manual SGD update."""
        torch = self.torch
        xb, yb = batch
        last = len(self.layers) - 1
        out = []
        for x in xb:
            for k, (rows, bias) in enumerate(self.layers):
                acts = [sum((wi * xi for wi, xi in zip(row, x)), b) for row, b in zip(rows, bias)]
                x = [torch.relu(a) for a in acts] if k < last else acts
            out.append(x)
        if self.ce:
            losses = []
            for z, t in zip(out, yb):
                m = max(v.item() for v in z)
                lse = torch.log(sum(torch.exp(v - m) for v in z)) + m
                losses.append(lse - z[t])
            loss = sum(losses) / len(losses)
        else:
            n = len(out) * len(out[0])
            loss = sum((o - t) ** 2 for os_, ts in zip(out, yb) for o, t in zip(os_, ts)) / n
        for p in self.parameters:
            p.grad = None
        loss.backward()
        lr = self.lr
        with torch.no_grad():
            for p in self.parameters:
                p -= lr * p.grad
        return loss.item()

    def params(self) -> list[float]:
        """Parameter values in ``flat()`` order."""
        return [p.item() for p in self.parameters]


@dataclass(frozen=True)
class Column:
    """One implementation in the table."""

    key: str  # "a" .. "g"
    label: str
    factory: Callable[[Workload, list[Layer]], Impl]
    slow: bool  # micrograd, torch-scalar: only a few steps
    traced: bool  # peak memory measured with tracemalloc


def columns() -> tuple[list[Column], list[str]]:
    """The implementations available here, and notes on the ones skipped."""
    cols = [Column("a", "scalargrad", ScalargradImpl, False, True),
            Column("b", "hand-written floats", FloatImpl, False, True),
            Column("f", "scalargrad, replayed", ScalargradReplayImpl, False, True),
            Column("g", "scalargrad, compiled", ScalargradCompiledImpl, False, False)]
    notes = []
    if importable("micrograd.nn"):
        cols.append(Column("c", "micrograd 0.1.0", MicrogradImpl, True, True))
    else:
        notes.append("(c) micrograd skipped: not importable here (pip install micrograd==0.1.0, or put its "
                     "source on PYTHONPATH)")
    if importable("torch"):
        import torch

        # One thread: batch-32 matmuls gain nothing from more (measured the same on an
        # idle machine), and a thread pool stalls whenever another process holds a core.
        torch.set_num_threads(1)
        cols.append(Column("d", "torch batched", TorchBatchedImpl, False, False))
        cols.append(Column("e", "torch scalar tensors", TorchScalarImpl, True, False))
    else:
        notes.append("(d), (e) PyTorch skipped: torch is not importable here")
    return cols, notes


# --------------------------------------------------------------------------
# Agreement check.
# --------------------------------------------------------------------------

def rel_diff(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude (0 when equal; inf for nan)."""
    if a == b:
        return 0.0
    d = abs(a - b) / max(abs(a), abs(b))
    return math.inf if math.isnan(d) else d


@dataclass
class Agreement:
    """How one implementation's first step compares with scalargrad's."""

    column: str
    workload: str
    loss_rel: float
    weights_rel: float
    reference: str

    @property
    def ok(self) -> bool:
        """Within REL_TOL on the loss and on every weight."""
        return self.loss_rel <= REL_TOL and self.weights_rel <= REL_TOL


def first_step(impl: Impl, batch: Batch) -> tuple[float, list[float]]:
    """Loss at step 1 and the weights after it."""
    prepared = impl.prepare([batch])[0]
    loss = float(impl.step(prepared))
    return loss, [float(v) for v in impl.params()]


def check_agreement(w: Workload, cols: Sequence[Column]) -> list[Agreement]:
    """Step 1 of every column against scalargrad's step 1 (micrograd on W2 against scalargrad + MSE
    one-hot)."""
    layers = init_layers(w)
    batch = make_batches(w, 1)[0]
    refs = {w.loss: first_step(ScalargradImpl(w, layers), batch)}
    if w.loss != "mse":  # micrograd's reference: the same network with MSE on one-hot targets
        refs["mse"] = first_step(ScalargradImpl(w, layers, loss="mse"), batch)
    out = []
    for col in cols:
        if col.key == "a":
            continue
        ref_loss = "mse" if col.key == "c" else w.loss
        ref_l, ref_p = refs[ref_loss]
        loss, ps = first_step(col.factory(w, layers), batch)
        worst = max((rel_diff(a, b) for a, b in zip(ps, ref_p)), default=0.0)
        if len(ps) != len(ref_p):
            worst = math.inf
        ref = "scalargrad" if ref_loss == w.loss else "scalargrad MSELoss on one-hot targets"
        out.append(Agreement(col.key, w.key, rel_diff(loss, ref_l), worst, ref))
        gc.collect()
    return out


def same_bits(w: Workload, first: Column, second: Column) -> bool:
    """Whether two columns' step 1 on ``w`` (the loss and every weight after it) are the same bit for bit."""
    layers, batch = init_layers(w), make_batches(w, 1)[0]
    return first_step(first.factory(w, layers), batch) == first_step(second.factory(w, layers), batch)


# --------------------------------------------------------------------------
# Measurements.
# --------------------------------------------------------------------------

def time_run(col: Column, w: Workload, steps: int) -> float:
    """Seconds for ``steps`` training steps from the initial weights (model built outside the timing)."""
    impl = col.factory(w, init_layers(w))
    prepared = impl.prepare(make_batches(w, steps))
    step = impl.step
    gc.collect()
    frozen = _gc_freeze()
    try:
        t0 = time.perf_counter()
        for batch in prepared:
            step(batch)
        t1 = time.perf_counter()
    finally:
        if frozen:
            gc.unfreeze()
    del impl, prepared
    gc.collect()  # free micrograd's cycles here, not inside the next timing
    return t1 - t0


def _gc_freeze() -> bool:
    """Move every object alive now out of the cyclic GC's sight (CPython 3.7+); False where unsupported.

    Without it a column would pay, in every full collection, for objects it
    did not make (torch's modules, the other columns' leftovers): micrograd,
    whose run time is mostly the GC's, would look slower than it is.
    """
    freeze = getattr(gc, "freeze", None)
    if freeze is None:
        return False
    freeze()
    return True


def has_tracemalloc() -> bool:
    """Whether this interpreter has tracemalloc (PyPy has not)."""
    try:
        import tracemalloc  # noqa: F401
    except ImportError:
        return False
    return True


def peak_memory(col: Column, w: Workload, steps: int) -> int | None:
    """tracemalloc peak (bytes) above the start during ``steps`` steps; model and data made before."""
    if not has_tracemalloc():
        return None
    import tracemalloc

    impl = col.factory(w, init_layers(w))
    prepared = impl.prepare(make_batches(w, steps))
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for batch in prepared:
            impl.step(batch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del impl, prepared
    gc.collect()
    return peak - start


@dataclass
class Result:
    """Measurements of one column on one workload."""

    steps: int
    repeats: int
    us_per_sample: float
    peak_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def measure(cols: Sequence[Column], w: Workload, args: argparse.Namespace) -> dict[str, Result]:
    """Per column: best-of-repeats time per sample, and the peak memory of a few steps.

    An untimed warm-up run comes first (for micrograd and torch-scalar on
    PyPy only). The repeats are interleaved (round r runs every column
    once), so a burst of load on the machine hits all columns alike instead
    of one column's every run.
    """
    pypy = platform.python_implementation() == "PyPy"
    # one untimed run each: warms PyPy's JIT (cheap there; on CPython the slow ones are skipped)
    for col in cols:
        if pypy or not col.slow:
            time_run(col, w, args.slow_steps if col.slow else args.steps)
    best: dict[str, float] = {}
    for r in range(max(args.repeats, args.slow_repeats)):
        for col in cols:
            if r < (args.slow_repeats if col.slow else args.repeats):
                t = time_run(col, w, args.slow_steps if col.slow else args.steps)
                best[col.key] = min(best.get(col.key, math.inf), t)
    out = {}
    for col in cols:
        steps = args.slow_steps if col.slow else args.steps
        repeats = args.slow_repeats if col.slow else args.repeats
        peak = peak_memory(col, w, min(steps, 3)) if col.traced else None
        out[col.key] = Result(steps, repeats, best[col.key] / (steps * w.batch) * 1e6, peak)
    return out


def profile_scalargrad(w: Workload, steps: int, top: int = 14) -> str:
    """cProfile of (a) on ``w`` for ``steps`` steps: the top entries by own time, as text."""
    impl = ScalargradImpl(w, init_layers(w))
    prepared = impl.prepare(make_batches(w, steps))
    prof = cProfile.Profile()
    prof.enable()
    for batch in prepared:
        impl.step(batch)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    lines = buf.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    total = next((line.strip() for line in lines if "function calls" in line), "")
    return "\n".join([total, *lines[start:]]).rstrip()


# --------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------

def _fmt_us(x: float | None) -> str:
    """Microseconds: 3 significant digits for small values, whole numbers with separators above."""
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:#.3g}"


def _fmt_kib(b: int | None) -> str:
    """Bytes as KiB ("n/a" when not measured)."""
    return "n/a" if b is None else f"{b / 1024:,.0f}"


def _print_table(header: Sequence[str], body: Sequence[Sequence[str]],
                 group: Sequence[str] | None = None) -> None:
    """Columns padded to width; first column left-aligned, the rest right-aligned."""
    lines = ([group] if group else []) + [header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        """One table line."""
        cells = [line[0].ljust(widths[0])] + [c.rjust(wd) for c, wd in zip(line[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    if group:
        print(fmt(group))
    print(fmt(header))
    print(fmt(["-" * wd for wd in widths]))
    for line in body:
        print(fmt(line))


def print_report(cols: Sequence[Column], results: dict[tuple[str, str], Result]) -> None:
    """The per-sample table, the ratios and the targets."""
    group = [""]
    header = ["implementation"]
    for w in WORKLOADS:
        group += [w.key, "", "", ""]
        header += ["steps", "us/sample", "x (a)", "peak KiB"]
    body = []
    for col in cols:
        line = [f"({col.key}) {col.label}"]
        for w in WORKLOADS:
            r = results.get((col.key, w.key))
            a = results.get(("a", w.key))
            if r is None:
                line += ["-", "-", "-", "-"]
                continue
            label = _fmt_us(r.us_per_sample) + ("*" if col.key == "c" and w.loss == "ce" else "")
            ratio = f"{r.us_per_sample / a.us_per_sample:.2f}" if a else "-"
            line += [str(r.steps), label, ratio, _fmt_kib(r.peak_bytes) if col.traced else "-"]
        body.append(line)
    _print_table(header, body, group)

    def ratio(num: str, den: str, w: Workload) -> float | None:
        """results[num] / results[den] per sample on ``w`` (None if either is missing)."""
        n, d = results.get((num, w.key)), results.get((den, w.key))
        return None if n is None or d is None else n.us_per_sample / d.us_per_sample

    print()
    specs = [("a/b", "a", "b", "scalargrad / hand-written floats", f"<= {SPEED_VS_FLOAT_TARGET:g}", "le"),
             ("c/a", "c", "a", "micrograd / scalargrad", f">= {SPEED_VS_MICROGRAD_TARGET:g}", "ge"),
             ("f/b", "f", "b", "scalargrad replayed / hand-written", f"<= {SPEED_VS_FLOAT_TARGET:g}", "le"),
             ("g/b", "g", "b", "scalargrad compiled / hand-written", f"<= {COMPILED_VS_FLOAT_TARGET:g}",
              "le"),
             ("a/f", "a", "f", "replay speed-up (rebuilt / replayed)", "", ""),
             ("f/g", "f", "g", "compile speed-up (replayed / compiled)", "", ""),
             ("a/d", "a", "d", "scalargrad / torch batched", "", ""),
             ("e/a", "e", "a", "torch scalar tensors / scalargrad", "", "")]
    body = []
    verdicts = []
    for name, num, den, what, target, sense in specs:
        line = [f"{name}  {what}"]
        for w in WORKLOADS:
            r = ratio(num, den, w)
            line.append("-" if r is None else f"{r:,.2f}" if r < 10 else f"{r:,.0f}")
            if r is not None and target:
                limit = float(target.split()[1])
                met = r <= limit if sense == "le" else r >= limit
                verdicts.append(f"  {w.key} {name} {target:<5}: {r:8.2f}  {'met' if met else 'NOT met'}")
        line.append(target or "(info)")
        body.append(line)
    _print_table(["ratio (per sample)", *[w.key for w in WORKLOADS], "target"], body)
    print()
    print("targets (informational, not asserted):")
    for v in verdicts:
        print(v)


def _pay_back(cost_s: float, other: Result | None, compiled: Result, batch: int) -> str:
    """Steps after which ``cost_s`` is earned back by (g) against ``other`` ("never" if (g) is not faster)."""
    if other is None:
        return "-"
    gain_s = (other.us_per_sample - compiled.us_per_sample) * batch * 1e-6  # per step
    return "never" if gain_s <= 0.0 else f"{math.ceil(cost_s / gain_s):,}"


def print_compile_report(results: dict[tuple[str, str], Result]) -> None:
    """Column (g)'s one-off costs per workload: Replay build, compile, source size, and the pay-back steps."""
    header = ["workload", "nodes", "build ms", "compile ms", "source KiB", "lines",
              "pay-back vs (b)", "vs (a)", "vs (f)"]
    body = []
    for w in WORKLOADS:
        setup, g = _COMPILED.get((w.key, w.batch)), results.get(("g", w.key))
        if setup is None or g is None:
            continue
        source = setup.compiled.source
        cost = setup.build_s + setup.compile_s
        body.append([w.key, f"{len(setup.compiled):,}", f"{setup.build_s * 1e3:,.0f}",
                     f"{setup.compile_s * 1e3:,.0f}", f"{len(source.encode()) / 1024:,.0f}",
                     f"{len(source.splitlines()):,}",
                     *(_pay_back(cost, results.get((key, w.key)), g, w.batch) for key in "baf")])
    if not body:
        return
    print("(g) built and compiled once per workload (fast form), before the agreement check, outside its "
          "timing (one measurement each);")
    print("pay-back: steps after which (g) has earned back build + compile against that column "
          "((f)'s time includes its own build)")
    _print_table(header, body)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true",
                   help="10 steps, 3 repeats; micrograd and torch-scalar 1 step once: about a minute")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps per run for (a), (b), (d), (f), (g) (default 50; 10 with --quick)")
    p.add_argument("--slow-steps", type=int, default=None,
                   help="timed steps per run for micrograd and torch-scalar (default 3; 1 with --quick)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed runs per implementation, best kept (default 5; 3 with --quick)")
    p.add_argument("--slow-repeats", type=int, default=None,
                   help="timed runs for micrograd and torch-scalar (default 2; 1 with --quick)")
    p.add_argument("--profile", action="store_true", help="also print a cProfile of (a) on each workload")
    args = p.parse_args(argv)
    if args.steps is None:
        args.steps = 10 if args.quick else 50
    if args.slow_steps is None:
        args.slow_steps = min(args.steps, 1 if args.quick else 3)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.slow_repeats is None:
        args.slow_repeats = 1 if args.quick else 2
    if min(args.steps, args.slow_steps, args.repeats, args.slow_repeats) < 1:
        p.error("--steps, --slow-steps, --repeats and --slow-repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Check agreement, measure, print; return the exit code."""
    args = parse_args(argv)
    cols, notes = columns()
    t_start = time.perf_counter()
    for w in WORKLOADS:  # column (g)'s one-off build and compile, timed here, in a quiet process
        xb, yb = make_batches(w, 1)[0]
        compiled_setup(w, init_layers(w), xb, yb)

    # 1. Agreement at step 1: nothing is timed unless every implementation agrees.
    checks = [a for w in WORKLOADS for a in check_agreement(w, cols)]
    bad = [a for a in checks if not a.ok]
    if bad:
        print(f"implementations DISAGREE with scalargrad at step 1 (tolerance {REL_TOL:g} relative):",
              file=sys.stderr)
        for a in bad:
            print(f"  {a.workload} ({a.column}) vs {a.reference}: loss rel diff {a.loss_rel:.2e}, "
                  f"max weight rel diff {a.weights_rel:.2e}", file=sys.stderr)
        return 1

    by_key = {c.key: c for c in cols}
    same_as_replay = {w.key: same_bits(w, by_key["f"], by_key["g"]) for w in WORKLOADS}

    # 2. Measurements, workload by workload.
    results: dict[tuple[str, str], Result] = {}
    for w in WORKLOADS:
        for key, result in measure(cols, w, args).items():
            results[(key, w.key)] = result

    # 3. Report.
    impl = platform.python_implementation()
    print(f"{impl} {platform.python_version()} ({sys.version.splitlines()[0]}) on {platform.machine()}")
    versions = [f"scalargrad {getattr(scalargrad, '__version__', '?')}"]
    if any(c.key == "c" for c in cols):
        versions.append(f"micrograd {_dist_version('micrograd')}")
    if any(c.key == "d" for c in cols):
        import torch

        versions.append(f"torch {torch.__version__} ({torch.get_num_threads()} thread)")
    print(", ".join(versions) + f"; batch 32; best of {args.repeats} runs "
          f"(micrograd, torch-scalar: {args.slow_repeats}), interleaved; default GC settings")
    for w in WORKLOADS:
        print(f"  {w.key}: {w.title}, SGD lr {w.lr:g}, batch {w.batch}, "
              f"{sum(len(flat([lay])) for lay in init_layers(w)):,} parameters")
    worst_loss = max((a.loss_rel for a in checks), default=0.0)
    worst_w = max((a.weights_rel for a in checks), default=0.0)
    print(f"  agree at step 1 with scalargrad ({', '.join(sorted({'(' + a.column + ')' for a in checks}))}): "
          f"loss rel diff <= {worst_loss:.1e}, weights after step 1 rel diff <= {worst_w:.1e}")
    print("  (g) compiled vs (f) replayed at step 1, loss and every weight: "
          + ", ".join(f"{k} {'bit-identical' if same else 'NOT bit-identical'}"
                      for k, same in same_as_replay.items()))
    for note in notes:
        print("  note: " + note)
    if any(c.key == "c" for c in cols):
        print("  note: * micrograd 0.1.0 has no exp/log, so on W2 it trains with MSE against one-hot targets "
              "(checked against scalargrad's MSELoss on the same targets); same network, a lighter loss")
    mem = "tracemalloc peak above the start" if has_tracemalloc() else "no tracemalloc on this interpreter"
    print(f"  peak KiB: {mem}, over {min(args.steps, 3)} steps ((c): {min(args.slow_steps, 3)}), "
          "model built before; not for (g) "
          "(tracemalloc finds the line of every allocation in its one long function: 100x slower)")
    print()
    print_report(cols, results)
    print()
    print_compile_report(results)
    print()
    print(f"total time {time.perf_counter() - t_start:.0f} s")

    if args.profile:
        for w in WORKLOADS:
            print()
            print(f"cProfile of (a) scalargrad on {w.key} ({w.title}), {args.steps} steps, by own time:")
            print(profile_scalargrad(w, args.steps))
    return 0


def _dist_version(name: str) -> str:
    """Installed version of distribution ``name`` ("?" if it is only on PYTHONPATH)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "(version unknown: not installed as a distribution)"


if __name__ == "__main__":
    sys.exit(main())
