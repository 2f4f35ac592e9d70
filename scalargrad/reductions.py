"""Reductions with torch's ``dim`` and ``keepdim``, on Scalars, nested lists and numpy arrays.

``dim`` is an int, or a tuple of ints where torch takes one (``sum``,
``mean``, ``amax``, ``amin``, ``var``, ``std``, ``logsumexp``); negative
ones count from the end, and ``None`` (or ``()``) reduces every dimension.
``keepdim=True`` keeps each reduced dimension with size 1. A reduction of
every dimension gives one Scalar (torch's 0-d tensor), any other a nested
list; a 0-d input (a Scalar or a number) takes ``dim`` 0 or -1, as in torch.

Each reduced group is one node with n parents (``list_ops``' ``sum``,
``mean``, ``prod``, ``variance``, ``extreme``, ``pick``), and ``softmax``,
``log_softmax`` and ``logsumexp`` reduce each group as one ``logsumexp``
node (see ``scalargrad.softmax``); ``argmax`` and ``argmin`` give ints.
The one-list forms of earlier versions are these functions on a flat list:
``sum(xs)`` and ``mean(xs)`` are the same node with the same bits, and the
softmax family's ``dim`` defaults to -1, the list itself.

>>> from scalargrad import Scalar
>>> x = [[Scalar(1.0), Scalar(2.0), Scalar(3.0)], [Scalar(4.0), Scalar(5.0), Scalar(6.0)]]
>>> [v.data for v in sum(x, dim=0)], [row[0].data for row in mean(x, dim=-1, keepdim=True)]
([5.0, 7.0, 9.0], [2.0, 5.0])
>>> values, indices = max(x, dim=1)
>>> [v.data for v in values], indices, sum(x).data
([3.0, 6.0], [2, 2], 21.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Callable, NamedTuple, Union

from ._util.checks import integer, is_integer, number
from ._util.nested import nest
from .extend import Scalar
from .list_ops import extreme, pick, pick_index, variance
from .list_ops import mean as mean_of
from .list_ops import prod as prod_of
from .list_ops import sum as sum_of
from .nested_ops import Nested, check_dim_of_0d, dim_index, dim_list, permuted, read_tensor
from .softmax import log_softmax as log_softmax_of
from .softmax import logsumexp as logsumexp_of
from .softmax import softmax as softmax_of

__all__ = ["amax", "amin", "argmax", "argmin", "log_softmax", "logsumexp", "max", "mean", "min", "prod",
           "softmax", "std", "sum", "var"]

Dim = Union[int, Sequence[int], None]


class ValuesIndices(NamedTuple):
    """What ``max`` and ``min`` along a dimension give, as torch's ``(values, indices)``: the values
    (Scalars) and the index of each along the reduced dimension (ints), nested alike."""

    values: Any
    indices: Any


# ---- reading the input and the dimensions it reduces --------------------------------------------------

def _is_iterator(x: Any) -> bool:
    """An iterable that is neither a list, a tuple, an array nor a string (a generator, say)."""
    return (isinstance(x, Iterable) and not isinstance(x, (list, tuple, str, bytes, dict))
            and not hasattr(x, "tolist"))


def _read(x: Any, op: str) -> tuple[tuple[int, ...], list]:
    """``x``'s shape and elements; an iterator (a generator of Scalars) is read as the list it gives."""
    return read_tensor(list(x) if _is_iterator(x) else x, op, "x")


def _groups(shape: tuple[int, ...], elements: list, reduced: list[int]) -> list[list]:
    """The elements of each output position (row-major), each group in row-major order of the reduced
    dimensions."""
    kept = [k for k in range(len(shape)) if k not in reduced]
    count, size = math.prod(shape[k] for k in kept), math.prod(shape[k] for k in reduced)
    if size == 0:
        return [[] for _ in range(count)]
    if kept + reduced != list(range(len(shape))):  # else the groups are already contiguous
        elements = permuted(elements, shape, kept + reduced)
    return [elements[i * size:(i + 1) * size] for i in range(count)]


def _out_shape(shape: tuple[int, ...], reduced: list[int], keepdim: bool) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if k in reduced else n for k, n in enumerate(shape))
    return tuple(n for k, n in enumerate(shape) if k not in reduced)


