"""``CallbackList``: hands each of the Trainer's events to every callback, in order."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

from .callback import Callback

if TYPE_CHECKING:
    from ..trainer import Trainer

__all__ = ["CallbackList"]


def _hooks(callbacks: Sequence[Any], name: str) -> list[Callable[..., Any]]:
    """The callbacks' ``name`` hooks that do something: the base class's no-ops are left out, so an
    event nobody listens to costs nothing (the batch loop skips building its logs)."""
    base = getattr(Callback, name)
    found = (getattr(cb, name, None) for cb in callbacks)
    return [fn for fn in found if callable(fn) and getattr(fn, "__func__", None) is not base]


class CallbackList:
    """The callbacks of one run, in order: the Trainer's own (History, progress) first, then the user's.

    Callbacks need not subclass ``Callback``: any object with some of the
    hooks works. The hooks are looked up once, when the list is made.

    >>> seen = []
    >>> class Note(Callback):
    ...     def on_epoch_begin(self, trainer, epoch): seen.append(epoch)
    >>> CallbackList([Note(), Callback()]).on_epoch_begin(None, 3); seen
    [3]
    """

    def __init__(self, callbacks: Sequence[Any]) -> None:
        self.callbacks = list(callbacks)
        self._train_begin = _hooks(self.callbacks, "on_train_begin")
        self._epoch_begin = _hooks(self.callbacks, "on_epoch_begin")
        self._batch_end = _hooks(self.callbacks, "on_batch_end")
        self._epoch_end = _hooks(self.callbacks, "on_epoch_end")
        self._train_end = _hooks(self.callbacks, "on_train_end")
        self.wants_batch_end = bool(self._batch_end)

    def on_train_begin(self, trainer: Trainer) -> None:
        """Training starts (a new run or a resumed one)."""
        for fn in self._train_begin:
            fn(trainer)

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Epoch ``epoch`` (from 1) starts or resumes."""
        for fn in self._epoch_begin:
            fn(trainer, epoch)

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        """The optimizer has stepped on batch ``batch`` (from 0)."""
        for fn in self._batch_end:
            fn(trainer, batch, logs)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Epoch ``epoch`` is done and ``logs`` holds its record."""
        for fn in self._epoch_end:
            fn(trainer, epoch, logs)

    def on_train_end(self, trainer: Trainer) -> None:
        """Training stops: finished, stopped early or interrupted."""
        for fn in self._train_end:
            fn(trainer)

    def state_dicts(self) -> list[list[Any]]:
        """``[[class name, state], ...]`` of every callback with a ``state_dict()``, for a checkpoint."""
        return [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks
                if callable(getattr(cb, "state_dict", None))]

    def match_states(self, states: list[list[Any]]) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """Pair each callback that has ``load_state_dict()`` with the next saved state of its class,
        in order: ``([(callback, state), ...], [callbacks with no saved state])``. Nothing is loaded."""
        remaining = list(states)
        pairs, unmatched = [], []
        for cb in self.callbacks:
            if not callable(getattr(cb, "load_state_dict", None)):
                continue
            for i, (name, cb_state) in enumerate(remaining):
                if name == type(cb).__name__:
                    pairs.append((cb, cb_state))
                    del remaining[i]
                    break
            else:
                unmatched.append(cb)
        return pairs, unmatched

    def load_state_dicts(self, states: list[list[Any]], stacklevel: int = 2) -> None:
        """Give each callback with ``load_state_dict()`` the next saved state of its class, in order.

        A callback without one is warned about and starts afresh; ``stacklevel``
        is the warning's, counted from the caller.
        """
        pairs, unmatched = self.match_states(states)
        for cb, cb_state in pairs:
            cb.load_state_dict(cb_state)
        for cb in unmatched:
            warnings.warn(f"the checkpoint holds no state for the {type(cb).__name__} callback; "
                          "it starts afresh", stacklevel=stacklevel + 1)

    def __len__(self) -> int:
        return len(self.callbacks)

    def __repr__(self) -> str:
        return f"CallbackList([{', '.join(type(cb).__name__ for cb in self.callbacks)}])"
