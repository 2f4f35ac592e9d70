"""``Trainer(compile=True)``, ``Replay.compile()`` and ``examples.digits --compile``.

A compiled step must leave the weights a replayed step leaves, bit for bit
(both recompute the same float expressions in the same order), and close to
those of rebuilding the graph at every step (which leaves off ReLUs out).
"""

import importlib
import importlib.util
import math
import random
import re

import pytest
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.compile import CompiledGraph
from scalargrad.nn import (
    SGD,
    Adam,
    Conv2D,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Linear,
    MaxPool2D,
    MSELoss,
    NLLLoss,
    Sequential,
)
from scalargrad.replay import Replay
from scalargrad.train import Trainer, batch_replays


def _mlp(activation, seed):
    random.seed(seed)
    return Sequential([Linear(4, 8, activation=activation), Linear(8, 6, activation=activation),
                       Linear(6, 3)])


def _cnn(seed):
    random.seed(seed)
    return Sequential([Conv2D(1, 2, 3, activation="relu"), MaxPool2D(2), Flatten(), Linear(2, 3)])


def _data(n, targets, seed=3, images=False):
    rng = random.Random(seed)
    if images:
        x = [[[[rng.uniform(-1, 1) for _ in range(4)] for _ in range(4)]] for _ in range(n)]
    else:
        x = [[rng.uniform(-1, 1) for _ in range(4)] for _ in range(n)]
    if targets == "vectors":
        y = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(n)]
    else:
        y = [rng.randrange(3) for _ in range(n)]
    return x, y


def _train(make_model, x, y, loss_cls, optimizer="sgd", **options):
    """Train a fresh model; its losses per batch, losses per epoch and final weights."""
    model = make_model()
    if optimizer == "sgd":
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = Adam(model.parameters(), lr=0.01)
    trainer = Trainer(x=x, y=y, model=model, loss=loss_cls(), optimizer=opt, batch_size=8, num_epochs=3,
                      seed=0, progress=False, **options)
    history = trainer.run()
    return trainer.losses, history["train_loss"], [p.data for p in model.parameters()]