def _grouped(x: Any, dim: Dim, keepdim: Any, op: str, tuple_ok: bool = True) -> tuple[list, tuple]:
    """The groups of elements ``dim`` gathers, one per output element, and the output shape."""
    keepdim = _keepdim(keepdim, op)
    shape, elements = _read(x, op)
    reduced = dim_list(dim, shape, op, tuple_ok)
    return _groups(shape, elements, reduced), _out_shape(shape, reduced, keepdim)


def _reduce(x: Any, dim: Dim, keepdim: Any, op: str, reduce_group: Callable[[list], Any],
            tuple_ok: bool = True) -> Any:
    """``reduce_group`` applied to each group ``dim`` gathers, nested in the output shape."""
    groups, out_shape = _grouped(x, dim, keepdim, op, tuple_ok)
    return nest([reduce_group(group) for group in groups], out_shape)


def _keepdim(value: Any, op: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{op}: keepdim must be a bool, got {type(value).__name__}")
    return value


def _one_list(x: Any) -> bool:
    """A list or tuple whose first element is no list, or an iterator: the one-list form of earlier versions
    (which names a list found further on as an element of the wrong type)."""
    if isinstance(x, (list, tuple)):
        return not x or not isinstance(x[0], (list, tuple))
    return _is_iterator(x)


def _nonempty(op: str, reduce_group: Callable[[list], Any]) -> Callable[[list], Any]:
    """``reduce_group`` refusing an empty group (torch refuses it for amax, max and argmax; gives nan for var
    and std, which we refuse too, as ``mean`` does)."""
    def reduce(group: list) -> Any:
        if not group:
            raise ValueError(f"{op}: cannot reduce a dimension of size 0")
        return reduce_group(group)
    return reduce


# ---- sum, mean, prod ---------------------------------------------------------------------------------

def sum(x: Nested, dim: Dim = None, keepdim: bool = False, *, start: Any = 0.0) -> Any:
    """The sum over ``dim`` (as ``torch.sum(x, dim, keepdim)``), one node per output element.

    ``start`` (a number or a Scalar, keyword only: torch's second argument is
    ``dim``) is added to every sum. A flat list summed whole is one node over
    its Scalars, the numbers among them a constant.

    >>> [v.data for v in sum([[1.0, 2.0], [3.0, 4.0]], dim=1)]
    [3.0, 7.0]
    >>> sum([Scalar(1.0), 2.0], start=0.5).data
    3.5
    """
    if dim is None and keepdim is False and _one_list(x):
        return sum_of(x, start)
    return _reduce(x, dim, keepdim, "sum", lambda group: sum_of(group, start))


sum.op = sum_of.op  # the declaration of every node it makes (scalargrad.compile keys its template by it)


def mean(x: Nested, dim: Dim = None, keepdim: bool = False) -> Any:
    """The arithmetic mean over ``dim`` (as ``torch.mean``), one node per output element; ValueError for a
    mean of nothing.

    >>> [v.data for v in mean([[1.0, 2.0], [3.0, 5.0]], dim=0)]
    [2.0, 3.5]
    """
    if dim is None and keepdim is False and _one_list(x):
        return mean_of(x)
    return _reduce(x, dim, keepdim, "mean", mean_of)


mean.op = mean_of.op


def prod(x: Nested, dim: int | None = None, keepdim: bool = False) -> Any:
    """The product over ``dim`` (one int, or None for all; as ``torch.prod``), one node per output element
    whose derivatives are the products of the others (exact where an element is 0).

    >>> [v.data for v in prod([[1.0, 2.0], [3.0, 4.0]], dim=-1)]
    [2.0, 12.0]
    """
    return _reduce(x, dim, keepdim, "prod", prod_of, tuple_ok=False)


# ---- var and std --------------------------------------------------------------------------------------

def var(x: Nested, dim: Dim = None, *, correction: float = 1, keepdim: bool = False) -> Any:
    """The variance over ``dim``: sum((x - mean)^2) / (n - correction), as ``torch.var``. ``correction=1``
    (the default) is the unbiased estimate, 0 the population variance; for n <= correction it is
    inf or nan, as in torch. One node per output element.

    >>> var([1.0, 2.0, 3.0, 4.0]).data, var([1.0, 2.0, 3.0, 4.0], correction=0).data
    (1.6666666666666667, 1.25)
    """
    correction = number(correction, "var: correction")
    return _reduce(x, dim, keepdim, "var", _nonempty("var", lambda group: variance(group, correction)))


def std(x: Nested, dim: Dim = None, *, correction: float = 1, keepdim: bool = False) -> Any:
    """The standard deviation over ``dim``, the square root of ``var`` (as ``torch.std``); its gradient is
    0 where it is 0, as torch's. One node per output element.

    >>> round(std([1.0, 2.0, 3.0, 4.0]).data, 6)
    1.290994
    """
    correction = number(correction, "std: correction")
    return _reduce(x, dim, keepdim, "std", _nonempty("std", lambda group: variance(group, correction, True)))


# ---- amax, amin, max, min, argmax, argmin --------------------------------------------------------------

def amax(x: Nested, dim: Dim = None, keepdim: bool = False) -> Any:
    """The largest element over ``dim`` (as ``torch.amax``); the gradient is split evenly among the
    elements equal to it. One node per output element.

    >>> from scalargrad import Scalar
    >>> a, b, c = Scalar(1.0), Scalar(3.0), Scalar(3.0)
    >>> y = amax([a, b, c])
    >>> y.backward()
    >>> y.data, a.grad, b.grad, c.grad
    (3.0, 0.0, 0.5, 0.5)
    """
    return _reduce(x, dim, keepdim, "amax", _nonempty("amax", extreme))


def amin(x: Nested, dim: Dim = None, keepdim: bool = False) -> Any:
    """The smallest element over ``dim`` (as ``torch.amin``); the gradient is split evenly among the
    elements equal to it.

    >>> [v.data for v in amin([[1.0, 5.0], [4.0, 2.0]], dim=1)]
    [1.0, 2.0]
    """
    return _reduce(x, dim, keepdim, "amin", _nonempty("amin", lambda group: extreme(group, largest=False)))


def _max_or_min(x: Nested, dim: int | None, keepdim: bool, largest: bool) -> Any:
    op = "max" if largest else "min"
    if dim is None:
        if keepdim is not False:
            raise TypeError(f"{op}: keepdim needs a dim (as in torch); without one, {op} reduces all")
        shape, elements = _read(x, op)
        if not elements:
            raise ValueError(f"{op}: x has no elements (shape {shape}); give a dim (as torch asks)")
        return extreme(elements, largest, nan_ties=True)
    groups, out_shape = _grouped(x, integer(dim, f"{op}: dim"), keepdim, op, tuple_ok=False)
    pairs = [pick(group, largest) for group in map(_nonempty(op, list), groups)]
    return ValuesIndices(nest([v for v, _ in pairs], out_shape), nest([i for _, i in pairs], out_shape))


def max(x: Nested, dim: int | None = None, keepdim: bool = False) -> Any:
    """Without ``dim``, the largest element, its gradient split evenly among the elements equal to it (as
    ``torch.max(x)``). With ``dim``, a ``(values, indices)`` pair (as ``torch.max(x, dim, keepdim)``): the
    largest along ``dim``, its gradient to the one element picked, and that element's index: the first of
    equal ones, the first nan if there is one (as torch on the CPU).

    >>> values, indices = max([[1.0, 7.0, 7.0], [2.0, 0.0, 1.0]], dim=1)
    >>> [v.data for v in values], indices
    ([7.0, 2.0], [1, 0])
    """
    return _max_or_min(x, dim, keepdim, True)


def min(x: Nested, dim: int | None = None, keepdim: bool = False) -> Any:
    """As ``max``, the smallest (``torch.min``): the whole-input value, or ``(values, indices)`` along
    ``dim``.

    >>> values, indices = min([[1.0, 7.0], [2.0, 0.0]], dim=0)
    >>> [v.data for v in values], indices
    ([1.0, 0.0], [0, 1])
    """
    return _max_or_min(x, dim, keepdim, False)


def _arg(x: Nested, dim: int | None, keepdim: bool, largest: bool) -> Any:
    op = "argmax" if largest else "argmin"
    if dim is None:  # the index in the flattened input; keepdim keeps every dimension with size 1
        shape, elements = _read(x, op)
        if not elements:
            raise ValueError(f"{op}: x has no elements (shape {shape}); give a dim (as torch asks)")
        index = pick_index([_value(v) for v in elements], largest)
        return nest([index], (1,) * len(shape)) if _keepdim(keepdim, op) else index
    return _reduce(x, integer(dim, f"{op}: dim"), keepdim, op,
                   _nonempty(op, lambda group: pick_index([_value(v) for v in group], largest)),
                   tuple_ok=False)


def argmax(x: Nested, dim: int | None = None, keepdim: bool = False) -> Any:
    """The index of the largest element along ``dim`` (ints, as ``torch.argmax``): the first of equal
    ones, the first nan if there is one; without ``dim``, its index in the flattened input.

    >>> argmax([[1.0, 9.0], [3.0, 2.0]]), argmax([[1.0, 9.0], [3.0, 2.0]], dim=0)
    (1, [1, 0])
    """
    return _arg(x, dim, keepdim, True)


def argmin(x: Nested, dim: int | None = None, keepdim: bool = False) -> Any:
    """The index of the smallest element along ``dim`` (as ``torch.argmin``); see ``argmax``.

    >>> argmin([[1.0, 9.0], [3.0, 2.0]], dim=1, keepdim=True)
    [[0], [1]]
    """
    return _arg(x, dim, keepdim, False)


# ---- logsumexp, softmax, log_softmax -------------------------------------------------------------------

def logsumexp(x: Nested, dim: Dim = -1, keepdim: bool = False) -> Any:
    """log(sum(exp(x))) over ``dim`` (as ``torch.logsumexp``; ``dim`` defaults to -1, so a flat list gives
    one Scalar), one node per output element, stable for inputs of any size. The elements must be
    Scalars.

    >>> [round(v.data, 4) for v in logsumexp([[Scalar(0.0), Scalar(0.0)], [Scalar(1.0), Scalar(1.0)]])]
    [0.6931, 1.6931]
    """
    if isinstance(dim, (list, tuple)) and not dim:  # torch takes it for a 0-d input only
        shape, elements = _read(x, "logsumexp")
        if shape:
            raise ValueError(f"logsumexp: dim=() names no dimension of x (shape {shape}; torch refuses it "
                             f"too); give one or more")
        x = elements[0]
    return _reduce(x, dim, keepdim, "logsumexp", logsumexp_of)


def _along(x: Nested, dim: int, op: str, of_list: Callable[[list], list]) -> Any:
    """``of_list`` (a list of Scalars to a list as long) applied along dimension ``dim``; the result in
    ``x``'s shape."""
    if isinstance(dim, (list, tuple)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {tuple(dim)}")
    if _one_list(x) and is_integer(dim) and dim in (0, -1):  # the one-list form
        return of_list(list(x))
    shape, elements = _read(x, op)
    if not shape:  # a 0-d input: the one-element list of it
        check_dim_of_0d(dim, op, "dim")
        return of_list(elements)[0]
    d = dim_index(dim, len(shape), op, "dim", shape)
    order = [k for k in range(len(shape)) if k != d] + [d]
    moved = permuted(elements, shape, order)
    n = shape[d]
    results = [] if n == 0 else [v for i in range(len(moved) // n) for v in of_list(moved[i * n:(i + 1) * n])]
    back = [order.index(k) for k in range(len(shape))]  # where each dimension of x went
    return nest(permuted(results, [shape[k] for k in order], back), shape)


def softmax(x: Nested, dim: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``dim`` (as ``torch.softmax``; ``dim`` defaults to -1, the list itself
    for a flat list), stable for logits of any size: per group, one ``logsumexp`` node and one node per
    element. The elements must be Scalars.

    >>> [[round(p.data, 4) for p in row] for row in softmax([[Scalar(0.0), Scalar(1.0)]] * 2, dim=0)]
    [[0.5, 0.5], [0.5, 0.5]]
    """
    return _along(x, dim, "softmax", softmax_of)


def log_softmax(x: Nested, dim: int = -1) -> Any:
    """x - logsumexp(x) along ``dim`` (as ``torch.log_softmax``; ``dim`` defaults to -1), computed as
    ``scalargrad.softmax.log_softmax`` does per group. The elements must be Scalars.

    >>> [round(v.data, 4) for v in log_softmax([Scalar(0.0), Scalar(2.0)])]
    [-2.1269, -0.1269]
    """
    return _along(x, dim, "log_softmax", log_softmax_of)


def _value(v: Any) -> float:
    return v.data if isinstance(v, Scalar) else float(v)
