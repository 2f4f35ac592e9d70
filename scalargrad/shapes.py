"""Shapes of nested lists, as torch has them: broadcast_to, sum_to, squeeze, unsqueeze, cat, stack.

Alongside ``reshape``, ``flatten``, ``transpose``, ``permute`` and
``tensordot`` (in ``scalargrad.nested_ops``), and read the same way: a
regular nested list of Scalars and numbers (or a numpy array, or a single
Scalar or number, 0-d) is a tensor. Every op but ``sum_to`` only moves
elements: the result holds the same Scalars in new lists and adds no node.
``sum_to`` sums over the dimensions ``broadcast_to`` repeats, one ``sum``
node per output element: it is the adjoint of ``broadcast_to``.

>>> from scalargrad import Scalar
>>> a, b = Scalar(1.0), Scalar(2.0)
>>> x = broadcast_to([a, b], (3, 2))
>>> x[2][1] is b, [v.data for v in sum_to(x, (2,))]
(True, [3.0, 6.0])
>>> stack([[1, 2], [3, 4]], dim=1), cat([[[1, 2]], [[3, 4]]], dim=1), unsqueeze([1, 2], 0)
([[1, 3], [2, 4]], [[1, 2, 3, 4]], [[1, 2]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ._util.nested import leaves, nest
from .nested_ops import Nested, broadcast_elements, dim_index, dim_list, read_tensor, shape_argument
from .reductions import sum as sum_over

__all__ = ["broadcast_to", "cat", "squeeze", "stack", "sum_to", "unsqueeze"]



def broadcast_to(x: Nested, shape: int | Sequence[int]) -> Any:
    """``x`` repeated to ``shape`` as torch broadcasts (``torch.broadcast_to``): shapes are aligned on the
    right, a dimension of size 1 repeats, new dimensions go in front, and -1 keeps a dimension's size.
    No new node: the result holds ``x``'s elements, each as often as it repeats.

    >>> broadcast_to([[1], [2]], (-1, 3))
    [[1, 1, 1], [2, 2, 2]]
    """
    dims, elements = read_tensor(x, "broadcast_to", "x")
    wanted = shape_argument(shape, "broadcast_to")
    new = len(wanted) - len(dims)
    if new < 0:
        raise ValueError(f"broadcast_to: shape {wanted} has fewer dimensions than x (shape {dims})")
    out = []
    for i, n in enumerate(wanted):
        size = dims[i - new] if i >= new else None
        if n == -1 and size is not None:
            n = size
        if n < 0:
            where = "a new leading dimension" if size is None else "a dimension"
            raise ValueError(f"broadcast_to: size {n} at index {i} of shape {wanted} is not allowed for "
                             f"{where} (x has shape {dims})")
        if size is not None and size not in (1, n):
            raise ValueError(f"broadcast_to: x (shape {dims}) cannot be broadcast to shape {wanted}: its "
                             f"size {size} at dimension {i - new} must be {n} or 1")
        out.append(n)
    return nest(broadcast_elements(elements, dims, tuple(out)), tuple(out))


def sum_to(x: Nested, shape: int | Sequence[int]) -> Any:
    """``x`` summed down to ``shape`` (as torch's ``Tensor.sum_to_size``), the adjoint of ``broadcast_to``:
    the sum over every leading dimension ``shape`` lacks and every dimension where ``shape`` has 1 and ``x``
    more. ``shape`` must broadcast to ``x``'s shape. One ``sum`` node per output element; where ``shape`` is
    ``x``'s own, ``x``'s elements come back as they are (no node).

    >>> [[v.data for v in row] for row in sum_to([[1.0, 2.0], [3.0, 4.0]], (1, 2))]
    [[4.0, 6.0]]
    """
    dims, elements = read_tensor(x, "sum_to", "x")
    wanted = shape_argument(shape, "sum_to")
    new = len(dims) - len(wanted)
    if new < 0 or any(n not in (1, size) for n, size in zip(wanted, dims[new:])):
        raise ValueError(f"sum_to: shape {wanted} does not broadcast to x's shape {dims}, so x cannot be "
                         f"summed down to it")
    summed = [*range(new), *(new + i for i, n in enumerate(wanted) if n == 1 and dims[new + i] != 1)]
    if not summed:
        return nest(elements, dims)
    return nest(leaves(sum_over(nest(elements, dims), dim=tuple(summed), keepdim=True)), wanted)


def squeeze(x: Nested, dim: int | Sequence[int] | None = None) -> Any:
    """``x`` without its dimensions of size 1 (as ``torch.squeeze``): all of them, or those of ``dim`` (an
    int or a tuple) that have size 1; a named dimension of another size stays, as in torch. No new node.

    >>> squeeze([[[1], [2]]]), squeeze([[[1], [2]]], dim=(0, 1))
    ([1, 2], [[1], [2]])
    """
    dims, elements = read_tensor(x, "squeeze", "x")
    named = dim_list(dim, dims, "squeeze")
    return nest(elements, tuple(n for k, n in enumerate(dims) if not (k in named and n == 1)))


def unsqueeze(x: Nested, dim: int) -> Any:
    """``x`` with a new dimension of size 1 at ``dim`` (as ``torch.unsqueeze``; -1 is a new last
    dimension). No new node.

    >>> unsqueeze([1, 2], -1)
    [[1], [2]]
    """
    dims, elements = read_tensor(x, "unsqueeze", "x")
    d = dim_index(dim, len(dims) + 1, "unsqueeze", "dim", dims)
    return nest(elements, (*dims[:d], 1, *dims[d:]))


def _tensors(tensors: Any, op: str) -> list[tuple[tuple[int, ...], list]]:
    """The shape and elements of each of a non-empty list or tuple of tensors."""
    if not isinstance(tensors, (list, tuple)) and hasattr(tensors, "tolist"):  # a numpy array: its rows
        tensors = list(tensors)
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: tensors must be a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: tensors is empty; give at least one tensor (torch refuses none too)")
    return [read_tensor(t, op, f"tensors[{i}]") for i, t in enumerate(tensors)]


def cat(tensors: Sequence[Nested], dim: int = 0) -> Any:
    """The tensors joined along dimension ``dim`` (as ``torch.cat``): they have the same number of
    dimensions and the same sizes but at ``dim``. A 1-d empty list is left out, as torch does. No new node.

    >>> cat([[[1, 2]], [[3, 4], [5, 6]]])
    [[1, 2], [3, 4], [5, 6]]
    """
    read = _tensors(tensors, "cat")
    for i, (dims, _) in enumerate(read):
        if not dims:
            raise ValueError(f"cat: tensors[{i}] is 0-d (a single element) and cannot be concatenated; "
                             f"unsqueeze or stack it")
    joined = [(dims, elements) for dims, elements in read if dims != (0,)] or read[:1]
    first = joined[0][0]
    d = dim_index(dim, len(first), "cat", "dim", first)
    for i, (dims, _) in enumerate(read):
        if dims == (0,) and first != (0,):
            continue
        if len(dims) != len(first) or any(n != m for k, (n, m) in enumerate(zip(dims, first)) if k != d):
            raise ValueError(f"cat: tensors[{i}] has shape {dims}, but the shapes must match {first} except "
                             f"at dimension {d}")
    outer = math.prod(first[:d])
    slabs = [(elements, len(elements) // outer if outer else 0) for _, elements in joined]
    out = [e for i in range(outer) for elements, n in slabs for e in elements[i * n:(i + 1) * n]]
    return nest(out, (*first[:d], sum(dims[d] for dims, _ in joined), *first[d + 1:]))


def stack(tensors: Sequence[Nested], dim: int = 0) -> Any:
    """The tensors, all of one shape, stacked along a new dimension ``dim`` (as ``torch.stack``; from
    ``-ndim - 1`` to ``ndim``). No new node.

    >>> stack([[1, 2], [3, 4]], dim=-1)
    [[1, 3], [2, 4]]
    """
    read = _tensors(tensors, "stack")
    first = read[0][0]
    for i, (dims, _) in enumerate(read):
        if dims != first:
            raise ValueError(f"stack: every tensor must have the same shape, but tensors[0] has shape "
                             f"{first} and tensors[{i}] has shape {dims}")
    d = dim_index(dim, len(first) + 1, "stack", "dim", first)
    outer, inner = math.prod(first[:d]), math.prod(first[d:])
    out = [e for i in range(outer) for _, elements in read for e in elements[i * inner:(i + 1) * inner]]
    return nest(out, (*first[:d], len(read), *first[d:]))
