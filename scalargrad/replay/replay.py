"""``Replay``: a graph built once over placeholder inputs, recomputed in place at every step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Callable

from ..scalar import (
    Number,
    Scalar,
    anomaly_checker,
    as_float,
    backward_lock,
    backward_order,
    enable_grad,
    recompute_function,
    run_backward,
    scalars_in_constant,
    shared_inputs,
)
from .build import SharedValues, end_build, start_build

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
        start_build(inputs)
        try:
            with enable_grad():
                output = build()
        finally:
            end_build()
        if not isinstance(output, Scalar):
            raise TypeError(f"the build function must return a Scalar, got {type(output).__name__}")
        if output.is_leaf:
            raise ValueError("the build function returned a leaf (no ops recorded): there is nothing to replay")
        earlier_grads = []
        order = backward_order(output, earlier_grads)
        for leaf, old in earlier_grads:  # the sort zeroed them; this is not a backward pass
            leaf.grad = old
        unread = {id(p): i for i, p in enumerate(inputs)}  # fed inputs no node has read yet
        steps, refreshed = [], set()
        for node in order:
            recompute = recompute_function(node)
            if recompute is None:
                raise ValueError(f"op {node.op!r} cannot be replayed (its value is not recomputable from its "
                                 f"inputs); rebuild the graph instead")
            for shared in shared_inputs(node):
                if id(shared) not in refreshed:  # refreshed once per forward, before its first reader
                    refreshed.add(id(shared))
                    steps.append((SharedValues.refresh, shared))
                    for p in shared.sources:
                        unread.pop(id(p), None)
            for p in scalars_in_constant(node):
                unread.pop(id(p), None)
            steps.append((recompute, node))
        leaves, seen = [], set()
        for node in order:
            for p in node.parents:
                if p.is_leaf and id(p) not in seen:
                    seen.add(id(p))
                    leaves.append(p)
                    unread.pop(id(p), None)
        if unread:
            i = min(unread.values())
            raise ValueError(f"Replay input {i} (value {inputs[i].data!r}) never reaches the graph: the build read "
                             f"it as a number (float() or .data), so every step would reuse that value; use it as "
                             f"a Scalar in the build function")
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
                p.data = v if type(v) is float else as_float(v, "Replay input")
        anomaly = anomaly_checker()
        if anomaly is None:
            for run, target in self._steps:  # node recomputations, and refreshes of shared values
                run(target)
        else:  # inside detect_anomaly(): check each node's new value
            for run, target in self._steps:
                run(target)
                if type(target) is Scalar:
                    anomaly.check_forward(target)
        return self.output.data

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """``output.backward(grad, create_graph)`` with the cached order: leaf gradients accumulate."""
        grad = as_float(grad, "backward grad")
        with backward_lock:
            earlier_grads = []
            for leaf in self._leaves:  # as Scalar.backward: add this pass's sum to the old value once, at the end
                if leaf.grad != 0.0:
                    earlier_grads.append((leaf, leaf.grad))
                    leaf.grad = 0.0
            for node in self._order:
                node.grad = 0.0
            run_backward(self.output, self._order, grad, earlier_grads, create_graph)
