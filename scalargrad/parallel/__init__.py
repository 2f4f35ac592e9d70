"""Data-parallel training on any ``concurrent.futures.Executor``: a batch split into shards, each worker
process computing its shard's loss and gradients on a replica of the model, the parent adding them in a
fixed order and stepping the optimizer once.

``Trainer(..., workers=N)`` and ``Evaluator(..., workers=N)`` use it; a
hand-written loop uses ``DataParallel`` directly::

    with DataParallel(model, loss_fn, workers=4) as dp:
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = dp.step(xb, yb)      # fills .grad, as loss.backward() would
            optimizer.step()

The modules: ``data_parallel`` (the parent's side), ``worker`` (what a
worker process runs and keeps), ``pool`` (the process pool and the pickle
checks).
"""

from .data_parallel import DataParallel, WorkerError, shard_bounds

__all__ = ["DataParallel", "WorkerError", "shard_bounds"]
