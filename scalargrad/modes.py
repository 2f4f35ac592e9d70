"""The modes, one set per thread as in torch: recording a graph or not (``no_grad``), checking each op
for nan and inf (``detect_anomaly``), and the derivative rule running on Scalars (``create_graph``).

``this_thread`` holds the current thread's modes. Reading a thread-local value costs more than the rest
of an op's bookkeeping, so the engine first tests ``open_blocks``, which is empty while no mode block is
open in any thread: then every thread has the defaults.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .anomaly import AnomalyChecker
from .op import Op

__all__ = ["anomaly_checker", "detect_anomaly", "enable_grad", "is_grad_enabled", "mode_block", "no_grad",
           "open_blocks", "this_thread"]


class _ThreadModes(threading.local):
    grad_enabled = True
    anomaly: AnomalyChecker | None = None  # the checker of the innermost detect_anomaly(), if any
    recording_rule: Op | None = None  # the op whose rule runs on Scalars (create_graph), if any


this_thread = _ThreadModes()
# One entry per mode block open in any thread. A list rather than a count: the engine imports this
# object and tests it on every op, and an imported int would be a copy that never changes.
open_blocks: list = []
_open_blocks_lock = threading.Lock()


@contextmanager
def mode_block(name: str, value: Any) -> Iterator[None]:
    """Inside the block, this thread's mode ``name`` is ``value``."""
    with _open_blocks_lock:
        open_blocks.append(name)
    previous = getattr(this_thread, name)
    setattr(this_thread, name, value)
    try:
        yield
    finally:
        setattr(this_thread, name, previous)
        with _open_blocks_lock:
            open_blocks.pop()


def is_grad_enabled() -> bool:
    """Whether new ops record their inputs for ``backward()`` (in this thread)."""
    return this_thread.grad_enabled


def no_grad():
    """Context manager in which ops record no graph (for evaluation); it affects only this thread.

    >>> from scalargrad import Scalar
    >>> x = Scalar(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.is_leaf
    True
    """
    return mode_block("grad_enabled", False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad()``."""
    return mode_block("grad_enabled", True)


def anomaly_checker() -> AnomalyChecker | None:
    """The checker of this thread's ``detect_anomaly()`` block, or None."""
    return this_thread.anomaly if open_blocks else None


def detect_anomaly():
    """Inside it (in this thread), the first op making a nan or inf from finite values raises
    ``AnomalyError`` naming the op, its inputs and the line that made it, forward or backward. It
    costs time: use it to debug.

    >>> from scalargrad import Scalar
    >>> x = Scalar(0.0)
    >>> with detect_anomaly():
    ...     y = x.log()
    Traceback (most recent call last):
    ...
    scalargrad.anomaly.AnomalyError: 'log' made -inf from finite inputs [0.0] (at <doctest ...>)
    """
    return mode_block("anomaly", AnomalyChecker())
