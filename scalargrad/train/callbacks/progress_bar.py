"""``ProgressBar``: a tqdm bar per epoch (a widget in a notebook) with the running loss, ending on the
epoch's summary."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..progress import summary, tqdm_class
from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["ProgressBar"]


class ProgressBar(Callback):
    """Draws one tqdm bar per epoch on stdout (tqdm must be installed).

    ``batches_per_epoch`` is the bar's total (None when the loader has no
    length). The postfix shows the epoch's mean loss so far, and at the end
    the epoch's numbers; the bar shows the time itself. With ``notebook=True``
    the bars are tqdm's Jupyter widgets (ipywidgets must be installed).
    """

    def __init__(self, num_epochs: int, batches_per_epoch: int | None, notebook: bool = False) -> None:
        self.num_epochs = num_epochs
        self.batches_per_epoch = batches_per_epoch
        self.notebook = notebook
        self.bar: Any = None
        self.loss_sum = 0.0
        self.loss_count = 0

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Open the epoch's bar, continuing from the position of a resumed epoch."""
        position = trainer.position
        self.loss_sum, self.loss_count = position.loss_sum, position.loss_count
        self.bar = tqdm_class(self.notebook)(total=self.batches_per_epoch, initial=position.batches_done,
                                desc=f"Epoch {epoch}/{self.num_epochs}", unit="batch", file=sys.stdout,
                                leave=True, dynamic_ncols=True)

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        """Advance the bar and show the mean loss of the epoch so far."""
        self.loss_sum += logs["loss"]
        self.loss_count += 1
        self.bar.set_postfix_str(f"loss={self.loss_sum / self.loss_count:.4g}", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Leave the epoch's summary on the bar and close it."""
        self.bar.set_postfix_str(summary(logs, "{}={}", ", "), refresh=False)
        self.close()

    def on_train_end(self, trainer: Trainer) -> None:
        """Close an interrupted epoch's bar."""
        self.close()

    def close(self) -> None:
        """Close the open bar, if any (also when training fails with an exception)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
