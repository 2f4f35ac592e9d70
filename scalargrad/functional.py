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
import numbers
from collections.abc import Sequence
from operator import mul
from typing import Union

from . import scalar as _engine
from .scalar import (
    FloatMath,
    Scalar,
    _binary,
    _fexp,
    _flog,
    _fsigmoid,
    _fsoftplus,
    _nary,
    binary_replay,
    is_grad_enabled,
    nary_replay,
    register_op_name,
    register_replay,
)

__all__ = ["ACTIVATIONS", "dot", "linear", "log_softmax", "logsumexp", "matmul", "matvec", "max_index", "mean",
           "neuron", "softmax", "sum", "window_max"]

Value = Union[Scalar, float, int]
_JUST_FLOAT = {float}


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

def sum(xs: Sequence[Value], start: float = 0.0) -> Scalar:
    """Sum of Scalars (numbers allowed) as one node with n parents."""
    scalars, datas, const = _split(xs, "sum")
    offset = const + start
    y = builtins.sum(datas, 0.0) + offset
    return _nary(tuple(scalars), y, _d_sum(FloatMath, datas, y, offset), _d_sum, offset)


def _d_sum(M, xs, y, c):
    return [1.0] * len(xs)


# ---- mean: y = sum x_i / n, dy/dx_i = 1/n --------------------------------------

def mean(xs: Sequence[Value]) -> Scalar:
    """Arithmetic mean as one node with n parents."""
    n = len(xs)
    if n == 0:
        raise ValueError("mean of an empty sequence")
    scalars, datas, const = _split(xs, "mean")
    y = (builtins.sum(datas, 0.0) + const) / n
    c = (1.0 / n, const, n)
    return _nary(tuple(scalars), y, _d_mean(FloatMath, datas, y, c), _d_mean, c)


def _d_mean(M, xs, y, c):  # c = (1 / n, sum of the plain numbers, n)
    return [c[0]] * len(xs)


# ---- dot: y = sum w_i x_i (+ b), dy/dw_i = x_i, dy/dx_i = w_i, dy/db = 1 ------------

def dot(ws: Sequence[Value], xs: Sequence[Value], bias: Value = None) -> Scalar:
    """sum(w * x for w, x in zip(ws, xs)) (+ bias) as one node.

    Either side may hold plain floats: a side of numbers (a network's input,
    say) adds no parents, and its values are kept as the derivatives.
    """
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot: the sequences have different lengths ({n} and {len(xs)})")
    w_data, x_data = _side(ws), _side(xs)
    if w_data is None or x_data is None or not (bias is None or isinstance(bias, Scalar)):
        return _mixed_dot(ws, xs, bias)  # Scalars and numbers mixed within a side, or a constant bias
    w_scalars = n == 0 or isinstance(ws[0], Scalar)
    x_scalars = n == 0 or isinstance(xs[0], Scalar)
    if x_scalars and not w_scalars:  # make ws the recorded side; the product is symmetric
        ws, xs, w_data, x_data, w_scalars, x_scalars = xs, ws, x_data, w_data, True, False
    y = builtins.sum(map(mul, w_data, x_data), 0.0)
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
        return _nary((*ws, *xs, *tail), y, _d_dot(FloatMath, values, y, None), _d_dot)
    partners = x_data + [1.0] if has_bias else x_data
    return _nary((*ws, *tail), y, _d_dot(FloatMath, None, y, partners), _d_dot, partners)


