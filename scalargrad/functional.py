"""List-level ops on Scalars.

``sum``, ``dot``, ``mean``, a fused neuron and ``logsumexp`` over n inputs
make ONE node with n parents, so back-propagating through them costs one
multiply-add per input, as hand-written float code would. ``softmax``,
``log_softmax`` and ``logsumexp`` live in ``scalargrad.softmax`` and are
gathered here. Every op takes numpy arrays where it takes lists of numbers,
and gives exactly what the lists (``array.tolist()``) give.

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
from collections.abc import Iterable, Sequence
from operator import mul as times  # (functional.mul is the elementwise op of nested_ops)
from typing import Callable, Union

from ._util.checks import is_number, number, one_of
from ._util.nested import to_lists
from .extend import (
    FloatMath,
    Op,
    Scalar,
    SharedValues,
    current_replay_build,
    is_grad_enabled,
    make_node,
    new_node,
)
from .op import chained_sum, times_source
from .softmax import log_softmax, logsumexp, softmax

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
        elif is_number(x):
            const += float(x)
        else:
            raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")
    return scalars, datas, const


# ---- sum: y = sum x_i, dy/dx_i = 1 --------------------------------------------

def _summed_lines(y: str, terms: list, then: str, comment: str) -> list:
    """Compiled code's lines for ``y = then.format(sum(terms, 0.0))``, as long as the sum is."""
    head, expression = chained_sum(y, terms)
    return [*((line, comment) for line in head), (f"{y} = {then.format(expression)}", comment)]


_sum = Op("sum", lambda xs, offset: builtins.sum(xs, 0.0) + offset, lambda maths, xs, y, const: [1.0] * len(xs),
          arity="n", constant=True,
          inline=lambda offset, xs, y, name_of, fresh: (_summed_lines(y, [*xs, name_of(offset)], "{}", "sum"),
                                                         ["1.0"] * len(xs), None))


def sum(xs: Iterable[Value], start: Value = 0.0) -> Scalar:
    """Sum of Scalars (numbers allowed) as one node with n parents; ``start`` may be a Scalar too."""
    scalars, datas, const = _split([*to_lists(xs, deep=False), to_lists(start, deep=False)], "sum")
    offset = const
    return make_node(_sum, tuple(scalars), builtins.sum(datas, 0.0) + offset, offset, [1.0] * len(datas))


# ---- mean: y = sum x_i / n, dy/dx_i = 1/n --------------------------------------

_mean = Op("mean", lambda xs, c: (builtins.sum(xs, 0.0) + c[1]) / c[2],
           lambda maths, xs, y, const: [const[0]] * len(xs), arity="n", constant=True,  # const: (1 / n, numbers, n)
           inline=lambda c, xs, y, name_of, fresh: (_summed_lines(y, [*xs, name_of(c[1])], f"({{}}) / {c[2]}", "mean"),
                                                     [name_of(c[0])] * len(xs), None))


def mean(xs: Iterable[Value]) -> Scalar:
    """Arithmetic mean as one node with n parents."""
    xs = to_lists(xs, deep=False)
    xs = xs if isinstance(xs, (list, tuple)) else list(xs)
    n = len(xs)
    if n == 0:
        raise ValueError("mean of an empty sequence")
    scalars, datas, const = _split(xs, "mean")
    c = (1.0 / n, const, n)
    return make_node(_mean, tuple(scalars), (builtins.sum(datas, 0.0) + const) / n, c, [c[0]] * len(datas))


# ---- dot: y = sum w_i x_i (+ b), dy/dw_i = x_i, dy/dx_i = w_i, dy/db = 1 ------------
# The parents are ws + xs (+ bias) when both sides are recorded (constant None),
# or the recorded side (+ bias) with ``partners``, what each was multiplied by.

def _dot_value(xs, partners):
    """The float value of a dot node (and a neuron's pre-activation), on floats or on Scalars."""
    if partners is not None:  # a bias's partner is 1.0, and b * 1.0 is exactly b
        return builtins.sum(map(times, xs, partners), 0.0)
    n = len(xs) // 2
    y = builtins.sum(map(times, xs[:n], xs[n:2 * n]), 0.0)
    return y + xs[-1] if len(xs) % 2 else y


