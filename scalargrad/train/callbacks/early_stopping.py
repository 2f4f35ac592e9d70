"""``EarlyStopping``: stop training when a monitored value stops improving."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._util.checks import nonnegative_int
from .monitor import MonitorCallback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    ``monitor`` is any key of the epoch record (``'val_loss'``,
    ``'val_accuracy'``, ``'train_loss'``, ...); an unknown key raises
    ValueError at the first epoch end, listing the keys there are. ``mode``
    'min' or 'max' ('auto': from the metric's ``higher_is_better``, else by
    name). An improvement must beat the best by more than ``min_delta``.
    With ``restore_best=True`` the model gets the best epoch's weights back
    when training ends (not when it is interrupted, so a resume continues
    from where it stopped).

    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> from scalargrad.train import Trainer
    >>> model = Linear(1, 1)
    >>> stop = EarlyStopping(monitor='train_loss', patience=1, min_delta=10.0)  # no epoch gains 10
    >>> history = Trainer(x=[[0.0], [1.0]], y=[0.0, 2.0], model=model, loss=MSELoss(),
    ...                   optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=10,
    ...                   progress=False, callbacks=[stop]).run()
    >>> len(history), stop.stopped_epoch
    (2, 2)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "auto",
                 min_delta: float = 0.0, restore_best: bool = False) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = nonnegative_int(patience, "patience")
        self.restore_best = bool(restore_best)
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        """Check the monitored key is logged, and start counting afresh."""
        self.check_monitor_is_logged(trainer)
        self.reset_best(trainer)
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Note an improvement, or count one more epoch without and stop after ``patience`` of them."""
        value = self.current_value(logs)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, trainer: Trainer) -> None:
        """Put the best epoch's weights back (``restore_best``) unless the run was interrupted."""
        history = trainer.history
        if self.restore_best and self.best_weights is not None and not (history and history.interrupted):
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """The counters (and best weights) that a checkpoint keeps."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights,
                "mode": self.resolved_mode}

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        """``state_dict()`` output checked field by field (TypeError/ValueError naming the field),
        as the attributes ``load_state_dict`` sets; nothing is changed."""
        out = self.check_monitor_state(state, ("wait", "stopped_epoch", "best_weights"))
        name = "the EarlyStopping state"
        stopped, weights = state["stopped_epoch"], state["best_weights"]
        if weights is not None and not isinstance(weights, dict):
            raise TypeError(f"{name}'s 'best_weights' must be a model state dict or None, "
                            f"got {type(weights).__name__}")
        out.update(wait=nonnegative_int(state["wait"], f"{name}'s 'wait'"),
                   stopped_epoch=None if stopped is None else nonnegative_int(stopped,
                                                                              f"{name}'s 'stopped_epoch'"),
                   best_weights=weights)
        return out

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, mode={self.mode!r}, "
                f"min_delta={self.min_delta}, restore_best={self.restore_best})")
