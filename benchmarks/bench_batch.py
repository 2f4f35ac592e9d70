"""Batch calls against per-sample calls: one training step, eager, replayed and compiled.

What it measures
----------------
The workload of ``bench_train.py``'s W1: an MLP 16-32-16-3 (``Sequential`` of
``Linear`` layers, relu hidden layers), batch 32, MSE loss, SGD lr 0.01, on
inputs and targets uniform in [-1, 1] from a seeded ``random.Random``. A step
is forward, ``zero_grad``, backward and ``SGD.step()``; the model is fed in
two ways:

* per sample: ``outputs = [model(x) for x in xb]``, as scalargrad's API has
  always been used;
* one batch call: ``outputs = model(xb)`` (``Module.__call__`` hands each
  layer's samples to its ``forward``).

each run three ways: eager (the graph built at every step), replayed (a
``Replay`` built once from the step's loss, its build inside the timing) and
compiled (that Replay compiled to one function, ``CompiledGraph``, built and
compiled before the timing). Before anything is timed, one step of every
variant from the same weights must give the same loss and weights, bit for
bit, as the per-sample eager step, or the script exits 1.

It also times one sample through one layer, ``Linear(16, 32)``, called as
``layer(x)`` and as ``layer.forward(x)``: what the one-sample-or-batch
decision of ``Module.__call__`` costs a call that is not a batch.

It reports, per training sample (one step's time / 32), the best of several
repeats (interleaved, garbage collected between runs outside the timing),
timed with ``time.process_time``: this process's CPU time, which the other
processes of a shared machine do not inflate as they do the wall clock
(``perf_counter``), and the ratios batch / per-sample for each way (target:
at most 1.05, i.e. a batch call costs no more than the loop it replaces) and
``layer(x)`` / ``layer.forward(x)``. Targets are printed as met/NOT met, never
asserted.

How to run
----------
From the repository root::

    python benchmarks/bench_batch.py            # 12 repeats of 10 steps, about a minute
    python benchmarks/bench_batch.py --quick    # a few seconds

Many short runs, interleaved, rather than a few long ones: on a shared machine
the best of them is the one that ran alone, and the others' bursts of load do
not decide a ratio.

Exit codes: 0 every variant agrees, 1 one does not.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Callable

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from scalargrad import Scalar  # after the sys.path line above
from scalargrad.compile import CompiledGraph
from scalargrad.nn import SGD, Linear, MSELoss, Sequential
from scalargrad.replay import Replay

SIZES, BATCH, LR = (16, 32, 16, 3), 32, 0.01
BATCH_VS_SAMPLES_TARGET = 1.05  # batch call / per-sample calls, at most
WAYS = ("eager", "replayed", "compiled")
FEEDS = ("per sample", "batch")


def make_model() -> Sequential:
    """The MLP, with the same weights every time."""
    random.seed(0)
    layers = [Linear(a, b, activation="relu" if i < len(SIZES) - 2 else "identity")
              for i, (a, b) in enumerate(zip(SIZES, SIZES[1:]))]
    return Sequential(layers)


def make_batches(steps: int) -> list[tuple[list, list]]:
    rng = random.Random(1)
    return [([[rng.uniform(-1, 1) for _ in range(SIZES[0])] for _ in range(BATCH)],
             [[rng.uniform(-1, 1) for _ in range(SIZES[-1])] for _ in range(BATCH)]) for _ in range(steps)]


def outputs_of(model: Sequential, xb: Sequence, feed: str) -> list:
    return model(xb) if feed == "batch" else [model(x) for x in xb]


def make_step(way: str, feed: str, model: Sequential) -> Callable[[list, list], float]:
    """One training step of ``way`` and ``feed`` on ``model``: (inputs, targets) -> loss."""
    loss_fn, optim = MSELoss(), SGD(model.parameters(), lr=LR)
    if way == "eager":
        def eager(xb: list, yb: list) -> float:
            loss = loss_fn(outputs_of(model, xb, feed), yb)
            optim.zero_grad()
            loss.backward()
            optim.step()
            return loss.data
        return eager
    x_in = [[Scalar(0.0) for _ in range(SIZES[0])] for _ in range(BATCH)]
    y_in = [[Scalar(0.0) for _ in range(SIZES[-1])] for _ in range(BATCH)]
    inputs = {"x": x_in, "y": y_in}
    if way == "compiled":  # built and compiled here, outside the timing
        compiled = CompiledGraph(Replay(lambda: loss_fn(outputs_of(model, x_in, feed), y_in), inputs))

        def run_compiled(xb: list, yb: list) -> float:
            optim.zero_grad()
            loss = compiled(x=xb, y=yb)
            optim.step()
            return loss
        return run_compiled
    replay = None

    def replayed(xb: list, yb: list) -> float:
        nonlocal replay
        if replay is None:  # built at the first step, inside the timing
            replay = Replay(lambda: loss_fn(outputs_of(model, x_in, feed), y_in), inputs)
        loss = replay.forward(x=xb, y=yb)
        optim.zero_grad()
        replay.backward()
        optim.step()
        return loss
    return replayed


def time_steps(way: str, feed: str, batches: list) -> float:
    """Seconds for the steps of ``batches`` from the initial weights (model and step made outside)."""
    step = make_step(way, feed, make_model())
    gc.collect()
    t0 = time.process_time()
    for xb, yb in batches:
        step(xb, yb)
    t1 = time.process_time()
    del step
    gc.collect()
    return t1 - t0


def check_agreement() -> list[str]:
    """Every variant's first step against the per-sample eager one: the same loss and weights, in bits."""
    (xb, yb), = make_batches(1)
    results = {}
    for way in WAYS:
        for feed in FEEDS:
            model = make_model()
            loss = make_step(way, feed, model)(xb, yb)
            results[way, feed] = [float.hex(loss)] + [float.hex(p.data) for p in model.parameters()]
    reference = results["eager", "per sample"]
    return [f"{way}, {feed}" for (way, feed), got in results.items() if got != reference]


