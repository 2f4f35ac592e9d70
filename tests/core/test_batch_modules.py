"""Modules on a batch, as torch's take one (``Module.__call__``), and ``dropout`` (``scalargrad.dropout``).

A layer given one more level of nesting than a sample returns the list of its outputs: each must have
the bits the sample gives on its own, with the same gradients, and match torch's layer on the batch
tensor (float64). Ragged, too deep or mis-sized batches are errors that say what the layer expects.
A graph built from one batch call replays and compiles as the per-sample one does. The last part is
PyGrad's README network, written with scalargrad's names and trained through a DataLoader.
"""

import math
import random

import pytest
import torch
import torch.nn.functional as TF
from parameterized import parameterized

from scalargrad import Scalar, nn
from scalargrad import functional as F
from scalargrad.compile import compile_graph
from scalargrad.data import DataLoader, make_blobs
from scalargrad.dropout import dropout
from scalargrad.replay import Replay
from tests.bits import equal_up_to_sum_rounding
from tests.core.test_layers import torch_flat
from tests.helpers import assert_close, flat, tt


def bits(values):
    """Floats (Scalars read) as hex strings: equal lists mean the same bits, the sign of zero included."""
    return [float.hex(v.data if isinstance(v, Scalar) else float(v)) for v in flat(values)]


def nested(rng, dims):
    if not dims:
        return rng.uniform(-1.0, 1.0)
    return [nested(rng, dims[1:]) for _ in range(dims[0])]


def scalars_like(values):
    return [scalars_like(v) for v in values] if isinstance(values, list) else Scalar(values)


def weighted_sum(outputs, seed=7):
    """sum(c * y) over every output with its own random c, as one node: every output gets its own gradient."""
    ys = flat(outputs)
    rng = random.Random(seed)
    return F.dot(ys, [rng.uniform(-1.0, 1.0) for _ in ys])


def torch_weighted_sum(out, seed=7):
    rng = random.Random(seed)
    coeffs = torch.tensor([rng.uniform(-1.0, 1.0) for _ in range(out.numel())], dtype=torch.float64)
    return (out.flatten() * coeffs).sum()


# ---- dropout ------------------------------------------------------------------------------------------

