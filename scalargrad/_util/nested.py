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

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = [
    "element_name", "irregular_at", "is_nested", "is_regular", "leaves", "map_leaves", "named_leaves", "nest",
    "ragged_description", "regular_leaves", "shape", "to_lists",
]

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
    # The common flat case, at C speed: a row of one type (floats) checks one type, not each number.
    if not any(issubclass(kind, _LISTS) for kind in set(map(type, value))):
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
    return irregular_at(value, dims) is None


def irregular_at(value: Any, dims: tuple[int, ...]) -> tuple[int, ...] | None:
    """The index path of the first item, in row-major order, that breaks ``dims``, or None if none does.

    The item found is a list of another length, a leaf where a list belongs,
    or a list where a leaf belongs; ``()`` means ``value`` itself.

    >>> irregular_at([[1, 2], [3]], (2, 2))
    (1,)
    >>> irregular_at([[1, 2], [3, [4]]], (2, 2))
    (1, 1)
    >>> print(irregular_at([[1, 2]], (1, 2)))
    None
    """
    if not dims:
        return () if isinstance(value, _LISTS) else None
    innermost = len(dims) - 1
    # (path, a value that must be a list of dims[len(path)] items); paths for lists only
    stack = [((), value)]
    while stack:
        path, v = stack.pop()
        depth = len(path)
        if not isinstance(v, _LISTS) or len(v) != dims[depth]:
            return path
        if depth == innermost:
            for i, item in enumerate(v):
                if isinstance(item, _LISTS):
                    return (*path, i)
        else:
            stack.extend(((*path, i), v[i]) for i in reversed(range(len(v))))  # reversed: first pops first
    return None


def nest(items: Sequence, dims: tuple[int, ...]) -> Any:
    """``items``, read in row-major order, as nested lists of shape ``dims`` (``()``: the one item itself).

    The inverse of ``leaves`` for a regular value: ``nest(leaves(v), shape(v))`` rebuilds ``v`` as lists.

    >>> nest([1, 2, 3, 4, 5, 6], (2, 3))
    [[1, 2, 3], [4, 5, 6]]
    >>> nest([], (2, 0))
    [[], []]
    """
    if math.prod(dims) != len(items):
        raise ValueError(f"cannot arrange {len(items)} items in shape {tuple(dims)}")
    if not dims:
        return items[0]
    level = list(items)
    for depth in range(len(dims) - 1, 0, -1):  # group the innermost level first
        n, groups = dims[depth], math.prod(dims[:depth])
        level = [level[i * n:(i + 1) * n] for i in range(groups)]
    return level


def ragged_description(value: Any, name: str) -> str | None:
    """None when ``value`` is regular; else what breaks it, for an error message about ``name``.

    >>> ragged_description([[1, 2], [3]], "x")
    'its first elements give shape (2, 2), but x[1] is a list of 1'
    """
    dims = shape(value)
    path = irregular_at(value, dims)
    if path is None:
        return None
    item = value
    for i in path:
        item = item[i]
    kind = type(item).__name__
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    found = f"a list of {len(item)}" if isinstance(item, _LISTS) else f"{article} {kind}"
    return f"its first elements give shape {dims}, but {name}{''.join(f'[{i}]' for i in path)} is {found}"


def regular_leaves(value: Any, name: str, what: str) -> tuple[tuple[int, ...], list]:
    """``value``'s shape and its leaves in row-major order; ValueError "``what`` is ragged: ..." if it is
    ragged.

    >>> regular_leaves([[1, 2], [3, 4]], "x", "input x")
    ((2, 2), [1, 2, 3, 4])
    """
    ragged = ragged_description(value, name)
    if ragged is not None:
        raise ValueError(f"{what} is ragged: {ragged}")
    return shape(value), leaves(value)


def element_name(name: str, position: int, dims: Sequence[int]) -> str:
    """How to write the element at ``position`` (row-major) of a ``dims``-shaped ``name``.

    >>> element_name("x", 5, (2, 3))
    'x[1][2]'
    """
    path = []
    for n in reversed(dims):
        position, i = divmod(position, n)
        path.append(f"[{i}]")
    return name + "".join(reversed(path))


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
    return _plain(value)
