"""micrograd's demo through ``scalargrad.compat.micrograd`` against micrograd 0.1.0 itself, in one run.

What it measures
----------------
The training loop of micrograd's ``demo.ipynb``: an ``MLP(2, [16, 16, 1])`` on
100 two-moons points (labels -1 and 1), micrograd's SVM max-margin loss plus
L2 regularisation (alpha 1e-4) over the whole data set, ``zero_grad()``,
``backward()`` and ``p.data -= learning_rate * p.grad`` with the demo's
learning-rate schedule. The same function runs it twice, once with
micrograd's ``Value`` and ``MLP`` and once with the compat module's, so the
code is identical and only the import differs. Both models start from the
same weights (the same ``random`` seed: the compat ``Neuron`` draws its
weights as micrograd's does).

Before timing, both runs' losses are compared step by step (1e-9 relative);
on a mismatch the script exits 1. Then each library trains ``--steps`` steps
(20 by default), best of ``--repeats``, the two alternating in one process,
with the garbage collector at its default settings (what users get) and,
for comparison, turned off. Leftover garbage is collected between runs,
outside the timing. It prints the seconds per run and the ratio micrograd /
compat (above 1: the compat module is faster). Nothing is asserted about
speed: the exit code is 0 whenever the two libraries agree.

How to run
----------
From the repository root::

    pip install micrograd==0.1.0
    python benchmarks/bench_compat.py              # 20 steps, best of 3
    python benchmarks/bench_compat.py --steps 5 --repeats 1

Exit codes: 0 the libraries agree, 1 they disagree, 2 micrograd is not installed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import time
from types import SimpleNamespace

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from scalargrad.compat import micrograd as compat  # after the sys.path line above
from scalargrad.data import make_moons

SEED = 1337
REL_TOL = 1e-9


def moons() -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data: 100 noisy two-moons points, labels -1 and 1."""
    x, y = make_moons(100, noise=0.1, seed=SEED)
    return x, [2 * label - 1 for label in y]


def demo_training(library: SimpleNamespace, x: list, y: list, steps: int) -> list[float]:
    """micrograd's demo loop, written once for either library; returns the loss of each step."""
    random.seed(SEED)
    model = library.MLP(2, [16, 16, 1])
    Value = library.Value
    losses = []
    for k in range(steps):
        inputs = [list(map(Value, row)) for row in x]
        scores = list(map(model, inputs))
        margins = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
        data_loss = sum(margins) * (1.0 / len(margins))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        losses.append(total_loss.data)
    return losses


def best_time(run, repeats: int, gc_on: bool) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run()``, with the cyclic GC on or off."""
    times = []
    for _ in range(repeats):
        gc.collect()
        if not gc_on:
            gc.disable()
        try:
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per run (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per library and GC setting (default 3)")
    args = parser.parse_args()
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError:
        print("micrograd is not installed: pip install micrograd==0.1.0")
        return 2
    original = SimpleNamespace(Value=micrograd.engine.Value, MLP=micrograd.nn.MLP)
    x, y = moons()

    expected = demo_training(original, x, y, 3)
    got = demo_training(compat, x, y, 3)
    for step, (a, b) in enumerate(zip(expected, got)):
        if abs(a - b) > REL_TOL * abs(a):
            print(f"step {step}: micrograd's loss {a!r}, compat's {b!r}: they disagree")
            return 1

    print(f"micrograd's demo, {args.steps} steps, best of {args.repeats} "
          f"({platform.python_implementation()} {platform.python_version()})")
    print(f"{'GC':>4} {'micrograd s':>12} {'compat s':>10} {'ratio':>7}")
    for gc_on in (True, False):
        best = {"micrograd": float("inf"), "compat": float("inf")}
        for _ in range(args.repeats):  # alternate, so drift in the machine's speed hits both alike
            for name, library in (("micrograd", original), ("compat", compat)):
                seconds = best_time(lambda lib=library: demo_training(lib, x, y, args.steps), 1, gc_on)[0]
                best[name] = min(best[name], seconds)
        ratio = best["micrograd"] / best["compat"]
        print(f"{'on' if gc_on else 'off':>4} {best['micrograd']:12.3f} {best['compat']:10.3f} {ratio:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
