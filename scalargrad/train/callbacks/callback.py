"""``Callback``: the base class of everything that reacts to the Trainer's events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: the trainer imports the callbacks, not the other way round
    from ..trainer import Trainer

__all__ = ["HOOK_NAMES", "Callback"]

HOOK_NAMES = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class Callback:
    """Base class for callbacks: override the hooks you need (all are no-ops here).

    Epochs are numbered from 1 (as in the log lines and the History);
    ``batch`` is the 0-based index of the batch within its epoch. A callback
    may set ``trainer.stop_training = True`` (stop after this epoch) or call
    ``trainer.request_interrupt()`` (stop after this batch, as Ctrl-C does).
    A callback with ``state_dict()``/``load_state_dict()`` has its state saved
    in the Trainer's checkpoint and restored by ``Trainer.resume``.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         print(epoch, round(logs['train_loss'], 3))
    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> from scalargrad.train import Trainer
    >>> model = Linear(1, 1)
    >>> model.initialize([([0.5], 0.0)])
    >>> _ = Trainer(x=[[0.0], [1.0]], y=[0.0, 2.0], model=model, loss=MSELoss(),
    ...             optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=3,
    ...             progress=False, callbacks=[PrintLoss()]).run()
    1 1.125
    2 0.731
    3 0.508
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once when ``run()`` (or ``resume()``) starts."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Called before the first batch of each epoch (also of a resumed, half-done one)."""

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        """Called after each optimizer step; ``logs`` holds ``batch``, ``size`` and ``loss``."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Called after each epoch with its record (plus non-scalar metrics such as a confusion matrix)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when training stops (finished, stopped early or interrupted)."""
