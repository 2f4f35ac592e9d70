"""The fast form of compiled graphs: layers as loops, the same bits as Replay and the readable form.

Each graph is compiled in both forms and replayed; outputs and parameter
gradients must agree bit for bit (``tests.bits``). The cases cover what the
fast form groups (MLP layers over a batch, convolution windows, a network
input of plain numbers, layers without bias) and what it must leave node by
node to keep backward()'s order of additions (a layer applied to its own
output, hidden values also read by the loss, weights also read by a
penalty, overlapping windows over a hidden image). Hypothesis draws MLPs.
"""

import math
import random
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.compile import CompiledGraph, compile_graph
from scalargrad.compile.fast import GLOSSARY
from scalargrad.compile.names import FAST_LOCALS, LOOP_FAMILIES, LOOP_NAME
from scalargrad.compile.templates import summed
from scalargrad.nn import Conv2D, CrossEntropyLoss, Flatten, Linear, MaxPool2D, MSELoss, Sequential
from scalargrad.replay import Replay
from tests.bits import equal_up_to_sum_rounding


def _placeholders(shape):
    if not shape:
        return Scalar(0.0)
    return [_placeholders(shape[1:]) for _ in range(shape[0])]


def _values(shape, rng):
    if not shape:
        return rng.choice([rng.uniform(-2, 2), rng.uniform(-2, 2), 0.0, -0.0, 1.0])
    return [_values(shape[1:], rng) for _ in range(shape[0])]


def _check(make, shapes, steps=4, seed=0):
    """Compile ``make(inputs)`` in both forms and replay it; ``steps`` sets of random values must give the
    same output and parameter gradients in all three. Returns the fast form's source."""
    inputs = {name: _placeholders(shape) for name, shape in shapes.items()}
    params = []
    loss = make(inputs, params)  # the build function: it fills params on its first call
    fast = compile_graph(lambda: make(inputs, []), inputs, form="fast")
    readable = compile_graph(lambda: make(inputs, []), inputs, form="readable")
    replay = Replay(lambda: make(inputs, []), inputs)
    assert loss is not None and params
    rng = random.Random(seed)
    for _ in range(steps):
        values = {name: _values(shape, rng) for name, shape in shapes.items()}
        results = []
        for run in (fast, readable, lambda **named: (replay.forward(**named), replay.backward())[0]):
            for p in params:
                p.grad = 0.0
            results.append((run(**values), [p.grad for p in params]))
        (out, grads), *references = results
        # on floats at the parameters' values: the same code, so the same numbers; no Scalar is touched
        for p in params:
            p.grad = 7.0
        data = [p.data for p in params]
        shifted = [w + 0.25 for w in (p.data for p in fast.parameters)]
        value, by_parameter = fast.gradient_values([p.data for p in fast.parameters], **values)
        assert value == out and [p.data for p in params] == data and {p.grad for p in params} == {7.0}
        got = dict(zip(map(id, fast.parameters), by_parameter))
        assert [got.get(id(p), 0.0) for p in params] == grads
        # at other weights: as a call with the parameters holding them
        at_shifted = fast.gradient_values(shifted, **values)
        saved = [p.data for p in fast.parameters]
        for p, w in zip(fast.parameters, shifted):
            p.data, p.grad = w, 0.0
        assert at_shifted == (fast(**values), tuple(p.grad for p in fast.parameters))
        for p, w in zip(fast.parameters, saved):
            p.data = w
        for ref_out, ref_grads in references:
            assert equal_up_to_sum_rounding(out, ref_out), (out, ref_out)
            assert all(equal_up_to_sum_rounding(g, r) for g, r in zip(grads, ref_grads)), [
                (i, g, r) for i, (g, r) in enumerate(zip(grads, ref_grads))
                if not equal_up_to_sum_rounding(g, r)]
    return fast.source


def _mlp(sizes, activation="relu", bias=True, seed=1):
    random.seed(seed)
    n = len(sizes) - 1
    return Sequential([Linear(a, b, activation=activation if i < n - 1 else "identity", bias=bias)
                       for i, (a, b) in enumerate(zip(sizes, sizes[1:]))])


def _loops(source):
    return sum(1 for line in source.splitlines() if line.startswith("    for "))