class TestDropout:
    @parameterized.expand([("p0_1", 0.1), ("p0_5", 0.5), ("p0_8", 0.8)])
    def test_kept_fraction_scaling_and_gradients_as_torch_computes_them(self, _, p):
        n = 4000
        rng = random.Random(3)
        values = [rng.uniform(0.5, 2.0) for _ in range(n)]  # never zero: a zero output means dropped
        xs = [Scalar(v) for v in values]
        random.seed(11)
        out = dropout(xs, p)
        kept = [y.data != 0.0 for y in out]
        assert abs(sum(kept) / n - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
        F.sum(out).backward()
        # torch's dropout is input * (mask / (1 - p)): the same mask there gives the same bits
        tx = tt(values)
        ty = tx * (torch.tensor([float(k) for k in kept], dtype=torch.float64) / (1 - p))
        ty.sum().backward()
        assert bits(out) == bits(ty.tolist())
        assert bits([x.grad for x in xs]) == bits(tx.grad.tolist())
        assert {x.grad for x, k in zip(xs, kept) if k} == {1.0 / (1.0 - p)}
        assert {x.grad for x, k in zip(xs, kept) if not k} == {0.0}

    def test_the_same_seed_gives_the_same_mask_and_draws_one_number_per_element(self):
        xs = [[1.0] * 50, [2.0] * 50]
        random.seed(5)
        first = bits(dropout(xs, 0.3))
        after = random.random()
        random.seed(5)
        second = bits(dropout(xs, 0.3))
        assert first == second and random.random() == after
        random.seed(5)
        for _ in range(100):
            random.random()
        assert random.random() == after  # 100 elements, 100 draws
        random.seed(6)
        assert bits(dropout(xs, 0.3)) != first

    @parameterized.expand([("eval", 0.5, False), ("p_zero", 0.0, True)])
    def test_identity_returns_the_input_itself_as_torch(self, _, p, training):
        xs = [[Scalar(1.0), Scalar(-2.0)]]
        state = random.getstate()
        assert dropout(xs, p, training) is xs
        assert random.getstate() == state  # nothing drawn
        x = tt([[1.0, -2.0]])
        assert TF.dropout(x, p, training).tolist() == [[1.0, -2.0]]

    def test_p_one_is_zeros_with_zero_gradient_as_torch(self):
        xs = [Scalar(3.0), Scalar(math.inf)]
        state = random.getstate()
        out = dropout(xs, 1.0)
        assert random.getstate() == state
        F.sum(out).backward()
        tx = tt([3.0, math.inf])
        ty = TF.dropout(tx, 1.0)
        ty.sum().backward()
        assert bits(out) == bits(ty.tolist())  # inf * 0 is nan in both
        assert [x.grad for x in xs] == tx.grad.tolist() == [0.0, 0.0]

    def test_second_derivative_matches_torch(self):
        values = [0.7, -1.3, 2.1, 0.4]
        xs = [Scalar(v) for v in values]
        random.seed(2)
        out = dropout(xs, 0.4)
        kept = [y.data != 0.0 for y in out]
        loss = F.sum([y * y * y for y in out])
        loss.backward(create_graph=True)
        first = [x.grad for x in xs]
        for x in xs:
            x.grad = 0.0
        F.sum(first).backward()
        tx = tt(values)
        ty = tx * (torch.tensor([float(k) for k in kept], dtype=torch.float64) / 0.6)
        (g,) = torch.autograd.grad((ty ** 3).sum(), tx, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), tx)
        for i, (x, d1, d2) in enumerate(zip(xs, g.tolist(), h.tolist())):
            assert_close(first[i].data, d1, f"first derivative {i}")
            assert_close(x.grad, d2, f"second derivative {i}")

    def test_nesting_in_is_nesting_out_for_scalars_numbers_and_arrays(self):
        np = pytest.importorskip("numpy")
        random.seed(4)
        one = dropout(Scalar(2.0), 0.5)
        assert isinstance(one, Scalar) and one.data in (0.0, 4.0)
        array = np.arange(12.0).reshape(2, 3, 2)
        random.seed(4)
        from_array = dropout(array, 0.5)
        random.seed(4)
        from_lists = dropout(array.tolist(), 0.5)
        assert bits(from_array) == bits(from_lists)
        assert [[len(row) for row in block] for block in from_array] == [[2, 2, 2], [2, 2, 2]]
        assert all(isinstance(v, Scalar) for v in flat(from_array))

    @parameterized.expand([
        ("negative", -0.1, ValueError, "between 0 and 1, but got -0.1"),
        ("above_one", 1.5, ValueError, "between 0 and 1"),
        ("nan", math.nan, ValueError, "between 0 and 1"),
        ("string", "0.5", TypeError, "dropout probability p must be an int or float"),
        ("bool", True, TypeError, "dropout probability p must be an int or float"),
        ("none", None, TypeError, "dropout probability p must be an int or float"),
    ])
    def test_bad_p(self, _, p, error, words):
        with pytest.raises(error, match=words):
            dropout([1.0, 2.0], p)

    @parameterized.expand([("int", 1), ("string", "yes"), ("none", None)])
    def test_training_must_be_a_bool_as_in_torch(self, _, training):
        with pytest.raises(TypeError, match="training must be a bool"):
            dropout([1.0], 0.5, training)
        with pytest.raises(TypeError):
            TF.dropout(torch.ones(1), 0.5, training)

    def test_ragged_or_non_numbers_are_refused(self):
        with pytest.raises(ValueError, match=r"^dropout: x is ragged"):
            dropout([[1.0, 2.0], [3.0]], 0.5)
        with pytest.raises(TypeError, match=r"^dropout: x must hold Scalars or numbers.*x\[1\] is a str"):
            dropout([1.0, "2"], 0.5)
        with pytest.raises(TypeError, match=r"^dropout: x must hold"):
            dropout(["2"], 1.0)  # p = 1 walks the input too

    def test_nn_dropout_calls_it(self):
        xs = [[Scalar(v) for v in (0.5, 1.5, -2.0)] for _ in range(30)]
        layer = nn.Dropout(0.3)
        random.seed(9)
        ours = bits(layer(xs))
        random.seed(9)
        assert ours == bits(dropout(xs, 0.3))
        assert layer.eval()(xs) is xs

    def test_a_replay_refuses_it_in_training_and_replays_it_in_eval(self):
        xs = [Scalar(0.0), Scalar(0.0)]
        with pytest.raises(ValueError, match="Dropout draws a new mask"):
            Replay(lambda: F.sum(dropout(xs, 0.5)), xs)
        step = Replay(lambda: F.sum(dropout([x * 2.0 for x in xs], 0.5, training=False)), xs)
        assert step.forward([1.0, 2.0]) == 6.0

    def test_functional_gathers_it(self):
        assert "dropout" in F.__all__
        assert F.dropout is dropout


