"""``Trainer(replay=True)`` and ``Trainer(compile=True)``: one recorded graph per batch size and run."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, Callable

from .._util.nested import leaves, map_leaves
from ..compile import CompiledGraph
from ..replay import Replay
from ..scalar import Scalar

__all__ = ["BatchReplays", "batch_values"]


def batch_values(xb: Sequence[Any], yb: Sequence[Any]) -> list:
    """Every number of the batch, inputs then targets, in row-major order."""
    # Sample by sample: a flat sample takes leaves()'s fast path, where the whole batch would not.
    values: list = []
    for sample in xb:
        values += leaves(sample)
    for target in yb:
        values += leaves(target)
    return values


class BatchReplays:
    """The graphs of ``Trainer(replay=True)``: one Replay per batch size, fed with each batch.

    With ``compiled=True`` (``Trainer(compile=True)``) each Replay is also
    compiled to one Python function (``scalargrad.compile.CompiledGraph``)
    that runs the step's forward and backward passes at once.
    """

    def __init__(self, model: Callable[[Any], Any], loss_fn: Callable[[list, list], Any],
                 compiled: bool = False) -> None:
        self.model, self.loss_fn, self.compiled = model, loss_fn, compiled
        # how error messages name the Trainer's option
        self.option = "compile=True" if compiled else "replay=True"
        self._by_size: dict[int, Any] = {}  # batch size -> its Replay, or its CompiledGraph
        self._orders: dict[int, tuple] = {}  # id of a CompiledGraph -> its parameters' order (_order)

    def step(self, xb: Sequence[Any], yb: Sequence[Any], optimizer: Any) -> float:
        """One training step on the batch (forward, zeroed gradients, backward, optimizer step); the loss."""
        loss = self.gradients(xb, yb, optimizer.zero_grad)
        optimizer.step()
        return loss

    def has_graph(self, size: int) -> bool:
        """Whether the graph of a batch of ``size`` samples is built (then ``gradients`` needs only the
        batch's ``values``, not its samples)."""
        return size in self._by_size

    def gradients(self, xb: Sequence[Any] | None, yb: Sequence[Any] | None, zero_grad: Callable[[], Any],
                  values: list | None = None, size: int | None = None) -> float:
        """The batch's forward pass, ``zero_grad()``, then its backward pass (the parameters' ``.grad`` hold
        the batch's gradient); the loss. Once the graph of the batch size is built, ``values``
        (``batch_values(xb, yb)``) and ``size`` may stand for the samples. A data-parallel worker runs this
        on its shard (``gradient_values`` when compiled)."""
        graph, values = self._graph(xb, yb, values, size)
        if self.compiled:
            zero_grad()
            return graph(values)
        graph.forward(values)
        zero_grad()
        graph.backward()
        return graph.output.data

    def gradient_values(self, weights: Sequence[float], xb: Sequence[Any] | None, yb: Sequence[Any] | None,
                        values: list | None = None, size: int | None = None) -> tuple[float, list[float]]:
        """``gradients`` on plain floats (``compiled=True``): the loss, and the gradient of each of the
        model's ``parameters()`` when they hold ``weights`` (in the same order). No parameter's ``.data`` or
        ``.grad`` is read or written: a data-parallel worker runs its shard at the weights it was sent."""
        if not self.compiled:
            raise ValueError("gradient_values needs compiled steps (BatchReplays(..., compiled=True))")
        graph, values = self._graph(xb, yb, values, size)
        order = self._orders.get(id(graph)) or self._order(graph)
        if order == "same":  # the graph was compiled to list its parameters as the model does
            return graph.gradient_values(weights, values)
        to_graph, to_model, others = order
        in_graph_order = list(map([*weights, *(p.data for p in others)].__getitem__, to_graph))
        loss, grads = graph.gradient_values(in_graph_order, values)
        return loss, list(map((*grads, 0.0).__getitem__, to_model))  # 0.0: a parameter the loss does not read

    def _order(self, graph: CompiledGraph) -> str | tuple[list[int], list[int], list[Scalar]]:
        """"same" when the graph's parameters are the model's, in the same order; else where each of the
        graph's is among the model's (its leaves that are not the model's parameters after them), and
        where each of the model's is among the graph's (past the end: none)."""
        model_params = self.model.parameters()
        if len(model_params) == len(graph.parameters) and all(map(operator.is_, model_params,
                                                                   graph.parameters)):
            self._orders[id(graph)] = "same"
            return "same"
        where = {id(p): i for i, p in enumerate(model_params)}
        others = [p for p in graph.parameters if id(p) not in where]
        where.update({id(p): len(model_params) + i for i, p in enumerate(others)})
        in_graph = {id(p): i for i, p in enumerate(graph.parameters)}
        order = ([where[id(p)] for p in graph.parameters],
                 [in_graph.get(id(p), len(graph.parameters)) for p in model_params], others)
        self._orders[id(graph)] = order
        return order

    def _graph(self, xb: Sequence[Any] | None, yb: Sequence[Any] | None, values: list | None,
               size: int | None) -> tuple[Replay | CompiledGraph, list]:
        """The batch size's graph (built on its first batch) and the batch's values, checked against it."""
        values = batch_values(xb, yb) if values is None else values
        size = len(xb) if size is None else size
        graph = self._by_size.get(size)
        if graph is None:
            graph = self._by_size[size] = self._build(xb, yb)
        inputs = graph.replay.inputs if self.compiled else graph.inputs
        if len(values) != len(inputs):
            raise ValueError(f"Trainer({self.option}): a batch of {size} samples holds {len(values)} "
                             f"numbers, but the first one held {len(inputs)}; "
                             f"samples must all have one shape")
        return graph, values

    def _build(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay | CompiledGraph:
        """Record the step's graph over leaf Scalars shaped like this batch and holding its values."""
        model, loss_fn = self.model, self.loss_fn
        try:
            x_in, y_in = map_leaves(Scalar, list(xb)), map_leaves(Scalar, list(yb))
            replay = Replay(lambda: loss_fn([model(x) for x in x_in], y_in), batch_values(x_in, y_in))
            if not self.compiled:
                return replay
            # listed as the model lists them, a worker's weights and gradients need no reordering
            parameters = getattr(model, "parameters", None)
            return CompiledGraph(replay, parameter_order=parameters() if callable(parameters) else ())
        except (TypeError, ValueError) as e:
            action = "compile" if self.compiled else "replay"
            raise type(e)(f"Trainer({self.option}) cannot {action} this model and loss: {e}") from e