def _d_dot(maths, xs, y, partners):
    if partners is not None:  # a side held numbers: what each parent was multiplied by
        return partners
    n = len(xs) // 2  # each parent gets its partner
    d = list(xs[n:2 * n])
    d += xs[:n]
    if len(xs) % 2:
        d.append(1.0)
    return d


_dot = Op("dot", _dot_value, _d_dot, arity="n", constant=True)


def dot(ws: Sequence[Value], xs: Sequence[Value], bias: Value = None) -> Scalar:
    """sum(w * x for w, x in zip(ws, xs)) (+ bias) as one node.

    Either side may hold plain floats: a side of numbers (a network's input,
    say) adds no parents, and its values are kept as the derivatives.
    """
    ws, xs, bias = to_lists(ws, deep=False), to_lists(xs, deep=False), to_lists(bias, deep=False)
    n = len(ws)
    if len(xs) != n:
        raise ValueError(f"dot: the sequences have different lengths ({n} and {len(xs)})")
    w_data, x_data = _floats_of(ws), _floats_of(xs)
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
        return make_node(_dot, (*ws, *xs, *tail), y, None, _d_dot(FloatMath, values, y, None))
    partners = x_data + [1.0] if has_bias else x_data
    return make_node(_dot, (*ws, *tail), y, partners, partners)


# A dot whose sides mix Scalars and numbers: the constant is (each parent's partner, a Scalar
# or a number; the sum of the number-by-number products). Not replayable: the replayed sum
# would add in another order.
_mixed_dot_op = Op("dot", lambda xs, c: _dot_value(xs, [_value(q, "dot") for q in c[0]]) + c[1],
                   lambda maths, xs, y, const: const[0], arity="n", constant=True, replayable=False)


def _mixed_dot(ws: Sequence[Value], xs: Sequence[Value], bias: Value) -> Scalar:
    """dot where a side mixes Scalars and numbers: parents are the Scalars, in order."""
    pairs = [(w, x) for w, x in zip(ws, xs) if isinstance(w, Scalar)]
    pairs += [(x, w) for w, x in zip(ws, xs) if isinstance(x, Scalar)]
    if isinstance(bias, Scalar):
        pairs.append((bias, 1.0))
    products = [(_value(w, "dot") * _value(x, "dot"), isinstance(w, Scalar) or isinstance(x, Scalar))
                for w, x in zip(ws, xs)]
    if bias is not None:
        products.append((_value(bias, "dot bias"), isinstance(bias, Scalar)))
    y = builtins.sum(v for v, _ in products)
    folded = builtins.sum(v for v, recorded in products if not recorded)  # the number-by-number products
    partners = [q for _, q in pairs]
    return make_node(_mixed_dot_op, tuple([p for p, _ in pairs]), y, (partners, folded),
                     [_value(q, "dot") for q in partners])


# ---- neuron: y = act(w . x + b), one node ------------------------------------------
# dy/dw_i = act'(z) x_i, dy/dx_i = act'(z) w_i, dy/db = act'(z), with act' the
# activation op's own rule (the engine's relu, sigmoid, ...), so no activation's
# math is written twice.

