"""``HistoryCallback``: writes each epoch's record into the Trainer's ``History``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._util.checks import is_number
from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["HistoryCallback"]


class HistoryCallback(Callback):
    """Appends the number-valued entries of every epoch's logs to ``trainer.history``.

    The Trainer puts it first in its callbacks, so the others see the epoch
    already recorded. Results that are not one number (a confusion matrix)
    reach the callbacks' logs but stay out of the History.
    """

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Record the epoch."""
        trainer.history.append({k: v for k, v in logs.items() if is_number(v)})
