"""``LambdaCallback``: a callback made of plain functions."""

from __future__ import annotations

from typing import Any, Callable

from .callback import HOOK_NAMES, Callback

__all__ = ["LambdaCallback"]


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``.

    >>> cb = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print(epoch))
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in HOOK_NAMES:
                raise ValueError(f"unknown hook {name!r}; the hooks are {list(HOOK_NAMES)}")
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
            setattr(self, name, fn)
