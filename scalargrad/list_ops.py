"""List-level ops on Scalars: ``sum``, ``dot`` and ``mean`` as one node, ``matvec``, ``matmul``, the
largest of a window (max pooling), and the one-node reductions of a list that ``scalargrad.reductions``
applies along a dimension: ``prod``, ``variance`` (and its root), ``extreme`` (amax, amin) and ``pick``
(max, min).

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

__all__ = ["dot", "dot_derivatives", "dot_value", "extreme", "floats_of", "matmul", "matvec", "max_index",
           "mean", "pick", "pick_index", "prod", "sum", "variance", "window_max"]

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


# ---- reductions of one list, one node each (scalargrad.reductions applies them along a dimension) ----

def _constants(xs: Sequence[ScalarOrNumber], what: str) -> tuple[Scalar, ...]:
    """``xs`` as Scalars: numbers become constants (leaves nothing else reads)."""
    return tuple([x if isinstance(x, Scalar) else Scalar(_float_of(x, what)) for x in xs])


def _product(xs: Sequence) -> float:
    p = 1.0
    for x in xs:
        p = p * x
    return p


def _d_prod(maths, xs, y, constant):
    """The product of the others, from prefix and suffix products: exact where an x_i is 0 (y / x_i is
    not)."""
    others, left = [], 1.0
    for x in xs:
        others.append(left)
        left = left * x
    right = 1.0
    for i in range(len(xs) - 1, -1, -1):
        others[i] = others[i] * right
        right = right * xs[i]
    return others


_prod = Op("prod", _product, _d_prod, arity="n")


def prod(xs: Sequence[ScalarOrNumber]) -> Scalar:
    """The product of ``xs`` as one node (1.0 for none); numbers among them become constants."""
    xs = _constants(to_lists(xs, deep=False), "prod")
    return make_node(_prod, xs, _product([x.data for x in xs]))


prod.op = _prod


# ---- variance: sum (x_i - mean)^2 / max(0, n - correction), and its square root ----------------------
# The constant is (correction, root). Where n - correction <= 0 the value divides by 0 (inf or nan, as torch).

def _variance_value(xs: list, constant: tuple):
    n = len(xs)
    m = builtins.sum(xs, 0.0) / n
    squares = builtins.sum([(x - m) * (x - m) for x in xs], 0.0)
    var = FloatMath.div(squares, float(builtins.max(0.0, n - constant[0])))
    return FloatMath.sqrt(var) if constant[1] else var


def _d_variance(maths, xs, y, constant):
    """d var / d x_i = 2 (x_i - mean) / (n - correction); d std / d x_i = (x_i - mean) / ((n - correction)
    std), 0 where std is 0 (as torch)."""
    n = len(xs)
    m = builtins.sum(xs, 0.0) * (1.0 / n)
    dof = float(n - constant[0])  # not clamped at 0, as torch's backward (past n its value is inf)
    if not constant[1]:
        return [maths.div(2.0 * (x - m), dof) for x in xs]
    if y == 0.0:
        return [0.0] * n
    return [maths.div(x - m, dof * y) for x in xs]


_variance = Op("var", _variance_value, _d_variance, arity="n", constant=True,
               label=lambda constant: "std" if constant[1] else "var")


def variance(xs: Sequence[ScalarOrNumber], correction: float = 1.0, root: bool = False) -> Scalar:
    """The variance of ``xs`` with ``correction`` (1: the unbiased estimate), or with ``root`` its square root
    (the standard deviation), as one node; numbers among them become constants."""
    xs = _constants(to_lists(xs, deep=False), "variance")
    if not xs:
        raise ValueError("variance of an empty sequence")
    constant = (correction, root)
    return make_node(_variance, xs, _variance_value([x.data for x in xs], constant), constant)


variance.op = _variance


# ---- amax and amin: the gradient split evenly among the tied elements (as torch) ----------------------
# The constant is (largest, nan_ties): amax/amin (nan_ties False: a nan result gives every element nan,
# as torch's amax) or the full max()/min() (nan_ties True: the nans share the gradient).

def _extreme_value(xs: list, constant: tuple) -> float:
    if builtins.any(math.isnan(x) for x in xs):
        return math.nan
    return builtins.max(xs) if constant[0] else builtins.min(xs)


def _d_extreme(maths, xs, y, constant):
    y = getattr(y, "data", y)
    nan = constant[1] and math.isnan(y)
    tied = [1.0 if (x == y or (nan and math.isnan(x))) else 0.0 for x in (getattr(x, "data", x) for x in xs)]
    count = builtins.sum(tied)
    return [FloatMath.div(t, count) for t in tied]


_extreme = Op("amax", _extreme_value, _d_extreme, arity="n", constant=True,
              label=lambda constant: ("a" if not constant[1] else "") + ("max" if constant[0] else "min"))


def extreme(xs: Sequence[ScalarOrNumber], largest: bool = True, nan_ties: bool = False) -> Scalar:
    """The largest (or smallest) of ``xs`` as one node whose gradient is split evenly among the elements
    equal to it: torch's ``amax``/``amin``, or with ``nan_ties`` its ``max()``/``min()`` of all elements
    (a nan result shares the gradient among the nans rather than giving nan)."""
    xs = _constants(to_lists(xs, deep=False), "extreme")
    if not xs:
        raise ValueError("extreme of an empty sequence")
    constant = (largest, nan_ties)
    return make_node(_extreme, xs, _extreme_value([x.data for x in xs], constant), constant)


extreme.op = _extreme


# ---- max and min along a dimension: the gradient to the one element picked --------------------------

def pick_index(values: Sequence[float], largest: bool = True) -> int:
    """Index of the largest (or smallest) value: the first on ties, and the first nan if there is one
    (torch's ``max(dim)``, ``argmax`` on CPU)."""
    if len(values) == 0:
        raise ValueError("pick_index of an empty sequence")
    best = 0
    for i, v in enumerate(values):
        if math.isnan(v):
            return i
        if (v > values[best]) if largest else (v < values[best]):
            best = i
    return best


def _d_pick(maths, xs, y, constant):
    picked = pick_index([getattr(x, "data", x) for x in xs], constant)
    return [1.0 if i == picked else 0.0 for i in range(len(xs))]


_pick = Op("max", lambda xs, constant: xs[pick_index(xs, constant)], _d_pick, arity="n", constant=True,
           label=lambda constant: "max" if constant else "min")


def pick(xs: Sequence[ScalarOrNumber], largest: bool = True) -> tuple[Scalar, int]:
    """The largest (or smallest) of ``xs`` as one node whose gradient goes to the element ``pick_index``
    picks, and that index."""
    xs = _constants(to_lists(xs, deep=False), "pick")
    if not xs:
        raise ValueError("pick of an empty sequence")
    datas = [x.data for x in xs]
    index = pick_index(datas, largest)
    return make_node(_pick, xs, datas[index], largest), index


pick.op = _pick


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
