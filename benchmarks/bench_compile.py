"""Compile benchmark: what compiling a graph costs (time, source size) and what a compiled call saves.

What it measures
----------------
For each graph below and each form of ``scalargrad.compile.CompiledGraph``
("fast": a layer written once as a loop over its samples; "readable": one
line per node and per local-derivative product):

* the Replay build: recording the graph over placeholder inputs;
* the compile time: ``CompiledGraph(replay, form=...)``, that is writing the
  source and Python's ``compile()`` of it; best of up to 3 (fewer when one
  takes over a second), each under a new function name so that no compile is
  served from the cache of compiled code;
* the source's size, in characters and lines;
* one call of the compiled function (``compiled(values)``: forward and
  backward) against ``replay.forward(values); replay.backward()``, best of
  ``--calls``, with the parameters' gradients zeroed before each (outside the
  timing);
* agreement: the compiled call's output and every parameter's gradient
  against the Replay's, bit for bit (expected on CPython up to 3.11 and on
  PyPy) or within 1e-9 relative; anything else exits 1.

The graphs:

* ``W1``, ``W2``: the training-step graphs of ``bench_train.py`` (a batch of 32
  through MLP 16-32-16-3 with MSE, and MLP 64-32-10 with cross-entropy),
  recorded as its columns (f) and (g) record them.
* ``chain``: ``x = relu(x * w + c)`` repeated, about ``--nodes`` nodes (three
  per link: a multiply, an add, a relu), cycling through the 64 (w, c)
  parameter pairs of ``bench_scale.py``'s chain; the start x is the one
  input. Nothing in it forms a layer, so the fast form writes it node by node.
* ``mlp``: a wide MLP batch: MLP 32-128-128-10 (relu hidden layers) with MSE,
  the batch size chosen to give about ``--nodes`` nodes (a neuron is one node
  per sample, plus the loss's nodes).

Each (graph, form) runs in a fresh subprocess: nothing is left cached from
an earlier compile, and a run that goes on past ``--timeout`` seconds of
compiling (60 by default; the child is given that plus twice the graph's
build time and 10 s) is stopped and reported as skipped. Times are reported,
never asserted.

How to run
----------
From the repository root::

    python benchmarks/bench_compile.py                  # W1, W2, chain and mlp of ~100,000 nodes
    python benchmarks/bench_compile.py --nodes 10000 --graphs chain,mlp
    pypy3 benchmarks/bench_compile.py

Exit codes: 0 every (graph, form) compiled and its call agrees with its
Replay, 1 otherwise (a failure is printed as a note under the table).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import scalargrad  # after the sys.path line above
from benchmarks.bench_scale import POOL, chain_leaves
from benchmarks.bench_train import (
    REL_TOL,
    WORKLOADS,
    ScalargradImpl,
    Workload,
    batch_values,
    init_layers,
    make_batches,
    rel_diff,
)
from scalargrad import Scalar
from scalargrad.compile import CompiledGraph
from scalargrad.replay import Replay

FORMS = ("fast", "readable")
GRAPHS = ("W1", "W2", "chain", "mlp")
WIDE_SIZES = (32, 128, 128, 10)  # the mlp graph's layer sizes


@dataclass
class Graph:
    """A recorded graph to compile: its Replay, its parameters and the values it is fed."""

    name: str
    what: str
    replay: Replay
    params: list[Scalar]
    values: list[float]
    build_s: float


def _recorded(name: str, what: str, w: Workload) -> Graph:
    """The training-step graph of ``w`` on its first batch, recorded as bench_train's (f) and (g) do."""
    impl = ScalargradImpl(w, init_layers(w))
    xb, yb = make_batches(w, 1)[0]
    t0 = time.perf_counter()
    replay = impl.record(xb, yb)
    build_s = time.perf_counter() - t0
    return Graph(name, what, replay, impl.model.parameters(), batch_values(xb, yb), build_s)


