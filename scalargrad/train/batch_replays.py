"""``Trainer(replay=True)``: one recorded graph per batch size, replayed with each batch's values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from .._util.nested import leaves, map_leaves
from ..replay import Replay
from ..scalar import Scalar

__all__ = ["BatchReplays"]


def _batch_values(xb: Sequence[Any], yb: Sequence[Any]) -> list:
    """Every number of the batch, inputs then targets, in row-major order."""
    # Sample by sample: a flat sample takes leaves()'s fast path, where the whole batch would not.
    values: list = []
    for sample in xb:
        values += leaves(sample)
    for target in yb:
        values += leaves(target)
    return values


class BatchReplays:
    """The graphs of ``Trainer(replay=True)``: one Replay per batch size, fed with each batch."""

    def __init__(self, model: Callable[[Any], Any], loss_fn: Callable[[list, list], Any]) -> None:
        self.model, self.loss_fn = model, loss_fn
        self._by_size: dict[int, Replay] = {}

    def forward(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay:
        """The Replay for this batch's size, run forward on its values."""
        values = _batch_values(xb, yb)
        replay = self._by_size.get(len(xb))
        if replay is None:
            replay = self._by_size[len(xb)] = self._build(xb, yb)
        if len(values) != len(replay.inputs):
            raise ValueError(f"Trainer(replay=True): a batch of {len(xb)} samples holds {len(values)} numbers, "
                             f"but the first one held {len(replay.inputs)}; samples must all have one shape")
        replay.forward(values)
        return replay

    def _build(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay:
        """Record the step's graph over leaf Scalars shaped like this batch and holding its values."""
        model, loss_fn = self.model, self.loss_fn
        try:
            x_in, y_in = map_leaves(Scalar, list(xb)), map_leaves(Scalar, list(yb))
            return Replay(lambda: loss_fn([model(x) for x in x_in], y_in), _batch_values(x_in, y_in))
        except (TypeError, ValueError) as e:
            raise type(e)(f"Trainer(replay=True) cannot replay this model and loss: {e}") from e
