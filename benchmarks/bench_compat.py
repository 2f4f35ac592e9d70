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

Before timing, the runs' losses are compared step by step (1e-9 relative);
on a mismatch the script exits 1. Then each library trains ``--steps`` steps
(20 by default), best of ``--repeats``, the runs alternating in one process,
with the garbage collector at its default settings (what users get) and,
for comparison, turned off. Leftover garbage is collected between runs,
outside the timing. A third run, ``native``, trains the same network the
scalargrad way (``MLP.to_scalargrad()``: ``Linear`` layers with the same
weights, ``HingeLoss``, ``SGD``), the step a user moving off micrograd takes.
It prints the seconds per run and the ratios micrograd / compat and
micrograd / native (above 1: faster than micrograd). Nothing is asserted
about speed: the exit code is 0 whenever the runs agree.

How to run
----------
From the repository root::

    pip install micrograd==0.1.0
    python benchmarks/bench_compat.py              # 20 steps, best of 3
    python benchmarks/bench_compat.py --steps 5 --repeats 1

Exit codes: 0 the runs agree, 1 they disagree, 2 micrograd is not installed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import time
from typing import Any

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from scalargrad import functional as F  # after the sys.path line above
from scalargrad.compat import micrograd as compat
from scalargrad.data import make_moons
from scalargrad.nn import SGD, HingeLoss, Sequential

SEED = 1337
REL_TOL = 1e-9


def moons() -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data: 100 noisy two-moons points, labels -1 and 1."""
    x, y = make_moons(100, noise=0.1, seed=SEED)
    return x, [2 * label - 1 for label in y]


def demo_training(Value: type, model: Any, x: list, y: list, steps: int) -> list[float]:
    """micrograd's demo loop, written once for either library's ``Value`` and ``MLP``; each step's loss."""
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


def native_training(model: Sequential, x: list, y: list, steps: int) -> list[float]:
    """The same training with scalargrad's own layers (``MLP.to_scalargrad()`` gives them with the same
    weights), ``HingeLoss`` and ``SGD``; each step's loss."""
    optimizer = SGD(model.parameters(), lr=1.0)
    hinge = HingeLoss()
    losses = []
    for k in range(steps):
        total_loss = hinge([model(row) for row in x], y) + 1e-4 * F.sum([p * p for p in model.parameters()])
        optimizer.zero_grad()
        total_loss.backward()
        optimizer.lr = 1.0 - 0.9 * k / 100
        optimizer.step()
        losses.append(total_loss.data)
    return losses


def seeded(MLP: type) -> Any:
    """micrograd's demo model, ``MLP(2, [16, 16, 1])``, drawn from the seed (the same weights in both
    libraries)."""
    random.seed(SEED)
    return MLP(2, [16, 16, 1])


def seconds_of(run, gc_on: bool) -> float:
    """Seconds of one call of ``run()``, with the cyclic GC on or off (earlier garbage collected first)."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per run (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per library and GC setting (default 3)")
    args = parser.parse_args()
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        print("micrograd is not installed: pip install micrograd==0.1.0")
        return 2
    x, y = moons()

    runs = {"micrograd": lambda steps: demo_training(Value, seeded(MLP), x, y, steps),
            "compat": lambda steps: demo_training(compat.Value, seeded(compat.MLP), x, y, steps),
            "native": lambda steps: native_training(seeded(compat.MLP).to_scalargrad(), x, y, steps)}
    expected = runs["micrograd"](3)
    for name in ("compat", "native"):
        for step, (a, b) in enumerate(zip(expected, runs[name](3))):
            if abs(a - b) > REL_TOL * abs(a):
                print(f"step {step}: micrograd's loss {a!r}, {name}'s {b!r}: they disagree")
                return 1

    print(f"micrograd's demo, {args.steps} steps, best of {args.repeats} "
          f"({platform.python_implementation()} {platform.python_version()})")
    print("micrograd and compat: micrograd's code; native: MLP.to_scalargrad(), HingeLoss, SGD")
    print(f"{'GC':>4} {'micrograd s':>12} {'compat s':>10} {'native s':>10} {'micrograd/compat':>17} "
          f"{'micrograd/native':>17}")
    for gc_on in (True, False):
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeats):  # alternate, so drift in the machine's speed hits all alike
            for name, run in runs.items():
                seconds = seconds_of(lambda run=run: run(args.steps), gc_on)
                best[name] = min(best[name], seconds)
        print(f"{'on' if gc_on else 'off':>4} {best['micrograd']:12.3f} {best['compat']:10.3f} "
              f"{best['native']:10.3f} {best['micrograd'] / best['compat']:16.2f}x "
              f"{best['micrograd'] / best['native']:16.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