# ---- layers on a batch: the per-sample bits, torch's batched values and gradients -----------------------

def _conv():
    return nn.Conv2D(2, 3, 3, padding=1, activation="tanh")


# (name, make the module, shape of one sample)
LAYER_CASES = [
    ("linear", lambda: nn.Linear(4, 3), (4,)),
    ("linear_relu", lambda: nn.Linear(4, 3, activation="relu"), (4,)),
    ("neuron", lambda: nn.Neuron(4, activation="sigmoid"), (4,)),
    ("conv", _conv, (2, 5, 5)),
    ("maxpool", lambda: nn.MaxPool2D(2), (2, 5, 5)),
    ("softmax", lambda: nn.Softmax(), (5,)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 2)),
    ("relu", lambda: nn.ReLU(), (3, 2)),
    ("sigmoid", lambda: nn.Sigmoid(), (4,)),
    ("tanh", lambda: nn.Tanh(), (4,)),
    ("softplus", lambda: nn.Softplus(), (4,)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (4,)),
    ("identity", lambda: nn.Identity(), (4,)),
    ("dropout_eval", lambda: nn.Dropout(0.5).eval(), (4,)),
    ("sequential", lambda: nn.Sequential([nn.Linear(4, 6, activation="relu"), nn.Dropout(0.5).eval(),
                                          nn.Linear(6, 2), nn.Softmax()]), (4,)),
    ("conv_net", lambda: nn.Sequential([_conv(), nn.MaxPool2D(2), nn.Flatten(), nn.Linear(12, 2)]),
     (2, 5, 5)),
]


def torch_on_a_batch(module):
    """Our module as torch's, to run on a batch tensor: its Flatten from dim 1 (ours flattens one sample)."""
    if isinstance(module, nn.Neuron):  # (no to_torch: one row of a Linear)
        linear = torch.nn.Linear(module.size, 1).double()
        with torch.no_grad():
            linear.weight[0] = torch.tensor([w.data for w in module.w], dtype=torch.float64)
            linear.bias[0] = module.b.data
        return torch.nn.Sequential(linear, torch.nn.Sigmoid())
    theirs = module.to_torch()
    for m in theirs.modules():
        if isinstance(m, torch.nn.Flatten):
            m.start_dim = 1
    return theirs


