"""Engine benchmark: scalargrad's ``Scalar`` against micrograd's ``Value``, in one run.

What it measures
----------------
Two graphs are built, node for node the same, once with scalargrad and once
with micrograd 0.1.0, using only the ops both engines have as single nodes
(Scalar * Scalar, Scalar + Scalar, relu, ** with a number), so both graphs
hold exactly the same number of nodes:

* ``chain``: a long chain ``x = relu(x * w + c) ** e`` (4 nodes a step) that
  re-uses a small pool of leaves ``w``, ``c`` like an unrolled recurrent net;
  its depth is the node count, which micrograd's recursive backward only
  survives with a raised ``sys.setrecursionlimit`` (done for micrograd only).
* ``wide``: a random expression graph over thousands of leaves. Each new node
  is a random op whose operands a seeded ``random.Random`` picks from the
  pool of existing nodes (half the time among the most recent ones), so
  sub-expressions are shared; nodes nobody used are summed pairwise at the
  end so the whole graph reaches the root.

Before anything is reported, both engines' forward values and every leaf
gradient are compared (1e-9 relative); on a mismatch the script exits 1.

It then reports, per node (leaves included):

* forward + backward time (building the leaves and the graph, then
  ``backward()``), best of a few repeats, with ``time.perf_counter``: once with
  the default garbage-collector settings, because that is what users get,
  and once with the GC turned off. Freeing the graph is not timed (scalargrad
  frees it by reference counting as soon as the root is dropped; micrograd's
  graph is full of reference cycles and waits for the cyclic GC), and
  leftover garbage is collected between runs, outside the timing.
* memory: bytes traced by ``tracemalloc`` that are still held once the graph
  is built (on PyPy, which has no tracemalloc: growth of the GC's arenas and
  raw-malloced memory after a full collection).

and each as a ratio micrograd / scalargrad, with whether the project's targets
are met (at least 5x faster per node, at most 1/3 of micrograd's memory per
node). Targets are printed, never asserted: the exit code is 0 whenever the
two engines agree.

How to run
----------
From the repository root (no install needed, the script puts the repository
root on ``sys.path`` itself)::

    pip install micrograd==0.1.0
    python benchmarks/bench_engine.py            # 100,000 nodes per graph
    python benchmarks/bench_engine.py --quick    # small graphs, a few seconds
    python benchmarks/bench_engine.py --nodes 20000 --repeats 3
    pypy3 benchmarks/bench_engine.py --quick     # same, under PyPy

Exit codes: 0 engines agree, 1 they disagree, 2 micrograd is not installed.
The benchmark runs in a thread with a large stack, because micrograd's
recursive topological sort would otherwise overflow the C stack on deep graphs
(PyPy, CPython before 3.11).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from scalargrad import Scalar  # after the sys.path line above

try:
    from micrograd.engine import Value
except ImportError:  # reported in main(), so --help still works
    Value = None

REL_TOL = 1e-9
SPEED_TARGET = 5.0  # micrograd time / scalargrad time, at least
MEMORY_TARGET = 3.0  # micrograd bytes / scalargrad bytes, at least (1/3 of the memory)

# Op codes of the wide graph; an op is (code, operand index, operand index or exponent).
MUL, ADD, RELU, POW = 0, 1, 2, 3
Op = tuple[int, int, float]
Node = Any  # a Scalar or a micrograd Value
Builder = Callable[[Callable[[float], Node], "GraphSpec"], tuple[Node, list[Node]]]


# --------------------------------------------------------------------------
# Graph descriptions: plain data, built once, then replayed on each engine.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphSpec:
    """One benchmark graph, independent of the engine that will build it."""

    name: str
    leaf_values: list[float]  # chain: [x0, w_1..w_k, c_1..c_k]; wide: the leaves
    ops: list[Op]  # wide only: the nodes after the leaves, in creation order
    steps: int  # chain only: number of 4-node steps
    exponents: list[float]  # chain only: exponent of each of the k (w, c) pairs
    nodes: int  # leaves + interior nodes, identical for both engines
    depth: int  # longest leaf-to-root path, in nodes


def make_chain_spec(n_nodes: int, seed: int) -> GraphSpec:
    """A chain of about ``n_nodes`` nodes: ``x = relu(x * w + c) ** e`` repeated.

    With ``x`` in [0, 1], ``|w| <= 0.7`` and ``c`` in [0.05, 0.3] every value
    stays in [0, 1] (no overflow, no division), and negative ``w`` makes relu
    take both branches. The ``k`` pairs (w, c) are reused cyclically, so every
    leaf gets gradient from many steps.
    """
    rng = random.Random(seed)
    k = max(1, min(64, (n_nodes - 5) // 12))
    ws = [rng.uniform(-0.7, 0.7) for _ in range(k)]
    cs = [rng.uniform(0.05, 0.3) for _ in range(k)]
    exponents = [2.0 if i % 2 == 0 else 3.0 for i in range(k)]
    n_leaves = 1 + 2 * k
    steps = max(1, (n_nodes - n_leaves) // 4)
    nodes = n_leaves + 4 * steps
    return GraphSpec("chain", [0.5] + ws + cs, [], steps, exponents, nodes, 4 * steps + 1)


def make_wide_spec(n_nodes: int, seed: int) -> GraphSpec:
    """A random DAG of about ``n_nodes`` nodes over ``n_nodes // 10`` leaves.

    Values are simulated on floats while drawing, so that an ``add`` whose
    result would leave [-1, 1] is redrawn: with mul, relu and x**2, x**3 that
    keeps every value in [-1, 1] until the final pairwise sum.
    """
    rng = random.Random(seed)
    n_leaves = max(8, n_nodes // 10)
    vals = [rng.uniform(-1.0, 1.0) for _ in range(n_leaves)]
    depth = [1] * n_leaves
    used = [False] * n_leaves
    unused = n_leaves
    ops: list[Op] = []
    recent = 64

    def pick() -> int:
        """An existing node: half the time one of the most recent, else any."""
        n = len(vals)
        if n > recent and rng.random() < 0.5:
            return rng.randrange(n - recent, n)
        return rng.randrange(n)

    def add_node(op: Op, value: float, operands: Sequence[int]) -> int:
        """Record a node and its simulated value; return its index."""
        nonlocal unused
        for i in operands:
            if not used[i]:
                used[i] = True
                unused -= 1
        ops.append(op)
        vals.append(value)
        depth.append(1 + max(depth[i] for i in operands))
        used.append(False)
        unused += 1
        return len(vals) - 1

    # Draw random nodes until the random part plus the final sum tree
    # (``unused - 1`` additions) reaches the requested size.
    while len(vals) + unused - 1 < n_nodes:
        r = rng.random()
        i = pick()
        if r < 0.35:
            j = pick()
            add_node((MUL, i, j), vals[i] * vals[j], (i, j))
        elif r < 0.65:
            j = pick()
            v = vals[i] + vals[j]
            if abs(v) <= 1.0:
                add_node((ADD, i, j), v, (i, j))
        elif r < 0.8:
            add_node((RELU, i, 0), vals[i] if vals[i] > 0.0 else 0.0, (i,))
        else:
            e = 2.0 if rng.random() < 0.5 else 3.0
            add_node((POW, i, e), vals[i] ** e, (i,))

    # Sum every node nobody used, pairwise (a balanced tree), into one root.
    level = [i for i, u in enumerate(used) if not u]
    while len(level) > 1:
        nxt = []
        for a in range(0, len(level) - 1, 2):
            i, j = level[a], level[a + 1]
            nxt.append(add_node((ADD, i, j), vals[i] + vals[j], (i, j)))
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return GraphSpec("wide", vals[:n_leaves], ops, 0, [], len(vals), depth[-1])


# --------------------------------------------------------------------------
# Builders: the same code runs on both engines (``leaf`` is Scalar or Value).
# --------------------------------------------------------------------------

def build_chain(leaf: Callable[[float], Node], spec: GraphSpec) -> tuple[Node, list[Node]]:
    """Build the chain with ``leaf`` as the engine's constructor; return (root, leaves)."""
    leaves = [leaf(v) for v in spec.leaf_values]
    k = len(spec.exponents)
    params = list(zip(leaves[1:1 + k], leaves[1 + k:], spec.exponents))
    x = leaves[0]
    full, rest = divmod(spec.steps, k)
    for _ in range(full):
        for w, c, e in params:
            x = (x * w + c).relu() ** e
    for w, c, e in params[:rest]:
        x = (x * w + c).relu() ** e
    return x, leaves


