"""List-level ops on Scalars.

``sum``, ``dot``, ``mean`` and ``logsumexp`` over n inputs make ONE node with
n parents, so back-propagating through them costs one multiply-add per input,
as hand-written float code would. ``softmax`` and ``log_softmax`` are built on
``logsumexp`` and are stable for logits of any magnitude.

>>> from scalargrad import Scalar
>>> from scalargrad import functional as F
>>> w = [Scalar(0.5), Scalar(-1.0)]
>>> y = F.dot(w, [2.0, 3.0])       # one node with two parents
>>> y.backward()
>>> y.data, w[0].grad, w[1].grad
(-2.0, 2.0, 3.0)
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from operator import mul
from typing import Union

from .scalar import Scalar, _fexp, _flog, _node, register_op_name

__all__ = ["dot", "log_softmax", "logsumexp", "matmul", "matvec", "mean", "softmax", "sum"]

Value = Union[Scalar, float, int]


def _split(xs: Sequence[Value], what: str):
    """Separate Scalars from plain numbers: (scalars, their floats, sum of numbers)."""
    scalars, datas, const = [], [], 0.0
    for x in xs:
        if isinstance(x, Scalar):
            scalars.append(x)
            datas.append(x.data)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            const += float(x)
        else:
            raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")
    return scalars, datas, const


# ---- sum: y = sum x_i, dy/dx_i = 1 --------------------------------------------

def _sum_rule(M, xs, y, c):
    return [1.0] * len(xs)


def sum(xs: Sequence[Value], start: float = 0.0) -> Scalar:
    """Sum of Scalars (numbers allowed) as one node with n parents."""
    scalars, datas, const = _split(xs, "sum")
    return _node(builtins.sum(datas) + const + start, tuple(scalars), [1.0] * len(scalars), _sum_rule)


# ---- mean: y = sum x_i / n, dy/dx_i = 1/n --------------------------------------

def _mean_rule(M, xs, y, c):
    return [c] * len(xs)


def mean(xs: Sequence[Value]) -> Scalar:
    """Arithmetic mean as one node with n parents."""
    n = len(xs)
    if n == 0:
        raise ValueError("mean of an empty sequence")
    scalars, datas, const = _split(xs, "mean")
    inv = 1.0 / n
    return _node((builtins.sum(datas) + const) / n, tuple(scalars), [inv] * len(scalars), _mean_rule, inv)


# ---- dot: y = sum w_i x_i, dy/dw_i = x_i, dy/dx_i = w_i --------------------------

def _dot_rule(M, xs, y, partners):
    # partners[i] is what parent i was multiplied by; when both sides are all
    # Scalars they are not stored: the parents are ws + xs and the partners
    # are the same list with its halves swapped.
    if partners is not None:
        return partners
    n = len(xs) // 2
    return xs[n:] + xs[:n]


def dot(ws: Sequence[Value], xs: Sequence[Value], bias: Value = None) -> Scalar:
    """sum(w * x for w, x in zip(ws, xs)) (+ bias) as one node.

    Either side may hold plain floats; only Scalars become parents.
    """
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot: the sequences have different lengths ({n} and {len(xs)})")
    # All Scalars? numpy scalars have a .data attribute too (a memoryview),
    # so the first element's type decides before .data is collected.
    try:
        wd = [w.data for w in ws] if n == 0 or isinstance(ws[0], Scalar) else None
        w_all = wd is not None
    except AttributeError:
        w_all = False
    try:
        xd = [x.data for x in xs] if n == 0 or isinstance(xs[0], Scalar) else None
        x_all = xd is not None
    except AttributeError:
        x_all = False

    if w_all and x_all:  # both sides recorded: partners are implied
        data = builtins.sum(map(mul, wd, xd), 0.0)  # 0.0: a float even when empty
        prev, local, partners = (*ws, *xs), xd + wd, None
    elif w_all and _all_numbers(xs):  # constant inputs, e.g. a network's first layer
        local = partners = [float(x) for x in xs]
        data = builtins.sum(map(mul, wd, local))
        prev = tuple(ws)
    elif x_all and _all_numbers(ws):
        local = partners = [float(w) for w in ws]
        data = builtins.sum(map(mul, local, xd))
        prev = tuple(xs)
    else:  # a mix of Scalars and numbers on the same side
        prev_l, partners, data = [], [], 0.0
        for w, x in zip(ws, xs):
            wv, xv = _value(w, "dot"), _value(x, "dot")
            data += wv * xv
            if isinstance(w, Scalar):
                prev_l.append(w)
                partners.append(x)
            if isinstance(x, Scalar):
                prev_l.append(x)
                partners.append(w)
        prev = tuple(prev_l)
        local = [_value(p, "dot") for p in partners]
    rule = _dot_rule
    if isinstance(bias, Scalar):
        data += bias.data
        prev += (bias,)
        local = local + [1.0]
        if partners is None:
            rule = _dot_bias_rule
        else:
            partners = partners + [1.0]
    elif bias is not None:
        data += _value(bias, "dot bias")
    return _node(data, prev, local, rule, partners)


def _dot_bias_rule(M, xs, y, c):  # both sides recorded, bias last
    n = (len(xs) - 1) // 2
    return xs[n:2 * n] + xs[:n] + (1.0,)


def _all_numbers(xs) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)


def _value(x: Value, what: str) -> float:
    if isinstance(x, Scalar):
        return x.data
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")


# ---- logsumexp: y = log sum e^x_i, dy/dx_i = softmax_i = e^(x_i - y) --------------

def _logsumexp_rule(M, xs, y, c):
    return [M.exp(x - y) for x in xs]


def logsumexp(xs: Sequence[Scalar]) -> Scalar:
    """log(sum(exp(x))) as one node, stable for inputs of any magnitude."""
    if len(xs) == 0:
        raise ValueError("logsumexp of an empty sequence")
    scalars, datas, _const = _split(xs, "logsumexp")
    if len(scalars) != len(xs):
        raise TypeError("logsumexp: every element must be a Scalar")
    m = max(datas)
    if m == math.inf or m == -math.inf:
        y = m
    else:
        y = m + _flog(builtins.sum(_fexp(d - m) for d in datas))
    return _node(y, tuple(scalars), [_fexp(d - y) for d in datas], _logsumexp_rule)


def log_softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """x_i - logsumexp(x): log-probabilities, stable for any logits."""
    lse = logsumexp(xs)
    return [x - lse for x in xs]


# ---- softmax: p_i = e^(x_i - L) with L = logsumexp(x); dp_i/dx_i = p_i, dp_i/dL = -p_i

def _exp_diff_rule(M, xs, y, c):
    return (y, -y)


def softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """Probabilities exp(x_i) / sum(exp(x)) as n + 1 nodes (O(n) edges, not n^2)."""
    lse = logsumexp(xs)
    L = lse.data
    out = []
    for x in xs:
        p = _fexp(x.data - L)
        out.append(_node(p, (x, lse), (p, -p), _exp_diff_rule))
    return out


# ---- matrices as nested lists ------------------------------------------------------

def matvec(W: Sequence[Sequence[Value]], x: Sequence[Value]) -> list[Scalar]:
    """[dot(row, x) for row in W]."""
    return [dot(row, x) for row in W]


def matmul(A: Sequence[Sequence[Value]], B: Sequence[Sequence[Value]]) -> list[list[Scalar]]:
    """A @ B for nested lists (m x k times k x n)."""
    if A and len(A[0]) != len(B):
        raise ValueError(f"matmul: shapes do not match ({len(A)}x{len(A[0])} and "
                         f"{len(B)}x{len(B[0]) if B else 0})")
    if any(len(row) != len(B[0]) for row in B):  # zip would silently drop columns
        raise ValueError("matmul: the rows of B have different lengths")
    columns = list(zip(*B))
    return [[dot(row, col) for col in columns] for row in A]


for _rule, _name in ((_sum_rule, "sum"), (_mean_rule, "mean"), (_dot_rule, "dot"),
                     (_dot_bias_rule, "dot"), (_logsumexp_rule, "logsumexp"),
                     (_exp_diff_rule, "softmax")):
    register_op_name(_rule, _name)