_ACTIVATION_OPS = {name: getattr(Scalar, name).op
                   for name in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus")}

ACTIVATIONS = tuple(_ACTIVATION_OPS)  # the activation names neurons and layers accept


class _NeuronConstant:
    """What a neuron node keeps besides its inputs: ``partners``, the input values (plus 1.0 for the
    bias) when the input is plain numbers, else None (the parents are then inputs and weights); while
    a Replay builds, ``weights`` and ``inputs``, the ``SharedValues`` a replayed step reads instead.
    The activation op's value and rule are kept at hand: a replayed step reads them for every neuron."""

    __slots__ = ("activation", "inputs", "op", "partners", "rule", "slope", "value", "weights", "with_slope")

    def __init__(self, activation: str, slope: float, partners: list | None,
                 weights: SharedValues | None = None, inputs: SharedValues | None = None) -> None:
        self.activation, self.op, self.slope, self.partners = activation, _ACTIVATION_OPS[activation], slope, partners
        self.value, self.rule, self.with_slope = self.op.value, self.op.derivative, self.op.constant
        self.weights, self.inputs = weights, inputs


_HIDDEN_SPECS: dict[tuple, _NeuronConstant] = {}  # (activation, slope) -> the constant of layers fed by Scalars


def _activation_value(spec: _NeuronConstant, z: float) -> float:
    return spec.value(z, spec.slope) if spec.with_slope else spec.value(z)


def _d_neuron(maths, xs, y, spec):
    """act'(z) times each parent's partner; ``z`` is recomputed from the parents (a recorded
    expression under ``create_graph``, so softplus's second derivative is exact)."""
    z = _dot_value(xs, spec.partners)
    partners = _d_dot(maths, xs, z, spec.partners)
    d = spec.op.derivative(maths, z, y, spec.slope)
    if type(d) is float and d == 1.0:
        return partners
    return [d * p for p in partners]


def _recompute_neuron(parents: tuple, spec: _NeuronConstant) -> tuple:
    """A neuron's value and local derivatives from its inputs' current data (for Replay)."""
    if spec.weights is not None:  # built while a Replay was built: read the shared values
        w, x = spec.weights.values, spec.inputs.values
        z = builtins.sum(map(times, w, x), 0.0)  # a bias meets its partner 1.0
        y = spec.value(z, spec.slope) if spec.with_slope else spec.value(z)
        d = spec.rule(FloatMath, z, y, spec.slope)
        if d == 0.0 and spec.activation == "relu":  # an off ReLU passes nothing back, as torch masks
            return y, ()
        local = x if spec.partners is not None else w[:len(spec.inputs.sources)] + x
        return y, (local if d == 1.0 else [d * v for v in local])
    xs = [p.data for p in parents]  # a neuron made by linear() outside a Replay build
    z = _dot_value(xs, spec.partners)
    partners = _d_dot(FloatMath, xs, z, spec.partners)
    y = _activation_value(spec, z)
    d = spec.rule(FloatMath, z, y, spec.slope)
    return y, (partners if d == 1.0 else [d * v for v in partners])


def _inline_neuron(spec: _NeuronConstant, parents: list, y: str, name_of: Callable, fresh: Callable):
    """A neuron in compiled code: z summed as ``_recompute_neuron`` sums, act(z), act'(z)."""
    if spec.weights is None:  # not built by a Replay: compiled code calls its recompute
        return None
    w = [name_of(p) for p in spec.weights.sources]
    fixed = spec.inputs.values[len(spec.inputs.sources):]  # a network's input of numbers, the bias's 1.0
    x = [name_of(p) for p in spec.inputs.sources] + [name_of(v) for v in fixed]
    z, d = fresh(f"z_{y}"), fresh(f"d_{y}")
    products = [times_source(wi, xi) for wi, xi in zip(w, x)]
    value, derivative = (t.format(z, y=y, c=name_of(spec.slope)) for t in spec.op.inline)
    lines = [*_summed_lines(z, products, "{}", "dot (the sum starts at 0.0, as sum() does)"),
             (f"{y} = {value}", spec.activation), (f"{d} = {derivative}", f"{spec.activation}'({z})")]
    partners = x if spec.partners is not None else w[:len(spec.inputs.sources)] + x
    return lines, [f"{d} * {v}" for v in partners], (d if spec.activation == "relu" else None)


_neuron = Op("neuron", lambda xs, spec: _activation_value(spec, _dot_value(xs, spec.partners)), _d_neuron,
             arity="n", constant=True, recompute=_recompute_neuron, inline=_inline_neuron,
             label=lambda spec: "dot" if spec.activation == "identity" else f"{spec.activation}(dot)",
             shared=lambda spec: () if spec.weights is None else (spec.weights, spec.inputs))


def linear(weights: Sequence[Sequence[Value]], x: Sequence[Value], biases: Sequence[Value] | None = None,
           activation: str = "identity", slope: float = 0.01) -> list[Scalar]:
    """``[activation(dot(w, x) + b) for w, b in zip(weights, biases)]``, one node per output.

    The input side is read once for the whole layer. A ReLU that is off
    (output 0, gradient 0) comes back as a constant with no parents, so
    backward never walks into it. ``activation`` is one of
    'identity', 'relu', 'leaky_relu' (with ``slope`` >= 0, a number, kept as a float), 'sigmoid', 'tanh',
    'softplus'.

    >>> from scalargrad import Scalar
    >>> w = [[Scalar(1.0), Scalar(-1.0)], [Scalar(0.5), Scalar(0.5)]]
    >>> [y.data for y in linear(w, [2.0, 3.0], activation='relu')]
    [0.0, 2.5]
    """
    act = _ACTIVATION_OPS.get(activation) if isinstance(activation, str) else None
    if act is None:
        one_of(activation, "activation", ACTIVATIONS)  # raises, listing the choices
    if type(slope) is not float:  # a real float: numpy's makes numpy values, a subclass runs its own methods
        slope = number(slope, "slope")
    if type(x) is not list or type(weights) is not list or not (biases is None or type(biases) is list):
        weights, x, biases = to_lists(weights, deep=False), to_lists(x, deep=False), to_lists(biases, deep=False)
    x_data = _floats_of(x)
    n = len(x)
    if x_data is None or (weights and set(map(len, weights)) != {n}):  # unusual inputs: the general path
        return [_activate(dot(w, x, b), activation, slope)
                for w, b in zip(weights, biases if biases is not None else [None] * len(weights))]
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"linear: {len(weights)} weight rows but {len(biases)} biases")
    build = current_replay_build()
    if build is not None:
        return _replay_linear(weights, x, x_data, biases, activation, slope, build)
    x_recorded = tuple(x) if n and isinstance(x[0], Scalar) else ()
    recording = is_grad_enabled()  # under no_grad only the values are needed
    prune = activation == "relu"
    act_value, act_rule, with_slope = act.value, act.derivative, act.constant
    if x_recorded:  # one shared constant per activation: no object made per layer call
        spec = _HIDDEN_SPECS.get((activation, slope))
        if spec is None:
            if len(_HIDDEN_SPECS) >= 64:  # many distinct slopes: keep the cache small, never growing
                _HIDDEN_SPECS.clear()
            spec = _HIDDEN_SPECS[activation, slope] = _NeuronConstant(activation, slope, None)
    else:  # a network's input: its values are the weights' derivatives, for every neuron
        spec = _NeuronConstant(activation, slope, x_data + [1.0] if biases is not None else x_data)
    out = []
    append = out.append  # bound method: the loop below runs once per neuron per sample
    # The hot loop of every MLP: kept to list building at C speed and one node per neuron.
    for j, w in enumerate(weights):
        b = biases[j] if biases is not None else None
        try:
            w_data = [p.data for p in w] if n == 0 or type(w[0]) is Scalar else None
            z = builtins.sum(map(times, w_data, x_data), 0.0) + (0.0 if b is None else b.data)
        except (AttributeError, TypeError):  # weights that are not all Scalars: the general path
            w_data = None
        if w_data is None:
            append(_activate(dot(w, x, b), activation, slope))
            continue
        y = act_value(z, slope) if with_slope else act_value(z)
        if not recording or (prune and y <= 0.0):  # (a ReLU that is off passes nothing back: torch masks)
            append(new_node(_neuron, y, None, (), None, ()))
            continue
        tail = (b,) if b is not None else ()
        if x_recorded:
            partners = x_data + w_data
            if b is not None:
                partners.append(1.0)
            parents = (*w, *x_recorded, *tail)
        else:
            partners = spec.partners
            parents = (*w, *tail)
        d = act_rule(FloatMath, z, y, slope)  # _d_neuron on floats: act'(z) times each partner
        append(new_node(_neuron, y, spec, parents, None, partners if d == 1.0 else [d * v for v in partners]))
    return out