class TestLayersBecomeLoops:
    @parameterized.expand([(a, loss) for a in F.ACTIVATIONS for loss in ("mse", "ce")])
    def test_mlp_over_a_batch(self, activation, loss):
        model = _mlp([3, 5, 4, 2], activation)
        loss_fn = MSELoss() if loss == "mse" else CrossEntropyLoss()

        def make(inputs, params):
            params += model.parameters()
            targets = inputs["y"] if loss == "mse" else [0, 1, 1, 0, 1]
            return loss_fn([model(x) for x in inputs["x"]], targets)

        source = _check(make, {"x": (5, 3), "y": (5, 2)} if loss == "mse" else {"x": (5, 3)})
        assert _loops(source) == 6  # three layers, forward and backward: one loop each
        assert "0.0 if z0 <= 0.0 else z0" in source if activation == "relu" else True

    def test_the_fast_form_is_far_shorter_than_the_readable_one(self):
        model = _mlp([8, 16, 3])
        xs = [[Scalar(0.0) for _ in range(8)] for _ in range(16)]
        build = lambda: CrossEntropyLoss()([model(x) for x in xs], list(range(3)) * 5 + [0])
        fast, readable = (compile_graph(build, {"x": xs}, form=f) for f in ("fast", "readable"))
        assert len(fast.source.splitlines()) * 4 < len(readable.source.splitlines())
        assert fast.source.count("for ") >= 4

    def test_layers_without_bias(self):
        model = _mlp([3, 4, 2], bias=False)
        source = _check(lambda i, p: (p.extend(model.parameters()),
                                      F.sum([F.sum(model(x)) for x in i["x"]]))[1],
                        {"x": (4, 3)})
        assert _loops(source) == 4

    def test_a_network_input_of_plain_numbers(self):
        """Inputs the build reads as numbers are constants of the runs; the fed targets still vary."""
        model = _mlp([2, 3, 1])
        data = [[0.5, -1.0], [0.0, 2.0], [1.5, 0.25]]

        def make(inputs, params):
            params += model.parameters()
            return MSELoss()([model(x) for x in data], inputs["y"])

        source = _check(make, {"y": (3, 1)})
        assert "X0 = [(1.5, 0.25), (0.0, 2.0), (0.5, (-1.0))]" in source

    @parameterized.expand([("relu",), ("tanh",)])
    def test_convolution_windows_are_runs(self, activation):
        random.seed(2)
        model = Sequential([Conv2D(1, 2, 2, activation=activation), MaxPool2D(2), Flatten(), Linear(8, 2)])
        source = _check(lambda i, p: (p.extend(model.parameters()),
                                      CrossEntropyLoss()([model(img) for img in i["img"]], [0, 1]))[1],
                        {"img": (2, 1, 5, 5)})
        assert "run 32 times" in source  # 2 images x 16 windows


    def test_windows_cut_by_padding_run_with_the_whole_kernel(self):
        """Border windows read part of the kernel; as runs of the whole kernel they read 0.0 there."""
        random.seed(5)
        model = Sequential([Conv2D(1, 2, 3, padding=1, activation="relu"), Flatten(), Linear(32, 2)])
        source = _check(lambda i, p: (p.extend(model.parameters()),
                                      CrossEntropyLoss()([model(img) for img in i["img"]], [1, 0]))[1],
                        {"img": (2, 1, 4, 4)})
        assert "run 32 times" in source and _loops(source) == 4  # 2 images x 16 windows, one kernel