def _mixed_dot(ws: Sequence[Value], xs: Sequence[Value], bias: Value) -> Scalar:
    """dot where a side mixes Scalars and numbers: parents are the Scalars, in order.

    Its node cannot be replayed: the products of numbers with numbers are folded into its value.
    """
    w_rec = [(w, x) for w, x in zip(ws, xs) if isinstance(w, Scalar)]
    x_rec = [(x, w) for w, x in zip(ws, xs) if isinstance(x, Scalar)]
    pairs = w_rec + x_rec + ([(bias, 1.0)] if isinstance(bias, Scalar) else [])
    y = builtins.sum(_value(w, "dot") * _value(x, "dot") for w, x in zip(ws, xs))
    if bias is not None:
        y += _value(bias, "dot bias")
    parents = tuple(p for p, _ in pairs)
    partners = [q for _, q in pairs]
    local = [_value(q, "dot") for q in _d_dot(FloatMath, None, y, partners)]
    return _nary(parents, y, local, _d_mixed_dot, partners)


def _d_mixed_dot(M, xs, y, partners):  # as _d_dot with partners; not replayable (constant pairs are folded in)
    return partners


def _d_dot(M, xs, y, partners):
    if partners is not None:  # a side held numbers: what each parent was multiplied by
        return partners
    n = len(xs) // 2  # parents are ws + xs (+ bias): each gets its partner
    d = list(xs[n:2 * n])
    d += xs[:n]
    if len(xs) % 2:
        d.append(1.0)
    return d


def _dot_value(xs, partners):  # the float expressions of dot() and linear()
    if partners is not None:  # a bias's partner is 1.0, and b * 1.0 is exactly b
        return builtins.sum(map(mul, xs, partners), 0.0)
    n = len(xs) // 2
    y = builtins.sum(map(mul, xs[:n], xs[n:2 * n]), 0.0)
    return y + xs[-1] if len(xs) % 2 else y


# ---- neuron: y = act(w . x + b), one node ------------------------------------------
# dy/dw_i = act'(z) x_i, dy/dx_i = act'(z) w_i, dy/db = act'(z). Each derivative is
# written from the output y, so the rule can run on Scalars for create_graph.

_ACTIVATIONS = {  # name: (y from the pre-activation z, act'(z) from y)
    "identity": (lambda z, slope: z, lambda M, y, slope: 1.0),
    "relu": (lambda z, slope: 0.0 if z <= 0.0 else z, lambda M, y, slope: 0.0 if y <= 0.0 else 1.0),
    "leaky_relu": (lambda z, slope: z if z > 0.0 else z * slope, lambda M, y, slope: 1.0 if y > 0.0 else slope),
    "sigmoid": (lambda z, slope: _fsigmoid(z), lambda M, y, slope: y * (1.0 - y)),
    "tanh": (lambda z, slope: math.tanh(z), lambda M, y, slope: 1.0 - y * y),
    "softplus": (lambda z, slope: _fsoftplus(z), lambda M, y, slope: -M.expm1(-y)),
}

ACTIVATIONS = tuple(_ACTIVATIONS)  # the activation names neurons and layers accept


def _check_activation(name: str) -> str:
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(_ACTIVATIONS)}")
    return name


