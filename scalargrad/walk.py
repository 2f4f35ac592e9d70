"""Walking a graph from the outside: the one walk for code above the engine, and the leaves nodes read.

Code that needs a graph's nodes in an order of its own uses ``reading_order``;
the walks that must differ say why where they are written:

- ``scalar.backward_order``, the engine's sort for backward: it marks nodes in
  their gradient slots (hashing millions of nodes is slow on PyPy), leaves
  leaves out and zeroes every gradient it meets;
- viz's, in ``viz/walks.py``: ``nearest`` is breadth-first and stops after
  the nodes a picture shows (a graph may hold millions).

Both are iterative, as this one is: no graph is too deep to walk.

>>> from scalargrad import Scalar
>>> x0, w0, x1, w1 = (Scalar(v, name=n) for v, n in [(1.0, 'x0'), (2.0, 'w0'), (3.0, 'x1'), (4.0, 'w1')])
>>> f = x0 * w0 + x1 * w1
>>> [v.name or v.op for v in reading_order(f)]
['x0', 'w0', '*', 'x1', 'w1', '*', '+']
>>> [v.name for v in leaves_read_by([v for v in reading_order(f) if not v.is_leaf])]
['x0', 'w0', 'x1', 'w1']
"""

from __future__ import annotations

from collections.abc import Iterable

from .scalar import Scalar

__all__ = ["leaves_read_by", "put_first", "reading_order"]


def reading_order(root: Scalar) -> list[Scalar]:
    """Every value ``root`` was computed from, and ``root`` last: each once, each after its inputs,
    the inputs visited left to right (the order a formula is read in, so ``a * b + c`` gives ``a, b,
    a * b, c``, then the sum). Iterative depth-first search, through ``Scalar.parents``."""
    order: list[Scalar] = []
    done: set[int] = set()
    stack: list = [root]
    while stack:
        value = stack.pop()
        if value is None:  # the marker below a value's inputs: they are all in the order now
            value = stack.pop()
            done.add(id(value))
            order.append(value)
            continue
        if id(value) in done:  # (a value read twice is pushed twice; the first visit placed it)
            continue
        parents = value.parents
        if not parents:
            done.add(id(value))
            order.append(value)
            continue
        stack.append(value)
        stack.append(None)
        stack.extend([p for p in reversed(parents) if id(p) not in done])
    return order


def leaves_read_by(nodes: Iterable[Scalar], skip: Iterable[Scalar] = ()) -> list[Scalar]:
    """The leaves among the inputs of ``nodes``, each once, in the order the nodes read them, leaving out
    those in ``skip``. Not a walk: one pass over nodes already in order (a Replay's, a compiled
    function's), so the leaves come in the order the code that runs those nodes meets them."""
    seen = {id(v) for v in skip}
    leaves = []
    for node in nodes:
        for p in node.parents:
            if p.is_leaf and id(p) not in seen:
                seen.add(id(p))
                leaves.append(p)
    return leaves


def put_first(leaves: list[Scalar], first: Iterable[Scalar]) -> list[Scalar]:
    """``leaves`` with those that are also in ``first`` moved to the front, in ``first``'s order; the
    others after them as they were. A compiled graph lists its parameters so, in a model's
    ``parameters()`` order, and a data-parallel step passes weights and gradients with no reordering."""
    wanted = {id(p) for p in leaves}
    front = list({id(p): p for p in first if id(p) in wanted}.values())
    placed = {id(p) for p in front}
    return front + [p for p in leaves if id(p) not in placed]
