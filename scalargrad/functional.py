"""torch's functional names on Scalars: the list-level ops, the fused neuron, softmax and nested lists.

``sum``, ``dot``, ``mean``, ``matvec``, ``matmul`` and ``window_max`` live in
``scalargrad.list_ops``; ``softmax``, ``log_softmax`` and ``logsumexp`` in
``scalargrad.softmax``; the nested-list ops (``reshape``, ``tensordot``,
``add``, ...) in ``scalargrad.nested_ops``. They are gathered here with the
fused neuron (``linear``, ``neuron``): one node per output, the weighted sum,
bias and activation together. Every op takes numpy arrays where it takes
lists of numbers, and gives exactly what the lists (``array.tolist()``) give.

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
from collections.abc import Sequence
from operator import mul as times  # (functional.mul is the elementwise op of nested_ops)
from typing import Union

from . import nested_ops
from ._util.checks import number, one_of
from ._util.nested import to_lists
from .extend import (
    SCALAR_OPS,
    FloatMath,
    Op,
    Scalar,
    SharedValues,
    current_replay_build,
    is_grad_enabled,
    nary_node,
)
from .list_ops import (
    dot,
    dot_derivatives,
    dot_value,
    floats_of,
    matmul,
    matvec,
    max_index,
    mean,
    sum,
    window_max,
)
from .softmax import log_softmax, logsumexp, softmax

__all__ = ["ACTIVATIONS", "dot", "linear", "log_softmax", "logsumexp", "matmul", "matvec", "max_index",
           "mean", "neuron", "softmax", "sum", "window_max"]
__all__ += nested_ops.__all__  # (looked up on access: see the end of this module)

Value = Union[Scalar, float, int]


# ---- neuron: y = act(w . x + b), one node ------------------------------------------
# dy/dw_i = act'(z) x_i, dy/dx_i = act'(z) w_i, dy/db = act'(z), with act' the
# activation op's own rule (the engine's relu, sigmoid, ...), so no activation's
# math is written twice.

_ACTIVATION_OPS = {name: SCALAR_OPS[name]
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
        self.activation, self.op, self.slope = activation, _ACTIVATION_OPS[activation], slope
        self.partners = partners
        self.value, self.rule, self.with_slope = self.op.value, self.op.derivative, self.op.constant
        self.weights, self.inputs = weights, inputs


# (activation, slope) -> the constant of the neurons of layers fed by Scalars
_HIDDEN_SPECS: dict[tuple, _NeuronConstant] = {}


def _activation_value(spec: _NeuronConstant, z: float) -> float:
    return spec.value(z, spec.slope) if spec.with_slope else spec.value(z)


def _d_neuron(maths, xs, y, constant: _NeuronConstant):
    """act'(z) times each parent's partner; ``z`` is recomputed from the parents (a recorded
    expression under ``create_graph``, so softplus's second derivative is exact)."""
    z = dot_value(xs, constant.partners)
    partners = dot_derivatives(maths, xs, z, constant.partners)
    d = constant.op.derivative(maths, z, y, constant.slope)
    if type(d) is float and d == 1.0:
        return partners
    return [d * p for p in partners]


def _recompute_neuron(parents: tuple, constant: _NeuronConstant) -> tuple:
    """A neuron's value and local derivatives from its inputs' current data (for Replay)."""
    if constant.weights is not None:  # built while a Replay was built: read the shared values
        w, x = constant.weights.values, constant.inputs.values
        z = builtins.sum(map(times, w, x), 0.0)  # a bias meets its partner 1.0
        y = constant.value(z, constant.slope) if constant.with_slope else constant.value(z)
        d = constant.rule(FloatMath, z, y, constant.slope)
        if d == 0.0 and constant.activation == "relu":  # an off ReLU passes nothing back, as torch masks
            return y, ()
        local = x if constant.partners is not None else w[:len(constant.inputs.sources)] + x
        return y, (local if d == 1.0 else [d * v for v in local])
    xs = [p.data for p in parents]  # a neuron made by linear() outside a Replay build
    z = dot_value(xs, constant.partners)
    partners = dot_derivatives(FloatMath, xs, z, constant.partners)
    y = _activation_value(constant, z)
    d = constant.rule(FloatMath, z, y, constant.slope)
    return y, (partners if d == 1.0 else [d * v for v in partners])


def _neuron_label(constant: _NeuronConstant) -> str:
    return "dot" if constant.activation == "identity" else f"{constant.activation}(dot)"


_neuron = Op("neuron", lambda xs, constant: _activation_value(constant, dot_value(xs, constant.partners)),
             _d_neuron, arity="n", constant=True, recompute=_recompute_neuron, label=_neuron_label,
             shared=lambda constant: () if constant.weights is None else (constant.weights, constant.inputs))


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
        weights, x = to_lists(weights, deep=False), to_lists(x, deep=False)
        biases = to_lists(biases, deep=False)
    x_data = floats_of(x)
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
            append(nary_node(_neuron, y, None, (), ()))  # no inputs: a constant
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
        append(nary_node(_neuron, y, spec, parents, partners if d == 1.0 else [d * v for v in partners]))
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
        out.append(nary_node(_neuron, y, spec, parents, local))
    return out


def neuron(w: Sequence[Value], x: Sequence[Value], b: Value = None, activation: str = "identity",
           slope: float = 0.01) -> Scalar:
    """``activation(dot(w, x) + b)`` as one node; see ``linear``."""
    return linear([w], x, None if b is None else [b], activation, slope)[0]


linear.op = neuron.op = _neuron  # the declaration (scalargrad.compile keys its template by it)


def _activate(y: Scalar, activation: str, slope: float) -> Scalar:
    if activation == "identity":
        return y
    if activation == "leaky_relu":
        return y.leaky_relu(slope)
    return getattr(y, activation)()


# ---- nested lists as tensors: reshape, transpose, tensordot, add, mul, map, ... --------------------
# They are looked up on access (__getattr__) rather than imported as names of this module, so
# functional.map does not hide the built-in map used above.

def __getattr__(name: str):
    if name in nested_ops.__all__:
        return getattr(nested_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *nested_ops.__all__])
