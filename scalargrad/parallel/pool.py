"""The pool behind ``DataParallel``: a ``ProcessPoolExecutor`` made with an explicit ``multiprocessing``
context, or the user's own executor; the checks that what goes to a worker can get there."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from .._util.checks import integer, one_of
from .worker import install

__all__ = ["START_METHODS", "blueprint", "make_pool", "worker_count"]

START_METHODS = ("spawn", "fork", "forkserver")


def worker_count(workers: Any, executor: Any) -> int | None:
    """The checked ``workers=`` (None, or an int >= 1) and ``executor=``; None means one process, no pool."""
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor= must be a concurrent.futures.Executor (e.g. a ProcessPoolExecutor, or "
                        f"dask.distributed's Client(...).get_executor()), got {type(executor).__name__}")
    if workers is None:
        return 2 if executor is not None else None
    workers = integer(workers, "workers")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return workers


def _why_not(obj: Any, error: Exception) -> str:
    if getattr(obj, "__name__", None) == "<lambda>":
        return "it is a lambda, which cannot be pickled; define it with def at module level"
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__  # a function's, or a class's
    if "<locals>" in qualname:
        return f"{qualname} is defined inside a function, which pickle cannot name; define it at module level"
    return f"pickle failed: {type(error).__name__}: {error}"


def blueprint(model: Any, loss_fn: Any, mode: str) -> bytes:
    """``(model, loss_fn, mode)`` pickled, as every worker process gets it; a TypeError naming the object
    that cannot be sent, and why, before any process starts."""
    for name, obj in (("model", model), ("loss", loss_fn)):
        try:
            pickle.dumps(obj)
        except Exception as e:
            raise TypeError(f"DataParallel cannot send the {name} ({type(obj).__name__}) to a worker "
                            f"process: {_why_not(obj, e)}") from e
    return pickle.dumps((model, loss_fn, mode))


def make_pool(workers: int, token: str, model_bytes: bytes, start_method: str | None) -> Executor:
    """A ProcessPoolExecutor of ``workers`` processes, each holding the replica for ``token`` from the start
    and leaving Ctrl-C to the parent. ``start_method``: 'spawn', 'fork' or 'forkserver' (None: the
    platform's default)."""
    if start_method is not None:
        one_of(start_method, "start_method", START_METHODS)
    context = multiprocessing.get_context(start_method)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=install,
                               initargs=(token, model_bytes, True))
    if not hasattr(pool, "_adjust_process_count"):
        # PyPy 3.9's submit() calls this method by a name its pool no longer has, with spawn and forkserver
        # (which start processes on demand): start them all up front instead, as the pool does with fork.
        pool._safe_to_dynamically_spawn_children = False
    return pool
