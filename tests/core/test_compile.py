"""Compiled graphs: the generated function gives the bits of the rebuilt graph and of Replay.

The reference is the graph built afresh at the new values (and a Replay run
at them): the same output and the same parameter gradients, bit for bit, for
every op of test_replay's table, fused layers in an MLP, and an extension op.
"""

import random

import pytest
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.compile import CompiledGraph, compile_graph
from scalargrad.extend import defop
from scalargrad.nn import Conv2D, CrossEntropyLoss, Dropout, Flatten, Linear, MaxPool2D, MSELoss, Sequential
from scalargrad.replay import Replay
from tests.bits import equal_up_to_sum_rounding
from tests.core.test_replay import CASES, P


def _zero(scalars):
    for p in scalars:
        p.grad = 0.0


def _compiled(build, at_build, values, params, form="fast"):
    xs = [Scalar(v) for v in at_build]
    step = compile_graph(lambda: build(xs), xs, form=form)
    _zero(params)
    out = step(values)
    return out, [p.grad for p in params]


def _rebuilt(build, values, params):
    xs = [Scalar(v) for v in values]
    replay = Replay(lambda: build(xs), xs)
    _zero(params)
    replay.backward()
    return replay.output.data, [p.grad for p in params]


def _replayed(build, at_build, values, params):
    xs = [Scalar(v) for v in at_build]
    replay = Replay(lambda: build(xs), xs)
    _zero(params)
    out = replay.forward(values)
    replay.backward()
    return out, [p.grad for p in params]


@defop("softsign", lambda x: x / (1.0 + abs(x)))
def softsign(maths, x, y, const):
    return maths.div(1.0, (1.0 + abs(x)) * (1.0 + abs(x)))


EXTRA_CASES = [
    ("defop_softsign", lambda x: softsign(x[0] * P[0]) * P[1], [0.3], [-2.5]),
    ("same_input_twice", lambda x: (x[0] * P[0]) * (x[0] * P[0]) + P[1] * P[1], [0.3], [-0.6]),
    ("negative_constants", lambda x: (x[0] * P[0] * -2.5 - -1.0) ** -0.5 + x[0] * -0.0 / P[1], [0.3], [-0.2]),
]


class TestEveryOpCompiles:
    @parameterized.expand([(*case, form) for case in CASES + EXTRA_CASES for form in ("fast", "readable")])
    def test_compiled_equals_rebuild_and_replay_bit_for_bit(self, _name, build, at_build, values, form):
        out, grads = _compiled(build, at_build, values, P, form)
        for reference in (_rebuilt(build, values, P), _replayed(build, at_build, values, P)):
            ref_out, ref_grads = reference
            assert equal_up_to_sum_rounding(out, ref_out), (out, ref_out)
            assert all(equal_up_to_sum_rounding(g, r) for g, r in zip(grads, ref_grads)), (grads, ref_grads)

    def test_extension_op_is_called_through_its_own_functions(self):
        x = Scalar(0.0)
        step = compile_graph(lambda: softsign(x * P[0]), [x])
        assert "softsign(" in step.source and "softsign_derivative(maths, " in step.source

    def test_the_library_ops_have_templates_in_the_compiler(self):
        """Each op's compiled form is in compile's table, keyed by the op (the op itself holds only math)."""
        from scalargrad.compile import register_template
        from scalargrad.compile.templates import TEMPLATES, template_of
        from scalargrad.extend import SCALAR_OPS

        assert [name for name, op in SCALAR_OPS.items() if template_of(op) is None] == []
        assert all(callable(template_of(f.op)) for f in (F.sum, F.mean, F.linear, F.window_max))
        assert template_of(softsign.op) is None  # compiled through its functions
        with pytest.raises(TypeError, match="a template is a tuple of strings or a function"):
            register_template(softsign.op, "{0}")
        assert softsign.op not in TEMPLATES


def _mlp(activation, seed=0):
    random.seed(seed)
    return Sequential([Linear(4, 8, activation=activation), Linear(8, 5, activation=activation),
                       Linear(5, 3)])


def _batch(n, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(n)], [rng.randrange(3) for _ in range(n)]


