"""A loss function used as a metric (e.g. the validation loss)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from ..values import as_float, paired_batch
from .base import Metric

__all__ = ["LossMetric"]


class LossMetric(Metric):
    """A loss function as a metric: its mean over all samples (e.g. the validation loss).

    With ``Evaluator(..., metric=[LossMetric(CrossEntropyLoss()), AccuracyMetric()])``
    the Trainer records ``val_loss`` and ``val_accuracy``.

    >>> from scalargrad.nn import MSELoss
    >>> LossMetric(MSELoss())([[1.0], [2.0]], [0.0, 4.0])
    2.5
    """

    higher_is_better = False

    def __init__(self, loss_fn: Callable[[list, list], Any], name: str = "loss") -> None:
        if not callable(loss_fn):
            raise TypeError(f"LossMetric needs a callable loss, got {type(loss_fn).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        self.loss_fn = loss_fn
        self.name = name
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen."""
        self._sum = 0.0
        self._count = 0

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add the loss of one batch, weighted by its number of samples."""
        outputs, targets = paired_batch(outputs, targets, "LossMetric")
        if not len(outputs):
            return
        value = self.loss_fn(list(outputs), list(targets))
        reduction = getattr(self.loss_fn, "reduction", "mean")
        if isinstance(value, (list, tuple)):  # reduction='none'
            self._sum += sum(as_float(v, "LossMetric") for v in value)
        elif reduction == "sum":
            self._sum += as_float(value, "LossMetric")
        else:
            self._sum += as_float(value, "LossMetric") * len(outputs)
        self._count += len(outputs)

    def compute(self) -> float:
        """The loss averaged over every sample seen."""
        if not self._count:
            raise ValueError("LossMetric: no samples yet; call update() first")
        return self._sum / self._count

    def __repr__(self) -> str:
        return f"LossMetric({self.loss_fn!r}, name={self.name!r})"