def build_wide(leaf: Callable[[float], Node], spec: GraphSpec) -> tuple[Node, list[Node]]:
    """Build the random graph with ``leaf`` as the engine's constructor; return (root, leaves)."""
    leaves = [leaf(v) for v in spec.leaf_values]
    pool = list(leaves)
    append = pool.append
    for code, i, j in spec.ops:
        a = pool[i]
        if code == MUL:
            append(a * pool[j])
        elif code == ADD:
            append(a + pool[j])
        elif code == RELU:
            append(a.relu())
        else:
            append(a ** j)
    return pool[-1], leaves


BUILDERS: dict[str, Builder] = {"chain": build_chain, "wide": build_wide}


# --------------------------------------------------------------------------
# Engines and measurements.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Engine:
    """An autograd engine under test: its leaf constructor and whether it recurses."""

    name: str
    leaf: Callable[[float], Node]
    recursive_backward: bool


@contextmanager
def recursion_limit(limit: int | None) -> Iterator[None]:
    """Raise ``sys.setrecursionlimit`` to ``limit`` inside the block (None: leave it)."""
    old = sys.getrecursionlimit()
    if limit is not None and limit > old:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def needed_limit(engine: Engine, spec: GraphSpec) -> int | None:
    """The recursion limit ``engine`` needs on ``spec`` (None when the default will do)."""
    if not engine.recursive_backward:
        return None
    limit = spec.depth + 1000
    return limit if limit > sys.getrecursionlimit() else None