class TestLayersOnABatch:
    @parameterized.expand(LAYER_CASES)
    def test_batch_is_the_samples_bit_for_bit(self, _, make, sample_dims):
        random.seed(1)
        module = make()
        rng = random.Random(2)
        batch_values = [nested(rng, sample_dims) for _ in range(3)]
        batch = scalars_like(batch_values)
        outputs = module(batch)
        assert isinstance(outputs, list) and len(outputs) == 3
        weighted_sum(outputs).backward()
        batch_grads = [x.grad for x in flat(batch)] + [p.grad for p in module.parameters()]
        module.zero_grad()
        samples = scalars_like(batch_values)
        one_by_one = [module(sample) for sample in samples]
        weighted_sum(one_by_one).backward()
        assert bits(outputs) == bits(one_by_one)
        sample_grads = [x.grad for x in flat(samples)] + [p.grad for p in module.parameters()]
        assert bits(batch_grads) == bits(sample_grads)

    @parameterized.expand(LAYER_CASES)
    def test_batch_matches_torch_on_the_batch_tensor(self, _, make, sample_dims):
        random.seed(1)
        module = make()
        rng = random.Random(4)
        batch_values = [nested(rng, sample_dims) for _ in range(3)]
        batch = scalars_like(batch_values)
        outputs = module(batch)
        weighted_sum(outputs).backward()
        theirs = torch_on_a_batch(module)
        tx = tt(batch_values)
        out = theirs(tx)
        torch_weighted_sum(out).backward()
        assert len(outputs) == 3 and len(flat(outputs)) == out.numel()
        for i, (got, want) in enumerate(zip(flat(outputs), out.flatten().tolist())):
            assert_close(got.data, want, f"output {i}", 1e-12, 1e-14)
        for i, (x, g) in enumerate(zip(flat(batch), tx.grad.flatten().tolist())):
            assert_close(x.grad, g, f"input gradient {i}", 1e-9, 1e-14)
        torch_grads = torch_flat(theirs, "grad")
        assert len(torch_grads) == len(module.parameters())
        for i, (p, g) in enumerate(zip(module.parameters(), torch_grads)):
            assert_close(p.grad, g, f"parameter gradient {i}", 1e-9, 1e-14)

    def test_a_tuple_batch_and_a_numpy_batch_give_the_list_batch_bits(self):
        np = pytest.importorskip("numpy")
        random.seed(3)
        model = nn.Sequential([nn.Linear(3, 4, activation="tanh"), nn.Linear(4, 2)])
        rows = [[0.1, -0.2, 0.3], [1.5, 0.25, -0.75]]
        expected = bits(model(rows))
        assert bits(model(tuple(rows))) == expected
        assert bits(model(np.array(rows))) == expected
        assert bits(model([np.array(row) for row in rows])) == expected
        images = np.linspace(-1, 1, 2 * 2 * 25).reshape(2, 2, 5, 5)
        conv = _conv()
        assert bits(conv(images)) == bits([conv(image.tolist()) for image in images])

    def test_one_sample_is_not_a_batch(self):
        random.seed(3)
        layer = nn.Linear(1, 2)
        assert len(layer([0.5])) == 2 and all(isinstance(y, Scalar) for y in layer([0.5]))
        batch = layer([[0.5], [0.25]])  # Linear(1, k) on [[a], [b]] is two samples of one input
        assert [len(y) for y in batch] == [2, 2]
        assert bits(nn.Flatten()([[[1.0, 2.0]], [[3.0, 4.0]]])) == bits([1.0, 2.0, 3.0, 4.0])  # one image

    @parameterized.expand([
        ("linear_wrong_size", lambda: nn.Linear(3, 2), [[1.0] * 4, [2.0] * 4], ValueError,
         (r"^Linear\(3, 2\) expects 3 numbers or a batch of lists of 3; got a list of 2 lists of 4 "
          r"\(sample 0: Linear\(3, 2\) expects 3 inputs, got 4\)$")),
        ("linear_ragged", lambda: nn.Linear(3, 2), [[1.0] * 3, [2.0] * 2], ValueError,
         r"expects 3 numbers or a batch of lists of 3; got a ragged list \(.*x\[1\] is a list of 2\)$"),
        ("linear_number_in_batch", lambda: nn.Linear(3, 2), [[1.0] * 3, 4.0], ValueError,
         r"got a ragged list \(.*x\[1\] is a float\)"),
        ("linear_too_deep", lambda: nn.Linear(3, 2), [[[1.0] * 3]], ValueError,
         r"expects 3 numbers or a batch of lists of 3; got lists shaped \[1\]\[1\]\[3\]$"),
        ("linear_list_inside_a_sample", lambda: nn.Linear(3, 2), [[1.0, 2.0, 3.0], [1.0, [2.0], 3.0]],
         ValueError, r"got a ragged list \(.*x\[1\]\[1\] is a list of 1\) \(sample 1: .*got list\)$"),
        ("linear_empty_sample", lambda: nn.Linear(3, 2), [[]], ValueError,
         r"got a list of 1 lists of 0 \(sample 0: .*expects 3 inputs, got 0\)"),
        ("linear_string", lambda: nn.Linear(2, 1), [[1.0, "a"]], TypeError, r"\(sample 0: .*str"),
        ("neuron_wrong_size", lambda: nn.Neuron(3), [[1.0] * 2] * 2, ValueError,
         r"^Neuron of size 3 expects 3 numbers or a batch of lists of 3; got a list of 2 lists of 2"),
        ("conv_too_deep", lambda: nn.Conv2D(1, 2, 3), [[[[[0.0] * 5] * 5]]], ValueError,
         (r"^Conv2D\(1, 2\) expects an image \[1\]\[height\]\[width\] or a batch of them .*; "
          r"got lists shaped \[1\]\[1\]\[1\]\[5\]\[5\]$")),
        ("conv_images_of_two_sizes", lambda: nn.Conv2D(1, 2, 1), [[[[0.0] * 3] * 3], [[[0.0] * 4] * 3]],
         ValueError, r"got a ragged list \(.*x\[1\]\[0\]\[0\] is a list of 4\)"),
        ("conv_wrong_channels", lambda: nn.Conv2D(1, 2, 1), [[[[0.0] * 3] * 3] * 2] * 2, ValueError,
         r"got lists shaped \[2\]\[2\]\[3\]\[3\] \(sample 0: .*expects 1 input channels, got 2\)"),
        ("pool_too_deep", lambda: nn.MaxPool2D(2), [[[[[0.0] * 4] * 4]]], ValueError,
         r"^MaxPool2D\(\(2, 2\)\) expects an image \[channels\]\[height\]\[width\] or a batch of them"),
        ("softmax_too_deep", lambda: nn.Softmax(), [[[1.0, 2.0]]], ValueError,
         r"^Softmax expects a list of logits or a batch of them .*got lists shaped \[1\]\[1\]\[2\]$"),
        ("softmax_ragged", lambda: nn.Softmax(), [[1.0, 2.0], [3.0]], ValueError, r"ragged"),
        ("flatten_too_deep", lambda: nn.Flatten(), [[[[[1.0]]]]], ValueError,
         r"^Flatten expects one sample nested at most 3 deep .*got lists shaped \[1\]\[1\]\[1\]\[1\]\[1\]$"),
    ])
    def test_bad_batches_say_what_was_expected(self, _, make, given, error, words):
        with pytest.raises(error, match=words):
            make()(given)

    def test_a_model_with_a_forward_of_its_own_passes_the_batch_down(self):
        class TwoLayers(nn.Module):
            def __init__(self):
                super().__init__()
                self.first, self.second = nn.Linear(2, 3, activation="tanh"), nn.Linear(3, 1)

            def forward(self, x):
                return self.second(self.first(x))

        random.seed(0)
        model = TwoLayers()
        assert [name for name, _ in model.named_children()] == ["first", "second"]
        rows = [[0.5, -1.0], [2.0, 0.25], [0.0, 1.0]]
        assert bits(model(rows)) == bits([model(row) for row in rows])
        with pytest.raises(ValueError, match=r"Linear\(2, 3\) expects 2 numbers or a batch of lists of 2"):
            model([[1.0, 2.0, 3.0]])


