"""The public extension API: what a new op, layer or tool needs from the engine.

(Filled in as the engine is restructured.)
"""

from __future__ import annotations

from . import scalar as _engine

__all__ = ["building_replay"]


def building_replay() -> bool:
    """True while a ``Replay`` builds its graph: code whose graph would depend on values must then
    make a fixed structure (or refuse)."""
    return _engine._replay_build is not None