def run_once(engine: Engine, spec: GraphSpec) -> tuple[Node, list[Node]]:
    """Build ``spec`` on ``engine`` and back-propagate; return (root, leaves)."""
    with recursion_limit(needed_limit(engine, spec)):
        root, leaves = BUILDERS[spec.name](engine.leaf, spec)
        root.backward()
    return root, leaves


def time_once(engine: Engine, spec: GraphSpec, gc_on: bool) -> float:
    """Seconds for one build + backward, with the cyclic GC on (default settings) or off."""
    gc.collect()
    was_enabled = gc.isenabled()
    with recursion_limit(needed_limit(engine, spec)):
        if not gc_on:
            gc.disable()
        try:
            t0 = time.perf_counter()
            root, leaves = BUILDERS[spec.name](engine.leaf, spec)
            root.backward()
            t1 = time.perf_counter()
        finally:
            if was_enabled:
                gc.enable()
    del root, leaves
    gc.collect()  # free micrograd's cycles here, not inside the next timing
    return t1 - t0


def _pypy_gc_bytes() -> int:
    """PyPy: bytes held by the GC's arenas and raw-malloced objects."""
    stats = gc.get_stats()  # type: ignore[attr-defined]  # PyPy only
    raw = getattr(stats, "_s", stats)  # the public attributes are formatted strings
    return int(raw.total_arena_memory) + int(raw.total_rawmalloced_memory)


def memory_method() -> str:
    """How ``bytes_per_node`` measures memory on this interpreter."""
    try:
        import tracemalloc  # noqa: F401
        return "tracemalloc (current traced memory after building)"
    except ImportError:
        pass
    if platform.python_implementation() == "PyPy":
        return "PyPy GC arenas + raw-malloced memory after gc.collect() (no tracemalloc)"
    return "unavailable"


def bytes_per_node(engine: Engine, spec: GraphSpec) -> float | None:
    """Memory held by the built graph (root and leaves kept), divided by its node count."""
    builder = BUILDERS[spec.name]
    gc.collect()
    try:
        import tracemalloc
    except ImportError:
        tracemalloc = None
    if tracemalloc is not None:
        tracemalloc.start()
        try:
            root, leaves = builder(engine.leaf, spec)
            current, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    elif platform.python_implementation() == "PyPy":
        gc.collect()
        before = _pypy_gc_bytes()
        root, leaves = builder(engine.leaf, spec)
        gc.collect()
        current = _pypy_gc_bytes() - before
    else:
        return None
    del root, leaves
    gc.collect()
    return current / spec.nodes


