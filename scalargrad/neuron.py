"""The fused neuron: ``y = act(w . x + b)`` as one node, for every output of ``Linear`` and ``Conv2D``.

This is the hot path of training. The module reads top to bottom: the
activations a neuron accepts and what its node keeps (``NeuronConstant``);
the reference, what a neuron computes (``plain_neuron``: ``dot`` then the
activation's op, two nodes; and the value the fused node declares); then the
paths of the fused node, ``NEURON``, which build or rerun it without going
through the reference:

- *derivative*: its declared rule (``create_graph`` runs it on Scalars);
- *recompute*: a Replay's step, in place, from shared values;
- *recorded*: ``linear``, one node per neuron, at C speed where it can;
- *replay*: ``linear`` while a Replay builds its graph;
- *inline*: compiled code (``compile/templates.py``'s neuron template and
  ``compile/fast.py``'s layer loops), written from ``NeuronConstant``.

They must agree bit for bit. Each computes ``z`` as ``sum(map(mul, w, x),
0.0)`` and then adds the bias (``b * 1.0`` is ``b``), the activation with its
op's own float function, and each local derivative as ``act'(z) * partner``
(the partner alone where ``act'(z)`` is 1.0), so backward's ``g * local`` is
the same two products on every path; a ReLU that is off passes nothing back
on every path, as torch masks it. Compiled code writes the sum as additions
in order, which is ``sum()`` up to CPython 3.11 and on PyPy; from CPython 3.12
``sum()`` compensates its rounding, and the two agree within the bound
``tests/bits.py`` states. The plain path gives the same value; its gradients
are ``(g * act'(z)) * x``, one rounding apart where ``act'(z)`` is not 1.0.

>>> from scalargrad import Scalar
>>> w = [[Scalar(1.0), Scalar(-1.0)], [Scalar(0.5), Scalar(0.5)]]
>>> [y.data for y in linear(w, [2.0, 3.0], activation='relu')]
[0.0, 2.5]
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from operator import mul as times

from ._util.checks import number, one_of
from ._util.nested import to_lists
from .extend import (
    SCALAR_OPS,
    FloatMath,
    Op,
    ReplayBuild,
    Scalar,
    SharedValues,
    current_replay_build,
    is_grad_enabled,
    nary_node,
    unary_node,
)
from .list_ops import ScalarOrNumber, dot, dot_derivatives, dot_value, floats_of

__all__ = ["ACTIVATIONS", "ACTIVATION_OPS", "IDENTITY", "NEURON", "RELU", "NeuronConstant", "linear",
           "neuron", "plain_neuron"]


# ---- what a neuron is made of ------------------------------------------------------------------------

ACTIVATION_OPS = {name: SCALAR_OPS[name]
                  for name in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus")}
"""The activations by the names neurons and layers accept; everything after ``linear``'s argument check
knows an activation by its op."""

ACTIVATIONS = tuple(ACTIVATION_OPS)  # the activation names neurons and layers accept
IDENTITY, RELU = ACTIVATION_OPS["identity"], ACTIVATION_OPS["relu"]  # the two the fast paths treat apart


class NeuronConstant:
    """What a neuron node keeps besides its inputs (its op's ``constant``); compiled code reads it too.

    ``activation`` is the activation's op (one of ``ACTIVATION_OPS``) and ``slope`` its constant (the slope
    of ``leaky_relu``; the others ignore it). ``partners`` are the input values, then 1.0 for the bias,
    when the input is plain numbers: the parents are then the weights (and the bias), and each one's
    partner is its derivative before the activation. ``partners`` is None when the input is recorded:
    the parents are then the weights, the inputs and the bias (while a Replay builds: the inputs, the
    weights and the bias; a dot's value and derivatives do not depend on which half comes first).

    While a Replay builds, ``weights`` and ``inputs`` are the ``SharedValues`` its steps read instead of
    the parents (``replayed`` tells). ``value``, ``rule`` and ``with_slope`` are the activation's, kept at
    hand: a replayed step reads them for every neuron.
    """

    __slots__ = ("activation", "inputs", "partners", "rule", "slope", "value", "weights", "with_slope")

    def __init__(self, activation: Op, slope: float, partners: list | None,
                 weights: SharedValues | None = None, inputs: SharedValues | None = None) -> None:
        self.activation, self.slope, self.partners = activation, slope, partners
        self.value, self.rule, self.with_slope = activation.value, activation.derivative, activation.constant
        self.weights, self.inputs = weights, inputs

    @property
    def replayed(self) -> bool:
        """Whether a Replay built this neuron: its steps read ``weights`` and ``inputs``."""
        return self.weights is not None

    @property
    def inputs_recorded(self) -> bool:
        """Whether the neuron's inputs are among its parents (recorded values, not plain numbers)."""
        return self.partners is None

    def activate(self, z: float) -> float:
        """The activation's value at ``z``, by its op's own float function."""
        return self.value(z, self.slope) if self.with_slope else self.value(z)


# ---- the reference -------------------------------------------------------------------------------------

def plain_neuron(w: Sequence[ScalarOrNumber], x: Sequence[ScalarOrNumber], b: ScalarOrNumber | None,
                 activation: Op, slope: float) -> Scalar:
    """``activation(dot(w, x, b))`` from the ops themselves: two nodes (one with the identity). ``linear``
    takes this path for inputs its fast paths do not read (Scalars and numbers mixed in a row)."""
    z = dot(w, x, b)
    if activation is IDENTITY:
        return z
    constant = slope if activation.constant else None
    y = activation.value(z.data, slope) if activation.constant else activation.value(z.data)
    return unary_node(activation, y, constant, z)


def _neuron_value(xs: list, constant: NeuronConstant):
    """The fused node's value over its parents' values ``xs``: the pre-activation as ``dot`` sums it, then
    the activation."""
    return constant.activate(dot_value(xs, constant.partners))


# ---- the fast paths: derivative (the declared rule) and recompute (a Replay's step) --------------------

def _neuron_derivatives(maths, xs, y, constant: NeuronConstant):
    """The derivative rule: act'(z) times each parent's partner, with the activation op's own rule, so no
    activation's math is written twice. ``z`` is recomputed from the parents (a recorded expression under
    ``create_graph``, so softplus's second derivative is exact)."""
    z = dot_value(xs, constant.partners)
    partners = dot_derivatives(maths, xs, z, constant.partners)
    d = constant.rule(maths, z, y, constant.slope)
    if type(d) is float and d == 1.0:
        return partners
    return [d * p for p in partners]


def _recompute_neuron(parents: tuple, constant: NeuronConstant) -> tuple:
    """A neuron's value and local derivatives from its inputs' current data (for Replay)."""
    if constant.weights is not None:  # built while a Replay was built: read the shared values
        w, x = constant.weights.values, constant.inputs.values
        z = builtins.sum(map(times, w, x), 0.0)  # a bias meets its partner 1.0
        # constant.activate(z) written out: a replayed step runs this once per neuron per sample
        y = constant.value(z, constant.slope) if constant.with_slope else constant.value(z)
        d = constant.rule(FloatMath, z, y, constant.slope)
        if d == 0.0 and constant.activation is RELU:  # an off ReLU passes nothing back, as torch masks
            return y, ()
        local = x if constant.partners is not None else w[:len(constant.inputs.sources)] + x
        return y, (local if d == 1.0 else [d * v for v in local])
    xs = [p.data for p in parents]  # a neuron made by linear() outside a Replay build
    y = _neuron_value(xs, constant)
    return y, _neuron_derivatives(FloatMath, xs, y, constant)


def _neuron_label(constant: NeuronConstant) -> str:
    return "dot" if constant.activation is IDENTITY else f"{constant.activation.name}(dot)"


NEURON = Op("neuron", _neuron_value, _neuron_derivatives, arity="n", constant=True,
            recompute=_recompute_neuron, label=_neuron_label,
            shared=lambda constant: () if constant.weights is None else (constant.weights, constant.inputs))
"""The fused neuron's declaration (``linear.op`` and ``neuron.op``; compiled code keys its template by it)."""


# ---- the fast paths: recorded (linear) -----------------------------------------------------------------

# (activation, slope) -> the constant of the neurons of layers fed by Scalars
_HIDDEN_SPECS: dict[tuple, NeuronConstant] = {}


def linear(weights: Sequence[Sequence[ScalarOrNumber]], x: Sequence[ScalarOrNumber],
           biases: Sequence[ScalarOrNumber] | None = None, activation: str = "identity",
           slope: float = 0.01) -> list[Scalar]:
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
    act = ACTIVATION_OPS.get(activation) if isinstance(activation, str) else None
    if act is None:
        one_of(activation, "activation", ACTIVATIONS)  # raises, listing the choices
    if type(slope) is not float:  # a real float: numpy's makes numpy values, a subclass runs its own methods
        slope = number(slope, "slope")
    if type(x) is not list or type(weights) is not list or not (biases is None or type(biases) is list):
        weights, x = to_lists(weights, deep=False), to_lists(x, deep=False)
        biases = to_lists(biases, deep=False)
    x_data = floats_of(x)
    n = len(x)
    if x_data is None or (weights and set(map(len, weights)) != {n}):  # unusual inputs: the plain path
        return [plain_neuron(w, x, b, act, slope)
                for w, b in zip(weights, biases if biases is not None else [None] * len(weights))]
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"linear: {len(weights)} weight rows but {len(biases)} biases")
    build = current_replay_build()
    if build is not None:
        return _replay_linear(weights, x, x_data, biases, act, slope, build)
    x_recorded = tuple(x) if n and isinstance(x[0], Scalar) else ()
    recording = is_grad_enabled()  # under no_grad only the values are needed
    prune = act is RELU
    act_value, act_rule, with_slope = act.value, act.derivative, act.constant
    if x_recorded:  # one shared constant per activation: no object made per layer call
        spec = _HIDDEN_SPECS.get((act, slope))
        if spec is None:
            if len(_HIDDEN_SPECS) >= 64:  # many distinct slopes: keep the cache small, never growing
                _HIDDEN_SPECS.clear()
            spec = _HIDDEN_SPECS[act, slope] = NeuronConstant(act, slope, None)
    else:  # a network's input: its values are the weights' derivatives, for every neuron
        spec = NeuronConstant(act, slope, x_data + [1.0] if biases is not None else x_data)
    out = []
    append = out.append  # bound method: the loop below runs once per neuron per sample
    # The hot loop of every MLP: kept to list building at C speed and one node per neuron.
    for j, w in enumerate(weights):
        b = biases[j] if biases is not None else None
        try:
            w_data = [p.data for p in w] if n == 0 or type(w[0]) is Scalar else None
            z = builtins.sum(map(times, w_data, x_data), 0.0) + (0.0 if b is None else b.data)
        except (AttributeError, TypeError):  # weights that are not all Scalars: the plain path
            w_data = None
        if w_data is None:
            append(plain_neuron(w, x, b, act, slope))
            continue
        y = act_value(z, slope) if with_slope else act_value(z)
        if not recording or (prune and y <= 0.0):  # (a ReLU that is off passes nothing back: torch masks)
            append(nary_node(NEURON, y, None, (), ()))  # no inputs: a constant
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
        d = act_rule(FloatMath, z, y, slope)  # the derivative rule on floats: act'(z) times each partner
        append(nary_node(NEURON, y, spec, parents, partners if d == 1.0 else [d * v for v in partners]))
    return out


# ---- the fast paths: replay (linear while a Replay builds) ----------------------------------------------

def _replay_linear(weights: list, x: list, x_data: list, biases: list | None, act: Op, slope: float,
                   build: ReplayBuild) -> list[Scalar]:
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
            out.append(plain_neuron(w, x, b, act, slope))
            continue
        params = (*w, b) if b is not None else tuple(w)
        spec = NeuronConstant(act, slope, partners, build.shared(params), inputs)
        parents = (*x_recorded, *params)
        y, local = _recompute_neuron(parents, spec)
        out.append(nary_node(NEURON, y, spec, parents, local))
    return out


def neuron(w: Sequence[ScalarOrNumber], x: Sequence[ScalarOrNumber], b: ScalarOrNumber = None,
           activation: str = "identity", slope: float = 0.01) -> Scalar:
    """``activation(dot(w, x) + b)`` as one node; see ``linear``."""
    return linear([w], x, None if b is None else [b], activation, slope)[0]


linear.op = neuron.op = NEURON  # the declaration (scalargrad.compile keys its template by it)
