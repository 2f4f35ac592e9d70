"""``DataParallel``: one training step's forward and backward passes split over the processes of an executor,
the gradients added back in the parent in a fixed order."""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from array import array
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from itertools import repeat
from typing import Any, Callable

from .._util.checks import one_of
from ..train.batch_replays import batch_values
from .pool import blueprint, make_pool, worker_count
from .worker import NEEDS_SETUP, Replica, failure, release, shard_gradients, shard_outputs

__all__ = ["DataParallel", "WorkerError", "shard_bounds"]

STEPS = ("graph", "replay", "compile")


class WorkerError(RuntimeError):
    """A worker failed (raised, or its process died) on a shard: ``worker`` is the shard's index, ``batch``
    names the batch, ``remote_traceback`` is the worker's traceback (None when its process died)."""

    def __init__(self, message: str, worker: int, batch: str, remote_traceback: str | None) -> None:
        super().__init__(message)
        self.worker, self.batch, self.remote_traceback = worker, batch, remote_traceback


def shard_bounds(size: int, shards: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each shard of ``size`` samples cut into ``shards`` consecutive parts, the first
    ``size % shards`` one sample larger; empty shards are left out.

    >>> shard_bounds(10, 4)
    [(0, 3), (3, 6), (6, 8), (8, 10)]
    """
    base, extra = divmod(size, shards)
    bounds, start = [], 0
    for i in range(shards):
        stop = start + base + (i < extra)
        if stop > start:
            bounds.append((start, stop))
        start = stop
    return bounds


def _reduction(loss_fn: Any) -> str:
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"DataParallel needs a loss that reduces the batch to one number ('mean' or 'sum'), "
                         f"got reduction={reduction!r}")
    return reduction


def _run_here(task: Callable[..., tuple], *args: Any) -> Future:
    """``task(*args)`` run in this process, its answer in a finished Future as the pool's come; the global
    random state is left as it was (a shard of ``step='graph'`` seeds it for Dropout)."""
    state, interval = random.getstate(), sys.getswitchinterval()
    # The pool's threads pickle and send the other shards, and take their answers, while this one
    # computes: each needs the GIL, which a busy thread gives up only every switch interval (5 ms), so a
    # shard would start and end tens of ms late. A short interval for the while hands it over at once.
    sys.setswitchinterval(1e-4)
    try:
        answer = task(*args)
    finally:
        sys.setswitchinterval(interval)
        random.setstate(state)
    future: Future = Future()
    future.set_result(answer)
    return future


class DataParallel:
    """Forward and backward passes over a batch split into ``workers`` shards, each run by a process of an
    executor on its own replica of ``model`` and ``loss_fn``.

    ``step(xb, yb)`` cuts the batch into consecutive shards (``shard_bounds``),
    sends each worker the current weights (one flat array of floats) and its
    shard, and adds the shards' gradients into the parameters' ``.grad`` in
    shard order, as ``loss.backward()`` would; it returns the batch's loss.
    Each shard's gradient is weighted by its share of the batch (``shard size
    / batch size`` for a loss that takes the mean, 1 for a sum), so the sum is
    the whole batch's gradient up to rounding: see the bound in
    ``docs/performance.md``. A worker keeps its replica and its recorded
    (``step='replay'``) or compiled (``step='compile'``) step for each shard
    size between calls; ``step='graph'`` builds the graph at every call.

    The pool: ``workers=N`` runs the first shard in this process and starts a
    ``ProcessPoolExecutor`` of N - 1 processes for the others (``start_method``
    'spawn', 'fork' or 'forkserver'; None: the platform's default) when the
    object is opened (``with``, or ``open()``), and stops it at ``close()``;
    this process would otherwise sit idle while they work, so N workers keep N
    cores busy and one shard's weights and gradients never travel.
    ``executor=`` uses one you made and leave running, for every shard
    (dask.distributed's ``Client(...).get_executor()``, a pool of your own),
    split into ``workers`` shards (default 2). Model and loss must pickle:
    a lambda is refused here, with the reason, before any process starts.

    A shard that raises, or whose process dies, gives a ``WorkerError`` naming
    the worker and the batch, with the worker's traceback.

    ``outputs(xs)`` runs the model (eval mode, no graph) on the samples in
    shards and returns the outputs as floats: ``Evaluator(workers=N)``.

    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> model = Linear(2, 1)
    >>> optimizer = SGD(model.parameters(), lr=0.1)
    >>> with DataParallel(model, MSELoss(), workers=2, start_method='fork') as dp:  # doctest: +SKIP
    ...     optimizer.zero_grad()
    ...     loss = dp.step([[0.0, 1.0], [1.0, 0.0]], [[1.0], [0.0]])
    ...     optimizer.step()
    """

    def __init__(self, model: Any, loss_fn: Callable[[list, list], Any] | None = None,
                 workers: int | None = None, *, executor: Executor | None = None, step: str = "compile",
                 start_method: str | None = None) -> None:
        if not callable(getattr(model, "parameters", None)):
            raise TypeError(f"DataParallel needs a model with parameters() (an nn.Module), "
                            f"got {type(model).__name__}")
        if loss_fn is not None and not callable(loss_fn):
            raise TypeError(f"DataParallel needs a callable loss_fn, got {type(loss_fn).__name__}")
        self.workers = worker_count(workers, executor) or 1
        self.step_kind = one_of(step, "step", STEPS)
        self.start_method = start_method
        self.reduction = None if loss_fn is None else _reduction(loss_fn)
        self.model, self.loss_fn = model, loss_fn
        self.parameters = model.parameters()
        self._token = uuid.uuid4().hex
        self._blueprint = blueprint(model, loss_fn, self.step_kind)
        # the first shard's steps, run here on the model itself: no weights to load, its .grad filled in place
        self._here = None if loss_fn is None else Replica(model, loss_fn, self.step_kind)
        self._user_executor = executor
        self._executor: Executor | None = None
        self._pending: list[Future] = []
        self._sizes_sent: set[int] = set()  # the shard sizes sent whole to the pool, which built their graphs
        self.steps = 0  # the batches stepped so far, which name a batch in errors by default

    # ---- the pool's life ----------------------------------------------------------

    def open(self) -> DataParallel:
        """Start the pool (a no-op when it runs, or when the executor is the user's)."""
        if self._executor is None:
            if self._user_executor is not None:
                self._executor = self._user_executor
            elif self.workers > 1:
                self._executor = make_pool(self.workers - 1, self._token, self._blueprint, self.start_method)
        return self

    def close(self) -> None:
        """Cancel what is still queued and stop the pool this object started (and wait for its processes)."""
        for future in self._pending:
            future.cancel()
        self._pending = []
        executor, self._executor = self._executor, None
        self._sizes_sent.clear()  # a new pool builds its graphs anew
        release(self._token)  # this process's replica
        if executor is not None and executor is not self._user_executor:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DataParallel:  # noqa: PYI034
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- the work -----------------------------------------------------------------

    def step(self, xb: Sequence[Any], yb: Sequence[Any], optimizer: Any = None, *,
             batch: str | None = None) -> float:
        """Forward and backward over the batch in shards; the gradients are added into ``.grad`` (call
        ``optimizer.zero_grad()`` first, as before ``backward()``); returns the batch's loss. With
        ``optimizer``, the gradients replace ``.grad`` (as ``zero_grad()`` then ``backward()`` would) and
        its ``step()`` follows. ``batch`` names the batch in error messages."""
        if self.loss_fn is None:
            raise TypeError("DataParallel.step needs the loss_fn given at construction")
        xb, yb = list(xb), list(yb)
        if len(xb) != len(yb) or not xb:
            raise ValueError(f"DataParallel.step needs as many targets as inputs, at least one: got "
                             f"{len(xb)} inputs and {len(yb)} targets")
        size = len(xb)
        label = batch if batch is not None else f"batch {self.steps}"
        weights = array("d", [p.data for p in self.parameters])  # pickled as its bytes
        seed = random.getrandbits(64) if self.step_kind == "graph" else None  # Dropout's draws repeat
        mean = self.reduction == "mean"
        tasks = [(weights, xb[lo:hi], yb[lo:hi], (hi - lo) / size if mean else 1.0,
                  None if seed is None else seed + i)
                 for i, (lo, hi) in enumerate(shard_bounds(size, self.workers))]
        # Sent as their values alone once a shard of that size has gone out whole (its samples build the
        # graph; a process that has not built it asks again), so the processes build their graphs at the
        # same time as this one, not after it.
        local = self._user_executor is None  # the first shard is this process's: it needs no light form
        light = None
        if self.step_kind != "graph":
            known = set(self._sizes_sent)  # as the step began: each process of the pool gets a new size whole
            light = tasks[:local]
            for w, x, y, scale, s in tasks[local:]:
                self._sizes_sent.add(len(x))
                light.append((w, None, None, scale, s, array("d", batch_values(x, y)), len(x))
                             if len(x) in known else (w, x, y, scale, s))
        earlier = None if optimizer is not None else [p.grad for p in self.parameters]
        answers = self._run(shard_gradients, tasks, label, self._gradients_here, light)
        # The shards added in order, each times its scale (shard 0 * s0 + shard 1 * s1 + ...), the last
        # addition written straight into .grad: one pass over the 50k Scalars, objects spread over memory,
        # is what costs the parent's serial time. The pool's shards come unscaled, so that their answers
        # leave a worker sooner; shard 0's are this process's, or (steps not compiled, run here) in .grad.
        shards = [answer[3] for answer in answers]
        if shards[0] is None:
            shards[0] = [p.grad for p in self.parameters]
        scales = [task[3] for task in tasks]
        head, scale = shards[0], scales[0]
        for shard, shard_scale in zip(shards[1:-1], scales[1:-1]):
            head, scale = [a * scale + b * shard_scale for a, b in zip(head, shard)], 1.0
        last, last_scale = (shards[-1], scales[-1]) if len(shards) > 1 else (repeat(0.0), 0.0)
        # + 0.0: a gradient of -0.0 as the 0.0 that backward() leaves in a zeroed .grad
        if earlier is None:  # .grad replaced, as zero_grad() then backward() would
            for p, a, b in zip(self.parameters, head, last):
                p.grad = a * scale + b * last_scale + 0.0
        else:  # added to the gradients .grad held before, as backward() adds
            for p, old, a, b in zip(self.parameters, earlier, head, last):
                new = a * scale + b * last_scale
                p.grad = new + 0.0 if old is None else old + new
        loss = answers[0][2]
        for answer in answers[1:]:
            loss += answer[2]
        self.steps += 1
        if optimizer is not None:
            optimizer.step()
        return loss

    def _gradients_here(self, weights: array, xb: list, yb: list, scale: float, seed: int | None) -> tuple:
        """The first shard's step, in this process on the model itself (its weights are the current ones):
        answers ``("ok", pid, scale * loss, gradients)``, the gradients unscaled: a list when compiled, else
        None and in ``.grad``."""
        model = self.model
        was_training = getattr(model, "training", True)
        try:
            if seed is not None:
                random.seed(seed)
            if self.step_kind == "compile":  # on floats: nothing to zero in .grad, nothing to add into it
                loss, grads = self._here.gradient_values(weights, xb, yb)
                return ("ok", os.getpid(), loss * scale, grads)
            loss = self._here.gradients(xb, yb)
            return ("ok", os.getpid(), loss * scale, None)
        except Exception as e:  # noqa: BLE001 - named as a worker's failure is
            return failure(e)
        finally:
            if not was_training:
                model.eval()

    def outputs(self, xs: Sequence[Any], *, batch: str | None = None) -> list:
        """The model's outputs on the samples ``xs`` (eval mode, no graph), as floats, computed in shards."""
        xs = list(xs)
        if not xs:
            return []
        weights = array("d", [p.data for p in self.parameters])
        tasks = [(weights, xs[lo:hi]) for lo, hi in shard_bounds(len(xs), self.workers)]
        answers = self._run(shard_outputs, tasks, batch or f"the {len(xs)} samples evaluated")
        return [out for answer in answers for out in answer[2]]

    def _run(self, task: Callable[..., tuple], tasks: list[tuple], label: str,
             here: Callable[..., tuple] | None = None, light: list[tuple] | None = None) -> list[tuple]:
        """Each task's answer, in order. A task is first sent as ``light[i]`` if given; a process that
        answers ``NEEDS_SETUP`` gets ``tasks[i]`` again with the model. With a pool of its own, this process
        runs the first task itself (``here(*task)``, or ``task`` on a replica of its own) while the pool
        runs the others."""
        self.open()
        submit = self._executor.submit if self._executor is not None else None  # None: one worker, here
        token = self._token
        local = self._user_executor is None  # the first shard is this process's
        self._pending = [submit(task, token, None, *args) for args in (light or tasks)[local:]]
        if local:
            if self._pending:
                # A millisecond with the GIL free: the pool's threads pickle the shards and start sending
                # them at once; sent while this thread computes, they reached the workers 5-7 ms late.
                time.sleep(0.001)
            self._pending.insert(0, _run_here(here, *tasks[0]) if here is not None
                                 else _run_here(task, token, self._blueprint, *tasks[0]))
        try:
            answers = [self._answer(f, i, label) for i, f in enumerate(self._pending)]
            retry = [i for i, a in enumerate(answers) if a[0] == NEEDS_SETUP]
            if retry:
                self._pending = [submit(task, token, self._blueprint, *tasks[i]) for i in retry]
                for i, f in zip(retry, self._pending):
                    answers[i] = self._answer(f, i, label)
        finally:
            for future in self._pending:
                future.cancel()
            self._pending = []
        return answers

    def _answer(self, future: Future, worker: int, label: str) -> tuple:
        here = " (this process)" if worker == 0 and self._user_executor is None else ""
        where = f"worker {worker}{here} (shard {worker + 1} of {self.workers}) on {label}"
        try:
            answer = future.result()
        except BrokenExecutor as e:
            raise WorkerError(f"{where}: its process died ({type(e).__name__}: {e}); the pool is broken",
                              worker, label, None) from e
        except Exception as e:  # the executor's own failure (a lost dask worker, a cancelled task)
            raise WorkerError(f"{where}: the executor failed: {type(e).__name__}: {e}", worker, label,
                              None) from e
        if answer[0] == "error":
            _, pid, summary, text, original = answer
            raise WorkerError(f"{where}, process {pid}, raised {summary}\n\nThe worker's traceback:\n{text}",
                              worker, label, text) from original
        return answer

    def __repr__(self) -> str:
        pool = ("a pool of your own" if self._user_executor is not None
                else f"this process and {self.workers - 1} more")
        return (f"DataParallel({type(self.model).__name__}, {self.workers} shards, {pool}, "
                f"step={self.step_kind!r})")
