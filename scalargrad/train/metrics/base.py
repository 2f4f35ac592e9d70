"""The ``Metric`` base class, and how the Evaluator names and calls any metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Metric", "is_streaming", "metric_name"]


class Metric:
    """Base class of the metrics: accumulate over batches with ``update``, read with ``compute``.

    Subclasses set ``name`` (the key in results; the Trainer's history uses
    ``'val_' + name``), ``higher_is_better`` (so EarlyStopping and
    ModelCheckpoint know which way is better) and ``scalar`` (False for
    results that are not one number, such as a confusion matrix).

    ``metric(outputs, targets)`` is ``reset()``, ``update(outputs, targets)``, ``compute()``.

    >>> class MaxError(Metric):
    ...     name, higher_is_better = 'max_error', False
    ...     def reset(self): self.worst = 0.0
    ...     def update(self, outputs, targets):
    ...         for o, t in zip(outputs, targets):
    ...             self.worst = max(self.worst, abs(float(o) - t))
    ...     def compute(self): return self.worst
    >>> MaxError()([1.0, 2.5], [1.0, 2.0])
    0.5
    """

    name: str = "metric"
    higher_is_better: bool = True
    scalar: bool = True

    def reset(self) -> None:
        """Forget everything seen so far."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reset()")

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add a batch: one model output and one target per sample."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update()")

    def compute(self) -> Any:
        """The metric over every sample given to ``update`` since the last ``reset``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute()")

    def __call__(self, outputs: Sequence[Any], targets: Sequence[Any]) -> Any:
        self.reset()
        self.update(outputs, targets)
        return self.compute()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def metric_name(metric: Any) -> str:
    """The key a metric's value is reported under: its ``name``, else the original API's ``NAME``, else
    the function or class name (lower case)."""
    name = getattr(metric, "name", None)
    if isinstance(name, str) and name:
        return name
    legacy = getattr(metric, "NAME", None)  # the original scalargrad's API
    if isinstance(legacy, str) and legacy:
        return legacy.lower()
    return getattr(metric, "__name__", type(metric).__name__).lower()


def is_streaming(metric: Any) -> bool:
    """True for a metric fed batch by batch (``reset``/``update``/``compute``), False for a plain callable."""
    return all(callable(getattr(metric, m, None)) for m in ("reset", "update", "compute"))
