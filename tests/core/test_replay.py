"""Graph replay: a replayed graph gives exactly what rebuilding it gives, and makes no new nodes.

The reference is a graph built afresh at the new values: the same bits for
every value and every gradient. Building the graph normally (no Replay,
where ReLUs that are off are left out) gives the same numbers within a few
rounding steps; its gradients are checked against torch elsewhere.
"""

import gc
import math
import random
from functools import partial

import pytest
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import (
    SGD,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2D,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    HingeLoss,
    L1Loss,
    Linear,
    MaxPool2D,
    MSELoss,
    NLLLoss,
    Sequential,
)
from scalargrad.replay import Replay
from scalargrad.train import Trainer

P = [Scalar(0.8), Scalar(-0.45), Scalar(1.3)]  # parameters some cases use besides the fed inputs


def _shared(y):
    return y * y + y.sin() * P[1]


def _neuron(activation, x):
    return F.neuron(P[:2], x[:2], P[2], activation=activation)


# name, build(xs) -> Scalar, values at build time, values to replay (chosen so branches flip:
# relu/abs/leaky change side, the class target changes)
CASES = [
    ("add", lambda x: x[0] + x[1], [0.3, 0.7], [0.6, -0.2]),
    ("add_const", lambda x: x[0] + 2.5, [0.3], [-0.6]),
    ("radd_const", lambda x: 2.5 + x[0], [0.3], [-0.6]),
    ("sub", lambda x: x[0] - x[1], [0.3, 0.7], [0.6, -0.2]),
    ("sub_const", lambda x: x[0] - 0.3, [0.3], [-0.6]),
    ("rsub_const", lambda x: 0.3 - x[0], [0.3], [-0.6]),
    ("neg", lambda x: -x[0], [0.3], [-0.6]),
    ("mul", lambda x: x[0] * x[1], [0.3, 0.7], [0.6, -0.2]),
    ("mul_const", lambda x: 3.0 * x[0], [0.3], [-0.6]),
    ("div", lambda x: x[0] / x[1], [0.3, 0.7], [0.6, -0.2]),
    ("div_const", lambda x: x[0] / 3.0, [0.3], [-0.7]),
    ("rdiv_const", lambda x: 2.0 / x[0], [0.3], [-0.6]),
    ("pow", lambda x: x[0] ** x[1], [0.3, 0.7], [0.6, 2.5]),
    ("pow_const", lambda x: x[0] ** 2.5, [0.3], [0.6]),
    ("rpow_const", lambda x: 2.0 ** x[0], [0.3], [-0.6]),
    ("abs", lambda x: abs(x[0]), [0.3], [-0.6]),
    ("exp", lambda x: x[0].exp(), [0.3], [-0.6]),
    ("log", lambda x: x[0].log(), [0.3], [0.6]),
    ("log1p", lambda x: x[0].log1p(), [0.3], [-0.6]),
    ("sqrt", lambda x: x[0].sqrt(), [0.3], [0.6]),
    ("sin", lambda x: x[0].sin(), [0.3], [-0.6]),
    ("cos", lambda x: x[0].cos(), [0.3], [-0.6]),
    ("tanh", lambda x: x[0].tanh(), [0.3], [-0.6]),
    ("arctanh", lambda x: x[0].arctanh(), [0.3], [-0.6]),
    ("sigmoid", lambda x: x[0].sigmoid(), [0.3], [-0.6]),
    ("relu", lambda x: x[0].relu(), [0.3], [-0.6]),
    ("leaky_relu", lambda x: x[0].leaky_relu(0.1), [0.3], [-0.6]),
    ("softplus", lambda x: x[0].softplus(), [0.3], [-0.6]),
    ("identity", lambda x: x[0].identity() * P[0], [0.3], [-0.6]),
    ("shared_subexpression", lambda x: _shared(x[0] * x[1]), [0.3, 0.7], [0.6, -0.2]),
    ("sum", lambda x: F.sum([x[0], x[1], 2.0]), [0.3, 0.7], [0.6, -0.2]),
    ("sum_start", lambda x: F.sum([x[0] * P[0], x[1]], start=1.5), [0.3, 0.7], [0.6, -0.2]),
    ("mean", lambda x: F.mean([x[0], x[1], 1.0]), [0.3, 0.7], [0.6, -0.2]),
    ("dot_both", lambda x: F.dot(x[:2], P[:2], P[2]), [0.3, 0.7], [0.6, -0.2]),
    ("dot_float_side", lambda x: F.dot([x[0], x[1]], [0.5, -1.5], P[2]), [0.3, 0.7], [0.6, -0.2]),
    ("dot_constants_and_bias", lambda x: F.dot([0.5, 2.0], [1.0, 3.0], x[0]), [0.3], [-0.6]),
    ("logsumexp", lambda x: F.logsumexp([x[0], x[1], P[0]]), [0.3, 0.7], [6.0, -0.2]),
    ("softmax", lambda x: F.dot(F.softmax([x[0], x[1], P[0]]), P), [0.3, 0.7], [6.0, -0.2]),
    ("log_softmax", lambda x: F.dot(F.log_softmax([x[0], x[1], P[0]]), P), [0.3, 0.7], [6.0, -0.2]),
    ("tensordot",
     lambda x: F.sum(F.flatten(F.tensordot([[x[0], x[1]], [P[0], x[2]]], F.transpose([P[:2]]), 1))),
     [0.3, 0.7, -1.0], [0.6, -0.2, 2.5]),
    ("add_mul_broadcast", lambda x: F.sum(F.flatten(F.mul(F.add([[x[0]], [x[1]]], P[:2]), x[0]))),
     [0.3, 0.7], [0.6, -0.2]),
    *[(f"neuron_{act}", partial(_neuron, act), [0.3, 0.7], [-2.0, 0.5]) for act in F.ACTIVATIONS],
    ("neuron_recorded_input", lambda x: F.neuron(P[:2], [x[0] * 1.5, x[1].tanh()], P[2], activation="relu"),
     [0.3, 0.7], [-2.0, 0.5]),
    ("cross_entropy_fed_target", lambda x: CrossEntropyLoss()([[x[0], x[1], P[0]]], [x[2]]),
     [0.3, 0.7, 0.0], [0.6, -0.2, 2.0]),
    ("cross_entropy_smoothed", lambda x: CrossEntropyLoss(label_smoothing=0.1)([[x[0], x[1], P[0]]], [x[2]]),
     [0.3, 0.7, 1.0], [0.6, -0.2, 0.0]),
    ("cross_entropy_int_target", lambda x: CrossEntropyLoss()([[x[0], x[1]]], [1]), [0.3, 0.7], [0.6, -0.2]),
    ("mse_fed_target", lambda x: MSELoss()([[x[0] * P[0]]], [x[1]]), [0.3, 0.7], [0.6, -0.2]),
    ("l1_fed_target", lambda x: L1Loss()([[x[0] * P[0]]], [x[1]]), [0.3, 0.7], [0.6, 0.9]),
    ("hinge_fed_target", lambda x: HingeLoss()([[x[0] * P[0]]], [x[1]]), [0.3, 1.0], [0.6, -1.0]),
    ("bce_fed_target", lambda x: BCELoss()([[(x[0] * P[0]).sigmoid()]], [x[1]]), [0.3, 1.0], [0.6, 0.0]),
    ("bce_logits_fed_target", lambda x: BCEWithLogitsLoss()([[x[0] * P[0]]], [x[1]]), [0.3, 1.0],
     [0.6, 0.25]),
]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _zero(leaves):
    for p in leaves:
        p.grad = 0.0