class TestLayers:
    @parameterized.expand([(a, loss) for a in F.ACTIVATIONS for loss in ("mse", "cross_entropy")])
    def test_mlp_steps_equal_replay_bit_for_bit(self, activation, loss):
        """Five batches through a 4-8-5-3 MLP: compiled and replayed give the same loss and gradients."""
        model = _mlp(activation)
        params = model.parameters()
        xs = [[Scalar(0.0) for _ in range(4)] for _ in range(6)]
        if loss == "mse":
            ys = [[Scalar(0.0) for _ in range(3)] for _ in range(6)]
            loss_fn = MSELoss()
        else:
            ys = [Scalar(0.0) for _ in range(6)]
            loss_fn = CrossEntropyLoss()
        inputs = {"x": xs, "y": ys}
        step = compile_graph(lambda: loss_fn([model(x) for x in xs], ys), inputs)
        replay = Replay(lambda: loss_fn([model(x) for x in xs], ys), inputs)
        for seed in range(5):
            xb, yb = _batch(6, seed)
            if loss == "mse":
                yb = [[float(t == j) for j in range(3)] for t in yb]
            _zero(params)
            out = step(x=xb, y=yb)
            grads = [p.grad for p in params]
            _zero(params)
            ref = replay.forward(x=xb, y=yb)
            replay.backward()
            assert equal_up_to_sum_rounding(out, ref), (out, ref)
            assert all(equal_up_to_sum_rounding(g, p.grad) for g, p in zip(grads, params))


    @parameterized.expand([("relu",), ("tanh",)])
    def test_conv_and_max_pooling_equal_replay_bit_for_bit(self, activation):
        """The pooled maximum moves between steps, ties included; the compiled pool follows it as Replay's
        does."""
        random.seed(2)
        model = Sequential([Conv2D(1, 2, 2, activation=activation), MaxPool2D(2), Flatten(), Linear(8, 2)])
        img = [[[Scalar(0.0) for _ in range(5)] for _ in range(5)]]
        flat = [p for row in img[0] for p in row]
        step = compile_graph(lambda: CrossEntropyLoss()([model(img)], [0]), flat)
        replay = Replay(lambda: CrossEntropyLoss()([model(img)], [0]), flat)
        rng = random.Random(4)
        for i in range(6):
            values = [rng.choice([-1.0, 0.0, 1.0]) if i % 2 else rng.uniform(-2, 2) for _ in range(25)]
            model.zero_grad()
            out = step(values)
            grads = [p.grad for p in model.parameters()]
            model.zero_grad()
            ref = replay.forward(values)
            replay.backward()
            assert equal_up_to_sum_rounding(out, ref)
            assert all(equal_up_to_sum_rounding(g, p.grad) for g, p in zip(grads, model.parameters()))


class TestBehaviour:
    def test_gradients_accumulate_as_backward_does(self):
        x, w = Scalar(0.0), Scalar(0.7)
        step = compile_graph(lambda: (x * w).tanh(), [x])
        w.grad = None  # as after zero_grad(set_to_none=True)
        step([1.3])
        once = w.grad
        step([1.3])
        assert w.grad == 2 * once
        y = (Scalar(1.3) * w).tanh()
        w.grad = 0.0
        y.backward()
        assert w.grad == once

    def test_same_structure_reuses_the_code(self):
        def make(v):
            x, w, b = Scalar(0.0), Scalar(v), Scalar(v / 2)
            return compile_graph(lambda: (x * w + b).sigmoid(), [x])
        first, second = make(0.5), make(-1.5)
        assert first.function.__code__ is second.function.__code__
        assert first([1.0]) != second([1.0])  # each reads its own parameters

    def test_data_dependent_graphs_are_refused_as_replay_refuses_them(self):
        drop = Dropout(0.5)
        x = Scalar(0.0)
        with pytest.raises(ValueError, match="Dropout") as compiled:
            compile_graph(lambda: drop([x * P[0]])[0], [x])
        with pytest.raises(ValueError) as replayed:
            Replay(lambda: drop([x * P[0]])[0], [x])
        assert str(compiled.value) == str(replayed.value)

    def test_readable_source_of_the_linear_function(self):
        x0, x1 = Scalar(0.0, name="x0"), Scalar(0.0, name="x1")
        w0, w1, b = Scalar(-3.0, name="w0"), Scalar(1.0, name="w1"), Scalar(6.88, name="b")
        step = compile_graph(lambda: x0 * w0 + x1 * w1 + b, [x0, x1])
        lines = step.source.splitlines()
        assert lines[0] == "def step(x0, x1):"
        assert len(lines) <= 30
        for name, partner in (("w0", "x0"), ("w1", "x1")):  # each product's rule, named after the Scalars
            assert any(line.lstrip().startswith(f"g_{name} = ") and line.split("#")[0].rstrip().endswith(
                f"* {partner}") for line in lines), name
        assert step([2.0, 1.0]) == 2.0 * -3.0 + 1.0 * 1.0 + 6.88
        assert (w0.grad, w1.grad, b.grad) == (2.0, 1.0, 1.0)

    def test_names_that_clash_still_compile(self):
        """Scalars named like a function the code calls, a keyword, a gradient, a number, or each other."""
        x = Scalar(0.0, name="lambda")
        ws = [Scalar(v, name=n)
              for v, n in ((0.5, "exp"), (-1.5, "g_w"), (2.0, "1st"), (0.25, "w"), (0.75, "w"))]
        build = lambda: F.sum([(x * w).exp() for w in ws])
        step = compile_graph(build, [x])
        _zero(ws)
        out = step([0.3])
        grads = [w.grad for w in ws]
        y = F.sum([(Scalar(0.3) * w).exp() for w in ws])
        _zero(ws)
        y.backward()
        assert equal_up_to_sum_rounding(out, y.data) and all(equal_up_to_sum_rounding(g, w.grad)
                                                             for g, w in zip(grads, ws))

    def test_bad_argument(self):
        with pytest.raises(TypeError, match="needs a Replay"):
            CompiledGraph(lambda: None)
