"""viz's walks over a Scalar's graph, both iterative (no recursion limit).

The engine's walk, ``backward_order`` (every op after its inputs, leaves
left out, the whole graph), gives the explorable page its steps. viz walks
on its own only where it needs what that walk does not give; each function
says why in its first lines. ``nearest`` serves the picture, the note's
count of values not drawn and the page's size check alike.

>>> from scalargrad import Scalar
>>> x0, x1 = Scalar(0.1, name='x0'), Scalar(0.2, name='x1')
>>> w0, w1, b = Scalar(0.3, name='w0'), Scalar(0.4, name='w1'), Scalar(0.5, name='b')
>>> f = x0 * w0 + x1 * w1 + b
>>> [leaf.name for leaf in leaves_in_reading_order(f)]
['x0', 'w0', 'x1', 'w1', 'b']
>>> [node.op or node.name for node in nearest(f, 4)]
['+', '+', 'b', '*']
"""

from __future__ import annotations

from collections import deque

from ..scalar import Scalar

__all__ = ["leaves_in_reading_order", "nearest"]


def nearest(root: Scalar, max_nodes: int) -> list[Scalar]:
    """Breadth-first from ``root``: the ``max_nodes`` values nearest it (``root`` included), nearest first.
    Not the engine's sort, which walks all of a graph depth-first (millions of values to draw 100).

    Fewer than ``max_nodes`` means that is all of the graph, so ``len(nearest(root, limit))`` also
    counts a graph's values up to ``limit``.
    """
    kept, order = {id(root)}, [root]
    queue = deque([root])
    while queue and len(order) < max_nodes:
        for p in queue.popleft().parents:
            if id(p) not in kept:
                if len(order) >= max_nodes:
                    break
                kept.add(id(p))
                order.append(p)
                queue.append(p)
    return order


def leaves_in_reading_order(root: Scalar) -> list[Scalar]:
    """The leaves below ``root``, each once, in the order the formula that made ``root`` names them
    when read left to right: depth-first, inputs left to right, a leaf where it first appears.
    Not the engine's sort: it pops the last input first, so it meets ``x0*w0 + x1*w1 + b``'s leaves as
    ``b, x1, w1, x0, w0``.

    Scalars keep no record of when they were made; a leaf is always made before its first use, and
    in the usual script (``x0, x1, w0, w1, b = ...; f = x0*w0 + x1*w1 + b``) this is the order the
    formula uses them: ``x0, w0, x1, w1, b``. ``root`` itself, if a leaf, is the only one.
    """
    seen, leaves, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # marked when taken, not when pushed: where a value first appears counts
            continue
        seen.add(id(node))
        parents = node.parents
        if not parents:
            leaves.append(node)
        stack.extend(p for p in reversed(parents) if id(p) not in seen)
    return leaves