def _replayed(build, values_at_build, values, named=False):
    """Output value and leaf gradients of a Replay built at one set of values and run at another;
    ``named``: the inputs named, ``Replay(build, inputs={'x': xs})`` fed by ``forward(x=values)``."""
    xs = [Scalar(v) for v in values_at_build]
    replay = Replay(lambda: build(xs), inputs={"x": xs} if named else xs)
    _zero(xs + P)
    out = replay.forward(x=values) if named else replay.forward(values)
    replay.backward()
    return out, [p.grad for p in xs + P]


def _rebuilt(build, values):
    xs = [Scalar(v) for v in values]
    replay = Replay(lambda: build(xs), xs)
    _zero(xs + P)
    replay.backward()
    return replay.output.data, [p.grad for p in xs + P]


class TestEveryOpReplays:
    @parameterized.expand([(f"{name}_{feed}", feed, *case) for name, *case in CASES
                           for feed in ("positional", "named")])
    def test_replay_equals_rebuild_bit_for_bit(self, _name, feed, build, at_build, values):
        out, grads = _replayed(build, at_build, values, named=feed == "named")
        ref_out, ref_grads = _rebuilt(build, values)
        assert _same(out, ref_out), (out, ref_out)
        assert all(_same(g, r) for g, r in zip(grads, ref_grads)), (grads, ref_grads)

    @parameterized.expand(CASES)
    def test_replay_matches_an_ordinary_build(self, _name, build, at_build, values):
        out, grads = _replayed(build, at_build, values)
        xs = [Scalar(v) for v in values]
        _zero(P)
        y = build(xs)
        y.backward()
        assert math.isclose(out, y.data, rel_tol=1e-12, abs_tol=1e-15)
        # fed inputs read by a neuron get no gradient in a Replay; parameters always do
        for g, p in zip(grads[len(xs):], P):
            assert math.isclose(g, p.grad, rel_tol=1e-12, abs_tol=1e-15), (g, p.grad)


