"""Scaling benchmark: does scalargrad stay linear, flat and light as graphs and runs grow?

What it measures
----------------
(i) Time per node on deep chains. A chain ``x = relu(x * w + c)`` (3 nodes a
    step: ``*``, ``+``, relu) re-uses a pool of 64 leaf pairs ``(w, c)``, as an
    unrolled recurrent net would; with ``x`` in [0, 1], ``|w| <= 0.7`` and
    ``c`` in [0.05, 0.3] every value stays in [0, 1] and relu takes both
    branches. For 10^4, 10^5 and 10^6 nodes it reports build and backward
    time per node separately (best of a few repeats, default GC settings),
    and the ratio of backward ns/node at the largest size to 10^4 (target:
    within 1.5x, i.e. backward is linear in the graph size); for diagnosis
    also the build time with the cyclic GC off (``gc.disable()``), which
    shows how much of the build is the GC walking the growing graph (on
    PyPy the GC's minor collections still run). The graph depth equals its
    size; ``sys.getrecursionlimit()`` is printed before and after
    to show it was never raised.

(ii) Memory stays flat while training. The W1 MLP of bench_train.py
    (16-32-16-3, relu, MSE, batch 32, SGD lr 0.01) is trained for 500 steps
    with the README's loop; ``tracemalloc`` (started after the model and the
    data were built) gives current and peak traced memory after step 10 and
    after step 500 (target: step 500 within 10% of step 10 for both). Then
    the number of objects the cyclic GC had to free, during training (summed
    from ``gc.callbacks``) and in a final ``gc.collect()``, must be 0: a
    scalargrad graph holds no reference cycles. On PyPy (no tracemalloc, no
    ``gc.callbacks``) memory is the GC's arena + raw-malloced bytes after a
    ``gc.collect()``; the peak is process-wide and follows when PyPy's
    major GC runs, so only the size after a collection is judged there, and
    the garbage count is not available.

(iii) Import cost. Best-of-5 wall time of ``python -c "import scalargrad"``
    and ``python -c "import torch"`` run as subprocesses of this interpreter,
    minus the bare start-up (``-c "pass"``), and their ratio torch/scalargrad
    (aim: 20x or more). The subprocesses may cache bytecode, as an installed
    package does (in a temporary ``PYTHONPYCACHEPREFIX``, even where
    ``PYTHONDONTWRITEBYTECODE`` is set), so the best run measures an import,
    not a compilation; plus a subprocess check that after ``import
    scalargrad, scalargrad.nn, scalargrad.train, scalargrad.data,
    scalargrad.viz`` none of the optional packages (torch, numpy, graphviz,
    PIL, matplotlib, tqdm, sklearn) is in ``sys.modules``.

Targets are printed as met/NOT met and never asserted; the exit code is 1 only
when scalargrad cannot be imported in a subprocess.

How to run
----------
From the repository root (no install needed: the script puts the repository
root on ``sys.path``, and the subprocesses run from it)::

    python benchmarks/bench_scale.py            # 10^4, 10^5, 10^6 nodes; 500 training steps
    python benchmarks/bench_scale.py --quick    # up to 2*10^5 nodes, 200 steps: under a minute
    python benchmarks/bench_scale.py --train-steps 1000
    pypy3 benchmarks/bench_scale.py --quick     # torch's import row skipped if torch is missing
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import scalargrad  # after the sys.path line above
from scalargrad import Scalar
from scalargrad.nn import SGD, Linear, MSELoss, Sequential

BACKWARD_SCALING_TARGET = 1.5  # backward ns/node at the largest size / at 10^4, at most
MEMORY_GROWTH_TARGET = 0.10  # step 500 vs step 10, at most
IMPORT_RATIO_TARGET = 20.0  # torch import time / scalargrad import time, at least
OPTIONAL_PACKAGES = ("torch", "numpy", "graphviz", "PIL", "matplotlib", "tqdm", "sklearn")
FULL_IMPORT = "import scalargrad, scalargrad.nn, scalargrad.train, scalargrad.data, scalargrad.viz"


# --------------------------------------------------------------------------
# (i) Deep chains.
# --------------------------------------------------------------------------

POOL = 64  # (w, c) leaf pairs shared along the chain


def chain_leaves(seed: int) -> tuple[float, list[float], list[float]]:
    """Start value and the pool of (w, c) values of the chain."""
    rng = random.Random(seed)
    return 0.5, [rng.uniform(-0.7, 0.7) for _ in range(POOL)], [rng.uniform(0.05, 0.3) for _ in range(POOL)]


def build_chain(n_nodes: int, seed: int) -> tuple[Scalar, list[Scalar], int]:
    """A chain of about ``n_nodes`` Scalars (leaves included); returns (root, leaves, exact node count)."""
    x0, ws, cs = chain_leaves(seed)
    x = Scalar(x0)
    w_leaves = [Scalar(v) for v in ws]
    c_leaves = [Scalar(v) for v in cs]
    leaves = [x, *w_leaves, *c_leaves]
    steps = max(1, (n_nodes - len(leaves)) // 3)
    pairs = list(zip(w_leaves, c_leaves))
    full, rest = divmod(steps, POOL)
    for _ in range(full):
        for w, c in pairs:
            x = (x * w + c).relu()
    for w, c in pairs[:rest]:
        x = (x * w + c).relu()
    return x, leaves, len(leaves) + 3 * steps


@dataclass
class ChainRow:
    """Per-node times on one chain size."""

    nodes: int
    repeats: int
    build_ns: float
    backward_ns: float
    build_ns_gc_off: float
    root: float


def measure_chain(n_nodes: int, repeats: int, seed: int = 0) -> ChainRow:
    """Best-of-``repeats`` build and backward time per node (default GC settings), and build with the GC off.

    The GC-off build time is for diagnosis only: it shows how much of the
    build time is the cyclic GC walking the growing graph.
    """
    best_build = best_backward = best_build_off = math.inf
    nodes, root_value = 0, math.nan
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        root, leaves, nodes = build_chain(n_nodes, seed)
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        best_build = min(best_build, t1 - t0)
        best_backward = min(best_backward, t2 - t1)
        root_value = root.data
        del root, leaves  # freed by reference counting, outside the timing
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            root, leaves, nodes = build_chain(n_nodes, seed)
            t1 = time.perf_counter()
        finally:
            gc.enable()
        best_build_off = min(best_build_off, t1 - t0)
        del root, leaves
    gc.collect()
    per_node = 1e9 / nodes
    return ChainRow(nodes, repeats, best_build * per_node, best_backward * per_node,
                    best_build_off * per_node, root_value)


# --------------------------------------------------------------------------
# (ii) Memory over a long training run.
# --------------------------------------------------------------------------

def w1_model(seed: int) -> Sequential:
    """The W1 MLP of bench_train.py: 16-32-16-3, relu hidden layers, identity output."""
    rng = random.Random(seed)
    sizes = (16, 32, 16, 3)
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        lin = Linear(n_in, n_out, activation="relu" if i < len(sizes) - 2 else "identity")
        bound = 1.0 / math.sqrt(n_in)
        lin.initialize([([rng.uniform(-bound, bound) for _ in range(n_in)], rng.uniform(-bound, bound))
                        for _ in range(n_out)])
        modules.append(lin)
    return Sequential(modules)


def w1_batches(seed: int, pool: int = 512,
               batch: int = 32) -> list[tuple[list[list[float]], list[list[float]]]]:
    """The synthetic W1 data, cut into batches: inputs and targets uniform in [-1, 1]."""
    rng = random.Random(seed)
    xs = [[rng.uniform(-1.0, 1.0) for _ in range(16)] for _ in range(pool)]
    ys = [[rng.uniform(-1.0, 1.0) for _ in range(3)] for _ in range(pool)]
    return [(xs[i:i + batch], ys[i:i + batch]) for i in range(0, pool, batch)]


def _pypy_gc_bytes() -> tuple[int, int]:
    """PyPy: (arena + raw-malloced bytes now, process-wide peak of the same)."""
    stats = gc.get_stats()  # type: ignore[attr-defined]  # PyPy only
    raw = getattr(stats, "_s", stats)
    return (int(raw.total_arena_memory) + int(raw.total_rawmalloced_memory),
            int(raw.peak_arena_memory) + int(raw.peak_rawmalloced_memory))


def _has_tracemalloc() -> bool:
    """Whether this interpreter has tracemalloc (PyPy has not)."""
    try:
        import tracemalloc  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class TrainMemory:
    """Memory after the early and the last step, and the garbage found."""

    method: str
    traced: bool  # tracemalloc (CPython); else PyPy GC statistics
    early_step: int
    last_step: int
    early: tuple[int, int]  # (current, peak) bytes
    last: tuple[int, int]
    final_loss: float
    garbage: int | None  # objects the cyclic GC freed during and after training (None: unknown)
    seconds: float


def train_memory(steps: int, early_step: int = 10, seed: int = 0) -> TrainMemory:
    """Train W1 for ``steps`` steps; memory after ``early_step`` and after the last step; garbage count."""
    model = w1_model(seed)
    batches = w1_batches(seed + 1)
    loss_fn = MSELoss()
    opt = SGD(model.parameters(), lr=0.01)
    traced = _has_tracemalloc()
    collected = [0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        """gc.callbacks hook: count what each automatic collection freed."""
        if phase == "stop":
            collected[0] += info.get("collected", 0)

    callbacks = getattr(gc, "callbacks", None)
    gc.collect()
    if callbacks is not None:
        callbacks.append(on_gc)
    if traced:
        import tracemalloc

        tracemalloc.start()

        def snapshot() -> tuple[int, int]:
            """tracemalloc (current, peak since start)."""
            return tracemalloc.get_traced_memory()
        method = "tracemalloc current / peak since step 0 (model and data built before)"
    else:
        def snapshot() -> tuple[int, int]:
            """PyPy GC bytes after a full collection, and the process-wide peak."""
            gc.collect()
            return _pypy_gc_bytes()
        method = "PyPy GC arenas + raw-malloced after gc.collect() / process-wide peak of the same"

    early = last = (0, 0)
    loss_value = math.nan
    t0 = time.perf_counter()
    try:
        for step in range(1, steps + 1):
            xb, yb = batches[(step - 1) % len(batches)]
            out = [model(x) for x in xb]
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step == early_step:
                early = snapshot()
            if step == steps:
                last = snapshot()
        loss_value = loss.data
    finally:
        seconds = time.perf_counter() - t0
        if traced:
            tracemalloc.stop()
        if callbacks is not None:
            callbacks.remove(on_gc)
    del out, loss, model, opt
    final = gc.collect()
    garbage = None if (callbacks is None or final is None) else collected[0] + final
    return TrainMemory(method, traced, early_step, steps, early, last, loss_value, garbage, seconds)


# --------------------------------------------------------------------------
# (iii) Import cost, in subprocesses.
# --------------------------------------------------------------------------

_PYCACHE = tempfile.mkdtemp(prefix="bench-scale-pycache-")  # bytecode for the import runs, outside the tree


def _run_python(code: str) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of ``sys.executable -c code`` run from the repository root."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=_REPO_ROOT, env=env,
                          capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc


def best_wall_time(code: str, repeats: int) -> float | None:
    """Best wall time of ``repeats`` runs (None if the code fails, e.g. the package is missing)."""
    best = math.inf
    for _ in range(repeats):
        t, proc = _run_python(code)
        if proc.returncode != 0:
            return None
        best = min(best, t)
    return best


def optional_modules_loaded() -> tuple[list[str] | None, int, str]:
    """Optional packages in sys.modules after importing all of scalargrad; (names, module count, error)."""
    code = (f"{FULL_IMPORT}\nimport json, sys\n"
            f"opt = {list(OPTIONAL_PACKAGES)!r}\n"
            "print(json.dumps([[m for m in opt if m in sys.modules], len(sys.modules)]))")
    _t, proc = _run_python(code)
    if proc.returncode != 0:
        return None, 0, (proc.stderr.strip().splitlines() or ["?"])[-1]
    loaded, count = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded, count, ""


@dataclass
class ImportTimes:
    """Seconds above the bare interpreter start (None: could not import)."""

    repeats: int
    bare: float
    scalargrad: float | None
    scalargrad_all: float | None
    torch: float | None


def measure_imports(repeats: int) -> ImportTimes:
    """Best-of-``repeats`` import times of scalargrad, all of scalargrad, and torch, start-up removed."""
    bare = best_wall_time("pass", repeats)
    assert bare is not None  # the interpreter itself runs

    def above(code: str) -> float | None:
        """Best time of ``code`` minus the bare start-up."""
        t = best_wall_time(code, repeats)
        return None if t is None else max(t - bare, 0.0)

    return ImportTimes(repeats, bare, above("import scalargrad"), above(FULL_IMPORT), above("import torch"))


# --------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    """"met" / "NOT met"."""
    return "met" if ok else "NOT met"


def _print_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> None:
    """Columns padded to width; first column left-aligned, the rest right-aligned."""
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        """One table line."""
        cells = [line[0].ljust(widths[0])] + [c.rjust(wd) for c, wd in zip(line[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    print(fmt(header))
    print(fmt(["-" * wd for wd in widths]))
    for line in body:
        print(fmt(line))


def _growth(early: int, last: int) -> float:
    """Relative change from ``early`` to ``last`` (0 when both are 0)."""
    if early == 0:
        return 0.0 if last == 0 else math.inf
    return (last - early) / early


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true",
                   help="chains of 10^4, 10^5, 2*10^5 nodes, 200 training steps, imports best of 3")
    p.add_argument("--train-steps", type=int, default=None,
                   help="training steps for the memory check (default 500; 200 with --quick)")
    p.add_argument("--import-repeats", type=int, default=None,
                   help="subprocess runs per import, best kept (default 5; 3 with --quick)")
    args = p.parse_args(argv)
    if args.train_steps is None:
        args.train_steps = 200 if args.quick else 500
    if args.import_repeats is None:
        args.import_repeats = 3 if args.quick else 5
    if args.train_steps < 11 or args.import_repeats < 1:
        p.error("--train-steps must be at least 11 and --import-repeats at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure (i), (ii), (iii) and print them; return the exit code."""
    args = parse_args(argv)
    t_start = time.perf_counter()
    # (ii) first: on PyPy its peaks are process-wide, so the big chains must not come before it.
    mem = train_memory(args.train_steps)
    limit_before = sys.getrecursionlimit()
    sizes = [(10_000, 5), (100_000, 3)] + ([(200_000, 3)] if args.quick else [(1_000_000, 3)])
    chain_rows = [measure_chain(n, r) for n, r in sizes]
    limit_after = sys.getrecursionlimit()
    imports = measure_imports(args.import_repeats)
    loaded, n_modules, import_error = optional_modules_loaded()

    impl = platform.python_implementation()
    print(f"{impl} {platform.python_version()} ({sys.version.splitlines()[0]}) on {platform.machine()}")
    print(f"scalargrad {getattr(scalargrad, '__version__', '?')}; default GC settings")
    print()

    print("(i) chain x = relu(x * w + c), 64 shared (w, c) leaf pairs; best of the runs shown; "
          f"sys.getrecursionlimit() {limit_before:,} before, {limit_after:,} after"
          f" ({'unchanged' if limit_before == limit_after else 'CHANGED'})")
    body = [[f"{r.nodes:,}", f"{r.nodes:,}", str(r.repeats), f"{r.build_ns:,.0f}", f"{r.backward_ns:,.0f}",
             f"{r.backward_ns / chain_rows[0].backward_ns:.2f}", f"{r.build_ns_gc_off:,.0f}"]
             for r in chain_rows]
    _print_table(["nodes", "depth", "runs", "build ns/node", "backward ns/node", "backward vs 10^4",
                  "build, GC off"], body)
    print()

    print(f"(ii) W1 MLP 16-32-16-3, batch 32, MSE, SGD lr 0.01: {mem.last_step} steps in {mem.seconds:.1f} s "
          f"(final loss {mem.final_loss:.4f}); memory: {mem.method}")
    body = [[f"step {mem.early_step}", f"{mem.early[0] / 1024:,.0f}", f"{mem.early[1] / 1024:,.0f}"],
            [f"step {mem.last_step}", f"{mem.last[0] / 1024:,.0f}", f"{mem.last[1] / 1024:,.0f}"],
            ["change", f"{_growth(mem.early[0], mem.last[0]):+.1%}",
             f"{_growth(mem.early[1], mem.last[1]):+.1%}"]]
    _print_table(["", "current KiB", "peak KiB"], body)
    garbage = ("not measurable here (no gc.callbacks / gc.collect() count)" if mem.garbage is None
               else f"{mem.garbage} objects")
    print(f"  freed by the cyclic GC during training and by a final gc.collect(): {garbage}")
    print()

    print(f"(iii) import time, best of {imports.repeats} subprocess runs, minus the bare start-up "
          f"({imports.bare * 1e3:.1f} ms)")
    body = [["import scalargrad", _ms(imports.scalargrad), "1.0x" if imports.scalargrad else "-"],
            ["import scalargrad + .nn .train .data .viz", _ms(imports.scalargrad_all),
             _x(imports.scalargrad_all, imports.scalargrad)],
            ["import torch", _ms(imports.torch), _x(imports.torch, imports.scalargrad)]]
    _print_table(["", "ms", "vs scalargrad"], body)
    if loaded is None:
        print(f"  importing all of scalargrad FAILED: {import_error}")
    else:
        print(f"  optional packages in sys.modules after `{FULL_IMPORT}`: "
              f"{', '.join(loaded) if loaded else 'none'} ({n_modules} modules in all)")
    if imports.torch is None:
        print("  note: torch is not importable by this interpreter; the torch/scalargrad ratio is skipped")
    print()

    print("targets (informational, not asserted):")
    scale = chain_rows[-1].backward_ns / chain_rows[0].backward_ns
    print(f"  backward ns/node at {chain_rows[-1].nodes:,} vs {chain_rows[0].nodes:,} nodes "
          f"<= {BACKWARD_SCALING_TARGET:g}x: {scale:.2f}x  {_verdict(scale <= BACKWARD_SCALING_TARGET)}")
    print(f"  recursion limit untouched: {_verdict(limit_before == limit_after)}")
    g_cur, g_peak = _growth(mem.early[0], mem.last[0]), _growth(mem.early[1], mem.last[1])
    if mem.traced:
        print(f"  memory at step {mem.last_step} within {MEMORY_GROWTH_TARGET:.0%} of step {mem.early_step}: "
              f"current {g_cur:+.1%}, peak {g_peak:+.1%}  "
              f"{_verdict(abs(g_cur) <= MEMORY_GROWTH_TARGET and abs(g_peak) <= MEMORY_GROWTH_TARGET)}")
    else:
        print(f"  memory at step {mem.last_step} within {MEMORY_GROWTH_TARGET:.0%} of step {mem.early_step}: "
              f"current {g_cur:+.1%}  {_verdict(abs(g_cur) <= MEMORY_GROWTH_TARGET)}  (peak {g_peak:+.1%} "
              "not judged: PyPy's peak is process-wide and set by when its incremental major GC frees what "
              "outlived the nursery, e.g. it changes with PYPY_GC_NURSERY; the size after gc.collect() is "
              "the leak signal)")
    if mem.garbage is None:
        print("  no cyclic garbage after training: not measurable on this interpreter")
    else:
        print(f"  no cyclic garbage after training: {mem.garbage}  {_verdict(mem.garbage == 0)}")
    if imports.torch is not None and imports.scalargrad:
        ratio = imports.torch / imports.scalargrad
        print(f"  import torch / import scalargrad >= {IMPORT_RATIO_TARGET:g}x: {ratio:.1f}x  "
              f"{_verdict(ratio >= IMPORT_RATIO_TARGET)}")
    else:
        print(f"  import torch / import scalargrad >= {IMPORT_RATIO_TARGET:g}x: not measured (torch missing)")
    if loaded is not None:
        print(f"  no optional package imported by scalargrad: {_verdict(not loaded)}")
    print()
    print(f"total time {time.perf_counter() - t_start:.0f} s")
    return 1 if loaded is None or imports.scalargrad is None else 0


def _ms(seconds: float | None) -> str:
    """Seconds as milliseconds ("n/a" for None)."""
    return "n/a" if seconds is None else f"{seconds * 1e3:,.1f}"


def _x(num: float | None, den: float | None) -> str:
    """``num / den`` as "12.3x" ("-" when either is missing or zero)."""
    if num is None or not den:
        return "-"
    return f"{num / den:,.1f}x"


if __name__ == "__main__":
    sys.exit(main())