def _replay_linear(weights, x, x_data, biases, activation, slope, build) -> list[Scalar]:
    """``linear`` while a Replay is built: a fixed structure, values read through shared values.

    Every neuron becomes a node, ReLUs that are off included (with no derivatives: torch masks them).
    Weights are read once per step for the batch, a sample's input once for the layer. The parents are
    (inputs, weights, bias) when the input is recorded, else (weights, bias): a Replay's fed inputs need
    no gradient, so they are treated like a network's input of plain numbers.
    """
    extra = [1.0] if biases is not None else []  # the bias's partner
    x_recorded = tuple(x) if x and isinstance(x[0], Scalar) else ()
    if x_recorded and not all(id(v) in build.input_ids for v in x_recorded):
        inputs, partners = SharedValues(x_recorded, extra), None
    else:
        inputs = SharedValues(x_recorded, extra) if x_recorded else SharedValues((), x_data + extra)
        partners, x_recorded = inputs.values, ()
    out = []
    for j, w in enumerate(weights):
        b = biases[j] if biases is not None else None
        if not all(type(p) is Scalar for p in w) or not (b is None or isinstance(b, Scalar)):
            out.append(_activate(dot(w, x, b), activation, slope))  # the general path
            continue
        params = (*w, b) if b is not None else tuple(w)
        spec = _NeuronConstant(activation, slope, partners, build.shared(params), inputs)
        parents = (*x_recorded, *params)
        y, local = _recompute_neuron(parents, spec)
        out.append(new_node(_neuron, y, spec, parents, None, local))
    return out