def _mlp(activation="relu", seed=0):
    random.seed(seed)
    return Sequential([Linear(4, 8, activation=activation), Linear(8, 6, activation=activation),
                       Linear(6, 3)])


def _batch(n, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(n)], [rng.randrange(3) for _ in range(n)]


class TestMLP:
    @parameterized.expand([(a,) for a in ("relu", "tanh", "sigmoid", "leaky_relu", "softplus", "identity")])
    def test_training_steps_equal_rebuilding(self, activation):
        """Ten SGD steps: replayed and rebuilt (ordinary build) give the same weights."""
        m1, m2 = _mlp(activation), _mlp(activation)
        o1, o2 = SGD(m1.parameters(), lr=0.1, momentum=0.9), SGD(m2.parameters(), lr=0.1, momentum=0.9)
        loss_fn = CrossEntropyLoss()
        xb0, yb0 = _batch(8, 0)
        xs = [[Scalar(v) for v in x] for x in xb0]
        ys = [Scalar(t) for t in yb0]
        replay = Replay(lambda: loss_fn([m1(x) for x in xs], ys), [p for x in xs for p in x] + ys)
        for step in range(10):
            xb, yb = _batch(8, step + 1)
            got = replay.forward([v for x in xb for v in x] + yb)
            o1.zero_grad()
            replay.backward()
            o1.step()
            loss = loss_fn([m2(x) for x in xb], yb)
            o2.zero_grad()
            loss.backward()
            o2.step()
            assert math.isclose(got, loss.data, rel_tol=1e-12)
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert math.isclose(p.data, q.data, rel_tol=1e-10, abs_tol=1e-13)

    def test_off_relus_pass_no_gradient(self):
        """A neuron whose ReLU is off gives its weights exactly 0, as torch's mask does."""
        w, b = [Scalar(1.0), Scalar(1.0)], Scalar(0.0)
        x = [Scalar(1.0), Scalar(1.0)]
        replay = Replay(lambda: F.neuron(w, x, b, activation="relu") * 2.0, x)
        replay.forward([-1.0, -2.0])
        replay.backward()
        assert replay.output.data == 0.0
        assert [p.grad for p in (*w, b)] == [0.0, 0.0, 0.0]
        replay.forward([1.0, 2.0])
        replay.backward()
        assert [p.grad for p in (*w, b)] == [2.0, 4.0, 2.0]

    def test_no_new_nodes(self):
        """Forward and backward allocate no Scalar: the node count stays as it was."""
        model, loss_fn = _mlp(), MSELoss()
        xs = [[Scalar(0.0) for _ in range(4)] for _ in range(4)]
        ys = [[Scalar(0.0) for _ in range(3)] for _ in range(4)]
        replay = Replay(lambda: loss_fn([model(x) for x in xs], ys), [p for r in xs + ys for p in r])
        output, size = replay.output, len(replay)
        gc.collect()
        before = sum(1 for o in gc.get_objects() if type(o) is Scalar)
        for step in range(5):
            xb, _ = _batch(4, step)
            replay.forward([v for x in xb for v in x] + [0.5] * 12)
            replay.backward()
        gc.collect()
        assert sum(1 for o in gc.get_objects() if type(o) is Scalar) == before
        assert replay.output is output and len(replay) == size

    def test_leaf_gradients_accumulate_exactly_as_backward(self):
        w, x = Scalar(0.3), Scalar(0.0)
        replay = Replay(lambda: (w * x).sin() * w, [x])
        replay.forward([0.7])
        replay.backward()
        once = w.grad
        replay.backward()
        assert w.grad == 2 * once
        ref_w = Scalar(0.3)
        y = (ref_w * 0.7).sin() * ref_w
        y.backward()
        assert once == ref_w.grad

    def test_second_derivative_through_a_replay(self):
        x = Scalar(0.0)
        replay = Replay(lambda: (x * x * x).sin(), [x])
        replay.forward([0.4])
        replay.backward(create_graph=True)
        dx = x.grad
        x2 = Scalar(0.4)
        y = (x2 * x2 * x2).sin()
        y.backward(create_graph=True)
        assert dx.data == x2.grad.data
        x.grad, x2.grad = 0.0, 0.0
        dx.backward()
        x2_dx = Scalar(0.4)
        y2 = (x2_dx * x2_dx * x2_dx).sin()
        y2.backward(create_graph=True)
        g = x2_dx.grad
        x2_dx.grad = 0.0
        g.backward()
        assert x.grad == x2_dx.grad

    def test_conv_layer_replays(self):
        random.seed(1)
        conv = Sequential([Conv2D(1, 2, 2, activation="relu"), Flatten(), Linear(8, 2)])
        img = [[[Scalar(0.0) for _ in range(3)] for _ in range(3)]]
        flat = [p for row in img[0] for p in row]
        replay = Replay(lambda: CrossEntropyLoss()([conv(img)], [1]), flat)
        values = [random.uniform(-1, 1) for _ in range(9)]
        got = replay.forward(values)
        replay.backward()
        grads = [p.grad for p in conv.parameters()]
        conv.zero_grad()
        ref = CrossEntropyLoss()([conv([[values[0:3], values[3:6], values[6:9]]])], [1])
        ref.backward()
        assert math.isclose(got, ref.data, rel_tol=1e-12)
        for g, p in zip(grads, conv.parameters()):
            assert math.isclose(g, p.grad, rel_tol=1e-10, abs_tol=1e-14)

    @parameterized.expand([("recorded_input", True), ("float_input", False)])
    def test_nodes_made_before_the_build_are_recomputed_too(self, _name, recorded):
        w, b, x = [Scalar(0.4), Scalar(-0.3)], Scalar(0.1), [Scalar(0.5), Scalar(2.0)]
        outside = F.neuron(w, x if recorded else [0.5, 2.0], b, activation="tanh")  # before the Replay
        p = Scalar(0.0)
        replay = Replay(lambda: outside * p, [p])
        w[0].data = -1.5
        got = replay.forward([3.0])
        replay.backward()
        grads = [q.grad for q in (*w, b)]
        for q in (*w, b):
            q.grad = 0.0
        ref = F.neuron(w, [0.5, 2.0], b, activation="tanh") * 3.0
        ref.backward()
        assert got == ref.data
        assert grads == [q.grad for q in (*w, b)]

    def test_max_pooling_picks_again_at_every_step(self):
        """The largest element moves between steps; the replayed pool follows it, ties and nan included."""
        random.seed(2)
        model = Sequential([Conv2D(1, 2, 2, activation="tanh"), MaxPool2D(2), Flatten(), Linear(8, 2)])
        img = [[[Scalar(0.0) for _ in range(5)] for _ in range(5)]]
        flat = [p for row in img[0] for p in row]
        replay = Replay(lambda: CrossEntropyLoss()([model(img)], [0]), flat)
        rng = random.Random(4)
        for step in range(6):
            values = [rng.choice([-1.0, 0.0, 1.0]) if step % 2 else rng.uniform(-2, 2) for _ in range(25)]
            model.zero_grad()
            got = replay.forward(values)
            replay.backward()
            grads = [p.grad for p in model.parameters()]
            model.zero_grad()
            ref = CrossEntropyLoss()([model([[values[r * 5:r * 5 + 5] for r in range(5)]])], [0])
            ref.backward()
            assert got == ref.data
            assert all(math.isclose(g, p.grad, rel_tol=1e-12, abs_tol=1e-15)
                       for g, p in zip(grads, model.parameters()))
        x = [Scalar(1.0), Scalar(3.0), Scalar(3.0), Scalar(2.0)]
        node = Replay(lambda: F.window_max(x) * 2.0, x)
        node.forward([1.0, 3.0, 3.0, 2.0])
        node.backward()
        assert [p.grad for p in x] == [0.0, 2.0, 0.0, 0.0]  # the first of a tie, as torch
        node.forward([1.0, math.nan, 3.0, 2.0])
        assert math.isnan(node.output.data)

    def test_dropout_in_eval_mode_replays(self):
        model = Sequential([Linear(2, 3, activation="tanh"), Dropout(0.5), Linear(3, 1)])
        model.eval()
        x = [Scalar(0.0), Scalar(0.0)]
        replay = Replay(lambda: model(x)[0], x)
        got = replay.forward([0.5, -0.25])
        assert got == model([0.5, -0.25])[0].data


