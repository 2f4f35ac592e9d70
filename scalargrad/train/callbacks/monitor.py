"""``MonitorCallback``: the shared base of callbacks that watch one logged value for improvements."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..._util.checks import dict_with_keys, is_number, nonnegative, nonnegative_int, number, one_of
from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["MonitorCallback", "number_keys", "planned_log_keys"]


def number_keys(logs: dict[str, Any]) -> list[str]:
    """The keys of ``logs`` whose values are numbers (the ones worth monitoring)."""
    return [k for k, v in logs.items() if is_number(v)]


def planned_log_keys(trainer: Any) -> list[str] | None:
    """The keys ``trainer`` will log at each epoch's end, known before training (``Trainer.log_keys``),
    or None when it cannot tell (an evaluator that does not name its results, or another trainer)."""
    log_keys = getattr(trainer, "log_keys", None)
    return log_keys() if callable(log_keys) else None


class MonitorCallback(Callback):
    """Tracks the best value of one key of the epoch logs (``monitor``), as EarlyStopping and
    ModelCheckpoint need.

    ``mode`` is 'min', 'max' or 'auto' (decided at the start of training by
    ``trainer.metric_mode``); a value improves on the best when it beats it
    by more than ``min_delta``.

    >>> watch = MonitorCallback('val_loss', mode='min', min_delta=0.1)
    >>> watch.improved(watch.current_value({'val_loss': 0.5}))
    True
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a key of the epoch logs (a str), got {monitor!r}")
        self.monitor = monitor
        self.mode = one_of(mode, "mode", ("min", "max", "auto"))
        self.min_delta = nonnegative(min_delta, "min_delta")
        self._mode = "min" if mode == "auto" else mode  # 'auto' resolved; 'min' until training starts
        self.best = math.inf if self._mode == "min" else -math.inf
        self.best_epoch: int | None = None

    @property
    def resolved_mode(self) -> str:
        """'min' or 'max': the mode in use ('auto' decided at the start of training)."""
        return self._mode

    def check_monitor_is_logged(self, trainer: Trainer) -> None:
        """ValueError if ``trainer`` will not log ``monitor``: called as training begins, before any batch."""
        keys = planned_log_keys(trainer)
        if keys is not None and self.monitor not in keys:
            raise self._missing_monitor(keys)

    def reset_best(self, trainer: Trainer) -> None:
        """Decide an 'auto' mode for this run and forget the best value so far."""
        self._mode = trainer.metric_mode(self.monitor) if self.mode == "auto" else self.mode
        self.best = math.inf if self._mode == "min" else -math.inf
        self.best_epoch = None

    def current_value(self, logs: dict[str, Any]) -> float:
        """The monitored value in this epoch's logs; a clear error when it is missing or not a number."""
        if self.monitor not in logs:
            raise self._missing_monitor(number_keys(logs))
        value = logs[self.monitor]
        if not is_number(value):
            raise TypeError(f"{type(self).__name__}: monitor {self.monitor!r} is a {type(value).__name__}, "
                            f"not a number; monitor one of: {', '.join(number_keys(logs))}")
        return float(value)

    def _missing_monitor(self, keys: list[str]) -> ValueError:
        return ValueError(f"{type(self).__name__}: monitor {self.monitor!r} is not in the epoch logs; "
                          f"available keys: {', '.join(keys)}")

    def improved(self, value: float) -> bool:
        """True when ``value`` beats the best so far by more than ``min_delta``."""
        if self._mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def check_monitor_state(self, state: Any, fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """``best``, ``best_epoch`` and ``mode`` of a saved state, checked (the state must also hold
        ``fields``); TypeError/ValueError naming the field, nothing changed."""
        name = f"the {type(self).__name__} state"
        dict_with_keys(state, ("best", "best_epoch", "mode", *fields), name)
        best = number(state["best"], f"{name}'s 'best'")  # inf until an epoch improves on it
        epoch = state["best_epoch"]
        return {"best": best,
                "best_epoch": None if epoch is None else nonnegative_int(epoch, f"{name}'s 'best_epoch'"),
                "_mode": one_of(state["mode"], f"{name}'s 'mode'", ("min", "max"))}

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        """The attributes ``state`` restores, checked in full (subclasses add their own fields)."""
        return self.check_monitor_state(state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output (checked in full first, so a bad state changes nothing)."""
        self.__dict__.update(self.check_state_dict(state))
