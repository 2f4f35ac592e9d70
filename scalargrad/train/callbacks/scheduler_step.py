"""``SchedulerStep``: steps the Trainer's lr scheduler once per epoch."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..._util.checks import is_number
from ...nn import ReduceLROnPlateau
from .callback import Callback
from .monitor import number_keys

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["SchedulerStep"]


class SchedulerStep(Callback):
    """Steps ``trainer.scheduler`` at every epoch end, right after the epoch is recorded.

    ``ReduceLROnPlateau`` gets the value of ``trainer.scheduler_monitor``
    (default: ``val_loss`` if recorded, else the first validation metric,
    else ``train_loss``), chosen at the first epoch end of the run.
    """

    def __init__(self) -> None:
        self.plateau_key: str | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Step the scheduler (with the monitored value for ReduceLROnPlateau)."""
        scheduler = trainer.scheduler
        if scheduler is None:
            return
        if not isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step()
            return
        if self.plateau_key is None:
            self.plateau_key = self._choose_key(trainer, scheduler, logs)
        scheduler.step(logs[self.plateau_key])

    @staticmethod
    def _choose_key(trainer: Trainer, scheduler: ReduceLROnPlateau, logs: dict[str, Any]) -> str:
        key = trainer.scheduler_monitor
        if key is None:
            val = [k for k in logs if k.startswith("val_") and is_number(logs[k])]
            key = "val_loss" if "val_loss" in val else (val[0] if val else "train_loss")
        elif not is_number(logs.get(key)):
            raise ValueError(f"scheduler_monitor {key!r} is not in the epoch logs; "
                             f"available keys: {', '.join(number_keys(logs))}")
        wanted = trainer.metric_mode(key)
        if wanted != scheduler.mode:
            warnings.warn(f"ReduceLROnPlateau(mode={scheduler.mode!r}) watches {key!r}, for which "
                          f"{wanted!r} looks right", stacklevel=4)
        return key
