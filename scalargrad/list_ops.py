"""List-level ops on Scalars: ``sum``, ``dot`` and ``mean`` as one node, ``matvec``, ``matmul``, and the
largest of a window (max pooling).

``sum``, ``dot`` and ``mean`` over n inputs make ONE node with n parents, so back-propagating through
them costs one multiply-add per input, as hand-written float code would. They take numpy arrays where
they take lists of numbers, and give exactly what the lists (``array.tolist()``) give. They are gathered
in ``scalargrad.functional``, with the fused neuron built on ``dot``.

>>> from scalargrad import Scalar
>>> w = [Scalar(0.5), Scalar(-1.0)]
>>> y = dot(w, [2.0, 3.0])       # one node with two parents
>>> y.backward()
>>> y.data, w[0].grad, w[1].grad
(-2.0, 2.0, 3.0)
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable, Sequence
from operator import mul as times
from typing import Union

from ._util.checks import number, plain_number
from ._util.nested import to_lists
from .extend import FloatMath, Op, Scalar, make_node

__all__ = ["dot", "dot_derivatives", "dot_value", "floats_of", "matmul", "matvec", "max_index", "mean", "sum",
           "window_max"]

ScalarOrNumber = Union[Scalar, float, int]  # an element the ops take
_JUST_FLOAT = {float}


def _split(xs: Sequence[ScalarOrNumber], what: str):
    """Separate Scalars from plain numbers: (scalars, their floats, sum of numbers)."""
    scalars, datas, numbers = [], [], 0.0
    for x in xs:
        if isinstance(x, Scalar):
            scalars.append(x)
            datas.append(x.data)
        else:
            numbers += _float_of(x, what)
    return scalars, datas, numbers


# ---- sum: y = sum x_i (+ the numbers among them, the constant), dy/dx_i = 1 ---------------

_sum = Op("sum", lambda xs, constant: builtins.sum(xs, 0.0) + constant,
          lambda maths, xs, y, constant: [1.0] * len(xs), arity="n", constant=True)


def sum(xs: Iterable[ScalarOrNumber], start: ScalarOrNumber = 0.0) -> Scalar:
    """Sum of Scalars (numbers allowed) as one node with n parents; ``start`` may be a Scalar too."""
    scalars, datas, numbers = _split([*to_lists(xs, deep=False), to_lists(start, deep=False)], "sum")
    return make_node(_sum, tuple(scalars), builtins.sum(datas, 0.0) + numbers, numbers, [1.0] * len(datas))


sum.op = _sum  # the declaration (scalargrad.compile keys its template by it)


# ---- mean: y = (sum x_i + numbers) / n, dy/dx_i = 1/n; the constant is (1 / n, numbers, n) ------

_mean = Op("mean", lambda xs, constant: (builtins.sum(xs, 0.0) + constant[1]) / constant[2],
           lambda maths, xs, y, constant: [constant[0]] * len(xs), arity="n", constant=True)


def mean(xs: Iterable[ScalarOrNumber]) -> Scalar:
    """Arithmetic mean as one node with n parents."""
    xs = to_lists(xs, deep=False)
    xs = xs if isinstance(xs, (list, tuple)) else list(xs)
    n = len(xs)
    if n == 0:
        raise ValueError("mean of an empty sequence")
    scalars, datas, numbers = _split(xs, "mean")
    constant = (1.0 / n, numbers, n)
    y = (builtins.sum(datas, 0.0) + numbers) / n
    return make_node(_mean, tuple(scalars), y, constant, [constant[0]] * len(datas))


mean.op = _mean


# ---- dot: y = sum w_i x_i (+ b), dy/dw_i = x_i, dy/dx_i = w_i, dy/db = 1 ------------
# The parents are ws + xs (+ bias) when both sides are recorded (constant None),
# or the recorded side (+ bias) with ``partners``, what each was multiplied by.

def dot_value(xs: Sequence, constant: list | None):
    """The value of a dot node (and of a neuron's pre-activation) over its parents' values ``xs``, on
    floats or on Scalars; ``constant`` is the partners, or None."""
    if constant is not None:  # a bias's partner is 1.0, and b * 1.0 is exactly b
        return builtins.sum(map(times, xs, constant), 0.0)
    n = len(xs) // 2
    y = builtins.sum(map(times, xs[:n], xs[n:2 * n]), 0.0)
    return y + xs[-1] if len(xs) % 2 else y


def dot_derivatives(maths, xs: Sequence, y, constant: list | None) -> list:
    """The derivative rule of a dot node: each parent's partner."""
    if constant is not None:  # a side held numbers: what each parent was multiplied by
        return constant
    n = len(xs) // 2  # each parent gets its partner
    d = list(xs[n:2 * n])
    d += xs[:n]
    if len(xs) % 2:
        d.append(1.0)
    return d


_dot = Op("dot", dot_value, dot_derivatives, arity="n", constant=True)


def dot(ws: Sequence[ScalarOrNumber], xs: Sequence[ScalarOrNumber], bias: ScalarOrNumber = None) -> Scalar:
    """sum(w * x for w, x in zip(ws, xs)) (+ bias) as one node.

    Either side may hold plain floats: a side of numbers (a network's input,
    say) adds no parents, and its values are kept as the derivatives.
    """
    ws, xs, bias = to_lists(ws, deep=False), to_lists(xs, deep=False), to_lists(bias, deep=False)
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot: the sequences have different lengths ({n} and {len(xs)})")
    w_data, x_data = floats_of(ws), floats_of(xs)
    if w_data is None or x_data is None or not (bias is None or isinstance(bias, Scalar)):
        return _mixed_dot(ws, xs, bias)  # Scalars and numbers mixed within a side, or a constant bias
    w_scalars = n == 0 or isinstance(ws[0], Scalar)
    x_scalars = n == 0 or isinstance(xs[0], Scalar)
    if x_scalars and not w_scalars:  # make ws the recorded side; the product is symmetric
        ws, xs, w_data, x_data, w_scalars, x_scalars = xs, ws, x_data, w_data, True, False
    y = builtins.sum(map(times, w_data, x_data), 0.0)
    if not w_scalars:  # neither side recorded: a constant, plus the bias
        return sum([] if bias is None else [bias], y)
    has_bias = bias is not None
    if has_bias:
        y += bias.data
    tail = (bias,) if has_bias else ()
    if x_scalars:  # both recorded: the derivatives are the partners' values
        values = w_data + x_data
        if has_bias:
            values.append(bias.data)
        return make_node(_dot, (*ws, *xs, *tail), y, None, dot_derivatives(FloatMath, values, y, None))
    partners = x_data + [1.0] if has_bias else x_data
    return make_node(_dot, (*ws, *tail), y, partners, partners)


# A dot whose sides mix Scalars and numbers: the constant is (each parent's partner, a Scalar
# or a number; the sum of the number-by-number products). Not replayable: the replayed sum
# would add in another order.
def _mixed_dot_value(xs: list, constant: tuple) -> float:
    return dot_value(xs, [_float_of(q, "dot") for q in constant[0]]) + constant[1]


_mixed_dot_op = Op("dot", _mixed_dot_value, lambda maths, xs, y, constant: constant[0], arity="n",
                   constant=True, replayable=False)


def _mixed_dot(ws: Sequence[ScalarOrNumber], xs: Sequence[ScalarOrNumber], bias: ScalarOrNumber) -> Scalar:
    """dot where a side mixes Scalars and numbers: parents are the Scalars, in order."""
    pairs = [(w, x) for w, x in zip(ws, xs) if isinstance(w, Scalar)]
    pairs += [(x, w) for w, x in zip(ws, xs) if isinstance(x, Scalar)]
    if isinstance(bias, Scalar):
        pairs.append((bias, 1.0))
    products = [(_float_of(w, "dot") * _float_of(x, "dot"), isinstance(w, Scalar) or isinstance(x, Scalar))
                for w, x in zip(ws, xs)]
    if bias is not None:
        products.append((_float_of(bias, "dot bias"), isinstance(bias, Scalar)))
    y = builtins.sum(v for v, _ in products)
    folded = builtins.sum(v for v, recorded in products if not recorded)  # the number-by-number products
    partners = [q for _, q in pairs]
    return make_node(_mixed_dot_op, tuple([p for p, _ in pairs]), y, (partners, folded),
                     [_float_of(q, "dot") for q in partners])


def floats_of(values: Sequence[ScalarOrNumber]) -> list[float] | None:
    """Floats of an all-Scalar or all-number sequence (a new list); None if it mixes the two."""
    if len(values) == 0:
        return []
    if isinstance(values[0], Scalar):
        try:
            return [v.data for v in values]
        except AttributeError:
            return None
    if set(map(type, values)) == _JUST_FLOAT:  # plain floats (checked at C speed; numpy floats convert below)
        return list(values)  # a copy: the node keeps these as derivatives
    if any(isinstance(v, Scalar) for v in values):
        return None
    return [_float_of(v, "dot") for v in values]


def _float_of(x: ScalarOrNumber, what: str) -> float:
    """A Scalar's value, or a number as a float by the package's number rule (``_util.checks``)."""
    if isinstance(x, Scalar):
        return x.data
    if plain_number(x) is None:
        raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")
    return number(x, what)


# ---- the maximum of a window (max pooling) ------------------------------------------

def max_index(values: Sequence[float]) -> int:
    """Index of the largest value: the first on ties, as torch's max pooling; a nan wins."""
    if len(values) == 0:
        raise ValueError("max_index of an empty sequence")
    best = 0
    for i, v in enumerate(values):
        if v > values[best] or math.isnan(v):
            best = i
    return best


def _d_window_max(maths, xs, y, constant):
    picked = max_index([getattr(x, "data", x) for x in xs])
    return [1.0 if i == picked else 0.0 for i in range(len(xs))]


_window_max = Op("max", lambda xs: xs[max_index(xs)], _d_window_max, arity="n")


def window_max(xs: Sequence[ScalarOrNumber]) -> Scalar:
    """The largest of ``xs`` as one node over all of them (derivative 1 for the one picked, else 0).

    ``MaxPool2D`` uses it while a Replay is built, so the graph stays the same
    whichever element is largest; otherwise pooling just passes the largest
    element on. Numbers among ``xs`` become constants.
    """
    xs = tuple([x if isinstance(x, Scalar) else Scalar(_float_of(x, "window_max"))
                for x in to_lists(xs, deep=False)])
    if not xs:
        raise ValueError("window_max of an empty window")
    datas = [x.data for x in xs]
    return make_node(_window_max, xs, datas[max_index(datas)])


window_max.op = _window_max


# ---- matrices as nested lists ------------------------------------------------------

def matvec(W: Sequence[Sequence[ScalarOrNumber]], x: Sequence[ScalarOrNumber]) -> list[Scalar]:
    """[dot(row, x) for row in W]."""
    x = to_lists(x, deep=False)
    return [dot(row, x) for row in to_lists(W, deep=False)]


def matmul(A: Sequence[Sequence[ScalarOrNumber]],
           B: Sequence[Sequence[ScalarOrNumber]]) -> list[list[Scalar]]:
    """A @ B for nested lists (m x k times k x n)."""
    A, B = to_lists(A, deep=False), to_lists(B, deep=False)
    if A and len(A[0]) != len(B):
        raise ValueError(f"matmul: shapes do not match ({len(A)}x{len(A[0])} and "
                         f"{len(B)}x{len(B[0]) if B else 0})")
    if any(len(row) != len(B[0]) for row in B):  # zip would silently drop columns
        raise ValueError("matmul: the rows of B have different lengths")
    columns = list(zip(*B))
    return [[dot(row, col) for col in columns] for row in A]