def time_one_layer_call(calls: int, repeats: int) -> tuple[float, float]:
    """Best microseconds per call of ``layer(x)`` and of ``layer.forward(x)`` on one sample."""
    random.seed(2)
    layer, x = Linear(16, 32), [Scalar(random.uniform(-1, 1)) for _ in range(16)]
    best = {"call": float("inf"), "forward": float("inf")}
    for _ in range(repeats):
        for key, fn in (("call", layer), ("forward", layer.forward)):
            t0 = time.process_time()
            for _ in range(calls):
                fn(x)
            best[key] = min(best[key], (time.process_time() - t0) / calls * 1e6)
    return best["call"], best["forward"]


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="3 steps, 2 repeats")
    args = parser.parse_args(argv)
    steps, repeats = (3, 2) if args.quick else (args.steps, args.repeats)
    disagree = check_agreement()
    if steps < 1 or repeats < 1:
        parser.error("--steps and --repeats must be at least 1")
    if disagree:
        print("step 1 differs from the per-sample eager step in: " + "; ".join(disagree))
        return 1
    print("step 1: every variant gives the per-sample eager loss and weights, bit for bit")
    batches = make_batches(steps)
    best: dict[tuple[str, str], float] = {}
    for _ in range(repeats):  # interleaved: a burst of load hits every variant alike
        for way in WAYS:
            for feed in FEEDS:
                t = time_steps(way, feed, batches) / (steps * BATCH) * 1e6
                best[way, feed] = min(best.get((way, feed), float("inf")), t)
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, MSE, SGD: us per sample, best of {repeats} "
          f"runs of {steps} steps")
    print(f"{'':10}{'per sample':>12}{'batch':>12}{'batch/per sample':>18}")
    for way in WAYS:
        ratio = best[way, "batch"] / best[way, "per sample"]
        print(f"{way:10}{best[way, 'per sample']:12.1f}{best[way, 'batch']:12.1f}{ratio:18.3f}  "
              f"(target <= {BATCH_VS_SAMPLES_TARGET}: {verdict(ratio, BATCH_VS_SAMPLES_TARGET)})")
    call, forward = time_one_layer_call(2000 if args.quick else 20000, repeats)
    print(f"one sample through Linear(16, 32): layer(x) {call:.2f} us, layer.forward(x) {forward:.2f} us, "
          f"ratio {call / forward:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
