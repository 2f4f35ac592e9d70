"""``TerminateOnNaN``: end training at the first batch whose loss is nan or inf."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """End the run right after the first batch whose loss is nan or inf, as Keras's ``TerminateOnNaN`` does.

    It calls ``trainer.terminate(reason)``: no further batch trains, a
    message says where the run ended (on stderr, or to the Trainer's logger),
    and ``trainer.stop_training`` is True. Unlike Keras, the unfinished epoch
    is not recorded and no checkpoint is written for it, so the Trainer's
    checkpoint keeps the weights of the last whole epoch, from which a run
    with a smaller learning rate can continue. ``stopped_epoch`` (from 1)
    and ``stopped_batch`` (from 0) say where it stopped (None while it has not).

    >>> import warnings
    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> from scalargrad.train import Trainer
    >>> model, stop = Linear(1, 1), TerminateOnNaN()
    >>> trainer = Trainer(x=[[1.0], [float('nan')], [2.0]], y=[1.0, 2.0, 3.0], model=model, loss=MSELoss(),
    ...                   optimizer=SGD(model.parameters(), lr=0.1), batch_size=1, num_epochs=3,
    ...                   shuffle=False, progress=False, callbacks=[stop])
    >>> with warnings.catch_warnings():   # the Trainer warns of the nan loss too
    ...     warnings.simplefilter('ignore')
    ...     history = trainer.run()
    >>> stop.stopped_epoch, stop.stopped_batch, len(history['train_loss'])   # no epoch was completed
    (1, 1, 0)
    """

    def __init__(self) -> None:
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        """Forget where an earlier run stopped."""
        self.stopped_epoch = self.stopped_batch = None

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        """Terminate the run if this batch's loss is nan or inf."""
        loss = logs["loss"]
        if not math.isfinite(loss):
            self.stopped_epoch, self.stopped_batch = trainer.epoch, batch
            trainer.terminate(f"Training terminated in epoch {trainer.epoch} at batch {batch}: "
                              f"the loss is {loss} (TerminateOnNaN)")

    def __repr__(self) -> str:
        return "TerminateOnNaN()"