def linear(weights: Sequence[Sequence[Value]], x: Sequence[Value], biases: Sequence[Value] | None = None,
           activation: str = "identity", slope: float = 0.01) -> list[Scalar]:
    """``[activation(dot(w, x) + b) for w, b in zip(weights, biases)]``, one node per output.

    The input side is read once for the whole layer. A ReLU that is off
    (output 0, gradient 0) comes back as a constant with no parents, so
    backward never walks into it. ``activation`` is one of
    'identity', 'relu', 'leaky_relu' (with ``slope`` >= 0), 'sigmoid', 'tanh', 'softplus'.

    >>> from scalargrad import Scalar
    >>> w = [[Scalar(1.0), Scalar(-1.0)], [Scalar(0.5), Scalar(0.5)]]
    >>> [y.data for y in linear(w, [2.0, 3.0], activation='relu')]
    [0.0, 2.5]
    """
    value_of = _ACTIVATIONS[_check_activation(activation)][0]
    x_data = _side(x)
    n = len(x)
    if x_data is None or (weights and set(map(len, weights)) != {n}):  # unusual inputs: the general path
        return [_activate(dot(w, x, b), activation, slope)
                for w, b in zip(weights, biases if biases is not None else [None] * len(weights))]
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"linear: {len(weights)} weight rows but {len(biases)} biases")
    if _engine._replay_build is not None:
        return _replay_linear(weights, x, x_data, biases, activation, slope, _engine._replay_build)
    x_recorded = tuple(x) if n and isinstance(x[0], Scalar) else ()
    recording = is_grad_enabled()  # under no_grad only the values are needed
    prune = activation == "relu"
    d_act = _ACTIVATIONS[activation][1]
    ctx = (activation, slope, None)
    if not x_recorded:  # a network's input: its values are the weights' derivatives, for every neuron
        ctx = (activation, slope, x_data + [1.0] if biases is not None else x_data)
    out = []
    append = out.append
    # The hot loop of every MLP: kept to list building at C speed and one node per neuron.
    for j, w in enumerate(weights):
        b = biases[j] if biases is not None else None
        try:
            w_data = [p.data for p in w] if n == 0 or type(w[0]) is Scalar else None
            z = builtins.sum(map(mul, w_data, x_data), 0.0) + (0.0 if b is None else b.data)
        except (AttributeError, TypeError):  # weights that are not all Scalars: the general path
            w_data = None
        if w_data is None:
            append(_activate(dot(w, x, b), activation, slope))
            continue
        y = value_of(z, slope)
        if not recording or (prune and y <= 0.0):  # (a ReLU that is off passes nothing back: torch masks)
            append(_nary((), y, None, None))
            continue
        tail = (b,) if b is not None else ()
        if x_recorded:
            partners = x_data + w_data
            if b is not None:
                partners.append(1.0)
            parents = (*w, *x_recorded, *tail)
        else:
            partners = ctx[2]
            parents = (*w, *tail)
        d = d_act(FloatMath, y, slope)  # _d_neuron on floats: act'(y) times each partner
        append(_nary(parents, y, partners if d == 1.0 else [d * v for v in partners], _d_neuron, ctx))
    return out


def _replay_linear(weights, x, x_data, biases, activation, slope, build) -> list[Scalar]:
    """``linear`` while a Replay is built: a fixed structure, values read through shared gathers.

    Every neuron becomes a node, ReLUs that are off included (with no
    derivatives, so backward passes nothing through them, as torch masks).
    A neuron's weights (and bias) are read once per replayed step for the
    whole batch, and a sample's input once for all the layer's neurons.
    The parents are (inputs, weights, bias) when the input is recorded, else
    (weights, bias): a Replay's fed inputs need no gradient, so they are
    treated like a network's input of plain numbers.
    """
    extra = [1.0] if biases is not None else []  # the bias's partner
    x_recorded = tuple(x) if x and isinstance(x[0], Scalar) else ()
    if x_recorded and not all(id(v) in build.input_ids for v in x_recorded):
        inputs, partners = _engine._Gather(x_recorded, extra), None
    else:
        inputs = _engine._Gather(x_recorded, extra) if x_recorded else _engine._Gather((), x_data + extra)
        partners, x_recorded = inputs.values, ()
    out = []
    for j, w in enumerate(weights):
        b = biases[j] if biases is not None else None
        if not all(type(p) is Scalar for p in w) or not (b is None or isinstance(b, Scalar)):
            out.append(_activate(dot(w, x, b), activation, slope))  # the general path
            continue
        params = (*w, b) if b is not None else tuple(w)
        node = _nary((*x_recorded, *params), 0.0, None, _d_neuron,
                     (activation, slope, partners, build.gather(params), inputs))
        _replay_neuron(node)
        out.append(node)
    return out


def neuron(w: Sequence[Value], x: Sequence[Value], b: Value = None, activation: str = "identity",
           slope: float = 0.01) -> Scalar:
    """``activation(dot(w, x) + b)`` as one node; see ``linear``."""
    return linear([w], x, None if b is None else [b], activation, slope)[0]


