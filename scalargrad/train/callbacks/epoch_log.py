"""``EpochLog``: one line per epoch (and a notice when training is interrupted), to stdout or a logger."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

from ..progress import summary
from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["EpochLog"]


class EpochLog(Callback):
    """Writes ``Epoch 3/10 - train_loss: 0.25 - lr: 0.1 - 1.52s`` after every epoch.

    With a ``log`` function (a logger's ``info``, say) the lines and notices
    go there; otherwise the lines go to stdout when ``display`` is 'plain'
    and notices to stderr unless it is 'silent'.
    """

    def __init__(self, num_epochs: int, display: str, log: Callable[[str], Any] | None = None,
                 batches_per_epoch: int | None = None) -> None:
        self.num_epochs = num_epochs
        self.display = display
        self.log = log
        self.batches_per_epoch = batches_per_epoch

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Write the epoch's line."""
        line = f"Epoch {epoch}/{self.num_epochs} - {summary(logs, '{}: {}', ' - ')} - {logs['seconds']:.2f}s"
        if self.log is not None:
            self.log(line)
        elif self.display == "plain":
            print(line, flush=True)

    def on_train_end(self, trainer: Trainer) -> None:
        """Say where an interrupted run stopped and where its checkpoint is."""
        if trainer.history.interrupted:
            self.notice(self.interrupt_message(trainer))

    def interrupt_message(self, trainer: Trainer) -> str:
        """'Training interrupted in epoch 2 after batch 3 of 6; checkpoint written to ...'."""
        position, total = trainer.position, self.batches_per_epoch
        where = f"after epoch {position.epochs_done}" if not position.mid_epoch else \
            f"in epoch {position.epoch} after batch {position.batches_done}" + (
                f" of {total}" if total else "")
        saved = f"; checkpoint written to {trainer.checkpoint} (continue with Trainer.resume)" \
            if trainer.checkpoint is not None else ""
        return f"Training interrupted {where}{saved}"

    def notice(self, message: str) -> None:
        """A message for the user: to the log function, else stderr (unless silent)."""
        if self.log is not None:
            self.log(message)
        elif self.display != "silent":
            print(message, file=sys.stderr, flush=True)
