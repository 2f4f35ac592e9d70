"""Data-parallel training: the speed-up of N worker processes over one, and the cost per step of the pool.

What it measures
----------------
Two models, each trained with compiled steps (``Trainer(compile=True)``'s
step, ``scalargrad.compile``) and plain SGD (lr 0.01: the leanest serial step) on synthetic
batches drawn from a seeded ``random.Random`` (the same batches for every
worker count):

* ``digits``: examples.digits's MLP 64-64-10 (relu), cross-entropy.
* ``mnist``: examples.mnist's MLP 784-64-10 (relu) (``--hidden 64``),
  cross-entropy.

each at batch sizes 64 and 128 (``--batch-size``): data-parallel work grows
with the batch, the parent's serial part (the optimizer step) does not.

For each model, one process (``DataParallel`` is not used: the plain
compiled step of ``workers=None``) and then 2, 4, ... workers up to the
machine's cores (``os.cpu_count()``; a ``ProcessPoolExecutor``, fork) train
the same steps. The first steps, which compile each worker's graph, are
warm-up and not timed; then ``--steps`` steps are timed. Each configuration
runs ``--rounds`` times, each in a new process, the counts taken in turn.
Printed: the time per step, best of the rounds (as the project's other
benchmarks: work by others on a shared machine only adds time) and their
median; the speed-up over one process measured in this run, of the best
times and of the medians; and the overhead per step: the parent's own work
(flattening the weights, adding the shards' gradients, writing them into
``.grad``, the optimizer step) plus the round trip of the tasks, i.e. the
step time minus one shard's compute (the shards' compiled steps run here
one after another, divided by the workers).

    python -m benchmarks.bench_parallel            # both models
    python -m benchmarks.bench_parallel --model mnist --steps 20
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from typing import Callable

from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential
from scalargrad.parallel import DataParallel
from scalargrad.train.batch_replays import BatchReplays

MODELS = {"digits": (64, 64), "mnist": (784, 64)}  # inputs, hidden units; 10 classes


def make_model(inputs: int, hidden: int) -> Sequential:
    return Sequential([Linear(inputs, hidden, activation="relu"), Linear(hidden, 10)])


def make_batches(inputs: int, batch_size: int, count: int) -> list:
    rng = random.Random(1)
    return [([[rng.random() for _ in range(inputs)] for _ in range(batch_size)],
             [rng.randrange(10) for _ in range(batch_size)]) for _ in range(count)]


def seconds_per_step(step: Callable[[list, list], object], batches: list, warmup: int) -> float:
    """``step(xb, yb)`` over the batches; seconds per step of those after the first ``warmup``."""
    for xb, yb in batches[:warmup]:
        step(xb, yb)
    start = time.perf_counter()
    for xb, yb in batches[warmup:]:
        step(xb, yb)
    return (time.perf_counter() - start) / (len(batches) - warmup)


def time_one_process(model: Sequential, batches: list, warmup: int) -> float:
    """Seconds per step of the single-process compiled step (Trainer(compile=True)'s own)."""
    optimizer = SGD(model.parameters(), lr=0.01)
    steps = BatchReplays(model, CrossEntropyLoss(), compiled=True)
    return seconds_per_step(lambda xb, yb: steps.step(xb, yb, optimizer), batches, warmup)


def time_workers(model: Sequential, batches: list, warmup: int, workers: int) -> float:
    """Seconds per step with ``workers`` processes (``DataParallel.step`` then the optimizer step)."""
    optimizer = SGD(model.parameters(), lr=0.01)
    with DataParallel(model, CrossEntropyLoss(), workers, step="compile", start_method="fork") as dp:
        return seconds_per_step(lambda xb, yb: dp.step(xb, yb, optimizer), batches, warmup)


def overhead_per_step(model: Sequential, batch: tuple, workers: int, repeats: int = 5) -> float:
    """The step time minus the compute it wraps: one step with ``workers`` shards against the same
    shards' compiled steps run here one after another, divided by the workers (seconds per step)."""
    from scalargrad.parallel import shard_bounds

    xb, yb = batch
    loss = CrossEntropyLoss()
    local = BatchReplays(model, loss, compiled=True)
    params = model.parameters()

    def zero() -> None:
        for p in params:
            p.grad = 0.0

    bounds = shard_bounds(len(xb), workers)
    for lo, hi in bounds:  # warm-up: compile
        local.gradients(xb[lo:hi], yb[lo:hi], zero)
    start = time.perf_counter()
    for _ in range(repeats):
        for lo, hi in bounds:
            local.gradients(xb[lo:hi], yb[lo:hi], zero)
    compute = (time.perf_counter() - start) / repeats / workers  # one shard, as each worker runs it
    optimizer = SGD(params, lr=1e-12)  # the step's work, weights all but unchanged
    with DataParallel(model, loss, workers, step="compile", start_method="fork") as dp:
        for _ in range(2):
            dp.step(xb, yb, optimizer)
        start = time.perf_counter()
        for _ in range(repeats):
            dp.step(xb, yb, optimizer)
        step = (time.perf_counter() - start) / repeats
    return step - compute


def measure(name: str, size: int, workers: int, warmup: int, steps: int) -> tuple[float, float]:
    """Seconds per step of one configuration (``workers`` 1: the single-process step), from a fresh model
    with the run's initial weights, and the overhead per step (0 for one process)."""
    inputs, hidden = MODELS[name]
    random.seed(0)
    batches = make_batches(inputs, size, warmup + steps)
    if workers == 1:
        return time_one_process(make_model(inputs, hidden), batches, warmup), 0.0
    seconds = time_workers(make_model(inputs, hidden), batches, warmup, workers)
    return seconds, overhead_per_step(make_model(inputs, hidden), batches[0], workers)


def measure_in_a_new_process(name: str, size: int, workers: int, warmup: int, steps: int) -> tuple:
    """``measure`` in a process of its own: a run in this one would inherit the heap of the runs before
    it (compiled graphs of 50k-weight steps), which slowed later runs here by up to a fifth."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_parallel", "--measure", name, str(size),
                          str(workers), str(warmup), str(steps)], capture_output=True, text=True, check=True)
    return tuple(map(float, out.stdout.split()[-2:]))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), action="append",
                        help="which model (default: both)")
    parser.add_argument("--batch-size", type=int, action="append",
                        help="samples per step (default: 64 and 128)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per run (default 8)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="runs of each configuration, each in a new process, taken in turn; the best "
                             "and the median are printed (default 5)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--measure", nargs=5, metavar=("MODEL", "BATCH", "WORKERS", "WARMUP", "STEPS"),
                        help=argparse.SUPPRESS)  # one run, for measure_in_a_new_process
    args = parser.parse_args(argv)
    if args.measure:
        name, *numbers = args.measure
        print(*measure(name, *map(int, numbers)))
        return {}
    counts = [n for n in (2, 4, 8, 16, 32, 64) if n <= max(args.max_workers, 2)]
    sizes = args.batch_size or [64, 128]
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
          f"compiled steps, plain SGD, {args.steps} timed steps after {args.warmup}; the best (and the "
          f"median) of {args.rounds} runs, each in a new process, taken in turn")
    results: dict = {}
    for name in args.model or sorted(MODELS):
        inputs, hidden = MODELS[name]
        random.seed(0)
        print(f"\n{name}: MLP {inputs}-{hidden}-10, {make_model(inputs, hidden).num_parameters()} parameters")
        for size in sizes:
            runs: dict = {n: [] for n in [1, *counts]}
            for _ in range(args.rounds):  # in turn, so a busy spell on the machine hits every count alike
                for n, times in runs.items():
                    times.append(measure_in_a_new_process(name, size, n, args.warmup, args.steps))
            # Best of the runs, as the project's other benchmarks take them: other work on a shared
            # machine only adds time, and more to 2 processes (which need both cores) than to one. The
            # medians are printed beside them.
            best = {n: min(seconds for seconds, _ in times) for n, times in runs.items()}
            median = {n: statistics.median(seconds for seconds, _ in times) for n, times in runs.items()}
            results[(name, size)] = best
            print(f"  batch {size:4d}  1 process   {best[1] * 1000:8.1f} ms per step (median "
                  f"{median[1] * 1000:6.1f})")
            for n in counts:
                overhead = statistics.median(overhead for _, overhead in runs[n])
                print(f"  batch {size:4d}  {n} workers   {best[n] * 1000:8.1f} ms per step (median "
                      f"{median[n] * 1000:6.1f})   speed-up {best[1] / best[n]:4.2f}x (medians "
                      f"{median[1] / median[n]:4.2f}x)   overhead {overhead * 1000:5.1f} ms per step")
    return results


if __name__ == "__main__":
    main()