class TestTrainerCompile:
    @parameterized.expand([
        ("relu_ce", lambda: _mlp("relu", 5), CrossEntropyLoss, 30, "classes", False, "sgd"),
        ("tanh_ce_partial_last_batch", lambda: _mlp("tanh", 5), CrossEntropyLoss, 27, "classes", False,
         "sgd"),
        ("tanh_mse_adam", lambda: _mlp("tanh", 5), MSELoss, 30, "vectors", False, "adam"),
        ("sigmoid_mse", lambda: _mlp("sigmoid", 7), MSELoss, 20, "vectors", False, "sgd"),
        ("conv_maxpool_ce", lambda: _cnn(2), CrossEntropyLoss, 19, "classes", True, "adam"),
    ])
    def test_same_weights_as_replay_bit_for_bit_and_close_to_rebuilding(self, _name, make_model, loss_cls, n,
                                                                        targets, images, optimizer):
        x, y = _data(n, targets, images=images)
        rebuilt = _train(make_model, x, y, loss_cls, optimizer)
        replayed = _train(make_model, x, y, loss_cls, optimizer, replay=True)
        compiled = _train(make_model, x, y, loss_cls, optimizer, compile=True)
        assert compiled == replayed  # batch losses, epoch losses and weights: the same bits
        assert compiled[2] != [p.data for p in make_model().parameters()]  # the weights moved
        batch_losses, _, weights = rebuilt
        assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(batch_losses, compiled[0]))
        assert all(math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-13) for a, b in zip(weights, compiled[2]))

    def test_compile_implies_replay(self):
        x, y = _data(20, "classes")
        make = lambda: _mlp("relu", 1)
        both = _train(make, x, y, CrossEntropyLoss, replay=True, compile=True)
        assert both == _train(make, x, y, CrossEntropyLoss, compile=True)
        model = make()
        trainer = Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
                          optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=1, compile=True)
        assert (trainer.replay, trainer.compile) == (True, True)

    @parameterized.expand([("PyPy", True), ("CPython", False)])
    def test_on_pypy_compile_warns_to_use_replay(self, implementation, warns):
        """On PyPy a compiled step is slower than a replayed one: the Trainer says so, once, where it is
        made."""
        import warnings

        from scalargrad.train import trainer as trainer_module

        x, y = _data(8, "classes")
        model = _mlp("relu", 1)
        with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            patch.setattr(trainer_module.platform, "python_implementation", lambda: implementation)
            for option in ("compile", "replay"):
                Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
                        optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=1,
                        **{option: True})
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(runtime) == (1 if warns else 0)
        assert all("use replay=True" in str(w.message) and w.filename == __file__ for w in runtime)

    def test_each_batch_size_is_compiled_once_per_run(self, monkeypatch):
        compiled_sizes = []

        def counting(replay, **options):
            compiled_sizes.append(len(replay.inputs))
            return CompiledGraph(replay, **options)

        monkeypatch.setattr(batch_replays, "CompiledGraph", counting)
        x, y = _data(27, "classes")  # batches of 8, 8, 8 and 3, for 3 epochs
        _train(lambda: _mlp("relu", 2), x, y, CrossEntropyLoss, compile=True)
        assert sorted(compiled_sizes) == [3 * 5, 8 * 5]  # 4 inputs and 1 target per sample

    def test_the_step_trains(self):
        x, y = _data(24, "classes")
        losses, epoch_losses, _ = _train(lambda: _mlp("tanh", 4), x, y, CrossEntropyLoss, "adam",
                                         compile=True)
        assert len(losses) == 9 and epoch_losses[-1] < epoch_losses[0]

    def test_graphs_replay_refuses_are_refused_naming_compile(self):
        x, y = [[0.1, 0.2, 0.3, 0.4]] * 4, [0, 1, 2, 0]
        model = Sequential([Linear(4, 3), Dropout(0.2)])
        with pytest.raises(ValueError, match=r"compile=True\) cannot compile .*Dropout"):
            Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1),
                    batch_size=2, num_epochs=1, progress=False, compile=True).run()
        model = _mlp("relu", 0)
        with pytest.raises(ValueError, match=r"compile=True.*NLLLoss picks an output"):
            Trainer(x=x, y=y, model=lambda s: F.log_softmax(model(s)), loss=NLLLoss(),
                    optimizer=SGD(model.parameters(), lr=0.1), batch_size=2, num_epochs=1, progress=False,
                    compile=True).run()

    def test_ragged_samples_are_refused(self):
        model = Sequential([Linear(2, 1)])
        loader = [([[0.1, 0.2], [0.3, 0.4]], [[0.0], [1.0]]), ([[0.1, 0.2], [0.3, 0.4]], [[0.0, 1.0], [1.0]])]
        with pytest.raises(ValueError, match=r"compile=True\): a batch of 2 samples .* one shape"):
            Trainer(loader=loader, model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.1),
                    num_epochs=1, progress=False, compile=True).run()

    def test_compile_must_be_a_bool(self):
        model = Sequential([Linear(2, 1)])
        with pytest.raises(TypeError, match="compile must be True or False, got 'yes'"):
            Trainer(x=[[0.0, 1.0]], y=[0.0], model=model, loss=MSELoss(),
                    optimizer=SGD(model.parameters(), lr=0.1), batch_size=1, num_epochs=1, compile="yes")


class TestReplayCompile:
    def test_compiled_step_equals_the_replayed_step(self):
        xs = [Scalar(0.0) for _ in range(4)]
        model = _mlp("relu", 6)
        replay = Replay(lambda: F.sum(model(xs)), xs)
        compiled = replay.compile()
        assert isinstance(compiled, CompiledGraph) and compiled.replay is replay
        rng = random.Random(1)
        for _ in range(3):
            values = [rng.uniform(-2, 2) for _ in range(4)]
            model.zero_grad()
            expected = replay.forward(values)
            replay.backward()
            expected_grads = [p.grad for p in model.parameters()]
            model.zero_grad()
            assert compiled(values) == expected
            assert [p.grad for p in model.parameters()] == expected_grads

    def test_source_names_the_inputs(self):
        x, w = Scalar(0.0, name="x"), Scalar(2.0, name="w")
        compiled = Replay(lambda: x * w, {"x": x}).compile()
        assert "def step(x)" in compiled.source


needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the digits example needs scikit-learn")


@needs_sklearn
def test_digits_compile_prints_what_replay_prints(capsys):
    digits = importlib.import_module("examples.digits")
    printed = []
    for option in ("--replay", "--compile"):
        digits.main(["--limit", "120", "--epochs", "2", option])
        out = capsys.readouterr().out
        out = re.sub(r"^training took .*$", "", out, flags=re.MULTILINE)  # so do the times taken
        printed.append(re.sub(r" - [\d.]+s$", "", out, flags=re.MULTILINE))  # the epoch lines' seconds differ
    assert "final accuracy=" in printed[0]
    assert printed[0] == printed[1]