def _d_neuron(M, xs, y, c):  # c = (activation, slope, partners or None[, weight and input gathers])
    activation, slope, partners = c[0], c[1], c[2]
    if partners is None:  # parents are ws + xs (+ bias), or xs + ws (+ bias): each gets its partner
        partners = _d_dot(M, xs, y, None)
    d = _ACTIVATIONS[activation][1](M, y, slope)
    if type(d) is float and d == 1.0:
        return partners
    return [d * p for p in partners]


def _replay_neuron(node: Scalar) -> None:
    ctx = node._ctx
    activation, slope, partners = ctx[0], ctx[1], ctx[2]
    value_of, d_act = _ACTIVATIONS[activation]
    if len(ctx) == 5:  # built by _replay_linear
        w, x = ctx[3].values, ctx[4].values
        node.data = y = value_of(builtins.sum(map(mul, w, x), 0.0), slope)  # a bias meets its partner 1.0
        d = d_act(FloatMath, y, slope)
        if d == 0.0 and activation == "relu":  # an off ReLU passes nothing back, as torch masks
            node._da = ()
            return
        local = x if partners is not None else w[:len(ctx[4].sources)] + x
        node._da = local if d == 1.0 else [d * v for v in local]
        return
    xs = [p.data for p in node._a]  # a neuron made by linear() outside a Replay build
    z = _dot_value(xs, partners)
    if partners is None:
        partners = _d_dot(FloatMath, xs, z, None)
    node.data = y = value_of(z, slope)
    d = d_act(FloatMath, y, slope)
    node._da = partners if d == 1.0 else [d * v for v in partners]


def _activate(y: Scalar, activation: str, slope: float) -> Scalar:
    if activation == "identity":
        return y
    if activation == "leaky_relu":
        return y.leaky_relu(slope)
    return getattr(y, activation)()


def _side(values: Sequence[Value]):
    """Floats of an all-Scalar or all-number sequence; None if it mixes the two."""
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
    return [_value(v, "dot") for v in values]


def _value(x: Value, what: str) -> float:
    if isinstance(x, Scalar):
        return x.data
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):  # ints, numpy numbers
        return float(x)
    raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")


def _scalars(xs: Sequence[Scalar], what: str) -> list[Scalar]:
    if len(xs) == 0:
        raise ValueError(f"{what} of an empty sequence")
    if not all(isinstance(x, Scalar) for x in xs):
        raise TypeError(f"{what}: every element must be a Scalar")
    return list(xs)


def _max_and_sum(datas: list) -> tuple[float, float]:
    """(m, sum of e^(x - m)) with m the largest value: nothing overflows."""
    m = max(datas)
    if math.isinf(m) or math.isnan(m):
        return m, 1.0
    return m, builtins.sum(_fexp(d - m) for d in datas)


# ---- logsumexp: y = log sum e^x_i, dy/dx_i = softmax_i = e^(x_i - y) --------------

def logsumexp(xs: Sequence[Scalar]) -> Scalar:
    """log(sum(exp(x))) as one node, stable for inputs of any magnitude."""
    return _logsumexp(_scalars(xs, "logsumexp"), None)


def _logsumexp(xs: list[Scalar], stats: list | None) -> Scalar:
    """The logsumexp node; ``stats``, if given, receives [max, sum e^(x - max), its log] (for softmax)."""
    datas = [x.data for x in xs]
    node = _nary(tuple(xs), 0.0, None, _d_logsumexp, stats)
    _replay_logsumexp(node, datas)
    return node


def _replay_logsumexp(node: Scalar, datas: list | None = None) -> None:
    if datas is None:
        datas = [x.data for x in node._a]
    m, s = _max_and_sum(datas)
    log_s = _flog(s)
    node.data = y = m + log_s
    if node._a is not None:
        node._da = _d_logsumexp(FloatMath, datas, y, None)
    if node._ctx is not None:
        node._ctx[:] = m, s, log_s


def _d_logsumexp(M, xs, y, c):
    return [M.exp(x - y) for x in xs]


