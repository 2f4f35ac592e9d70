"""Nested lists as tensors: reshape, flatten, transpose, permute, tensordot, and add, mul and map.

A "tensor" here is a regular nested list (every list at a level has the
same length) of Scalars and numbers, ``[[a, b, c], [d, e, f]]`` having
shape (2, 3); a single Scalar or number is a tensor of shape (). The ops
behave as their torch namesakes and are gathered in ``scalargrad.functional``.

- ``reshape``, ``flatten``, ``transpose`` and ``permute`` only move
  elements: the result holds the same Scalars in new lists and adds no node.
- ``tensordot`` makes one ``dot`` node per output element (n parents),
  as ``functional.matmul`` does, which it uses.
- ``add``, ``mul`` and ``map`` work element by element and broadcast as
  torch does: shapes are aligned on the right, and a dimension of size 1
  (or a missing one) repeats to match the other, so a number combines with
  any list and a row ``[1, 2, 3]`` with every row of a (2, 3) list.
  ``add`` and ``mul`` give Scalars; ``map`` gives whatever ``fn`` returns.

>>> from scalargrad import Scalar
>>> from scalargrad import functional as F
>>> W = [[Scalar(1.0), Scalar(2.0)], [Scalar(3.0), Scalar(4.0)]]
>>> y = F.tensordot(W, [0.5, -1.0], axes=1)     # W @ x: one dot node per output
>>> [v.data for v in y], F.transpose(W)[0][1] is W[1][0]
([-1.5, -2.5], True)
>>> [[v.data for v in row] for row in F.add(W, [10, 20])]
[[11.0, 22.0], [13.0, 24.0]]
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any, Union

from ._util.checks import integer, is_integer, is_number
from ._util.nested import element_name, leaves, nest, regular_leaves, to_lists
from .extend import Scalar
from .list_ops import matmul
from .list_ops import sum as sum_of

__all__ = ["add", "flatten", "map", "mul", "permute", "reshape", "tensordot", "transpose"]

Nested = Union[Scalar, float, int, Sequence[Any]]  # a Scalar, a number, or regular nested lists of them


# ---- the one entry of every op: a nested list read as (shape, elements) -------------------------------

def read_tensor(value: Any, op: str, name: str) -> tuple[tuple[int, ...], list]:
    """``value``'s shape and its elements in row-major order; ValueError if it is ragged, TypeError if an
    element is neither a Scalar nor a number. numpy arrays and numbers are read through ``tolist()``.
    ``op`` and ``name`` are the op and the argument that errors name (``reductions`` and ``shapes`` read
    their inputs with it too)."""
    dims, elements = regular_leaves(to_lists(value), name, f"{op}: {name}")
    for i, x in enumerate(elements):
        if not isinstance(x, Scalar) and not is_number(x):
            raise TypeError(f"{op}: {name} must hold Scalars or numbers, but "
                            f"{element_name(name, i, dims)} is a {type(x).__name__}")
    return dims, elements


def dim_index(value: Any, ndim: int, op: str, what: str, shape: Sequence[int] | None = None) -> int:
    """A dimension index from 0 to ``ndim - 1``, negative ones counted from the end (as in torch);
    TypeError unless it is an int, ValueError (naming ``shape`` if given) when it is out of range."""
    d = integer(value, f"{op}: {what}")
    if not -ndim <= d < ndim:
        allowed = f"from {-ndim} to {ndim - 1}" if ndim else "none: it has no dimensions"
        of_shape = "" if shape is None else f"; x has shape {tuple(shape)}"
        raise ValueError(f"{op}: {what}={value} is out of range for {ndim} dimension(s) "
                         f"(allowed: {allowed}){of_shape}")
    return d % ndim


def check_dim_of_0d(value: Any, op: str, what: str) -> None:
    """A dimension of a 0-d tensor must be 0 or -1: torch accepts those, as if it had one dimension."""
    if integer(value, f"{op}: {what}") not in (-1, 0):
        raise ValueError(f"{op}: {what}={value} is out of range for a 0-d x (allowed: -1 and 0, as in torch)")


def dim_list(dim: Any, shape: tuple[int, ...], op: str, tuple_ok: bool = True) -> list[int]:
    """The dimensions of a ``shape`` tensor that ``dim`` names (an int, a tuple or list of ints, or None),
    sorted, from 0 up: every one for None or ``()``. A 0-d input takes 0 and -1, as in torch, and has none
    to give. TypeError for a tuple where torch takes one int only (``tuple_ok=False``), ValueError for a
    dimension out of range or named twice.

    >>> dim_list((-1, 0), (2, 3, 4), "sum")
    [0, 2]
    """
    if dim is None:
        return list(range(len(shape)))
    if isinstance(dim, (list, tuple)):
        if not tuple_ok:
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {tuple(dim)}")
        if not dim:
            return list(range(len(shape)))
        named = list(dim)
    else:
        named = [dim]
    if not shape:
        for d in named:
            check_dim_of_0d(d, op, "dim")
        found = [0 for _ in named]
    else:
        found = [dim_index(d, len(shape), op, "dim", shape) for d in named]
    repeated = next((d for i, d in enumerate(found) if d in found[:i]), None)
    if repeated is not None:
        raise ValueError(f"{op}: dim {tuple(named)} names dimension {repeated} more than once "
                         f"(x has shape {shape})")
    return sorted(found) if shape else []


# ---- moving elements: row-major offsets ------------------------------------------------------------------

def _strides(dims: Sequence[int]) -> list[int]:
    """How far apart (in row-major order) consecutive indices of each dimension are."""
    strides, step = [], 1
    for n in reversed(dims):
        strides.append(step)
        step *= n
    return strides[::-1]


def _offsets(sizes: Sequence[int], strides: Sequence[int]) -> list[int]:
    """The source position of every element of a walk over ``sizes`` (row-major) taking ``strides`` steps."""
    offsets = [0]
    for n, step in zip(sizes, strides):
        offsets = [o + i * step for o in offsets for i in range(n)]
    return offsets


def permuted(elements: list, dims: Sequence[int], order: Sequence[int]) -> list:
    """The elements of a ``dims`` tensor, in row-major order of its dimensions taken in ``order``.

    >>> permuted([1, 2, 3, 4, 5, 6], (2, 3), (1, 0))
    [1, 4, 2, 5, 3, 6]
    """
    strides = _strides(dims)
    return [elements[o] for o in _offsets([dims[k] for k in order], [strides[k] for k in order])]


def _broadcast_permuted(elements: list, dims: Sequence[int], order: Sequence[int],
                        sizes: Sequence[int]) -> list:
    """As ``permuted``, dimension ``order[i]`` walked over ``sizes[i]`` indices: one of size 1 repeats its
    element ``sizes[i]`` times (torch's broadcasting)."""
    strides = _strides(dims)
    return [elements[o] for o in _offsets(sizes, [0 if dims[k] == 1 else strides[k] for k in order])]


def permute(x: Nested, dims: Sequence[int]) -> Any:
    """``x`` with its dimensions in the order ``dims`` (as ``torch.permute``); no new node.

    >>> permute([[1, 2, 3], [4, 5, 6]], (1, 0))
    [[1, 4], [2, 5], [3, 6]]
    """
    sizes, elements = read_tensor(x, "permute", "x")
    if not isinstance(dims, (list, tuple)):
        raise TypeError(f"permute: dims must be a list or tuple of ints, got {type(dims).__name__}")
    if len(dims) != len(sizes):
        raise ValueError(f"permute: dims {tuple(dims)} name {len(dims)} dimension(s), but x has {len(sizes)} "
                         f"(shape {sizes})")
    order = [dim_index(d, len(sizes), "permute", "dim") for d in dims]
    if len(set(order)) != len(order):
        raise ValueError(f"permute: dims {tuple(dims)} repeat a dimension")
    return nest(permuted(elements, sizes, order), tuple(sizes[k] for k in order))


def transpose(x: Nested, dim0: int = 0, dim1: int = 1) -> Any:
    """``x`` with dimensions ``dim0`` and ``dim1`` swapped (as ``torch.transpose``); by default a matrix's
    transpose. No new node: the result holds the same elements.

    >>> transpose([[1, 2, 3], [4, 5, 6]])
    [[1, 4], [2, 5], [3, 6]]
    """
    sizes, elements = read_tensor(x, "transpose", "x")
    if not sizes:  # a 0-d tensor: torch accepts dimension 0 (or -1) and gives the tensor back
        check_dim_of_0d(dim0, "transpose", "dim0")
        check_dim_of_0d(dim1, "transpose", "dim1")
        return elements[0]
    order = list(range(len(sizes)))
    i, j = dim_index(dim0, len(sizes), "transpose", "dim0"), dim_index(dim1, len(sizes), "transpose", "dim1")
    order[i], order[j] = order[j], order[i]
    return nest(permuted(elements, sizes, order), tuple(sizes[k] for k in order))


def shape_argument(shape: Any, op: str) -> tuple[int, ...]:
    """A shape argument given as an int or a list or tuple of ints, as a tuple; TypeError naming ``op``
    otherwise (``reshape``, ``shapes.broadcast_to``, ``shapes.sum_to``)."""
    wanted = [shape] if is_integer(shape) else shape
    if not isinstance(wanted, (list, tuple)):
        raise TypeError(f"{op}: shape must be an int or a list or tuple of ints, got {type(shape).__name__}")
    return tuple(integer(n, f"{op}: a shape entry") for n in wanted)


def reshape(x: Nested, shape: int | Sequence[int]) -> Any:
    """The elements of ``x`` in row-major order, arranged in ``shape`` (as ``torch.reshape``).

    One dimension may be -1: it is inferred from the others. No new node.

    >>> reshape([[1, 2, 3], [4, 5, 6]], (3, -1))
    [[1, 2], [3, 4], [5, 6]]
    """
    sizes, elements = read_tensor(x, "reshape", "x")
    wanted = list(shape_argument(shape, "reshape"))
    for i, n in enumerate(wanted):
        if n < -1:
            raise ValueError(f"reshape: invalid size {n} at index {i} of shape {tuple(wanted)}")
    if wanted.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1 (inferred), got shape {tuple(wanted)}")
    if -1 in wanted:
        known = math.prod(n for n in wanted if n != -1)
        if known == 0:
            raise ValueError(f"reshape: cannot infer the -1 in shape {tuple(wanted)} for {len(elements)} "
                             f"elements: the other sizes multiply to 0, so any size would do")
        if len(elements) % known == 0:
            wanted[wanted.index(-1)] = len(elements) // known
    if math.prod(wanted) != len(elements):
        raise ValueError(f"reshape: shape {tuple(wanted)} does not hold the {len(elements)} elements of x "
                         f"(shape {sizes})")
    return nest(elements, tuple(wanted))


def flatten(x: Nested, start_dim: int = 0, end_dim: int = -1) -> Any:
    """``x`` with dimensions ``start_dim`` to ``end_dim`` merged into one (as ``torch.flatten``); by default
    a flat list of every element. No new node.

    >>> flatten([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], start_dim=1)
    [[1, 2, 3, 4], [5, 6, 7, 8]]
    """
    sizes, elements = read_tensor(x, "flatten", "x")
    if not sizes:  # one element: a list of it, as torch flattens a 0-d tensor
        return elements
    start, end = (dim_index(start_dim, len(sizes), "flatten", "start_dim"),
                  dim_index(end_dim, len(sizes), "flatten", "end_dim"))
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim})")
    return nest(elements, (*sizes[:start], math.prod(sizes[start:end + 1]), *sizes[end + 1:]))


