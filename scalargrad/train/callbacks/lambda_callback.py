"""``LambdaCallback``: a callback made of plain functions."""

from __future__ import annotations

from typing import Any, Callable

from .callback import HOOK_NAMES, Callback

__all__ = ["LambdaCallback"]


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``.

    >>> from scalargrad.nn import Linear, MSELoss, SGD
    >>> from scalargrad.train import Trainer
    >>> model = Linear(1, 1)
    >>> cb = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print("epoch", epoch))
    >>> _ = Trainer(x=[[0.0], [1.0]], y=[0.0, 2.0], model=model, loss=MSELoss(),
    ...             optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=2,
    ...             progress=False, callbacks=[cb]).run()
    epoch 1
    epoch 2
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in HOOK_NAMES:
                raise ValueError(f"unknown hook {name!r}; the hooks are {list(HOOK_NAMES)}")
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
            setattr(self, name, fn)
