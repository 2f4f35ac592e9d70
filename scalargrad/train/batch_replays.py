"""``Trainer(replay=True)`` and ``Trainer(compile=True)``: one recorded graph per batch size and run."""

from __future__ import annotations

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
        the batch's gradient); the loss. A data-parallel worker runs this on its shard. Once the graph of
        the batch size is built, ``values`` (``batch_values(xb, yb)``) and ``size`` may stand for the
        samples."""
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
        if self.compiled:
            zero_grad()
            return graph(values)
        graph.forward(values)
        zero_grad()
        graph.backward()
        return graph.output.data

    def _build(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay | CompiledGraph:
        """Record the step's graph over leaf Scalars shaped like this batch and holding its values."""
        model, loss_fn = self.model, self.loss_fn
        try:
            x_in, y_in = map_leaves(Scalar, list(xb)), map_leaves(Scalar, list(yb))
            replay = Replay(lambda: loss_fn([model(x) for x in x_in], y_in), batch_values(x_in, y_in))
            return CompiledGraph(replay) if self.compiled else replay
        except (TypeError, ValueError) as e:
            action = "compile" if self.compiled else "replay"
            raise type(e)(f"Trainer({self.option}) cannot {action} this model and loss: {e}") from e