# ---- tensordot: a matmul of the two tensors laid out as matrices -----------------------------------

def _contracted_axes(axes: Any, ndim_a: int, ndim_b: int) -> tuple[list[int], list[int]]:
    """The dimensions of a and of b that ``axes`` pairs up: an int n (a's last n with b's first n) or a pair
    of lists (or ints) of dimensions, as ``torch.tensordot``'s ``dims``."""
    if is_integer(axes):
        n = int(axes)
        if not 0 <= n <= min(ndim_a, ndim_b):
            raise ValueError(f"tensordot: axes={n} must be from 0 to {min(ndim_a, ndim_b)} here "
                             f"(a has {ndim_a} dimension(s), b has {ndim_b})")
        return list(range(ndim_a - n, ndim_a)), list(range(n))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise TypeError(f"tensordot: axes must be an int or a pair of lists of dimensions, got {axes!r}")
    pair = [[side] if is_integer(side) else side for side in axes]
    if not all(isinstance(side, (list, tuple)) for side in pair):
        raise TypeError(f"tensordot: axes must be an int or a pair of lists of dimensions, got {axes!r}")
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: axes pairs {len(pair[0])} dimension(s) of a with {len(pair[1])} of b; "
                         f"give both lists the same length")
    dims_a = [dim_index(d, ndim_a, "tensordot", "an axis of a") for d in pair[0]]
    dims_b = [dim_index(d, ndim_b, "tensordot", "an axis of b") for d in pair[1]]
    for name, dims in (("a", dims_a), ("b", dims_b)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"tensordot: the axes of {name} {tuple(dims)} repeat a dimension")
    return dims_a, dims_b