def chain_graph(nodes: int) -> Graph:
    """``x = relu(x * w + c)`` for about ``nodes`` nodes over 64 shared (w, c) pairs; x's start is the
    input."""
    x0, ws, cs = chain_leaves(0)
    pairs = [(Scalar(w), Scalar(c)) for w, c in zip(ws, cs)]
    links = max(1, nodes // 3)
    start = Scalar(x0)

    def build() -> Scalar:
        x = start
        for i in range(links):
            w, c = pairs[i % POOL]
            x = (x * w + c).relu()
        return x

    t0 = time.perf_counter()
    replay = Replay(build, [start])
    build_s = time.perf_counter() - t0
    what = f"chain x = relu(x*w + c), {links:,} links, {POOL} (w, c) pairs"
    return Graph("chain", what, replay, [p for pair in pairs for p in pair], [x0], build_s)


def mlp_graph(nodes: int) -> Graph:
    """MLP 32-128-128-10 with MSE over a batch sized for about ``nodes`` nodes."""
    per_sample = sum(WIDE_SIZES[1:]) + 2 * WIDE_SIZES[-1]  # a node per neuron; MSE's difference and square
    batch = max(1, round(nodes / per_sample))
    w = Workload("mlp", "MLP 32-128-128-10, MSE", WIDE_SIZES, "mse", 0.01, batch, seed=3, pool=batch)
    return _recorded("mlp", f"{w.title}, batch {batch}", w)


def make_graph(name: str, nodes: int) -> Graph:
    """One of GRAPHS (``nodes`` sizes chain and mlp)."""
    if name == "chain":
        return chain_graph(nodes)
    if name == "mlp":
        return mlp_graph(nodes)
    w = next(w for w in WORKLOADS if w.key == name)
    return _recorded(name, f"{w.title}, batch {w.batch}", w)


@dataclass
class Row:
    """One (graph, form): sizes, times and agreement."""

    graph: str
    what: str
    form: str
    nodes: int
    build_s: float
    compile_s: float
    compiles: int
    chars: int
    lines: int
    call_s: float
    replay_s: float
    same_bits: bool
    worst_rel: float


def _zero(params: Sequence[Scalar]) -> None:
    """Every parameter's gradient to 0."""
    for p in params:
        p.grad = 0.0


def measure(graph: Graph, form: str, calls: int) -> Row:
    """Compile ``graph`` in ``form``, check it against its Replay, and time a call of each."""
    replay, params, values = graph.replay, graph.params, graph.values
    compile_times: list[float] = []
    while len(compile_times) < 3 and sum(compile_times) < 1.0:
        t0 = time.perf_counter()
        compiled = CompiledGraph(replay, function_name=f"step{len(compile_times)}", form=form)
        compile_times.append(time.perf_counter() - t0)

    _zero(params)
    out = compiled(values)
    compiled_grads = [p.grad for p in params]
    _zero(params)
    expected = replay.forward(values)
    replay.backward()
    replay_grads = [p.grad for p in params]
    same = out == expected and compiled_grads == replay_grads
    worst = max([rel_diff(out, expected)] + [rel_diff(a, b) for a, b in zip(compiled_grads, replay_grads)])

    def best_of(run: object) -> float:
        """Best wall time of ``calls`` runs, gradients zeroed before each."""
        best = math.inf
        for _ in range(calls):
            _zero(params)
            t0 = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t0)
        return best

    def replayed() -> None:
        replay.forward(values)
        replay.backward()

    source = compiled.source
    return Row(graph.name, graph.what, form, len(replay), graph.build_s, min(compile_times),
               len(compile_times), len(source), len(source.splitlines()), best_of(lambda: compiled(values)),
               best_of(replayed), same, worst)


