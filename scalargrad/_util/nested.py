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

numpy arrays come in through ``to_lists``, by duck typing (anything with
``tolist()``), so the package never imports numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["is_nested", "is_regular", "leaves", "map_leaves", "named_leaves", "shape", "to_lists"]

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
    if not isinstance(value, _LISTS):
        yield prefix, value
        return
    open_ids = {id(value)}  # the lists on the path from the root: meeting one again means a cycle
    stack = [(value, prefix, iter(enumerate(value)))]  # as in leaves(): depth first, no copied paths
    while stack:
        source, path, items = stack[-1]
        for i, v in items:
            name = f"{path}.{i}" if path else str(i)
            if isinstance(v, _LISTS):
                if id(v) in open_ids:
                    raise _self_containing()
                open_ids.add(id(v))
                stack.append((v, name, iter(enumerate(v))))
                break
            yield name, v
        else:
            stack.pop()
            open_ids.discard(id(source))


def leaves(value: Any) -> list:
    """All leaves of ``value`` in row-major order (a leaf on its own gives a list of one)."""
    if not isinstance(value, _LISTS):
        return [value]
    if not any(isinstance(v, _LISTS) for v in value):  # the common flat case, at C speed
        return list(value)
    out: list = []
    open_ids = {id(value)}  # the lists on the path from the root: meeting one again means a cycle
    stack = [(value, iter(value))]  # a stack of iterators: depth first, row-major, no path strings
    while stack:
        source, items = stack[-1]
        for v in items:
            if isinstance(v, _LISTS):
                if id(v) in open_ids:
                    raise _self_containing()
                open_ids.add(id(v))
                stack.append((v, iter(v)))
                break
            out.append(v)
        else:
            stack.pop()
            open_ids.discard(id(source))
    return out


def map_leaves(fn: Callable[[Any], Any], value: Any) -> Any:
    """``value`` with ``fn`` applied to every leaf in row-major order; lists and tuples come back as lists.

    The order matters when ``fn`` has side effects (a random draw per element).
    """
    if not isinstance(value, _LISTS):
        return fn(value)
    if not any(isinstance(v, _LISTS) for v in value):
        return [fn(v) for v in value]
    root: list = []
    open_ids = {id(value)}
    stack = [(value, iter(value), root)]  # as in leaves(), each frame with the list it fills
    while stack:
        source, items, target = stack[-1]
        for v in items:
            if isinstance(v, _LISTS):
                if id(v) in open_ids:
                    raise _self_containing()
                child: list = []
                target.append(child)
                open_ids.add(id(v))
                stack.append((v, iter(v), child))
                break
            target.append(fn(v))
        else:
            stack.pop()
            open_ids.discard(id(source))
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
    """True when every list at every level has the length ``dims`` gives (not only the first).

    The walk goes no deeper than ``dims``, so even a list that contains itself ends it.
    """
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth == len(dims):
            if isinstance(v, _LISTS):
                return False
            continue
        if not isinstance(v, _LISTS) or len(v) != dims[depth]:
            return False
        stack.extend((item, depth + 1) for item in v)
    return True


def _plain(value: Any) -> Any:
    """A leaf as a plain Python value: a numpy number, or an array (as nested lists), through ``tolist()``."""
    return value.tolist() if hasattr(value, "tolist") else value


def _holds_arrays(value: list | tuple) -> bool:
    """Whether anything with ``tolist()`` sits anywhere in ``value`` (a list or a tuple).

    Each list is read by the types it holds, a set made at C speed, so a list
    of plain numbers or of Scalars costs a fraction of a microsecond per element.
    A list met twice (shared, or containing itself) is read once.
    """
    stack, seen = [value], {id(value)}
    while stack:
        items = stack.pop()
        for kind in set(map(type, items)):
            if hasattr(kind, "tolist"):
                return True
            if issubclass(kind, _LISTS):
                for v in items:
                    if isinstance(v, _LISTS) and id(v) not in seen:
                        seen.add(id(v))
                        stack.append(v)
    return False


def to_lists(value: Any, deep: bool = True) -> Any:
    """``value`` with every numpy array and numpy number in it (anything with ``tolist()``) made plain Python:
    arrays become nested lists, numpy numbers ints and floats, found at any depth of lists and tuples.

    A value with nothing to convert comes back as it is, the same object (no copy).
    The values are those ``tolist()`` gives, so a model fed the result computes
    bit for bit what it computes from the equivalent lists. With ``deep=False``
    only ``value`` itself is converted and a list or a tuple passes untouched:
    for entry points called once per sample, whose code reads a numpy number
    inside a list as the number it is anyway.

    >>> to_lists([1.0, (2, 3)])
    [1.0, (2, 3)]
    """
    if isinstance(value, _LISTS):
        return map_leaves(_plain, value) if deep and _holds_arrays(value) else value
    return value.tolist() if hasattr(value, "tolist") else value