def _named_step(model, loss_fn, xb, yb):
    """A training step's loss as a Replay over leaves holding the batch, named x and y."""
    xs, ys = [[Scalar(v) for v in x] for x in xb], [Scalar(float(t)) for t in yb]
    return Replay(lambda: loss_fn([model(x) for x in xs], ys), inputs={"x": xs, "y": ys})


class TestNamedInputs:  # every op replays with a named input too: TestEveryOpReplays
    def test_a_batch_and_its_targets_by_name(self):
        """An MLP step fed x (4 x 4) and y (4,) by name: each step as a Replay built afresh at its values."""
        model, loss_fn = _mlp("tanh"), CrossEntropyLoss()
        named = _named_step(model, loss_fn, *_batch(4, 0))
        for step in range(3):
            xb, yb = _batch(4, step + 1)
            model.zero_grad()
            got = named.forward(x=xb, y=yb)
            named.backward()
            grads = [p.grad for p in model.parameters()]
            rebuilt = _named_step(model, loss_fn, xb, yb)
            model.zero_grad()
            rebuilt.backward()
            assert got == rebuilt.output.data
            assert grads == [p.grad for p in model.parameters()]

    def test_named_and_positional_feed_the_same_scalars(self):
        image = [[Scalar(0.0) for _ in range(3)] for _ in range(2)]
        scale = Scalar(1.0)
        w = [Scalar(0.1 * i) for i in range(6)]
        build = lambda: F.dot(w, [p for row in image for p in row]).tanh() * scale
        named = Replay(build, inputs={"image": image, "scale": scale})
        positional = Replay(build, inputs=[p for row in image for p in row] + [scale])
        values = [[0.5, -1.0, 2.0], [0.25, 0.0, -3.0]]
        assert named.forward(image=values, scale=2.0) == \
            positional.forward([v for row in values for v in row] + [2.0])
        assert [p.data for row in image for p in row] == [v for row in values for v in row]
        assert named.forward() == positional.forward()  # nothing fed: the values as they are
        assert "inputs image (2, 3), scale ()" in repr(named)

    def test_names_and_shapes_are_checked(self):
        xs, t = [[Scalar(1.0), Scalar(2.0)], [Scalar(3.0), Scalar(4.0)]], Scalar(1.0)
        replay = Replay(lambda: (xs[0][0] * xs[1][1] - xs[0][1] * xs[1][0]) * t, inputs={"x": xs, "t": t})
        good = [[1.0, 2.0], [3.0, 4.0]]
        with pytest.raises(TypeError, match=r"missing 't' \(this Replay's inputs: 'x', 't'\)"):
            replay.forward(x=good)
        with pytest.raises(TypeError, match="unknown 'z'"):
            replay.forward(x=good, t=1.0, z=2.0)
        with pytest.raises(ValueError,
                           match=r"input 'x' has shape \(4,\), but it was built with shape \(2, 2\)"):
            replay.forward(x=[1.0, 2.0, 3.0, 4.0], t=1.0)
        with pytest.raises(ValueError, match=r"input 't' has shape \(1,\), but it was built with shape \(\)"):
            replay.forward(x=good, t=[1.0])
        with pytest.raises(ValueError, match=r"input 'x' is ragged: .* x\[1\] is a list of 1"):
            replay.forward(x=[[1.0, 2.0], [3.0]], t=1.0)
        with pytest.raises(TypeError,
                           match=r"Replay.forward: this Replay.s inputs are named; pass them by name "
                                 r"\(x=..., t=...\)"):
            replay.forward([1.0, 2.0, 3.0, 4.0, 1.0])
        assert replay.forward(x=good, t=2.0) == -4.0  # the failed calls changed nothing it needs
        positional = Replay(lambda: t * 2.0, [t])
        with pytest.raises(TypeError, match="inputs have no names; pass a list of values, not 't'"):
            positional.forward(t=1.0)

    def test_bad_placeholders_are_named(self):
        x = [Scalar(1.0), Scalar(2.0)]
        with pytest.raises(TypeError, match=r"input 'x'\[1\] is float"):
            Replay(lambda: x[0] * 2.0, inputs={"x": [x[0], 2.0]})
        with pytest.raises(ValueError, match=r"input 'x'\[0\] is computed by an op"):
            Replay(lambda: x[1] * 2.0, inputs={"x": [x[0] * 3.0, x[1]]})
        with pytest.raises(ValueError, match=r"input 'x' is ragged"):
            Replay(lambda: x[0] * 2.0, inputs={"x": [[x[0]], [x[1], Scalar(0.0)]]})
        with pytest.raises(ValueError, match=r"input 'x'\[1\] \(value 2.0\) never reaches the graph"):
            Replay(lambda: x[0] * x[1].data, inputs={"x": x})
        with pytest.raises(TypeError, match="names must be strings, got int"):
            Replay(lambda: x[0] * 2.0, inputs={0: x[0]})