# ---- replay and compile of a batch call ------------------------------------------------------------------

def _mlp_and_batch(seed=0, batch=5):
    random.seed(seed)
    model = nn.Sequential([nn.Linear(4, 6, activation="relu"), nn.Linear(6, 5, activation="tanh"),
                           nn.Linear(5, 3)])
    rng = random.Random(seed + 1)
    xb = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(batch)]
    yb = [rng.randrange(3) for _ in range(batch)]
    return model, xb, yb


class TestReplayAndCompileOfABatchCall:
    def _eager(self, model, xb, yb, batch_call):
        model.zero_grad()
        outputs = model(xb) if batch_call else [model(x) for x in xb]
        loss = nn.CrossEntropyLoss()(outputs, yb)
        loss.backward()
        return loss.data, [p.grad for p in model.parameters()]

    def test_replayed_and_compiled_batch_graphs_give_the_eager_values_and_gradients(self):
        model, xb, yb = _mlp_and_batch()
        x_in = [[Scalar(0.0) for _ in range(4)] for _ in xb]
        build = (lambda: nn.CrossEntropyLoss()(model(x_in), yb))
        replay = Replay(build, {"x": x_in})
        compiled = compile_graph(build, {"x": x_in})
        rng = random.Random(5)
        for _ in range(3):  # new values each step, and a weight change in between
            xs = [[rng.uniform(-2, 2) for _ in range(4)] for _ in xb]
            loss, grads = self._eager(model, xs, yb, batch_call=True)
            assert (loss, grads) == self._eager(model, xs, yb, batch_call=False)
            model.zero_grad()
            assert replay.forward(x=xs) == loss
            replay.backward()
            assert bits([p.grad for p in model.parameters()]) == bits(grads)
            model.zero_grad()
            assert equal_up_to_sum_rounding(compiled(x=xs), loss)
            assert all(equal_up_to_sum_rounding(p.grad, g) for p, g in zip(model.parameters(), grads))
            model.parameters()[0].data += 0.125

    def test_a_batch_call_compiles_to_the_per_sample_source(self):
        model, xb, yb = _mlp_and_batch(batch=4)
        x_in = [[Scalar(v) for v in x] for x in xb]
        batch = compile_graph(lambda: nn.CrossEntropyLoss()(model(x_in), yb), {"x": x_in})
        per_sample = compile_graph(lambda: nn.CrossEntropyLoss()([model(x) for x in x_in], yb), {"x": x_in})
        assert batch.source == per_sample.source
        assert batch.function.__code__ is per_sample.function.__code__
        batch_replay = Replay(lambda: nn.CrossEntropyLoss()(model(x_in), yb), {"x": x_in})
        per_replay = Replay(lambda: nn.CrossEntropyLoss()([model(x) for x in x_in], yb), {"x": x_in})
        assert [node.op for node in batch_replay.nodes] == [node.op for node in per_replay.nodes]