def tensordot(a: Nested, b: Nested, axes: int | Sequence[Any] = 2) -> Any:
    """Sum of products over paired dimensions of ``a`` and ``b``, as ``torch.tensordot(a, b, dims=axes)``.

    ``axes=n`` pairs the last n dimensions of ``a`` with the first n of
    ``b``; ``axes=([1, 0], [0, 2])`` pairs a's dimension 1 with b's 0 and
    a's 0 with b's 2. The result has a's remaining dimensions, then b's.
    Paired dimensions have the same size, or one of them has size 1 and
    repeats to match the other, as in torch (``tensordot([1], [[1], [1],
    [1]], 1)`` is ``[3]``). Each output element is one ``dot`` node with n
    parents (``axes=1`` on two matrices is ``matmul``; on two vectors,
    their dot product).

    >>> tensordot([[1, 2], [3, 4]], [[1, 0], [0, 1]], axes=1)[1][0].data
    3.0
    """
    dims_a, flat_a = read_tensor(a, "tensordot", "a")
    dims_b, flat_b = read_tensor(b, "tensordot", "b")
    summed_a, summed_b = _contracted_axes(axes, len(dims_a), len(dims_b))
    summed_sizes = [_paired_size(dims_a, i, dims_b, j) for i, j in zip(summed_a, summed_b)]
    kept_a = [i for i in range(len(dims_a)) if i not in summed_a]
    kept_b = [j for j in range(len(dims_b)) if j not in summed_b]
    kept_sizes_a, kept_sizes_b = [dims_a[i] for i in kept_a], [dims_b[j] for j in kept_b]
    m, k, n = math.prod(kept_sizes_a), math.prod(summed_sizes), math.prod(kept_sizes_b)
    out_dims = (*kept_sizes_a, *kept_sizes_b)
    if k == 0:  # nothing to sum: zeros (as a matrix, b would have no rows to tell its width)
        return nest([sum_of([]) for _ in range(m * n)], out_dims)
    rows_a = _rows(_broadcast_permuted(flat_a, dims_a, kept_a + summed_a, kept_sizes_a + summed_sizes), m, k)
    rows_b = _rows(_broadcast_permuted(flat_b, dims_b, summed_b + kept_b, summed_sizes + kept_sizes_b), k, n)
    return nest(leaves(matmul(rows_a, rows_b)), out_dims)


