"""Nested lists (a layer's weights, an image, a state dict's values): the one walker of the package.

Values are nested ``list``/``tuple`` objects with non-list leaves. Every
function here walks with an explicit stack, so no depth of nesting reaches
Python's recursion limit, and a list that contains itself raises ValueError
instead of looping forever.

>>> leaves([[1, 2], [3, [4]]])
[1, 2, 3, 4]
>>> map_leaves(float, [[1, 2], (3,)])
[[1.0, 2.0], [3.0]]
>>> shape([[1, 2, 3], [4, 5, 6]])
(2, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["is_nested", "is_regular", "leaves", "map_leaves", "named_leaves", "shape"]

_LISTS = (list, tuple)


def is_nested(value: Any) -> bool:
    """True for a list or a tuple (the containers this module walks)."""
    return isinstance(value, _LISTS)


def _self_containing() -> ValueError:
    return ValueError("a list contains itself")


def named_leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` in row-major order; the path joins indices with dots onto ``prefix``.

    >>> list(named_leaves([[7], [8]], "w"))
    [('w.0.0', 7), ('w.1.0', 8)]
    """
    stack = [(prefix, value, ())]
    while stack:
        path, v, open_lists = stack.pop()
        if not isinstance(v, _LISTS):
            yield path, v
            continue
        if id(v) in open_lists:
            raise _self_containing()
        inner = (*open_lists, id(v))
        stack.extend((f"{path}.{i}" if path else str(i), item, inner) for i, item in reversed(list(enumerate(v))))


def leaves(value: Any) -> list:
    """All leaves of ``value`` in row-major order (a leaf on its own gives a list of one)."""
    if not isinstance(value, _LISTS):
        return [value]
    if not any(isinstance(v, _LISTS) for v in value):  # the common flat case, at C speed
        return list(value)
    return [leaf for _, leaf in named_leaves(value)]


def map_leaves(fn: Callable[[Any], Any], value: Any) -> Any:
    """``value`` with ``fn`` applied to every leaf; lists and tuples both come back as lists."""
    if not isinstance(value, _LISTS):
        return fn(value)
    root: list = []
    stack = [(value, root, ())]
    while stack:
        source, target, open_lists = stack.pop()
        if id(source) in open_lists:
            raise _self_containing()
        inner = (*open_lists, id(source))
        for item in source:
            if isinstance(item, _LISTS):
                child: list = []
                target.append(child)
                stack.append((item, child, inner))
            else:
                target.append(fn(item))
    return root


def shape(value: Any) -> tuple[int, ...]:
    """The outer shape, read along first elements: ``()`` for a leaf, ``(0,)`` for ``[]``."""
    dims, seen = [], set()
    while isinstance(value, _LISTS) and id(value) not in seen:
        seen.add(id(value))
        dims.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(dims)


def is_regular(value: Any, dims: tuple[int, ...]) -> bool:
    """True when every list at every level has the length ``dims`` gives (not only the first)."""
    stack = [(value, 0, ())]
    while stack:
        v, depth, open_lists = stack.pop()
        if depth == len(dims):
            if isinstance(v, _LISTS):
                return False
            continue
        if not isinstance(v, _LISTS) or len(v) != dims[depth] or id(v) in open_lists:
            return False
        inner = (*open_lists, id(v))
        stack.extend((item, depth + 1, inner) for item in v)
    return True