def run_child(name: str, form: str, nodes: int, calls: int, timeout: float) -> Row | str:
    """``measure`` in a fresh interpreter: its Row, or why there is none (past ``timeout`` s, or failed)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", name, form, "--nodes", str(nodes),
           "--calls", str(calls)]
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"not finished within {timeout:.0f} s (build, compile and calls); skipped"
    if done.returncode != 0:
        return "FAILED: " + (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return Row(**json.loads(done.stdout.splitlines()[-1]))


def _ms(seconds: float) -> str:
    """Milliseconds, 3 significant digits below 100, whole numbers with separators above."""
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:#.3g}"


def print_rows(rows: Sequence[Row]) -> None:
    """The table: one line per (graph, form)."""
    header = ["graph", "form", "nodes", "build ms", "compile ms", "chars", "lines",
              "call ms", "replay ms", "replay/call", "agree"]
    body = [[r.graph, r.form, f"{r.nodes:,}", _ms(r.build_s), _ms(r.compile_s) + f" ({r.compiles})",
             f"{r.chars:,}", f"{r.lines:,}", _ms(r.call_s), _ms(r.replay_s), f"{r.replay_s / r.call_s:.2f}",
             "same bits" if r.same_bits else f"{r.worst_rel:.1e}"] for r in rows]
    lines = [header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in [header, ["-" * wd for wd in widths], *body]:
        cells = [c.ljust(wd) if i < 2 else c.rjust(wd) for i, (c, wd) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--nodes", type=int, default=100_000, help="about how many nodes chain and mlp have")
    p.add_argument("--graphs", default=",".join(GRAPHS), help=f"comma-separated, of {', '.join(GRAPHS)}")
    p.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, of {', '.join(FORMS)}")
    p.add_argument("--calls", type=int, default=5, help="timed calls of each, best kept")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds of compiling before a form is skipped")
    p.add_argument("--one", nargs=2, metavar=("GRAPH", "FORM"), help=argparse.SUPPRESS)  # the child's job
    args = p.parse_args(argv)
    args.graphs, args.forms = args.graphs.split(","), args.forms.split(",")
    for value, allowed, what in ((args.graphs, GRAPHS, "--graphs"), (args.forms, FORMS, "--forms")):
        if not set(value) <= set(allowed):
            p.error(f"{what} takes {', '.join(allowed)}; got {','.join(value)}")
    if args.nodes < 3 or args.calls < 1:
        p.error("--nodes must be at least 3 and --calls at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every (graph, form) in its own subprocess, print the table; 1 if a compiled call disagreed."""
    args = parse_args(argv)
    if args.one:
        name, form = args.one
        print(json.dumps(asdict(measure(make_graph(name, args.nodes), form, args.calls))))
        return 0
    t_start = time.perf_counter()
    rows, notes, failed = [], [], 0
    for name in args.graphs:
        build_s = 0.0
        for form in args.forms:
            row = run_child(name, form, args.nodes, args.calls, args.timeout + 2 * build_s + 10.0)
            if isinstance(row, str):
                notes.append(f"{name} {form}: {row}")
                failed += row.startswith("FAILED")
                continue
            rows.append(row)
            build_s = max(build_s, row.build_s)
    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}; "
          f"scalargrad {getattr(scalargrad, '__version__', '?')}; each row in a fresh subprocess")
    for name in args.graphs:
        what = next((r.what for r in rows if r.graph == name), "")
        if what:
            print(f"  {name}: {what}")
    print("  compile ms: best of (n) compiles; call ms: one call of the compiled function (forward and "
          f"backward); replay ms: Replay forward + backward; best of {args.calls}")
    for note in notes:
        print("  note: " + note)
    print()
    print_rows(rows)
    bad = [r for r in rows if r.worst_rel > REL_TOL]
    print()
    print(f"total time {time.perf_counter() - t_start:.0f} s")
    for r in bad:
        print(f"{r.graph} {r.form}: compiled call DISAGREES with its Replay (max rel diff {r.worst_rel:.1e})",
              file=sys.stderr)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
