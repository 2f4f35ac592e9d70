"""Graph replay: build a graph once over placeholder inputs, then run it again on new values.

Building a graph makes one node object per op and sorts the nodes before
every backward pass; in a training loop whose graph has the same shape at
every step, that work repeats. ``Replay`` builds the graph once, keeps its
nodes in topological order, and at each step recomputes every node in place
from its parents' current data: no new objects and no sort. Values and
gradients are the ones a rebuilt graph of the same structure gives, bit for
bit, because every op replays the exact float expression it used when it made
its node.

The structure must not depend on the data. While a Replay builds its graph,
``functional.linear`` keeps ReLUs that are off (as nodes whose derivative is
0; a normal build leaves them out), ``MaxPool2D`` makes one node per window
(``functional.window_max``) that picks the maximum again at every step, and
``Dropout`` in training mode refuses to build, since its mask would be frozen.
Python control flow on values (``if x > 0``) is frozen at the first build: use
a Replay only for code whose ops do not depend on the values.

>>> from scalargrad import Scalar
>>> x, w, b = Scalar(0.0), Scalar(2.0), Scalar(0.5)   # x is the placeholder
>>> step = Replay(lambda: (w * x + b) ** 2, inputs=[x])
>>> step.forward([1.0])                                # (2 * 1 + 0.5) ** 2
6.25
>>> step.backward()
>>> w.grad, b.grad
(5.0, 5.0)
>>> step.forward([3.0]), len(step)                     # same 3 nodes, new values
(42.25, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Callable

from . import scalar as _engine
from .scalar import (
    Number,
    Scalar,
    _backward_order,
    _checked_float,
    _run_backward,
    enable_grad,
)

__all__ = ["Replay"]


class Replay:
    """A graph built once by ``build()`` and re-run in place by ``forward()``/``backward()``.

    ``inputs`` are the leaf Scalars you will feed (a batch's inputs and
    targets); they receive no gradient where a layer reads them.
    ``forward(values)`` writes ``values`` into them in order (or leaves them
    as you set them), recomputes every node, and returns the output's value.
    ``backward()`` then behaves as ``output.backward()``: leaf gradients
    accumulate, so call ``optimizer.zero_grad()`` between steps as usual.
    Parameters are read at every ``forward()``, so optimizer steps show up.
    """

    def __init__(self, build: Callable[[], Scalar], inputs: Iterable[Scalar] = ()) -> None:
        if not callable(build):
            raise TypeError(f"Replay needs a function that builds the graph, got {type(build).__name__}")
        inputs = list(inputs)
        for i, p in enumerate(inputs):
            if not isinstance(p, Scalar):
                raise TypeError(f"Replay inputs must be Scalars, input {i} is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"Replay input {i} is computed by an op; inputs must be leaves")
        if _engine._replay_build is not None:
            raise RuntimeError("a Replay cannot be built inside another Replay's build function")
        _engine._replay_build = _engine._ReplayBuild(inputs)
        try:
            with enable_grad():
                output = build()
        finally:
            _engine._replay_build = None
        if not isinstance(output, Scalar):
            raise TypeError(f"the build function must return a Scalar, got {type(output).__name__}")
        if output.is_leaf:
            raise ValueError("the build function returned a leaf (no ops recorded): there is nothing to replay")
        held = []
        order = _backward_order(output, held)
        for leaf, old in held:  # the sort zeroed them; this is not a backward pass
            leaf.grad = old
        steps, gathered = [], set()
        for node in order:
            rule = node._rule
            forward = _engine._REPLAY.get(rule)
            if forward is None:
                raise ValueError(f"op {node.op or rule.__name__!r} cannot be replayed "
                                 f"(its value is not recomputable from its inputs); rebuild the graph instead")
            gathers = _engine._REPLAY_GATHERS.get(rule)
            for g in gathers(node) if gathers is not None else ():
                if id(g) not in gathered:  # refreshed once per forward, before its first reader
                    gathered.add(id(g))
                    steps.append((_engine._Gather.refresh, g))
            steps.append((forward, node))
        leaves, seen = [], set()
        for node in order:
            for p in node.parents:
                if p._a is None and id(p) not in seen:
                    seen.add(id(p))
                    leaves.append(p)
        self.output = output
        self.inputs = inputs
        self._order = order
        self._steps = steps
        self._leaves = leaves

    def __len__(self) -> int:
        """The number of recorded nodes (ops) recomputed by each ``forward()``."""
        return len(self._order)

    def __repr__(self) -> str:
        return f"Replay({len(self._order)} nodes, {len(self.inputs)} inputs, output={self.output.data!r})"

    def forward(self, values: Sequence[Number] | None = None) -> float:
        """Feed ``values`` to the inputs (if given), recompute every node, return the output's value."""
        if values is not None:
            if len(values) != len(self.inputs):
                raise ValueError(f"Replay.forward got {len(values)} values for {len(self.inputs)} inputs")
            for p, v in zip(self.inputs, values):
                p.data = v if type(v) is float else _checked_float(v, "Replay input")
        anomaly = _engine._anomaly
        if anomaly is None:
            for run, target in self._steps:  # node forwards, and refreshes of shared values
                run(target)
        else:  # inside detect_anomaly(): check each node's new value
            for run, target in self._steps:
                run(target)
                if type(target) is Scalar:
                    anomaly.check_forward(target)
        return self.output.data

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """``output.backward(grad, create_graph)`` with the cached order: leaf gradients accumulate."""
        grad = _checked_float(grad, "backward grad")
        held = []
        for leaf in self._leaves:  # as Scalar.backward: add this pass's sum to the old value once, at the end
            if leaf.grad:
                held.append((leaf, leaf.grad))
                leaf.grad = 0.0
        for node in self._order:
            node.grad = 0.0
        _run_backward(self.output, self._order, grad, held, create_graph)