class TestLeftNodeByNode:
    """Where a loop would add some gradient's terms in another order than backward(), nodes stay lines."""

    def test_a_layer_applied_to_its_own_output(self):
        random.seed(3)
        layer = Linear(3, 3, activation="tanh")

        def make(inputs, params):
            params += layer.parameters()
            return F.sum([F.sum(layer(layer(x))) for x in inputs["x"]])

        source = _check(make, {"x": (3, 3)})
        assert _loops(source) == 0

    def test_hidden_values_also_read_by_the_loss(self):
        model = _mlp([3, 4, 2], "sigmoid")

        def make(inputs, params):
            params += model.parameters()
            total = Scalar(0.0)
            for x in inputs["x"]:
                hidden = model[0](x)
                total = total + F.sum(model[1](hidden)) + F.sum([h * h for h in hidden]) * 0.01
            return total

        source = _check(make, {"x": (4, 3)})
        assert _loops(source) == 2  # the first layer stays a loop; the second reads values the loss reads too

    def test_weights_also_read_by_a_penalty(self):
        model = _mlp([3, 4, 2])

        def make(inputs, params):
            params += model.parameters()
            penalty = F.sum([p * p for p in model.parameters()]) * 0.001
            return MSELoss()([model(x) for x in inputs["x"]], inputs["y"]) + penalty

        _check(make, {"x": (4, 3), "y": (4, 2)})

    def test_overlapping_windows_over_a_hidden_image(self):
        random.seed(4)
        model = Sequential([Conv2D(1, 1, 2, activation="relu"), Conv2D(1, 1, 2), Flatten(), Linear(4, 1)])
        _check(lambda i, p: (p.extend(model.parameters()), F.sum([model(img)[0] for img in i["img"]]))[1],
               {"img": (2, 1, 4, 4)})


@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), batch=st.integers(1, 4),
       activation=st.sampled_from(F.ACTIVATIONS), loss=st.sampled_from(["mse", "ce", "sum"]),
       seed=st.integers(0, 10))
def test_drawn_mlps_compile_to_the_same_bits(sizes, batch, activation, loss, seed):
    model = _mlp(sizes, activation, seed=seed)
    classes = sizes[-1]

    def make(inputs, params):
        params += model.parameters()
        out = [model(x) for x in inputs["x"]]
        if loss == "mse":
            return MSELoss()(out, inputs["y"])
        if loss == "ce":
            return CrossEntropyLoss()(out, [i % classes for i in range(batch)])
        return F.sum([v for row in out for v in row])

    shapes = {"x": (batch, sizes[0])}
    if loss == "mse":
        shapes["y"] = (batch, classes)
    _check(make, shapes, steps=2, seed=seed)


class TestSumBound:
    """The stated bound between compiled sums and sum(): zero up to CPython 3.11 and on PyPy."""

    @parameterized.expand([(n,) for n in (2, 3, 10, 100)])
    def test_a_chain_is_within_the_rounding_bound_of_sum(self, n):
        rng = random.Random(n)
        for _ in range(200):
            xs = [rng.uniform(-1, 1) * 10 ** rng.randint(-8, 8) for _ in range(n)]
            names = [f"x[{i}]" for i in range(n)]
            chained = eval(summed(names), {"x": xs})  # the expression compiled code holds
            bound = (n - 1) * 2.0 ** -53 * math.fsum(map(abs, xs))
            assert abs(chained - sum(xs, 0.0)) <= bound
            if sys.version_info < (3, 12) or sys.implementation.name != "cpython":
                assert chained == sum(xs, 0.0)


@parameterized.expand([("fast",), ("readable",)])
def test_the_parameters_are_listed_in_the_order_asked(form):
    """``parameter_order``: the parameters it names that the graph reads come first, in its order, then
    the graph's other leaves (here a factor of the loss's own); the code computes the same bits."""
    model = _mlp([3, 4, 2])
    xs = [[Scalar(0.0) for _ in range(3)] for _ in range(4)]
    factor = Scalar(1.5)
    build = lambda: CrossEntropyLoss()([model(x) for x in xs], [0, 1, 1, 0]) * factor
    params = model.parameters()
    order = [Scalar(9.0), *reversed(params)]  # the stranger is not read: not listed
    plain = CompiledGraph(Replay(build, {"x": xs}), form=form)
    ordered = CompiledGraph(Replay(build, {"x": xs}), form=form, parameter_order=order)
    assert list(ordered.parameters) == [*reversed(params), factor]
    assert list(plain.parameters) != list(ordered.parameters)
    rng = random.Random(3)
    for _ in range(3):
        values = _values((4, 3), rng)
        results = []
        for graph in (plain, ordered):
            for p in [*params, factor]:
                p.grad = 0.0
            results.append((graph(x=values), [p.grad for p in params], factor.grad))
        assert results[0] == results[1]
        if form == "fast":  # gradient_values takes and gives them in the graph's order
            weights = [p.data for p in ordered.parameters]
            value, grads = ordered.gradient_values(weights, x=values)
            assert (value, list(grads)) == (results[1][0], [*reversed(results[1][1]), results[1][2]])


