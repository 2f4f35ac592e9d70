"""What runs in a worker process: the replicas it holds and the two tasks it serves (a shard's gradients,
a shard's outputs).

A generic ``concurrent.futures.Executor`` may send any task to any of its
processes, so a task names its pool by a token and carries the current
weights; a process that has no replica for the token yet answers
``NEEDS_SETUP`` and the parent sends the task again with the model (a
pool the parent made installs it at start, through ``install``).
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import traceback
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from .._util.nested import map_leaves
from ..nn import Module
from ..scalar import Scalar, no_grad
from ..train.batch_replays import BatchReplays

__all__ = ["NEEDS_SETUP", "Replica", "failure", "install", "release", "shard_gradients", "shard_outputs"]

NEEDS_SETUP = "needs setup"  # the answer of a process that lacks the replica, or a shard's samples
_MAX_REPLICAS = 4  # a process serving several DataParallel objects in turn keeps the newest few
_REPLICAS: OrderedDict[str, Replica] = OrderedDict()


class Replica:
    """A worker's copy of the model and loss, and of its recorded or compiled steps (one per shard size)."""

    def __init__(self, model: Any, loss_fn: Any, mode: str) -> None:
        self.model, self.loss_fn, self.mode = model, loss_fn, mode
        self.parameters = self.model.parameters()
        self.graphs = (BatchReplays(self.model, self.loss_fn, compiled=self.mode == "compile")
                       if self.mode in ("replay", "compile") else None)

    def load(self, weights: array) -> None:
        for p, value in zip(self.parameters, weights):
            p.data = value

    def gradient_values(self, weights: Sequence[float], xb: list | None, yb: list | None,
                        values: list | None = None, size: int | None = None) -> tuple[float, list[float]]:
        """A compiled shard's loss and gradients (``parameters`` order) at ``weights``, on plain floats: no
        parameter's ``.data`` or ``.grad`` is touched (``BatchReplays.gradient_values``)."""
        self._train_mode()
        return self.graphs.gradient_values(weights, xb, yb, values, size)

    def _train_mode(self) -> None:
        if isinstance(self.model, Module) and not self.model.training:
            self.model.train()  # an evaluation left it in eval mode

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = 0.0

    def needs_samples(self, size: int) -> bool:
        """Whether a shard of ``size`` samples must come as samples (its graph is not built yet, or every
        step builds one), not only as its values."""
        return self.graphs is None or not self.graphs.has_graph(size)

    def gradients(self, xb: list | None, yb: list | None, values: list | None = None,
                  size: int | None = None) -> float:
        """Forward and backward over the shard (its samples, or once its graph is built its ``values`` and
        ``size``); the parameters' ``.grad`` hold its gradient; its loss."""
        self._train_mode()
        if self.graphs is not None:
            return self.graphs.gradients(xb, yb, self.zero_grad, values, size)
        loss = self.loss_fn([self.model(x) for x in xb], yb)
        self.zero_grad()
        loss.backward()
        return loss.data


def install(token: str, blueprint: bytes, quiet_interrupts: bool = False) -> None:
    """Make this process's replica for ``token`` (the initializer of a pool the parent made, which also
    leaves Ctrl-C to the parent: the parent stops the pool)."""
    if quiet_interrupts:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _REPLICAS[token] = Replica(*pickle.loads(blueprint))
    while len(_REPLICAS) > _MAX_REPLICAS:
        _REPLICAS.popitem(last=False)


def release(token: str) -> None:
    """Drop this process's replica for ``token``, if it has one."""
    _REPLICAS.pop(token, None)


def _replica(token: str, blueprint: bytes | None) -> Replica | None:
    replica = _REPLICAS.get(token)
    if replica is None and blueprint is not None:
        install(token, blueprint)
        replica = _REPLICAS[token]
    return replica


def failure(error: BaseException) -> tuple:
    """An exception as a task's answer: the exception itself if it can travel, and its traceback's text."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        sent = pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - an exception that does not pickle travels as its text only
        sent = None
    return ("error", os.getpid(), f"{type(error).__name__}: {error}", text, sent)


def shard_gradients(token: str, blueprint: bytes | None, weights: array, xb: list | None, yb: list | None,
                    scale: float, seed: int | None, values: array | None = None, size: int = 0) -> tuple:
    """Run the step over the shard at ``weights`` (an array of doubles, in ``model.parameters()`` order)
    and answer ``("ok", pid, scale * loss, the gradients as an array of doubles)`` in the same order
    (or ``NEEDS_SETUP``, or a failure). The shard comes as its samples ``xb``, ``yb``, or (None, None) and
    its ``size`` and ``values`` (an array of doubles, pickled as its bytes) once this process has its
    graph: sent as samples, this process would unpickle the nested lists and flatten them again, and an
    MNIST step at batch 64 measured about 2 ms slower."""
    try:
        replica = _replica(token, blueprint)
        if replica is None or (xb is None and replica.needs_samples(size)):
            return (NEEDS_SETUP,)
        if seed is not None:
            random.seed(seed)
        if xb is None:  # the shard as its values (its graph is built), else as its samples
            values = values.tolist()
        else:
            values, size = None, None
        if replica.mode == "compile":
            loss, grads = replica.gradient_values(weights, xb, yb, values, size)
        else:
            replica.load(weights)
            loss = replica.gradients(xb, yb, values, size)
            grads = [p.grad for p in replica.parameters]
        # unscaled: the parent scales as it adds, while this process's answer is on its way sooner
        return ("ok", os.getpid(), loss * scale, array("d", grads))
    except Exception as e:  # noqa: BLE001 - any failure goes back to the parent, named
        return failure(e)


def _as_floats(output: Any) -> Any:
    return map_leaves(lambda v: v.data if isinstance(v, Scalar) else v, output)


def shard_outputs(token: str, blueprint: bytes | None, weights: array, xs: list) -> tuple:
    """Load ``weights`` and answer ``("ok", pid, outputs)``: the model's outputs on ``xs`` as floats, in
    eval mode and without a graph (or ``NEEDS_SETUP``, or a failure)."""
    try:
        replica = _replica(token, blueprint)
        if replica is None:
            return (NEEDS_SETUP,)
        replica.load(weights)
        model = replica.model
        if isinstance(model, Module):
            model.eval()
        with no_grad():
            return ("ok", os.getpid(), [_as_floats(model(x)) for x in xs])
    except Exception as e:  # noqa: BLE001 - any failure goes back to the parent, named
        return failure(e)