# ---- PyGrad's README network, in scalargrad's names --------------------------------------------------------

class NeuralNet(nn.Module):
    def __init__(self, num_input, num_hidden, num_class, dropout):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(num_input, num_hidden), nn.Linear(num_hidden, num_class)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.fc2(F.relu(self.fc1(x))))


def _accuracy(model, x, y):
    model.eval()
    predictions = [max(range(len(z)), key=lambda k, z=z: z[k].data) for z in model(x)]
    model.train()
    return sum(p == t for p, t in zip(predictions, y)) / len(y)


class TestPyGradReadmeNetwork:
    def test_it_registers_its_layers_as_torch_does(self):
        random.seed(0)
        model = NeuralNet(2, 8, 3, 0.1)
        assert [name for name, _ in model.named_children()] == ["fc1", "fc2", "dropout"]
        assert model.num_parameters() == 2 * 8 + 8 + 8 * 3 + 3
        assert not model.eval().dropout.training

    @parameterized.expand([("sgd", lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9)),
                           ("adam", lambda ps: nn.Adam(ps, lr=0.02))])
    def test_it_trains_on_batches_from_a_data_loader(self, _, optimizer):
        random.seed(0)
        x, y = make_blobs(120, n_features=2, centers=3, cluster_std=1.0, seed=1)
        loader = DataLoader((x, y), batch_size=16, seed=2)
        model = NeuralNet(2, 8, 3, 0.1)
        optim = optimizer(model.parameters())
        epoch_losses = []
        for _ in range(6):
            losses = []
            for data, labels in loader:
                loss = F.softmax_cross_entropy(model(data), labels)
                optim.zero_grad()
                loss.backward()
                optim.step()
                losses.append(loss.data)
            epoch_losses.append(sum(losses) / len(losses))
        assert epoch_losses[-1] < 0.5 * epoch_losses[0], epoch_losses
        assert _accuracy(model, x, y) >= 0.95

    def test_its_batch_call_is_its_per_sample_calls(self):
        random.seed(0)
        x, y = make_blobs(12, n_features=2, centers=3, seed=4)
        model = NeuralNet(2, 5, 3, 0.25)
        data, labels = next(iter(DataLoader((x, y), batch_size=6, seed=0)))
        runs = []
        for batch_call in (True, False):
            model.zero_grad()
            random.seed(8)  # one Dropout, last: a batch draws what its samples draw, in order
            outputs = model(data) if batch_call else [model(sample) for sample in data]
            loss = F.softmax_cross_entropy(outputs, labels)
            loss.backward()
            runs.append((bits(outputs), bits([loss]), bits([p.grad for p in model.parameters()])))
        assert runs[0] == runs[1]
        assert 0 < sum(v == "0x0.0p+0" for v in runs[0][0]) < 18  # dropout did drop some, not all