def neuron(w: Sequence[Value], x: Sequence[Value], b: Value = None, activation: str = "identity",
           slope: float = 0.01) -> Scalar:
    """``activation(dot(w, x) + b)`` as one node; see ``linear``."""
    return linear([w], x, None if b is None else [b], activation, slope)[0]


def _activate(y: Scalar, activation: str, slope: float) -> Scalar:
    if activation == "identity":
        return y
    if activation == "leaky_relu":
        return y.leaky_relu(slope)
    return getattr(y, activation)()


def _floats_of(values: Sequence[Value]):
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
    if is_number(x):  # ints, numpy numbers
        return float(x)
    raise TypeError(f"{what}: elements must be Scalars or numbers, got {type(x).__name__}")


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


def _d_window_max(maths, xs, y, const):
    picked = max_index([getattr(x, "data", x) for x in xs])
    return [1.0 if i == picked else 0.0 for i in range(len(xs))]


def _inline_window_max(constant, xs: list, y: str, name_of: Callable, fresh: Callable):
    """Max pooling in compiled code: the index ``max_index`` picks, then that element."""
    k, window = fresh(f"k_{y}"), f"({', '.join(xs)},)"
    return ([(f"{k} = {name_of(max_index)}({window})", "max: the first largest (a nan wins)"),
             (f"{y} = {window}[{k}]", "max")], [f"(1.0 if {k} == {i} else 0.0)" for i in range(len(xs))], None)


_window_max = Op("max", lambda xs: xs[max_index(xs)], _d_window_max, arity="n", inline=_inline_window_max)


def window_max(xs: Sequence[Value]) -> Scalar:
    """The largest of ``xs`` as one node over all of them (derivative 1 for the one picked, else 0).

    ``MaxPool2D`` uses it while a Replay is built, so the graph stays the same
    whichever element is largest; otherwise pooling just passes the largest
    element on. Numbers among ``xs`` become constants.
    """
    xs = tuple([x if isinstance(x, Scalar) else Scalar(_value(x, "window_max")) for x in to_lists(xs, deep=False)])
    if not xs:
        raise ValueError("window_max of an empty window")
    datas = [x.data for x in xs]
    return make_node(_window_max, xs, datas[max_index(datas)])


# ---- matrices as nested lists ------------------------------------------------------

def matvec(W: Sequence[Sequence[Value]], x: Sequence[Value]) -> list[Scalar]:
    """[dot(row, x) for row in W]."""
    x = to_lists(x, deep=False)
    return [dot(row, x) for row in to_lists(W, deep=False)]


def matmul(A: Sequence[Sequence[Value]], B: Sequence[Sequence[Value]]) -> list[list[Scalar]]:
    """A @ B for nested lists (m x k times k x n)."""
    A, B = to_lists(A, deep=False), to_lists(B, deep=False)
    if A and len(A[0]) != len(B):
        raise ValueError(f"matmul: shapes do not match ({len(A)}x{len(A[0])} and "
                         f"{len(B)}x{len(B[0]) if B else 0})")
    if any(len(row) != len(B[0]) for row in B):  # zip would silently drop columns
        raise ValueError("matmul: the rows of B have different lengths")
    columns = list(zip(*B))
    return [[dot(row, col) for col in columns] for row in A]


# ---- nested lists as tensors: reshape, transpose, tensordot, add, mul, map, ... --------------------
# They live in nested_ops.py, which builds on matmul above. They are looked up on access (__getattr__)
# rather than imported as names of this module, so functional.map does not hide the built-in map used above.
from . import nested_ops  # here, at the end: nested_ops imports matmul and sum from this module

__all__ += nested_ops.__all__


def __getattr__(name: str):
    if name in nested_ops.__all__:
        return getattr(nested_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *nested_ops.__all__])