def _paired_size(dims_a: Sequence[int], i: int, dims_b: Sequence[int], j: int) -> int:
    """How many terms a's dimension ``i`` and b's dimension ``j`` sum over: their common size, or the other's
    size where one of them is 1 (torch's rule); ValueError for two different sizes."""
    if dims_a[i] == 1:
        return dims_b[j]
    if dims_b[j] in (1, dims_a[i]):
        return dims_a[i]
    raise ValueError(f"tensordot: paired dimensions must have the same size (or one of them 1), but a's "
                     f"dimension {i} has {dims_a[i]} and b's dimension {j} has {dims_b[j]} "
                     f"(shapes {dims_a} and {dims_b})")


def _rows(elements: list, count: int, length: int) -> list[list]:
    return [elements[i * length:(i + 1) * length] for i in range(count)]


# ---- element by element, with broadcasting --------------------------------------------------------------

def _broadcast_shape(shapes: list[tuple[int, ...]], op: str) -> tuple[int, ...]:
    """The shape every input broadcasts to (torch's rules), or ValueError naming the clash."""
    ndim = max(builtins.map(len, shapes))  # (this module's own map is the elementwise op)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        if len(sizes - {1}) > 1:
            listed = ", ".join(str(s) for s in shapes)
            raise ValueError(f"{op}: shapes {listed} do not broadcast: sizes {sorted(sizes)} meet at "
                             f"dimension {axis} (counted from the left of the longest shape); "
                             f"each must be the same or 1")
        out.append(min(sizes - {1}, default=1))
    return tuple(out)