def log_softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """x_i - logsumexp(x): log-probabilities, stable for any logits.

    Each value is computed as (x_i - max) - log(sum e^(x - max)), which keeps
    the digits that x_i - logsumexp would lose for large logits.
    """
    stats = [0.0, 0.0, 0.0]
    lse = _logsumexp(_scalars(xs, "log_softmax"), stats)
    m, _, log_s = stats
    return [_binary(x, lse, (x.data - m) - log_s, _d_log_softmax, stats) for x in xs]


def _d_log_softmax(M, x, lse, y, stats):  # y = (x - max) - log(sum e^(x - max)) = x - lse
    return 1.0, -1.0


# ---- softmax: p_i = e^(x_i - L), L = logsumexp(x); dp_i/dx_i = p_i, dp_i/dL = -p_i

def softmax(xs: Sequence[Scalar]) -> list[Scalar]:
    """Probabilities exp(x_i) / sum(exp(x)) as n + 1 nodes (O(n) edges, not n^2)."""
    stats = [0.0, 0.0, 0.0]
    lse = _logsumexp(_scalars(xs, "softmax"), stats)
    m, s, _ = stats
    return [_binary(x, lse, _fexp(x.data - m) / s, _d_softmax, stats) for x in xs]


def _d_softmax(M, x, lse, y, stats):
    return y, -y


# ---- the maximum of a window (max pooling) ------------------------------------------

def max_index(values: Sequence[float]) -> int:
    """Index of the largest value: the first on ties, as torch's max pooling; a nan wins."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best] or math.isnan(v):
            best = i
    return best


def window_max(xs: Sequence[Value]) -> Scalar:
    """The largest of ``xs`` as one node over all of them (derivative 1 for the one picked, else 0).

    ``MaxPool2D`` uses it while a Replay is built, so the graph stays the same
    whichever element is largest; otherwise pooling just passes the largest
    element on. Numbers among ``xs`` become constants.
    """
    xs = tuple(x if isinstance(x, Scalar) else Scalar(_value(x, "window_max")) for x in xs)
    datas = [x.data for x in xs]
    y = datas[max_index(datas)]
    return _nary(xs, y, _d_window_max(FloatMath, datas, y, None), _d_window_max)


def _d_window_max(M, xs, y, c):
    picked = max_index([x.data if isinstance(x, Scalar) else x for x in xs])
    return [1.0 if i == picked else 0.0 for i in range(len(xs))]


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


for _rule, _name in ((_d_sum, "sum"), (_d_mean, "mean"), (_d_dot, "dot"), (_d_mixed_dot, "dot"),
                     (_d_logsumexp, "logsumexp"), (_d_log_softmax, "log_softmax"), (_d_softmax, "softmax"),
                     (_d_window_max, "max")):
    register_op_name(_rule, _name)
register_op_name(_d_neuron, lambda c: "dot" if c[0] == "identity" else f"{c[0]}(dot)")

# Replay (scalargrad.replay): each value below is the expression its op computes above.
register_replay(_d_sum, nary_replay(_d_sum, lambda xs, offset: builtins.sum(xs, 0.0) + offset))
register_replay(_d_mean, nary_replay(_d_mean, lambda xs, c: (builtins.sum(xs, 0.0) + c[1]) / c[2]))
register_replay(_d_dot, nary_replay(_d_dot, _dot_value))
register_replay(_d_neuron, _replay_neuron, gathers=lambda node: node._ctx[3:])
register_replay(_d_window_max, nary_replay(_d_window_max, lambda xs, c: xs[max_index(xs)]))
register_replay(_d_logsumexp, _replay_logsumexp)
register_replay(_d_log_softmax, binary_replay(_d_log_softmax, lambda x, lse, st: (x - st[0]) - st[2]))
register_replay(_d_softmax, binary_replay(_d_softmax, lambda x, lse, st: _fexp(x - st[0]) / st[1]))
