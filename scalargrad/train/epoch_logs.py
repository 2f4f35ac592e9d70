"""What the record of an epoch holds, which the Trainer hands to ``on_epoch_end`` and the History keeps.

``{'epoch': 3, 'train_loss': 0.25, 'val_accuracy': 0.9, 'lr': 0.1, 'seconds': 1.5}``: the epoch
(from 1), the mean batch loss, each of the evaluator's results as ``val_<name>``, the learning rate
(and ``lr_<i>`` per parameter group when the groups' rates differ) and the seconds the epoch took,
evaluation included. Results that are not numbers (a confusion matrix) come last.
"""

from __future__ import annotations

import math
import time
from typing import Any

from .._util.checks import is_number

__all__ = ["epoch_logs", "learning_rates", "log_keys"]


def learning_rates(optimizer: Any) -> list[float]:
    """The learning rate of every parameter group (empty for an optimizer without groups).

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn import SGD
    >>> learning_rates(SGD([{'params': [Scalar(1.0)]}, {'params': [Scalar(2.0)], 'lr': 0.5}], lr=0.1))
    [0.1, 0.5]
    """
    groups = getattr(optimizer, "param_groups", None)
    try:
        return [float(g["lr"]) for g in groups] if groups else []
    except (KeyError, TypeError, ValueError):
        return []


def _lr_logs(lrs: list[float]) -> dict[str, float]:
    """``lr``, and ``lr_<i>`` for every group when the groups' rates differ."""
    if not lrs:
        return {}
    logs = {"lr": lrs[0]}
    if any(lr != lrs[0] for lr in lrs):
        logs.update({f"lr_{i}": lr for i, lr in enumerate(lrs)})
    return logs


def epoch_logs(epoch: int, loss_sum: float, loss_count: int, evaluator: Any, lrs: list[float],
               started: float) -> dict[str, Any]:
    """The record of epoch ``epoch``: ``train_loss`` is the mean of its ``loss_count`` batch losses, the
    evaluator (if any) is run now, ``lrs`` are the rates the epoch trained with, and ``seconds`` runs from
    ``started`` (a ``time.perf_counter()`` reading) to the end of the evaluation."""
    logs: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / loss_count if loss_count else math.nan}
    other: dict[str, Any] = {}
    if evaluator is not None:
        for name, value in evaluator.results().items():
            if is_number(value):
                logs["val_" + name] = float(value)
            else:
                other["val_" + name] = value
    logs.update(_lr_logs(lrs))
    logs["seconds"] = time.perf_counter() - started
    return {**logs, **other}


def log_keys(evaluator: Any, optimizer: Any) -> list[str] | None:
    """The keys of the next epoch's record, known before it runs (None when the evaluator does not
    name its results).

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn import SGD
    >>> log_keys(None, SGD([Scalar(1.0)], lr=0.1))
    ['epoch', 'train_loss', 'lr', 'seconds']
    """
    names = [] if evaluator is None else getattr(evaluator, "names", None)
    if names is None:
        return None
    return ["epoch", "train_loss", *("val_" + name for name in names), *_lr_logs(learning_rates(optimizer)),
            "seconds"]
