"""``ModelCheckpoint``: save the model after epochs (the best ones, or every one)."""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..._util.files import check_writable_folder
from ...nn import save
from .monitor import MonitorCallback, planned_log_keys

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["ModelCheckpoint", "check_path_template"]


def check_path_template(path: str, keys: Sequence[str]) -> None:
    """ValueError unless every field of the file-name template ``path`` is one of ``keys`` (the keys of the
    epoch logs) and the template can be filled with the epoch number and float values.

    >>> check_path_template('model-{epoch:03d}-{train_loss:.3f}.json', ['epoch', 'train_loss', 'seconds'])
    >>> check_path_template('model-{val_loss:.3f}.json', ['epoch', 'train_loss'])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: ModelCheckpoint path ... uses the field {val_loss}, which this run does not log; ...
    """
    def refuse(problem: str) -> ValueError:
        return ValueError(f"ModelCheckpoint path {path!r} {problem}; the keys it logs are: {', '.join(keys)}")

    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(path) if field is not None]
    except ValueError as e:
        raise refuse(f"is not a valid file-name template ({e})") from None
    for field in fields:
        key = field.split(".")[0].split("[")[0]
        if key == "" or key.isdigit():
            raise refuse(f"has the positional field {{{field}}}: name a key of the epoch logs, "
                         "e.g. {epoch}")
        if key not in keys:
            raise refuse(f"uses the field {{{key}}}, which this run does not log")
    try:
        path.format(**{**dict.fromkeys(keys, 0.0), "epoch": 1})
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
        raise refuse(f"cannot be filled with the epoch's numbers ({type(e).__name__}: {e})") from None


class ModelCheckpoint(MonitorCallback):
    """Save the model's state (``scalargrad.nn.save``: JSON, atomic) after epochs.

    With ``save_best_only=True`` (default) it saves only when ``monitor``
    improves; otherwise after every epoch. ``path`` may hold fields filled
    from the epoch's record, e.g. ``'model-{epoch:03d}-{val_loss:.3f}.json'``;
    they are checked against the keys the run logs when training starts, so
    a field the run does not log fails before the first epoch trains.
    Load it back with ``model.load(path)``.

    >>> import os, tempfile
    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> from scalargrad.train import Trainer
    >>> folder = tempfile.mkdtemp()
    >>> ckpt = ModelCheckpoint(os.path.join(folder, 'model-{epoch}.json'), save_best_only=False)
    >>> model = Linear(1, 1)
    >>> _ = Trainer(x=[[0.0], [1.0]], y=[0.0, 2.0], model=model, loss=MSELoss(),
    ...             optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=2,
    ...             progress=False, callbacks=[ckpt]).run()
    >>> sorted(os.listdir(folder))
    ['model-1.json', 'model-2.json']
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
        """Check the path's fields against the keys the run logs; forget the best value of any earlier run."""
        keys = planned_log_keys(trainer)
        if "{" in self.path and keys is not None:
            check_path_template(self.path, keys)
        if self.save_best_only:
            self.check_monitor_is_logged(trainer)
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
