"""``dropout``: torch's ``F.dropout`` on a Scalar, nested lists or a numpy array (``nn.Dropout`` calls it).

The draws come from Python's ``random`` module, one per element in row-major
order, so ``random.seed`` makes them repeatable, and a batch draws what its
samples draw one after another.
"""

from __future__ import annotations

import random
from typing import Any

from ._util.checks import boolean, number
from .extend import Scalar, building_replay
from .nested_ops import Nested, broadcast_apply

__all__ = ["dropout"]


def dropout(x: Nested, p: float = 0.5, training: bool = True) -> Any:
    """Zero each element of ``x`` with probability ``p`` and scale the others by ``1 / (1 - p)``, as
    ``torch.nn.functional.dropout(input, p=0.5, training=True)``.

    ``x`` is a Scalar, a number, or regular nested lists of them (a numpy
    array too); the result is nested as ``x``, each element a Scalar: a kept
    one is ``v * (1 / (1 - p))`` (gradient ``1 / (1 - p)``), a dropped one
    ``v * 0.0`` (gradient 0). When not ``training``, or with ``p == 0``, it
    is the identity and returns ``x`` itself; with ``p == 1`` every element
    is zero and nothing is drawn. ``p`` outside [0, 1] is a ValueError, a
    ``p`` or a ``training`` of the wrong type a TypeError. While a Replay
    builds its graph, dropout in training mode raises ValueError: the replay
    would keep the first mask.

    >>> import random
    >>> from scalargrad import Scalar
    >>> random.seed(0)
    >>> [v.data for v in dropout([Scalar(1.0), Scalar(2.0), Scalar(3.0), Scalar(4.0)], p=0.5)]
    [2.0, 4.0, 0.0, 0.0]
    >>> dropout([1.0, 2.0], p=0.5, training=False)
    [1.0, 2.0]
    """
    p = number(p, "dropout probability p")
    if not 0.0 <= p <= 1.0:  # nan too
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not boolean(training, "dropout: training") or p == 0.0:
        return x
    if building_replay():
        raise ValueError("Dropout draws a new mask every step, but a Replay would keep the first one; "
                         "call model.eval() before building the Replay, or rebuild the graph each step")
    if p == 1.0:  # as torch: every element times 0, no draws
        return broadcast_apply("dropout", _times(0.0), (x,))
    scale, rand = 1.0 / (1.0 - p), random.random
    keep, drop = _times(scale), _times(0.0)
    return broadcast_apply("dropout", lambda v: drop(v) if rand() < p else keep(v), (x,))


def _times(factor: float):
    """``v * factor`` as a Scalar: a node for a Scalar ``v``, a constant for a number."""
    def times(v: Any) -> Scalar:
        return v * factor if isinstance(v, Scalar) else Scalar(v * factor)
    return times