def broadcast_apply(op: str, fn: Callable[..., Any], values: Sequence[Nested]) -> Any:
    """``fn`` over the elements of ``values`` broadcast together, in the broadcast shape; errors (ragged,
    not numbers, shapes that do not broadcast) name ``op``."""
    tensors = [read_tensor(v, op, f"input {i}" if len(values) > 1 else "x") for i, v in enumerate(values)]
    out_dims = _broadcast_shape([dims for dims, _ in tensors], op)
    columns = [broadcast_elements(elements, dims, out_dims) for dims, elements in tensors]
    return nest([fn(*args) for args in zip(*columns)], out_dims)


def broadcast_elements(elements: list, dims: Sequence[int], out_dims: Sequence[int]) -> list:
    """The elements of a ``dims`` tensor broadcast to ``out_dims`` (which the caller has checked), in
    row-major order: a dimension of size 1, or a missing leading one, repeats its elements.

    >>> broadcast_elements([1, 2], (2, 1), (2, 3))
    [1, 1, 1, 2, 2, 2]
    """
    if tuple(dims) == tuple(out_dims):
        return elements
    strides = [0] * (len(out_dims) - len(dims)) + [0 if n == 1 else s for n, s in zip(dims, _strides(dims))]
    return [elements[o] for o in _offsets(out_dims, strides)]


def map(fn: Callable[..., Any], x: Nested, *others: Nested) -> Any:
    """``fn`` applied element by element to one or more tensors, broadcast together (as torch broadcasts
    ``a + b``); the results, whatever ``fn`` returns, in the broadcast shape.

    >>> from scalargrad import Scalar
    >>> [[v.data for v in row]
    ...  for row in map(lambda v, w: (v - w).relu(), [[Scalar(1.0)], [Scalar(5.0)]], [2, 3])]
    [[0.0, 0.0], [3.0, 2.0]]
    """
    if not callable(fn):
        raise TypeError(f"map: fn must be callable, got {type(fn).__name__}")
    return broadcast_apply("map", fn, (x, *others))


def add(a: Nested, b: Nested) -> Any:
    """``a + b`` element by element, broadcast as torch does; every element of the result is a Scalar.

    >>> [v.data for v in add([1.0, 2.0], 10)]
    [11.0, 12.0]
    """
    # two numbers give a number: a Scalar of it
    return broadcast_apply("add", lambda x, y: s if isinstance(s := x + y, Scalar) else Scalar(s), (a, b))


def mul(a: Nested, b: Nested) -> Any:
    """``a * b`` element by element, broadcast as torch does; every element of the result is a Scalar.

    >>> [[v.data for v in row] for row in mul([[1.0], [2.0]], [3.0, 4.0])]
    [[3.0, 4.0], [6.0, 8.0]]
    """
    return broadcast_apply("mul", lambda x, y: s if isinstance(s := x * y, Scalar) else Scalar(s), (a, b))