def _rel_diff(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude (0 when both are equal, zeros included)."""
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


@dataclass
class CheckResult:
    """How closely the two engines agreed on one graph."""

    forward_rel: float
    grads: int
    identical: int
    max_grad_rel: float
    problems: list[str]


def check_agreement(spec: GraphSpec, sg: Engine, mg: Engine) -> CheckResult:
    """Build ``spec`` on both engines; compare root values and all leaf gradients."""
    sg_root, sg_leaves = run_once(sg, spec)
    mg_root, mg_leaves = run_once(mg, spec)
    problems = []
    a, b = float(sg_root.data), float(mg_root.data)
    forward_rel = _rel_diff(a, b)
    if not math.isfinite(a) or not forward_rel <= REL_TOL:
        problems.append(f"{spec.name}: forward value scalargrad {a!r} != micrograd {b!r}")
    identical, worst = 0, 0.0
    for n, (s, m) in enumerate(zip(sg_leaves, mg_leaves)):
        ga, gb = float(s.grad), float(m.grad)
        rel = _rel_diff(ga, gb)
        identical += ga == gb
        worst = math.inf if math.isnan(rel) else max(worst, rel)
        bad = not math.isfinite(ga) or not rel <= REL_TOL
        if bad and len(problems) < 10:
            problems.append(f"{spec.name}: leaf {n} grad scalargrad {ga!r} != micrograd {gb!r}")
    if len(sg_leaves) != len(mg_leaves):
        problems.append(f"{spec.name}: leaf counts differ ({len(sg_leaves)} vs {len(mg_leaves)})")
    return CheckResult(forward_rel, len(sg_leaves), identical, worst, problems)


@dataclass
class Row:
    """Measurements of one graph, per node."""

    spec: GraphSpec
    sg_ns: float
    mg_ns: float
    sg_ns_nogc: float
    mg_ns_nogc: float
    sg_bytes: float | None
    mg_bytes: float | None


def measure(spec: GraphSpec, sg: Engine, mg: Engine, repeats: int) -> Row:
    """Best-of-``repeats`` times (GC on, then off) and bytes per node for both engines."""
    best: dict[tuple[str, bool], float] = {}
    for gc_on in (True, False):
        for _ in range(repeats):
            for engine in (sg, mg):  # interleaved, so drift hits both alike
                t = time_once(engine, spec, gc_on)
                key = (engine.name, gc_on)
                best[key] = min(best.get(key, math.inf), t)
    per_node = 1e9 / spec.nodes
    return Row(
        spec,
        best[(sg.name, True)] * per_node,
        best[(mg.name, True)] * per_node,
        best[(sg.name, False)] * per_node,
        best[(mg.name, False)] * per_node,
        bytes_per_node(sg, spec),
        bytes_per_node(mg, spec),
    )


# --------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------

def _fmt_ratio(num: float | None, den: float | None) -> str:
    """``num / den`` as "3.4x" ("n/a" when either is missing)."""
    if num is None or den is None or den <= 0:
        return "n/a"
    return f"{num / den:.1f}x"


def _fmt_num(x: float | None) -> str:
    """A whole number with thousands separators ("n/a" for None)."""
    return "n/a" if x is None else f"{x:,.0f}"


def print_table(rows: Sequence[Row]) -> None:
    """Print the per-node table: times (GC on and off), bytes, and the ratios."""
    header = ("graph", "nodes", "sg ns/node", "mg ns/node", "speed-up",
              "sg ns/node", "mg ns/node", "speed-up",
              "sg B/node", "mg B/node", "memory ratio")
    group = ("", "", "default GC", "", "", "GC off", "", "", "tracemalloc" if _has_tracemalloc()
             else "GC memory", "", "")
    body = []
    for r in rows:
        body.append((r.spec.name, f"{r.spec.nodes:,}",
                     _fmt_num(r.sg_ns), _fmt_num(r.mg_ns), _fmt_ratio(r.mg_ns, r.sg_ns),
                     _fmt_num(r.sg_ns_nogc), _fmt_num(r.mg_ns_nogc),
                     _fmt_ratio(r.mg_ns_nogc, r.sg_ns_nogc),
                     _fmt_num(r.sg_bytes), _fmt_num(r.mg_bytes),
                     _fmt_ratio(r.mg_bytes, r.sg_bytes)))
    widths = [max(len(line[i]) for line in (header, group, *body)) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        """One table line: first column left-aligned, the rest right-aligned."""
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    print(fmt(group))
    print(fmt(header))
    print(fmt(["-" * w for w in widths]))
    for line in body:
        print(fmt(line))


def print_targets(rows: Sequence[Row]) -> None:
    """Print whether the speed and memory targets are met (never fails the run)."""
    print()
    print("targets (default GC settings; informational, not asserted):")
    for r in rows:
        speed = r.mg_ns / r.sg_ns
        verdict = "met" if speed >= SPEED_TARGET else "NOT met"
        print(f"  {r.spec.name:<6} {'speed-up >= ' + f'{SPEED_TARGET:.0f}x':<26}: {speed:5.1f}x  {verdict}"
              f"   (GC off: {r.mg_ns_nogc / r.sg_ns_nogc:.1f}x)")
        if r.sg_bytes and r.mg_bytes is not None:
            ratio = r.mg_bytes / r.sg_bytes
            verdict = "met" if ratio >= MEMORY_TARGET else "NOT met"
            print(f"  {r.spec.name:<6} {f'memory <= 1/{MEMORY_TARGET:.0f} of micrograd':<26}: {ratio:5.1f}x  "
                  f"{verdict}   (micrograd/scalargrad bytes per node)")
        else:
            print(f"  {r.spec.name:<6} {f'memory <= 1/{MEMORY_TARGET:.0f} of micrograd':<26}: "
                  "not measured here")


def _has_tracemalloc() -> bool:
    """Whether this interpreter has tracemalloc (PyPy has not)."""
    try:
        import tracemalloc  # noqa: F401
    except ImportError:
        return False
    return True


def _versions() -> tuple[str, str]:
    """(scalargrad version, micrograd version) as far as they can be told."""
    from importlib.metadata import PackageNotFoundError, version

    import scalargrad
    try:
        mg_version = version("micrograd")
    except PackageNotFoundError:  # importable but not installed as a distribution (PYTHONPATH)
        mg_version = "(version unknown)"
    return getattr(scalargrad, "__version__", "?"), mg_version


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true",
                   help="small graphs (5,000 nodes) and 3 repeats: a few seconds")
    p.add_argument("--nodes", type=int, default=None,
                   help="approximate nodes per graph (default 100,000; 5,000 with --quick)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed runs per engine and GC setting, best kept (default 5; 3 with --quick)")
    p.add_argument("--seed", type=int, default=0, help="seed of the graph generator")
    args = p.parse_args(argv)
    if args.nodes is None:
        args.nodes = 5_000 if args.quick else 100_000
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.nodes < 100:
        p.error("--nodes must be at least 100")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Check agreement, measure, print; return the exit code."""
    args = parse_args(argv)
    if Value is None:
        print("micrograd is not importable here; install the reference engine with:\n"
              "    pip install micrograd==0.1.0\n"
              f"(for this interpreter: {sys.executable} -m pip install micrograd==0.1.0)",
              file=sys.stderr)
        return 2

    sg = Engine("scalargrad", Scalar, recursive_backward=False)
    mg = Engine("micrograd", Value, recursive_backward=True)
    specs = [make_chain_spec(args.nodes, args.seed), make_wide_spec(args.nodes, args.seed + 1)]

    # 1. Agreement first: nothing is reported unless both engines agree.
    checks = [check_agreement(spec, sg, mg) for spec in specs]
    problems = [p for c in checks for p in c.problems]
    if problems:
        print("scalargrad and micrograd DISAGREE (tolerance 1e-9 relative):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1

    # 2. Measurements.
    rows = [measure(spec, sg, mg, args.repeats) for spec in specs]

    # 3. Report.
    sg_version, mg_version = _versions()
    impl = platform.python_implementation()
    print(f"{impl} {platform.python_version()} ({sys.version.splitlines()[0]}) on {platform.machine()}")
    print(f"scalargrad {sg_version} vs micrograd {mg_version}; seed {args.seed}, "
          f"best of {args.repeats} runs; memory: {memory_method()}")
    for spec, c in zip(specs, checks):
        shape = (f"{len(spec.leaf_values):,} leaves, depth {spec.depth:,}")
        print(f"  {spec.name}: {spec.nodes:,} nodes ({shape}); agree: forward rel diff "
              f"{c.forward_rel:.1e}, {c.grads:,} leaf grads ({c.identical:,} bit-identical, "
              f"max rel diff {c.max_grad_rel:.1e})")
    for spec in specs:
        limit = needed_limit(mg, spec)
        if limit is not None:
            print(f"  note: micrograd's recursive backward needed sys.setrecursionlimit({limit:,}) "
                  f"on '{spec.name}' (micrograd runs only); scalargrad ran at the default "
                  f"{sys.getrecursionlimit():,}")
    if impl == "PyPy":
        print("  note: on PyPy gc.disable() stops major collections only; minor ones still run")
    print()
    print_table(rows)
    print_targets(rows)
    return 0


def _run_with_big_stack(target: Callable[[], int], stack_bytes: int) -> int:
    """Run ``target`` in a thread with a ``stack_bytes`` C stack; return its result.

    micrograd's recursive topological sort needs a deep C stack on PyPy and on
    CPython before 3.11; both engines run in this same thread.
    """
    result: list[int] = [1]

    def run() -> None:
        """Thread body: keep the exit code."""
        result[0] = target()

    try:
        threading.stack_size(stack_bytes)
    except (ValueError, RuntimeError):  # platform limit: run with what we get
        pass
    thread = threading.Thread(target=run, name="bench_engine")
    thread.start()
    thread.join()
    return result[0]


if __name__ == "__main__":
    _args = parse_args()  # parse here too, so --help and usage errors print from the main thread
    _stack = max(1 << 30, 8192 * (_args.nodes + 1000))
    sys.exit(_run_with_big_stack(lambda: main(sys.argv[1:]), _stack))
