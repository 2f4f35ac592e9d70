"""The warning the Trainer gives at a run's first nan or inf batch loss, and where to look next.

Once the loss is nan, so are the gradients, and the optimizer step makes the
weights nan too: every later loss is nan and the epoch lines only say
``train_loss: nan``. The warning names the first batch that went wrong and
the tool that finds the op responsible, ``scalargrad.detect_anomaly()``.
"""

from __future__ import annotations

import warnings

__all__ = ["warn_non_finite_loss"]


def warn_non_finite_loss(loss: float, epoch: int, batch: int, stacklevel: int = 2) -> None:
    """Warn (RuntimeWarning) that batch ``batch`` (from 0) of epoch ``epoch`` (from 1) had the loss ``loss``.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter('always')
    ...     warn_non_finite_loss(float('nan'), epoch=2, batch=0)
    >>> str(caught[0].message).split(';')[0]
    'the training loss is nan in epoch 2 at batch 0 (batches count from 0)'
    """
    warnings.warn(f"the training loss is {loss} in epoch {epoch} at batch {batch} (batches count from 0); "
                  "its gradients are not finite either, so the weights it stepped are likely nan or inf now "
                  "and later losses too (only this first one is reported). To find the op that made it, run "
                  "that batch's forward and backward under scalargrad.detect_anomaly(), which raises at the "
                  "first op that makes a nan or inf; TerminateOnNaN() in callbacks= stops a run at such "
                  "a batch", RuntimeWarning, stacklevel=stacklevel + 1)
