"""``ModelCheckpoint``: save the model after epochs (the best ones, or every one)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..._util.files import check_writable_folder
from ...nn import save
from .monitor import MonitorCallback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(MonitorCallback):
    """Save the model's state (``scalargrad.nn.save``: JSON, atomic) after epochs.

    With ``save_best_only=True`` (default) it saves only when ``monitor``
    improves; otherwise after every epoch. ``path`` may hold fields filled
    from the epoch's record, e.g. ``'model-{epoch:03d}-{val_loss:.3f}.json'``.
    Load it back with ``model.load(path)``.

    >>> ckpt = ModelCheckpoint('best.json', monitor='val_accuracy')
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = True,
                 mode: str = "auto", min_delta: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.path = os.fspath(path)
        if "{" not in os.path.dirname(self.path):  # a folder named from the logs is only known later
            check_writable_folder(self.path, "ModelCheckpoint path")
        self.save_best_only = bool(save_best_only)
        self.last_saved: str | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        """Forget the best value of any earlier run."""
        self.reset_best(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Save the model if this epoch improved on the best (or always, without ``save_best_only``)."""
        if self.save_best_only:
            value = self.current_value(logs)
            if not self.improved(value):
                return
            self.best, self.best_epoch = value, epoch
        path = self.path.format(**{**logs, "epoch": epoch}) if "{" in self.path else self.path
        save(trainer.model, path)
        self.last_saved = path

    def state_dict(self) -> dict[str, Any]:
        """The best value so far (kept in the Trainer's checkpoint)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "last_saved": self.last_saved,
                "mode": self.resolved_mode}

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        """``state_dict()`` output checked field by field (TypeError/ValueError naming the field),
        as the attributes ``load_state_dict`` sets; nothing is changed."""
        out = self.check_monitor_state(state, ("last_saved",))
        last = state["last_saved"]
        if last is not None and not isinstance(last, str):
            raise TypeError(f"the ModelCheckpoint state's 'last_saved' must be a path or None, "
                            f"got {type(last).__name__}")
        out["last_saved"] = last
        return out

    def __repr__(self) -> str:
        return (f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, mode={self.mode!r})")