class TestTrainerReplay:
    @parameterized.expand([
        ("relu_ce", "relu", CrossEntropyLoss, 30),
        ("tanh_ce_partial_last_batch", "tanh", CrossEntropyLoss, 27),
        ("tanh_mse", "tanh", MSELoss, 30),
    ])
    def test_same_weights_and_losses_as_rebuilding(self, _name, activation, loss_cls, n):
        rng = random.Random(3)
        x = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(n)]
        if loss_cls is MSELoss:
            y = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(n)]
        else:
            y = [rng.randrange(3) for _ in range(n)]
        results = []
        for replay in (False, True):
            model = _mlp(activation, seed=5)
            history = Trainer(x=x, y=y, model=model, loss=loss_cls(),
                              optimizer=SGD(model.parameters(), lr=0.05, momentum=0.9), batch_size=8,
                              num_epochs=4, seed=0, progress=False, replay=replay).run()
            results.append((history["train_loss"], [p.data for p in model.parameters()]))
        (l1, p1), (l2, p2) = results
        assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(l1, l2))
        assert all(math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-13) for a, b in zip(p1, p2))

    def test_unsupported_models_and_losses_say_why(self):
        x, y = [[0.1, 0.2, 0.3, 0.4]] * 4, [0, 1, 2, 0]
        model = Sequential([Linear(4, 3), Dropout(0.2)])
        with pytest.raises(ValueError, match="replay=True.*Dropout"):
            Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1),
                    batch_size=2, num_epochs=1, progress=False, replay=True).run()
        model = _mlp()
        with pytest.raises(ValueError, match="replay=True.*NLLLoss picks an output"):
            Trainer(x=x, y=y, model=lambda s: F.log_softmax(model(s)), loss=NLLLoss(),
                    optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=1, progress=False,
                    replay=True).run()

    def test_ragged_samples_are_refused(self):
        model = Sequential([Linear(2, 1)])
        loader = [([[0.1, 0.2], [0.3, 0.4]], [[0.0], [1.0]]), ([[0.1, 0.2], [0.3, 0.4]], [[0.0, 1.0], [1.0]])]
        with pytest.raises(ValueError, match="one shape"):
            Trainer(loader=loader, model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.1),
                    num_epochs=1, progress=False, replay=True).run()

    def test_replay_must_be_a_bool(self):
        model = Sequential([Linear(2, 1)])
        with pytest.raises(TypeError, match="replay must be True or False"):
            Trainer(x=[[0.0, 1.0]], y=[0.0], model=model, loss=MSELoss(),
                    optimizer=SGD(model.parameters(), lr=0.1), batch_size=1, num_epochs=1, replay="yes")


