"""Gradient hooks (``Scalar.register_hook``), kept in a table outside the nodes.

A node holds no hook list: no slot, and no cost for the many nodes that have
no hook. The table is keyed by node id; an entry goes away with its node
through a weakref callback.

A hook whose closure refers to its own node keeps that node, and the graph
below it, alive until the hook is removed (PyTorch behaves the same way).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

__all__ = ["HookTable", "RemovableHandle"]


class RemovableHandle:
    """What ``Scalar.register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    __slots__ = ("_fn", "_key", "_node_ref", "_table")

    def __init__(self, table: HookTable, key: int, node_ref: weakref.ref, fn: Callable) -> None:
        self._table, self._key, self._node_ref, self._fn = table, key, node_ref, fn

    def remove(self) -> None:
        """Take the hook off (a second call, or one after the Scalar is gone, does nothing)."""
        self._table.remove(self._key, self._node_ref, self._fn)


class HookTable:
    """The hooks of every node that has any, by ``id(node)``."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple] = {}  # id -> (weakref to the node, [hooks])

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __contains__(self, key: int) -> bool:
        return key in self._entries

    def add(self, node: Any, fn: Callable) -> RemovableHandle:
        """Register ``fn`` on ``node``; returns the handle that removes it."""
        key = id(node)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = (weakref.ref(node, lambda _, k=key: self._entries.pop(k, None)), [])
        entry[1].append(fn)
        return RemovableHandle(self, key, entry[0], fn)

    def remove(self, key: int, node_ref: weakref.ref, fn: Callable) -> None:
        """Take ``fn`` off the node with id ``key`` if that is still the node ``node_ref`` refers to.

        A collected node's id can be reused by a new Scalar: the entry then
        holds another weakref, and a stale handle leaves the new hooks alone.
        """
        entry = self._entries.get(key)
        if entry is not None and entry[0] is node_ref and fn in entry[1]:
            entry[1].remove(fn)
            if not entry[1]:
                del self._entries[key]

    def call(self, node: Any, grad: Any, accept: Callable[[Any, Any], Any]) -> Any:
        """Run the node's hooks in order; ``accept(result, grad)`` turns each result into the gradient."""
        for fn in list(self._entries[id(node)][1]):
            grad = accept(fn(grad), grad)
        return grad
