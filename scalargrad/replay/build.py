"""What a ``Replay`` collects while its graph is built, and the flag code checks for it.

Code whose graph would depend on the data (a ReLU left out when it is off, a
Dropout mask, a max-pool choice) asks ``current_build()`` and, while a build
is in progress, makes a fixed structure or refuses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["ReplayBuild", "SharedValues", "current_build", "end_build", "start_build"]


class SharedValues:
    """The values of some Scalars, read once per replayed step and shared by several nodes.

    ``values`` holds the data of ``sources`` followed by fixed ``extra``
    numbers. A layer's weights are read once per step for all the samples of
    a batch, and a sample's input to a layer once for all the layer's
    neurons, instead of once per neuron per sample.
    """

    __slots__ = ("sources", "values")

    def __init__(self, sources: tuple, extra: Sequence[float] = ()) -> None:
        self.sources = sources
        self.values = [p.data for p in sources] + list(extra)

    def refresh(self) -> None:
        """Read the sources' current data (Replay runs this before the first node that reads it)."""
        self.values[:len(self.sources)] = [p.data for p in self.sources]


class ReplayBuild:
    """The graph being built for a Replay: its fed inputs, and one ``SharedValues`` per tuple of sources.

    ``input_ids`` are the ids of the fed inputs. ``shared(sources)`` gives
    the one ``SharedValues`` for that tuple of Scalars (a neuron's weights,
    used by every sample of the batch).
    """

    __slots__ = ("_shared", "input_ids")

    def __init__(self, inputs: Sequence[Any]) -> None:
        self.input_ids = {id(p) for p in inputs}
        self._shared: dict[tuple, SharedValues] = {}  # they keep their sources alive, so ids stay unique

    def shared(self, sources: tuple) -> SharedValues:
        """The ``SharedValues`` of ``sources`` for this build (made on first use)."""
        key = tuple(map(id, sources))
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = SharedValues(sources)
        return found


class _ThreadBuild(threading.local):
    current: ReplayBuild | None = None  # the Replay this thread is building, if any


_this_thread = _ThreadBuild()


def current_build() -> ReplayBuild | None:
    """This thread's build in progress, or None outside a Replay's build function."""
    return _this_thread.current


def start_build(inputs: Sequence[Any]) -> ReplayBuild:
    """Mark a Replay build as in progress in this thread (one at a time)."""
    if _this_thread.current is not None:
        raise RuntimeError("a Replay cannot be built inside another Replay's build function")
    _this_thread.current = ReplayBuild(inputs)
    return _this_thread.current


def end_build() -> None:
    """Mark the build as finished (also after a failed build)."""
    _this_thread.current = None