class TestErrors:
    def test_graphs_that_change_with_the_data_are_refused(self):
        x = [Scalar(0.0), Scalar(0.0)]
        drop = Dropout(0.5)
        with pytest.raises(ValueError, match="Dropout draws a new mask"):
            Replay(lambda: F.sum(drop(x)), x)

    def test_ops_that_cannot_be_replayed_are_named(self):
        x = Scalar(0.0)
        with pytest.raises(ValueError, match="op 'dot' cannot be replayed"):
            Replay(lambda: F.dot([x, 2.0], [1.0, 3.0]), [x])

    def test_bad_arguments(self):
        x = Scalar(1.0)
        with pytest.raises(TypeError, match="function that builds the graph"):
            Replay(x * 2.0, [x])
        with pytest.raises(TypeError, match="must return a Scalar"):
            Replay(lambda: [x * 2.0], [x])
        with pytest.raises(ValueError, match="returned a leaf"):
            Replay(lambda: x, [x])
        with pytest.raises(TypeError, match="input 0 is float"):
            Replay(lambda: x * 2.0, [1.0])
        with pytest.raises(ValueError, match="input 0 is computed by an op"):
            Replay(lambda: x * 2.0, [x * 3.0])
        with pytest.raises(RuntimeError, match="inside another Replay"):
            Replay(lambda: Replay(lambda: x * 2.0, [x]).output, [x])
        replay = Replay(lambda: x * 2.0, [x])
        with pytest.raises(ValueError, match="got 2 values for 1 inputs"):
            replay.forward([1.0, 2.0])
        with pytest.raises(TypeError, match="Replay input must be an int or float, got str"):
            replay.forward(["1.0"])
        assert "1 nodes, 1 inputs" in repr(replay)

    def test_fed_values_are_checked_when_replayed(self):
        logits, t = [Scalar(0.1), Scalar(0.2)], Scalar(0.0)
        replay = Replay(lambda: CrossEntropyLoss()([logits], [t]), [t])
        with pytest.raises(ValueError, match="class index 2 is out of range for 2 logits"):
            replay.forward([2.0])
        with pytest.raises(ValueError, match="whole numbers"):
            replay.forward([0.5])
        score, label = Scalar(0.3), Scalar(1.0)
        replay = Replay(lambda: HingeLoss()([[score * 2.0]], [label]), [label])
        with pytest.raises(ValueError, match="HingeLoss targets must be -1 or 1, got 0.5"):
            replay.forward([0.5])
        p = Scalar(0.5)
        replay = Replay(lambda: BCELoss()([[p * 1.0]], [1.0]), [])
        p.data = 1.5
        with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got 1.5"):
            replay.forward()

    def test_a_failed_build_leaves_ordinary_building_alone(self):
        x = [Scalar(0.5), Scalar(-1.0)]
        with pytest.raises(ValueError):
            Replay(lambda: F.sum(Dropout(0.5)(x)), x)
        out = F.linear([[Scalar(1.0), Scalar(1.0)]], [0.5, -1.0], activation="relu")[0]
        assert out.is_leaf  # an off ReLU is pruned again outside a Replay build