def test_the_form_is_checked():
    x = Scalar(0.0)
    with pytest.raises(ValueError, match="form"):
        compile_graph(lambda: x * 2.0, [x], form="quick")
    with pytest.raises(ValueError, match="function_name"):
        compile_graph(lambda: x * 2.0, [x], function_name="not a name")


@parameterized.expand([(name,) for name in ("MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "HingeLoss",
                                            "BCELoss", "BCEWithLogitsLoss")])
def test_every_loss_after_layers(loss_name):
    """A batch through an MLP into each loss: the layers become loops, the loss stays line by line."""
    from scalargrad import nn

    model = _mlp([3, 4, 2], "tanh")
    loss_fn = getattr(nn, loss_name)()

    def make(inputs, params):
        params += model.parameters()
        out = [model(x) for x in inputs["x"]]
        if loss_name in ("CrossEntropyLoss", "NLLLoss"):
            if loss_name == "NLLLoss":
                out = [F.log_softmax(o) for o in out]
            return loss_fn(out, [0, 1, 1])
        if loss_name == "BCELoss":
            out = [[v.sigmoid() for v in o] for o in out]
            return loss_fn(out, [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        if loss_name == "HingeLoss":
            return loss_fn(out, [[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
        return loss_fn(out, inputs["y"])

    shapes = {"x": (3, 3)}
    if loss_name in ("MSELoss", "L1Loss", "BCEWithLogitsLoss"):
        shapes["y"] = (3, 2)
    source = _check(make, shapes)
    assert _loops(source) == 4


class TestLongSums:
    """Sums longer than one expression may hold (CPython's compiler fails near 3,000 chained +)."""

    def test_a_mean_and_a_sum_over_thousands_of_terms(self):
        w = Scalar(0.5)

        def make(inputs, params):
            params.append(w)
            products = [x * w for x in inputs["x"]]
            return F.mean(products) + F.sum(products)

        _check(make, {"x": (3500,)}, steps=1)

    def test_a_neuron_over_thousands_of_inputs_and_a_wide_layer(self):
        random.seed(6)
        model = Sequential([Linear(3100, 3, activation="relu"), Linear(3, 250, activation="tanh"),
                            Linear(250, 1)])
        source = _check(lambda i, p: (p.extend(model.parameters()), F.sum([model(x)[0] for x in i["x"]]))[1],
                        {"x": (2, 3100)}, steps=1)
        assert _loops(source) == 6


def test_bad_values_are_named_after_the_compiled_function():
    x, w = [Scalar(0.0), Scalar(0.0)], Scalar(2.0)
    step = compile_graph(lambda: (x[0] - x[1]) * w, {"x": x}, function_name="loss_step")
    with pytest.raises(TypeError,
                       match=r"^loss_step\(\): this Replay's inputs are named; pass them by name \(x=...\)"):
        step([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^loss_step\(\): input 'x' has shape \(3,\), "
                                         r"but it was built with shape \(2,\)"):
        step(x=[1.0, 2.0, 3.0])
    assert step(x=[3.0, 1.0]) == 4.0


def test_the_glossary_names_every_variable_the_loops_make():
    """fast.GLOSSARY lists the families of loop variables the namer keeps from users' names, and the
    other locals; a layer's source uses them and no others."""
    families = {key[:-3] for key in GLOSSARY if re.fullmatch(r"[A-Za-z]+\{[ijk]\}", key)}
    assert families == set(LOOP_FAMILIES) and FAST_LOCALS <= set(GLOSSARY)
    random.seed(3)
    model = Sequential([Linear(2, 3, activation="sigmoid"), Linear(3, 2, activation="relu"), Linear(2, 1)])
    xs = [[Scalar(0.0), Scalar(0.0)] for _ in range(3)]
    source = compile_graph(lambda: F.sum([model(x)[0] for x in xs]), {"x": xs}).source
    made = {name for name in re.findall(r"\b[A-Za-z]+[0-9]+\b", source) if not re.fullmatch(r"t[0-9]+", name)}
    assert {"X0", "H0", "G0", "GX1", "a0", "z0", "y0", "g0", "d0"} <= made
    assert all(LOOP_NAME.fullmatch(name) for name in made), made
