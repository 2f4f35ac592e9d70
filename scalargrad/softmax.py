"""Softmax, log-softmax and logsumexp: exact for logits of any size, masked (-inf) ones included.

``logsumexp`` over n inputs is one node; ``softmax`` and ``log_softmax``
add one node per input on top of it (O(n) edges, not n^2). Every value is
computed as torch does: shift by the largest logit, then subtract the log of
the sum, so logits of 1e16 or 1e308 lose no digits.

>>> from scalargrad import Scalar
>>> [round(p.data, 4) for p in softmax([Scalar(1e16), Scalar(1e16)])]
[0.5, 0.5]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from . import _floats as fl
from ._util.nested import to_lists
from .extend import FloatMath, Op, Scalar, make_node

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _scalars(xs: Sequence[Scalar], what: str) -> list[Scalar]:
    """The logits as a list (a numpy array of Scalars becomes one); TypeError for anything but Scalars."""
    xs = to_lists(xs, deep=False)
    if len(xs) == 0:
        raise ValueError(f"{what} of an empty sequence")
    if not all(isinstance(x, Scalar) for x in xs):
        raise TypeError(f"{what}: every element must be a Scalar "
                        "(for numbers, pass [Scalar(v) for v in values])")
    return list(xs)


# ---- logsumexp: y = log sum e^x_i, dy/dx_i = softmax_i = e^(x_i - y) --------------
# The constant is a list [max, sum e^(x - max), its log] that softmax and
# log_softmax read; recomputing the node refreshes it.

def _logsumexp_parts(xs: list[float], constant: list) -> float:
    m, s = fl.logsumexp_parts(xs)
    log_s = fl.log(s)
    constant[:] = m, s, log_s
    return m + log_s


def _d_logsumexp(maths, xs, y, constant):
    """softmax_i = e^((x_i - max) - log(sum e^(x - max))): exact where x_i - y would lose digits (|x| ~ 1e16).

    On Scalars (create_graph) the log of the sum is recomputed as a recorded
    expression, so the second derivative flows through it too.
    """
    m = constant[0]
    log_s = constant[2] if type(y) is float else maths.log(builtins.sum([maths.exp(x - m) for x in xs]))
    return [maths.exp((x - m) - log_s) for x in xs]


def _recompute_logsumexp(parents: tuple, constant: list) -> tuple:
    xs = [p.data for p in parents]
    y = _logsumexp_parts(xs, constant)
    return y, _d_logsumexp(FloatMath, xs, y, constant)


_logsumexp = Op("logsumexp", _logsumexp_parts, _d_logsumexp, arity="n", constant=True,
                recompute=_recompute_logsumexp)


def logsumexp(xs: Sequence[Scalar]) -> Scalar:
    """log(sum(exp(x))) as one node, stable for inputs of any magnitude."""
    return _logsumexp_node(_scalars(xs, "logsumexp"))[0]


def _logsumexp_node(xs: list[Scalar]) -> tuple[Scalar, list]:
    """The logsumexp node over ``xs``, and its constant [max, sum, log of sum] (which it refreshes when
    replayed)."""
    constant = [0.0, 0.0, 0.0]
    y, local = _recompute_logsumexp(tuple(xs), constant)
    return make_node(_logsumexp, tuple(xs), y, constant, local), constant


# ---- log_softmax: y_i = (x_i - max) - log(sum e^(x - max)) = x_i - logsumexp(x) -------
# Each node's constant is the logsumexp node's list [max, sum, log of sum].

_log_softmax = Op("log_softmax", lambda x, lse, constant: (x - constant[0]) - constant[2],
                  lambda maths, x, lse, y, constant: (1.0, -1.0), arity=2, constant=True)


def log_softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """x_i - logsumexp(x): log-probabilities, stable for any logits.

    Each value is computed as (x_i - max) - log(sum e^(x - max)), which keeps
    the digits that x_i - logsumexp would lose for large logits.

    >>> from scalargrad import Scalar
    >>> [round(v.data, 4) for v in log_softmax([Scalar(0.0), Scalar(2.0)])]
    [-2.1269, -0.1269]
    """
    xs = _scalars(xs, "log_softmax")
    lse, constant = _logsumexp_node(xs)
    return [make_node(_log_softmax, (x, lse), _log_softmax.value(x.data, lse.data, constant), constant)
            for x in xs]


# ---- softmax: p_i = e^(x_i - L), L = logsumexp(x); dp_i/dx_i = p_i, dp_i/dL = -p_i

_softmax = Op("softmax", lambda x, lse, constant: fl.exp(x - constant[0]) / constant[1],
              lambda maths, x, lse, y, constant: (y, -y), arity=2, constant=True)


def softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """Probabilities exp(x_i) / sum(exp(x)) as n + 1 nodes (O(n) edges, not n^2)."""
    xs = _scalars(xs, "softmax")
    lse, constant = _logsumexp_node(xs)
    return [make_node(_softmax, (x, lse), _softmax.value(x.data, lse.data, constant), constant) for x in xs]
