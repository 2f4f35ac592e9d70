"""``Trainer(workers=N)`` and ``Evaluator(workers=N)``: their steps and outputs on a ``DataParallel`` pool.

``scalargrad.parallel`` imports this package's ``batch_replays`` (a worker
runs the same recorded or compiled step), so it is imported here lazily.
"""

from __future__ import annotations

from typing import Any

from .batch_replays import BatchReplays

__all__ = ["ParallelSteps", "check_parallel", "close_steps", "make_steps", "open_evaluator", "step_kind"]


def step_kind(compile: bool, replay: bool) -> str:
    """How a Trainer's step runs, as ``DataParallel(step=...)`` names it."""
    return "compile" if compile else "replay" if replay else "graph"


def check_parallel(model: Any, loss: Any, workers: Any, executor: Any, step: str) -> int | None:
    """The checked worker count (None: one process); model and loss must pickle, checked now."""
    from ..parallel.pool import blueprint, worker_count  # lazy: scalargrad.parallel imports this package

    count = worker_count(workers, executor)
    if count is None or (count == 1 and executor is None):
        return None
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(f"workers= needs a model with parameters() (an nn.Module), "
                        f"got {type(model).__name__}")
    blueprint(model, loss, step)
    return count


class ParallelSteps:
    """A Trainer's steps on a DataParallel pool: the shards' gradients, then one optimizer step here."""

    def __init__(self, trainer: Any, step: str) -> None:
        from ..parallel import DataParallel  # lazy, as above

        self.trainer = trainer
        self.pool = DataParallel(trainer.model, trainer.loss, trainer.workers, executor=trainer.executor,
                                 step=step)
        self._epoch, self._batch = None, 0

    def step(self, xb: Any, yb: Any, optimizer: Any) -> float:
        position = self.trainer.position
        if self._epoch != position.epoch:  # batches_done holds the epoch's first batch until it ends
            self._epoch, self._batch = position.epoch, position.batches_done
        label = f"epoch {self._epoch}, batch {self._batch}"
        self._batch += 1
        return self.pool.step(xb, yb, optimizer, batch=label)

    def close(self) -> None:
        self.pool.close()


def make_steps(trainer: Any) -> Any:
    """The run's stepper: a ParallelSteps with workers, a BatchReplays with replay or compile, else None."""
    open_evaluator(trainer.evaluator)
    if trainer.workers is not None:
        return ParallelSteps(trainer, step_kind(trainer.compile, trainer.replay))
    return BatchReplays(trainer.model, trainer.loss, compiled=trainer.compile) if trainer.replay else None


def close_steps(steps: Any, evaluator: Any) -> None:
    """Stop the run's pools: the Trainer's, and its Evaluator's (kept open through the run)."""
    try:
        if isinstance(steps, ParallelSteps):
            steps.close()
    finally:
        if getattr(evaluator, "workers", None) is not None:
            evaluator.close()


def open_evaluator(evaluator: Any) -> None:
    """Keep a parallel Evaluator's pool running through a Trainer run (``close_steps`` stops it)."""
    if getattr(evaluator, "workers", None) is not None:
        evaluator.open()
