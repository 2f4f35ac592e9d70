"""Tests of scalargrad.nn layers against torch float64: Neuron, Linear, Sequential,
Softmax, the activation modules, Dropout, Flatten, Conv2D and MaxPool2D.

Every comparison builds the same computation in torch (same weights, same
inputs), back-propagates a random weighted sum of the outputs through both and
checks the values and the gradients of every weight, bias and input.
"""

import math
import random

import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import (
    Conv2D,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2D,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from tests.helpers import all_close as helpers_all_close
from tests.helpers import assert_close, data, flat, scalars, tt, with_tolerances
from tests.helpers import grads_close as helpers_grads_close

REL = 1e-9
ABS = 1e-12  # sums of hundreds of terms may cancel to ~0; rounding then dominates the relative error

ACTIVATIONS = ["identity", "relu", "sigmoid", "tanh", "leaky_relu", "softplus"]
TORCH_ACTIVATIONS = {
    "identity": lambda t: t,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": lambda t: TF.leaky_relu(t, 0.01),
    "softplus": TF.softplus,
}
SIZES = [1, 2, 7, 64, 500]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

close = with_tolerances(assert_close, REL, ABS)
all_close = with_tolerances(helpers_all_close, REL, ABS)
grads_close = with_tolerances(helpers_grads_close, REL, ABS)


def rand_nested(rng, shape, lo=-1.0, hi=1.0):
    if not shape:
        return rng.uniform(lo, hi)
    return [rand_nested(rng, shape[1:], lo, hi) for _ in range(shape[0])]


def weighted_sum(outputs, coeffs):
    """One Scalar: sum(c * y) over the flattened outputs, so every output gets its own upstream grad."""
    return F.dot(flat(outputs), flat(coeffs))


def torch_params_in_our_order(torch_model):
    """Parameters of a torch Sequential in scalargrad's order: Linear row by row (weights then bias),
    Conv2d all weights then all biases."""
    out = []
    for m in torch_model.modules():
        if isinstance(m, torch.nn.Linear):
            for j in range(m.out_features):
                out.append(("w", m.weight, j))
                if m.bias is not None:
                    out.append(("b", m.bias, j))
        elif isinstance(m, torch.nn.Conv2d):
            out.append(("cw", m.weight, None))
            if m.bias is not None:
                out.append(("cb", m.bias, None))
    return out


def torch_flat(torch_model, attr):
    values = []
    for kind, tensor, j in torch_params_in_our_order(torch_model):
        t = getattr(tensor, attr)
        if kind == "w":
            values.extend(t[j].tolist())
        elif kind == "b":
            values.append(t[j].item())
        else:
            values.extend(t.flatten().tolist())
    return values


# --------------------------------------------------------------------------
# Neuron
# --------------------------------------------------------------------------

NEURON_CASES = [(f"{a}_{n}", a, n) for a in ACTIVATIONS for n in SIZES]


def _neuron_vs_torch(activation, size, inputs_are_scalars, bias):
    rng = random.Random(size * 7919 + ACTIVATIONS.index(activation))
    neuron = Neuron(size, activation=activation)
    w = [rng.uniform(-1, 1) / math.sqrt(size) for _ in range(size)]
    neuron.initialize(w=w, b=bias)
    xv = [rng.uniform(-1, 1) for _ in range(size)]
    x = [Scalar(v) for v in xv] if inputs_are_scalars else list(xv)
    out = neuron(x)
    out.backward(1.25)

    tw, tb, tx = tt(w), tt([bias]), tt(xv)
    ty = TORCH_ACTIVATIONS[activation](TF.linear(tx, tw.unsqueeze(0), tb))[0]
    ty.backward(torch.tensor(1.25, dtype=torch.float64))

    close(out.data, ty, "output")
    grads_close(neuron.w, tw.grad, "grad w")
    close(neuron.b.grad, tb.grad[0], "grad b")
    if inputs_are_scalars:
        grads_close(x, tx.grad, "grad x")


class TestNeuron:
    @parameterized.expand(NEURON_CASES)
    def test_matches_torch_with_scalar_inputs(self, _, activation, size):
        for bias in (2.5, -2.5):  # the bias dominates: both sides of relu's kink are reached
            _neuron_vs_torch(activation, size, True, bias)

    @parameterized.expand(NEURON_CASES)
    def test_matches_torch_with_float_inputs(self, _, activation, size):
        for bias in (2.5, -2.5):
            _neuron_vs_torch(activation, size, False, bias)

    @parameterized.expand([(f"n{n}", n) for n in SIZES])
    def test_weighted_sum_is_one_node(self, _, size):
        neuron = Neuron(size, activation="identity")
        xs = [Scalar(0.5) for _ in range(size)]
        out = neuron(xs)
        assert len(out.parents) == 2 * size + 1
        assert {id(p) for p in out.parents} == {id(p) for p in neuron.w + xs + [neuron.b]}
        out_floats = neuron([0.5] * size)
        assert len(out_floats.parents) == size + 1
        assert {id(p) for p in out_floats.parents} == {id(p) for p in neuron.w + [neuron.b]}
        for activation in ACTIVATIONS[1:]:  # the activation is fused into the same node
            act_neuron = Neuron(size, activation=activation)
            act_neuron.initialize(w=[0.1] * size, b=0.1)  # pre-activation > 0: every activation is "on"
            y = act_neuron(xs)
            assert len(y.parents) == 2 * size + 1, activation

    @parameterized.expand([(f"n{n}", n) for n in SIZES])
    def test_relu_that_is_off_passes_no_gradient_and_adds_no_edges(self, _, size):
        neuron = Neuron(size, activation="relu")
        neuron.initialize(w=[-0.1] * size, b=-0.1)
        xs = [Scalar(0.5) for _ in range(size)]
        y = neuron(xs)
        assert y.data == 0.0 and y.parents == ()
        loss = y * 3.0 + xs[0]
        loss.backward()
        assert all(p.grad == 0.0 for p in neuron.parameters())
        assert xs[0].grad == 1.0 and all(x.grad == 0.0 for x in xs[1:])

    def test_initialize_sets_values_and_keeps_the_scalars(self):
        neuron = Neuron(size=3, activation="relu")
        before = neuron.parameters()
        neuron.initialize(w=[0.1, -0.2, 0.3], b=0.1)
        assert [p.data for p in neuron.w] == [0.1, -0.2, 0.3]
        assert neuron.b.data == 0.1
        assert all(a is b for a, b in zip(before, neuron.parameters()))
        assert all(type(p.data) is float for p in neuron.parameters())
        assert neuron([1.0, 1.0, 1.0]).data == pytest.approx(0.3, rel=1e-15)
        neuron.initialize(w=[Scalar(1), Scalar(2), Scalar(3)], b=Scalar(-1))
        assert [p.data for p in neuron.parameters()] == [1.0, 2.0, 3.0, -1.0]

    def test_initialize_rejects_wrong_number_of_weights(self):
        neuron = Neuron(3)
        before = [p.data for p in neuron.parameters()]
        with pytest.raises(ValueError, match="size 3 got 2 weights"):
            neuron.initialize(w=[0.1, 0.2], b=0.0)
        assert [p.data for p in neuron.parameters()] == before

    def test_attributes_and_parameter_order(self):
        neuron = Neuron(size=4, activation="tanh")
        assert len(neuron.w) == 4 and all(isinstance(p, Scalar) for p in neuron.w)
        assert isinstance(neuron.b, Scalar)
        assert neuron.parameters() == neuron.w + [neuron.b]
        assert all(a is b for a, b in zip(neuron.parameters(), neuron.w + [neuron.b]))
        assert neuron.num_parameters() == 5

    def test_without_bias(self):
        neuron = Neuron(3, bias=False)
        neuron.initialize(w=[1.0, 2.0, 3.0])
        assert neuron.b is None and neuron.num_parameters() == 3
        assert neuron([1.0, 1.0, 1.0]).data == 6.0

    @parameterized.expand([(f"n{n}", n) for n in (1, 7, 500)])
    def test_default_init_within_fan_in_bound(self, _, size):
        random.seed(size)
        bound = 1 / math.sqrt(size)
        values = []
        for _ in range(max(1, 2000 // size)):
            values += [p.data for p in Neuron(size).parameters()]
        assert all(-bound <= v <= bound for v in values)
        # the full range is used (a too-small bound would fail this), and values differ
        assert max(abs(v) for v in values) > 0.95 * bound
        assert len(set(values)) == len(values)


# --------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------

LINEAR_SHAPES = [(1, 1), (2, 3), (7, 5), (64, 8), (500, 3)]
LINEAR_CASES = [(f"{a}_{i}x{o}", a, i, o) for a in ACTIVATIONS for i, o in LINEAR_SHAPES]


def _linear_vs_torch(activation, size_in, size_out, inputs_are_scalars):
    rng = random.Random(size_in * 131 + size_out * 17 + ACTIVATIONS.index(activation))
    random.seed(size_in + size_out)
    layer = Linear(size_in, size_out, activation=activation)
    # a wide spread of biases so relu-type activations see both signs
    for j, n in enumerate(layer.neurons):
        n.b.data = 2.0 * (j % 2 * 2 - 1) + rng.uniform(-0.5, 0.5)
    xv = [rng.uniform(-1, 1) for _ in range(size_in)]
    x = [Scalar(v) for v in xv] if inputs_are_scalars else list(xv)
    coeffs = [rng.uniform(-2, 2) for _ in range(size_out)]
    out = layer(x)
    assert isinstance(out, list) and len(out) == size_out
    weighted_sum(out, coeffs).backward()

    # an independent torch computation with the weights copied by hand
    tw = tt([[p.data for p in n.w] for n in layer.neurons])
    tb = tt([n.b.data for n in layer.neurons])
    tx = tt(xv)
    ty = TORCH_ACTIVATIONS[activation](TF.linear(tx, tw, tb))
    (ty * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()

    all_close(out, ty, "outputs")
    grads_close([n.w for n in layer.neurons], tw.grad, "grad weights")
    grads_close([n.b for n in layer.neurons], tb.grad, "grad bias")
    if inputs_are_scalars:
        grads_close(x, tx.grad, "grad inputs")
    # and the same through to_torch()
    with torch.no_grad():
        all_close(out, layer.to_torch()(torch.tensor(xv, dtype=torch.float64)), "to_torch outputs")


class TestLinear:
    @parameterized.expand(LINEAR_CASES)
    def test_matches_torch_with_scalar_inputs(self, _, activation, size_in, size_out):
        _linear_vs_torch(activation, size_in, size_out, True)

    @parameterized.expand(LINEAR_CASES)
    def test_matches_torch_with_float_inputs(self, _, activation, size_in, size_out):
        _linear_vs_torch(activation, size_in, size_out, False)

    def test_neurons(self):
        layer = Linear(size_in=3, size_out=2, activation="sigmoid")
        assert len(layer.neurons) == 2
        assert all(isinstance(n, Neuron) and n.size == 3 and n.activation == "sigmoid" for n in layer.neurons)
        assert layer.parameters() == [p for n in layer.neurons for p in n.w + [n.b]]
        assert all(a is b
                   for a, b in zip(layer.parameters(), [p for n in layer.neurons for p in n.w + [n.b]]))
        assert layer.weight() == [[p.data for p in n.w] for n in layer.neurons]

    @parameterized.expand([
        ("neurons", lambda ws, bs: [_neuron(w, b) for w, b in zip(ws, bs)]),
        ("dicts", lambda ws, bs: [{"w": w, "b": b} for w, b in zip(ws, bs)]),
        ("pairs", lambda ws, bs: [(w, b) for w, b in zip(ws, bs)]),
        ("lists", lambda ws, bs: [[w, b] for w, b in zip(ws, bs)]),
    ])
    def test_initialize_from(self, _, make):
        ws = [[0.1, 0.2, 0.3], [-0.4, -0.5, -0.6]]
        bs = [0.7, -0.8]
        layer = Linear(3, 2)
        before = layer.parameters()
        layer.initialize(make(ws, bs))
        assert layer.weight() == ws
        assert [n.b.data for n in layer.neurons] == bs
        assert all(a is b for a, b in zip(before, layer.parameters()))
        assert [y.data for y in layer([1.0, 0.0, 0.0])] == pytest.approx([0.8, -1.2], rel=1e-15)

    def test_initialize_rejects_wrong_count(self):
        layer = Linear(3, 2)
        with pytest.raises(ValueError, match="2 neurons got 3"):
            layer.initialize([([0.0] * 3, 0.0)] * 3)

    def test_initialize_without_arguments_redraws(self):
        random.seed(0)
        layer = Linear(3, 2)
        old = [p.data for p in layer.parameters()]
        layer.initialize()
        assert [p.data for p in layer.parameters()] != old

    @parameterized.expand([(f"{i}x{o}", i, o) for i, o in [(1, 50), (9, 30), (400, 10)]])
    def test_default_init_within_fan_in_bound(self, _, size_in, size_out):
        random.seed(size_in)
        bound = 1 / math.sqrt(size_in)
        values = [p.data for p in Linear(size_in, size_out).parameters()]
        assert all(-bound <= v <= bound for v in values)
        assert max(abs(v) for v in values) > 0.9 * bound

    def test_without_bias(self):
        layer = Linear(2, 3, bias=False)
        assert layer.num_parameters() == 6
        assert all(n.b is None for n in layer.neurons)
        x = [Scalar(1.0), Scalar(-2.0)]
        out = layer(x)
        weighted_sum(out, [1.0, 2.0, 3.0]).backward()
        tw = tt(layer.weight())
        tx = tt([1.0, -2.0])
        (TF.linear(tx, tw) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
        grads_close([n.w for n in layer.neurons], tw.grad, "grad w")
        grads_close(x, tx.grad, "grad x")


def _neuron(w, b):
    n = Neuron(len(w))
    n.initialize(w=w, b=b)
    return n


# --------------------------------------------------------------------------
# Sequential MLPs
# --------------------------------------------------------------------------

MLP_CASES = [
    ("2_1", [2, 1], ["identity"]),
    ("2_4_1", [2, 4, 1], ["relu", "identity"]),
    ("3_8_8_2", [3, 8, 8, 2], ["tanh", "sigmoid", "identity"]),
    ("16_32_16_3", [16, 32, 16, 3], ["relu", "relu", "identity"]),
    ("5_12_6_2", [5, 12, 6, 2], ["leaky_relu", "softplus", "sigmoid"]),
    ("20_128_64_4", [20, 128, 64, 4], ["relu", "tanh", "identity"]),
]


class TestSequential:
    @parameterized.expand(MLP_CASES)
    def test_mlp_matches_torch(self, name, sizes, activations):
        random.seed(len(name))
        rng = random.Random(sizes[1])
        model = Sequential([Linear(a, b, activation=act) for a, b, act in zip(sizes, sizes[1:], activations)])
        batch = 3
        xv = [[rng.uniform(-1, 1) for _ in range(sizes[0])] for _ in range(batch)]
        cv = [[rng.uniform(-1, 1) for _ in range(sizes[-1])] for _ in range(batch)]
        xs = scalars(xv)
        outs = [model(x) for x in xs]
        weighted_sum(outs, cv).backward()

        tm = model.to_torch()
        tx = tt(xv)
        ty = tm(tx)
        (ty * torch.tensor(cv, dtype=torch.float64)).sum().backward()

        all_close(outs, ty, "outputs")
        params = model.parameters()
        assert len(params) == sum(p.numel() for p in tm.parameters())
        all_close([p.data for p in params], torch_flat(tm, "data"), "weights copied")
        all_close([p.grad for p in params], torch_flat(tm, "grad"), "parameter grads")
        grads_close(xs, tx.grad, "input grads")

    def test_float_inputs(self):
        random.seed(1)
        model = Sequential([Linear(3, 5, activation="tanh"), Linear(5, 2)])
        with_floats = model([0.1, -0.2, 0.3])
        with_scalars = model(scalars([0.1, -0.2, 0.3]))
        assert [y.data for y in with_floats] == [y.data for y in with_scalars]

    def test_do_initialize(self):
        random.seed(2)
        layers = [Linear(2, 3), Linear(3, 1)]
        values = [p.data for m in layers for p in m.parameters()]
        kept = Sequential(layers, do_initialize=False)
        assert [p.data for p in kept.parameters()] == values
        redrawn = Sequential(layers, do_initialize=True)
        assert [p.data for p in redrawn.parameters()] != values
        assert redrawn.parameters() == kept.parameters()  # the same Scalar objects, re-drawn

    def test_container_api(self):
        layers = [Linear(2, 4, activation="relu"), ReLU(), Linear(4, 2)]
        seq = Sequential(layers)
        assert seq.modules == layers
        assert all(a is b for a, b in zip(seq.modules, layers))
        assert len(seq) == 3
        assert seq[0] is layers[0] and seq[-1] is layers[2]
        assert list(seq) == layers
        head = seq[:2]
        assert isinstance(head, Sequential) and len(head) == 2 and head[1] is layers[1]
        assert [y.data for y in head([1.0, 2.0])] == [y.data for y in layers[1](layers[0]([1.0, 2.0]))]

    def test_rejects_non_modules(self):
        with pytest.raises(TypeError, match="item 1"):
            Sequential([Linear(2, 2), lambda x: x])


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------

SOFTMAX_CASES = [(f"n{n}_scale{s:g}", n, s) for n in (1, 2, 7, 64, 1024) for s in (1.0, 30.0, 1000.0)]


class TestSoftmax:
    @parameterized.expand(SOFTMAX_CASES)
    def test_matches_torch(self, _, size, scale):
        rng = random.Random(size)
        zv = [scale * rng.uniform(-1, 1) for _ in range(size)]
        cv = [rng.uniform(-1, 1) for _ in range(size)]
        zs = scalars(zv)
        probs = Softmax()(zs)
        assert len(probs) == size
        weighted_sum(probs, cv).backward()
        tz = tt(zv)
        tp = torch.softmax(tz, dim=0)
        (tp * torch.tensor(cv, dtype=torch.float64)).sum().backward()
        all_close(probs, tp, "probabilities", abs_=1e-15)
        # Gradients are O(max |c|) = O(1); with logits of +-1000 the tiny ones (~1e-9) carry an
        # absolute error of a few ulps of the logsumexp (~1e-13 at 1000), so the absolute floor is 1e-13.
        grads_close(zs, tz.grad, "grads", abs_=1e-13)
        assert math.isclose(sum(p.data for p in probs), 1.0, rel_tol=1e-12)

    def test_float_logits_and_to_torch(self):
        probs = Softmax()([1.0, 2.0, 3.0])
        all_close(probs, torch.softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 0), "probs")
        assert isinstance(Softmax().to_torch(), torch.nn.Softmax)

    def test_empty(self):
        with pytest.raises(ValueError, match="empty"):
            Softmax()([])


# --------------------------------------------------------------------------
# Elementwise activation modules
# --------------------------------------------------------------------------

ACT_MODULES = [
    ("relu", ReLU, torch.relu),
    ("sigmoid", Sigmoid, torch.sigmoid),
    ("tanh", Tanh, torch.tanh),
    ("leaky_relu", LeakyReLU, lambda t: TF.leaky_relu(t, 0.01)),
    ("leaky_relu_0_2", lambda: LeakyReLU(0.2), lambda t: TF.leaky_relu(t, 0.2)),
    ("softplus", Softplus, TF.softplus),
    ("identity", Identity, lambda t: t),
]
ACT_VALUES = [-3.0, -1.5, -0.25, 0.0, 0.1, 0.5, 1.0, 2.0, 4.5, -40.0, 40.0, 700.0]
SHAPES = [("flat", [12]), ("matrix", [3, 4]), ("cube", [2, 2, 3])]


def _reshape(values, shape):
    if len(shape) == 1:
        return list(values)
    step = len(values) // shape[0]
    return [_reshape(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


class TestActivationModules:
    @parameterized.expand([(f"{n}_{s}", make, fn, shape) for n, make, fn in ACT_MODULES
                           for s, shape in SHAPES])
    def test_matches_torch_on_nested_lists(self, _, make, torch_fn, shape):
        rng = random.Random(len(shape))
        cv = [rng.uniform(-1, 1) for _ in ACT_VALUES]
        xs = _reshape(scalars(ACT_VALUES), shape)
        out = make()(xs)
        assert isinstance(out, list) and len(out) == shape[0]
        if len(shape) > 1:
            assert isinstance(out[0], list) and len(out[0]) == shape[1]
        weighted_sum(out, cv).backward()
        tx = tt(_reshape(ACT_VALUES, shape))
        ty = torch_fn(tx)
        (ty * torch.tensor(_reshape(cv, shape), dtype=torch.float64)).sum().backward()
        all_close(out, ty, "values")
        grads_close(xs, tx.grad, "grads")

    @parameterized.expand([(n, make, fn) for n, make, fn in ACT_MODULES if n != "identity"])
    def test_single_scalar_and_floats(self, _, make, torch_fn):
        x = Scalar(-0.7)
        y = make()(x)
        assert isinstance(y, Scalar)
        close(y.data, torch_fn(torch.tensor(-0.7, dtype=torch.float64)), "value")
        out = make()([0.5, -0.5])
        assert all(isinstance(v, Scalar) for v in out)
        all_close(out, torch_fn(torch.tensor([0.5, -0.5], dtype=torch.float64)), "floats")

    def test_identity_returns_its_input(self):
        xs = [Scalar(1.0), Scalar(2.0)]
        assert Identity()(xs) is xs

    def test_in_a_sequential(self):
        random.seed(3)
        model = Sequential([Linear(3, 4), LeakyReLU(0.1), Linear(4, 4), Softplus(), Linear(4, 2), Sigmoid()])
        xv = [0.3, -0.6, 0.9]
        xs = scalars(xv)
        out = model(xs)
        weighted_sum(out, [1.0, -2.0]).backward()
        tm = model.to_torch()
        tx = tt(xv)
        ty = tm(tx)
        (ty * torch.tensor([1.0, -2.0], dtype=torch.float64)).sum().backward()
        all_close(out, ty, "outputs")
        all_close([p.grad for p in model.parameters()], torch_flat(tm, "grad"), "parameter grads")
        grads_close(xs, tx.grad, "input grads")


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

class TestDropout:
    def test_eval_mode_is_identity(self):
        xs = scalars([1.0, 2.0, 3.0])
        drop = Dropout(0.5).eval()
        assert drop.training is False
        assert drop(xs) is xs

    @parameterized.expand([("p0_1", 0.1), ("p0_3", 0.3), ("p0_5", 0.5), ("p0_9", 0.9)])
    def test_train_mode_drops_about_p_and_scales_survivors(self, _, p):
        n = 20000
        rng = random.Random(5)
        xv = [rng.uniform(0.5, 2.0) for _ in range(n)]  # never zero, so a zero output means dropped
        xs = scalars(xv)
        drop = Dropout(p)
        assert drop.training is True
        random.seed(42)
        out = drop(xs)
        assert len(out) == n
        dropped = [y.data == 0.0 for y in out]
        fraction = sum(dropped) / n
        assert abs(fraction - p) < 5 * math.sqrt(p * (1 - p) / n), fraction
        scale = 1.0 / (1.0 - p)
        for x, y, d in zip(xv, out, dropped):
            if not d:
                assert math.isclose(y.data, x * scale, rel_tol=1e-15)
        F.sum(out).backward()
        for x, d in zip(xs, dropped):
            assert x.grad == (0.0 if d else scale)

    def test_deterministic_under_random_seed(self):
        xs = [1.0] * 200
        drop = Dropout(0.5)
        random.seed(7)
        first = data(drop(xs))
        random.seed(7)
        second = data(drop(xs))
        random.seed(8)
        third = data(drop(xs))
        assert first == second
        assert first != third

    def test_nested_lists(self):
        random.seed(0)
        image = [[[1.0] * 10 for _ in range(10)] for _ in range(3)]
        out = Dropout(0.5)(image)
        assert len(out) == 3 and len(out[0]) == 10 and len(out[0][0]) == 10
        assert set(data(out)) == {0.0, 2.0}

    def test_p_zero_and_one(self):
        xs = scalars([1.0, -2.0, 3.0])
        assert [y.data for y in Dropout(0.0)(xs)] == [1.0, -2.0, 3.0]
        out = Dropout(1.0)(xs)
        assert [y.data for y in out] == [0.0, 0.0, 0.0]
        F.sum(out).backward()
        assert [x.grad for x in xs] == [0.0, 0.0, 0.0]

    def test_train_eval_in_a_sequential(self):
        model = Sequential([Linear(4, 4), Dropout(0.5), ReLU()])
        x = [1.0, 2.0, 3.0, 4.0]
        model.eval()
        assert not model[1].training
        ref = [y.data for y in model(x)]
        assert [y.data for y in model(x)] == ref
        model.train()
        assert model[1].training
        random.seed(1)
        outs = [[y.data for y in model(x)] for _ in range(20)]
        assert any(o != ref for o in outs)

    @parameterized.expand([("negative", -0.1), ("above_one", 1.5), ("string", "0.5"), ("bool", True),
                           ("none", None), ("nan", math.nan)])
    def test_invalid_p(self, _, p):
        with pytest.raises(ValueError, match="between 0 and 1"):
            Dropout(p)


# --------------------------------------------------------------------------
# Flatten
# --------------------------------------------------------------------------

class TestFlatten:
    def test_row_major_like_torch(self):
        rng = random.Random(0)
        xv = rand_nested(rng, [2, 3, 4])
        xs = scalars(xv)
        out = Flatten()(xs)
        assert len(out) == 24 and all(isinstance(v, Scalar) for v in out)
        assert all(a is b for a, b in zip(out, flat(xs)))
        all_close(out, torch.tensor(xv, dtype=torch.float64).flatten(), "values")
        cv = [rng.uniform(-1, 1) for _ in range(24)]
        weighted_sum(out, cv).backward()
        assert [x.grad for x in flat(xs)] == cv

    def test_flat_input_unchanged(self):
        assert Flatten()([1.0, 2.0]) == [1.0, 2.0]


# --------------------------------------------------------------------------
# Conv2D and MaxPool2D
# --------------------------------------------------------------------------

# (name, in_channels, out_channels, kernel, stride, padding, bias, height, width)
CONV_CASES = [
    ("1x1_kernel", 1, 1, 1, 1, 0, True, 4, 5),
    ("k3", 1, 2, 3, 1, 0, True, 6, 6),
    ("k3_s2_p1", 2, 3, 3, 2, 1, True, 7, 7),
    ("k2_p2_nobias", 3, 2, 2, 1, 2, False, 5, 6),
    ("rect_kernel", 2, 2, (2, 3), (1, 2), (1, 0), True, 6, 7),
    ("k5_p2", 1, 4, 5, 1, 2, True, 5, 5),
    ("k3_s2_nobias", 3, 3, 3, 2, 0, False, 8, 8),
    ("kernel_equals_input", 2, 1, 4, 1, 0, True, 4, 4),
    ("s2_p1_even", 2, 2, 2, 2, 1, True, 6, 6),
]


def _conv_vs_torch(in_c, out_c, kernel, stride, padding, bias, height, width, inputs_are_scalars,
                   activation="identity"):
    random.seed(in_c * 100 + out_c)
    rng = random.Random(height * width)
    conv = Conv2D(in_c, out_c, kernel, stride=stride, padding=padding, bias=bias, activation=activation)
    xv = rand_nested(rng, [in_c, height, width])
    x = scalars(xv) if inputs_are_scalars else xv
    out = conv(x)
    tw = tt(conv.state_dict()["weight"])
    tb = tt(conv.state_dict()["bias"]) if bias else None
    tx = tt(xv)
    ty = TF.conv2d(tx.unsqueeze(0), tw, tb, stride=stride, padding=padding)[0]
    ty = TORCH_ACTIVATIONS[activation](ty)
    assert [len(out), len(out[0]), len(out[0][0])] == list(ty.shape)
    cv = torch.empty_like(ty).uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
    weighted_sum(out, cv.tolist()).backward()
    (ty * cv).sum().backward()

    all_close(out, ty, "outputs")
    grads_close(conv.weight, tw.grad, "grad weight")
    if bias:
        grads_close(conv.bias, tb.grad, "grad bias")
    else:
        assert conv.bias is None
    if inputs_are_scalars:
        grads_close(x, tx.grad, "grad input")
    with torch.no_grad():
        all_close(out, conv.to_torch()(torch.tensor(xv, dtype=torch.float64)), "to_torch outputs")


class TestConv2D:
    @parameterized.expand(CONV_CASES)
    def test_matches_torch(self, _, in_c, out_c, kernel, stride, padding, bias, height, width):
        _conv_vs_torch(in_c, out_c, kernel, stride, padding, bias, height, width, True)

    @parameterized.expand(CONV_CASES[:4])
    def test_float_inputs(self, _, in_c, out_c, kernel, stride, padding, bias, height, width):
        _conv_vs_torch(in_c, out_c, kernel, stride, padding, bias, height, width, False)

    @parameterized.expand([(a,) for a in ("relu", "tanh", "leaky_relu")])
    def test_with_activation(self, activation):
        _conv_vs_torch(2, 3, 3, 1, 1, True, 5, 5, True, activation)

    def test_structure_and_default_init(self):
        random.seed(0)
        conv = Conv2D(3, 4, (2, 3))
        assert len(conv.weight) == 4 and len(conv.weight[0]) == 3
        assert len(conv.weight[0][0]) == 2 and len(conv.weight[0][0][0]) == 3
        assert len(conv.bias) == 4
        assert conv.num_parameters() == 4 * 3 * 2 * 3 + 4
        bound = 1 / math.sqrt(3 * 2 * 3)
        values = [p.data for p in conv.parameters()]
        assert all(-bound <= v <= bound for v in values)
        assert max(abs(v) for v in values) > 0.8 * bound

    def test_reuses_the_receptive_field_cache_for_new_sizes(self):
        conv = Conv2D(1, 1, 2)
        small = conv([[[1.0, 2.0], [3.0, 4.0]]])
        big = conv([[[1.0] * 3] * 3])
        assert len(small[0]) == 1 and len(big[0]) == 2 and len(big[0][0]) == 2

    def test_output_over_padding_only_is_a_float(self):
        # with padding >= kernel size some windows see only zero padding: the output is 0.0 (or the bias)
        conv = Conv2D(1, 1, 2, padding=2, bias=False)
        out = conv([[[1.0, 2.0], [3.0, 4.0]]])
        assert len(out[0]) == 5
        corner = out[0][0][0]
        assert isinstance(corner, Scalar) and type(corner.data) is float and corner.data == 0.0

    def test_bad_input(self):
        conv = Conv2D(2, 1, 3)
        with pytest.raises(ValueError, match="expects 2 input channels, got 1"):
            conv([[[0.0] * 4] * 4])
        with pytest.raises(ValueError, match="larger than the padded input 2x2"):
            conv([[[0.0] * 2] * 2] * 2)
        with pytest.raises(ValueError, match=r"\[channels\]\[height\]\[width\]"):
            conv([1.0, 2.0])


POOL_CASES = [
    (f"k{k}_s{s}_{h}x{w}", k, s, h, w)
    for k in (2, 3) for s in (None, 1, 2) for h, w in ((6, 6), (7, 5))
]


class TestMaxPool2D:
    @parameterized.expand(POOL_CASES)
    def test_matches_torch(self, _, kernel, stride, height, width):
        rng = random.Random(kernel * 10 + (stride or 0))
        xv = rand_nested(rng, [2, height, width])
        xs = scalars(xv)
        pool = MaxPool2D(kernel, stride) if stride is not None else MaxPool2D(kernel)
        out = pool(xs)
        tx = tt(xv)
        ty = TF.max_pool2d(tx.unsqueeze(0), kernel, stride)[0]
        assert [len(out), len(out[0]), len(out[0][0])] == list(ty.shape)
        cv = [rng.uniform(-1, 1) for _ in range(ty.numel())]
        weighted_sum(out, cv).backward()
        (ty.flatten() * torch.tensor(cv, dtype=torch.float64)).sum().backward()
        all_close(out, ty, "values")
        grads_close(xs, tx.grad, "grads")

    @parameterized.expand([("k2_s1", 2, 1), ("k2_s2", 2, 2), ("k3_s1", 3, 1)])
    def test_ties_follow_torch(self, _, kernel, stride):
        rng = random.Random(1)
        xv = [[[float(rng.randint(0, 2)) for _ in range(6)] for _ in range(6)]]
        xs = scalars(xv)
        out = MaxPool2D(kernel, stride)(xs)
        tx = tt(xv)
        ty = TF.max_pool2d(tx.unsqueeze(0), kernel, stride)[0]
        F.sum(flat(out)).backward()
        ty.sum().backward()
        all_close(out, ty, "values")
        grads_close(xs, tx.grad, "grads")

    def test_rectangular_window_and_float_input(self):
        xv = [[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 1.0], [0.0, 7.0, 8.0, 6.0]]]
        out = MaxPool2D((3, 2))(xv)
        assert out == [[[7.0, 9.0]]]

    def test_window_larger_than_input(self):
        with pytest.raises(ValueError, match="larger than the input 2x2"):
            MaxPool2D(3)([[[0.0, 0.0], [0.0, 0.0]]])

    def test_small_cnn_matches_torch(self):
        random.seed(11)
        model = Sequential([
            Conv2D(1, 3, 3, padding=1, activation="relu"), MaxPool2D(2), Conv2D(3, 2, 2), Tanh(),
            Flatten(), Linear(2 * 2 * 2, 3),
        ])
        rng = random.Random(2)
        xv = rand_nested(rng, [1, 6, 6])
        xs = scalars(xv)
        out = model(xs)
        weighted_sum(out, [0.5, -1.0, 2.0]).backward()
        tm = model.to_torch()
        tx = tt(xv)
        ty = tm(tx)
        (ty * torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)).sum().backward()
        all_close(out, ty, "outputs")
        all_close([p.grad for p in model.parameters()], torch_flat(tm, "grad"), "parameter grads")
        grads_close(xs, tx.grad, "input grads")


@parameterized.expand([(a,) for a in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus")])
def test_fused_neuron_second_derivatives_match_torch(activation):
    """backward(create_graph=True) through a fused neuron node, then again: d2y/dx_i dx_0 and d2y/dw_i
    dx_0."""
    w_vals, x_vals, b_val = [0.3, -0.4, 0.5], [0.7, 0.2, -0.1], 0.05
    neuron = Neuron(3, activation=activation)
    neuron.initialize(w=w_vals, b=b_val)
    xs = [Scalar(v) for v in x_vals]
    y = neuron(xs)
    y.backward(create_graph=True)
    g0 = xs[0].grad
    for p in xs + neuron.parameters():
        p.grad = 0.0
    g0.backward()

    tw, tx, tb = tt(w_vals), tt(x_vals), tt(b_val)
    z = (tw * tx).sum() + tb
    act = {"identity": lambda v: v, "relu": torch.relu, "leaky_relu": lambda v: TF.leaky_relu(v, 0.01),
           "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softplus": lambda v: TF.softplus(v, threshold=50)}
    ty = act[activation](z)
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    second_x, second_w = torch.autograd.grad(tg[0], (tx, tw), allow_unused=True)
    close(g0.data, tg[0], "first derivative")
    for i in range(3):
        close(xs[i].grad, second_x[i] if second_x is not None else 0.0, f"d2y/dx{i}dx0")
        close(neuron.w[i].grad, second_w[i] if second_w is not None else 0.0, f"d2y/dw{i}dx0")
