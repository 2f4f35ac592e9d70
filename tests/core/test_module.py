"""Tests of scalargrad.nn.Module and around it: the parameter tree, state dicts,
JSON checkpoints (atomic, never running code), PyTorch interop, nn.init and bad input."""

import json
import math
import os
import pickle
import random

import pytest
import torch
from parameterized import parameterized

from scalargrad import Scalar, nn
from scalargrad import functional as F
from scalargrad.nn import (
    Conv2D,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2D,
    Module,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    init,
    serialization,
)

REL = 1e-9


def flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in flat(item)]
    return [x]


def values(model):
    return [p.data for p in model.parameters()]


def outputs_close(ours, theirs, what="outputs", rel=REL, abs_=1e-12):
    ours = [v.data if isinstance(v, Scalar) else v for v in flat(ours)]
    theirs = theirs.detach().flatten().tolist() if isinstance(theirs, torch.Tensor) else flat(theirs)
    assert len(ours) == len(theirs), f"{what}: {len(ours)} values vs {len(theirs)}"
    for i, (a, e) in enumerate(zip(ours, theirs)):
        assert math.isclose(a, e, rel_tol=rel, abs_tol=abs_), f"{what}[{i}]: {a!r} vs torch {e!r}"


def mlp(sizes=(3, 4, 2), seed=0):
    random.seed(seed)
    acts = ["relu"] * (len(sizes) - 2) + ["identity"]
    return Sequential([Linear(a, b, activation=act) for a, b, act in zip(sizes, sizes[1:], acts)])


# --------------------------------------------------------------------------
# The module tree
# --------------------------------------------------------------------------

class Custom(Module):
    """A user model: Scalars, lists and nested lists of Scalars, child modules and lists of them,
    mixed with attributes that are not parameters."""

    def __init__(self):
        super().__init__()
        self.scale = Scalar(2.0)
        self.label = "custom"
        self.offsets = [Scalar(0.1), Scalar(0.2)]
        self.sizes = [2, 2]
        self.encoder = Linear(2, 2, activation="tanh")
        self.grid = [[Scalar(1.0), Scalar(2.0)], [Scalar(3.0), Scalar(4.0)]]
        self.empty = []
        self.config = {"lr": 0.1}
        self.heads = [Linear(2, 1), Linear(2, 1, activation="sigmoid")]
        self.act = ReLU()
        self.drop = Dropout(0.5)

    def forward(self, x):
        h = self.encoder([self.scale * v + o for v, o in zip(x, self.offsets)])
        h = [F.dot(row, h) for row in self.grid]
        h = self.drop(self.act(h))
        return [head(h)[0] for head in self.heads]


CUSTOM_NAMES = (
    ["scale", "offsets.0", "offsets.1"]
    + [f"encoder.neurons.{j}.{k}" for j in range(2) for k in ("w.0", "w.1", "b")]
    + ["grid.0.0", "grid.0.1", "grid.1.0", "grid.1.1"]
    + [f"heads.{h}.neurons.0.{k}" for h in range(2) for k in ("w.0", "w.1", "b")]
)


class TestModuleTree:
    def test_neuron_order_weights_then_bias(self):
        n = Neuron(4)
        assert [id(p) for p in n.parameters()] == [id(p) for p in n.w + [n.b]]
        assert [name for name, _ in n.named_parameters()] == ["w.0", "w.1", "w.2", "w.3", "b"]

    def test_linear_goes_neuron_by_neuron(self):
        layer = Linear(3, 2)
        expected = [p for n in layer.neurons for p in n.w + [n.b]]
        assert [id(p) for p in layer.parameters()] == [id(p) for p in expected]
        names = [name for name, _ in layer.named_parameters()]
        assert names == [f"neurons.{j}.{k}" for j in range(2) for k in ("w.0", "w.1", "w.2", "b")]

    def test_sequential_goes_module_by_module(self):
        model = Sequential([Linear(6, 4, activation="relu"), ReLU(), Linear(4, 2)])
        expected = model[0].parameters() + model[2].parameters()
        assert [id(p) for p in model.parameters()] == [id(p) for p in expected]
        named = dict(model.named_parameters())
        assert named["0.neurons.3.w.5"] is model[0].neurons[3].w[5]
        assert named["2.neurons.0.b"] is model[2].neurons[0].b
        assert named["2.neurons.1.w.3"] is model[2].neurons[1].w[3]
        names = [name for name, _ in model.named_parameters()]
        assert names == (
            [f"0.neurons.{j}.{k}" for j in range(4) for k in [f"w.{i}" for i in range(6)] + ["b"]]
            + [f"2.neurons.{j}.{k}" for j in range(2) for k in [f"w.{i}" for i in range(4)] + ["b"]]
        )
        assert model.num_parameters() == 4 * 7 + 2 * 5

    def test_conv_names(self):
        conv = Conv2D(2, 3, 2)
        names = [name for name, _ in conv.named_parameters()]
        assert names[0] == "weight.0.0.0.0" and names[23] == "weight.2.1.1.1"
        assert names[24:] == ["bias.0", "bias.1", "bias.2"]
        assert conv.num_parameters() == 27
        assert Conv2D(2, 3, 2, bias=False).num_parameters() == 24

    def test_user_module_is_walked_like_pytorch(self):
        random.seed(0)
        m = Custom()
        names = [name for name, _ in m.named_parameters()]
        assert names == CUSTOM_NAMES
        params = dict(m.named_parameters())
        assert params["scale"] is m.scale and params["grid.1.0"] is m.grid[1][0]
        assert params["heads.1.neurons.0.b"] is m.heads[1].neurons[0].b
        assert m.num_parameters() == len(CUSTOM_NAMES) == 19
        assert [name for name, _ in m.named_children()] == ["encoder", "heads.0", "heads.1", "act", "drop"]
        assert list(m.children()) == [m.encoder, m.heads[0], m.heads[1], m.act, m.drop]
        modules = dict(m.named_modules())
        assert modules[""] is m and modules["heads.1"] is m.heads[1]
        assert modules["encoder.neurons.1"] is m.encoder.neurons[1]
        assert list(m.state_dict()) == (
            ["scale", "offsets"] + [f"encoder.neurons.{j}.{k}" for j in range(2) for k in "wb"]
            + ["grid"] + [f"heads.{h}.neurons.0.{k}" for h in range(2) for k in "wb"]
        )
        assert m.state_dict()["grid"] == [[1.0, 2.0], [3.0, 4.0]]
        # every parameter takes part in the forward pass and receives a gradient
        m.eval()
        m.encoder.initialize([([0.5, 0.5], 0.1), ([0.3, 0.2], 0.2)])  # positive, so the ReLU passes all
        out = m([0.3, 0.4])
        F.sum(out).backward()
        assert all(p.grad != 0.0 for p in m.parameters())

    def test_module_without_super_init(self):
        class Bare(Module):
            def __init__(self):
                self.w = [Scalar(1.0), Scalar(2.0)]

            def forward(self, x):
                return F.dot(self.w, x)

        m = Bare()
        assert m.training is True and m.num_parameters() == 2
        m.eval()
        assert m.training is False
        assert m([1.0, 1.0]).data == 3.0

    def test_shared_parameters_listed_once(self):
        layer = Linear(3, 3)
        model = Sequential([layer, ReLU(), layer])
        assert model.num_parameters() == 12
        assert len({id(p) for p in model.parameters()}) == 12
        assert next(name for name, _ in model.named_parameters()) == "0.neurons.0.w.0"

        class Tied(Module):
            def __init__(self):
                super().__init__()
                self.a = Scalar(1.5)
                self.pair = [self.a, Scalar(2.0)]

            def forward(self, x):
                return self.a * x + self.pair[0] * self.pair[1]

        tied = Tied()
        assert [name for name, _ in tied.named_parameters()] == ["a", "pair.1"]
        x = Scalar(3.0)
        tied(x).backward()
        assert tied.a.grad == 3.0 + 2.0  # gradients through both uses accumulate

    def test_zero_grad(self):
        model = mlp((3, 5, 2))
        loss = CrossEntropyLoss()([model([1.0, -1.0, 0.5])], [1])
        loss.backward()
        assert any(p.grad != 0.0 for p in model.parameters())
        model.zero_grad()
        assert all(p.grad == 0.0 and type(p.grad) is float for p in model.parameters())

    def test_train_eval_propagate(self):
        m = Custom()
        model = Sequential([m, Sequential([Dropout(0.1), Linear(2, 2)])])
        assert model.eval() is model
        assert all(not mod.training for _, mod in model.named_modules())
        assert not m.heads[1].training and not m.drop.training and not model[1][0].training
        assert model.train() is model
        assert all(mod.training for _, mod in model.named_modules())
        model.train(False)
        assert all(not mod.training for _, mod in model.named_modules())

    def test_repr_is_readable(self):
        model = Sequential([Linear(2, 4, activation="relu"), Dropout(0.25),
                            Linear(4, 1, activation="sigmoid")])
        assert repr(model) == (
            "Sequential(\n"
            "  (0): Linear(size_in=2, size_out=4, activation='relu')\n"
            "  (1): Dropout(p=0.25)\n"
            "  (2): Linear(size_in=4, size_out=1, activation='sigmoid')\n"
            ")"
        )
        assert repr(Neuron(3, "tanh")) == "Neuron(size=3, activation='tanh')"
        assert repr(Linear(2, 2, bias=False)) == \
            "Linear(size_in=2, size_out=2, activation='identity', bias=False)"
        assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
        assert repr(CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean')"
        assert "kernel_size=(3, 3)" in repr(Conv2D(1, 2, 3))
        text = repr(Custom())
        assert "(encoder): Linear(size_in=2, size_out=2, activation='tanh')" in text
        assert "(heads.1): Linear(size_in=2, size_out=1, activation='sigmoid')" in text
        nested = repr(Sequential([Sequential([ReLU()])]))
        assert nested == "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n)"

    def test_name_parameters(self):
        model = mlp((2, 3, 1))
        model.name_parameters()
        assert model[0].neurons[2].w[1].name == "0.neurons.2.w.1"
        assert model[1].neurons[0].b.name == "1.neurons.0.b"

    def test_base_module(self):
        with pytest.raises(NotImplementedError, match="Module does not implement forward"):
            Module()(1.0)
        with pytest.raises(NotImplementedError, match="Custom has no PyTorch equivalent"):
            Custom().to_torch()
        assert Module().parameters() == [] and Module().state_dict() == {}


# --------------------------------------------------------------------------
# state_dict / load_state_dict
# --------------------------------------------------------------------------

def conv_model(seed=0):
    random.seed(seed)
    return Sequential([Conv2D(2, 3, 2, padding=1), ReLU(), MaxPool2D(2), Flatten(), Linear(12, 2)])


class TestStateDict:
    def test_plain_floats_in_nested_lists(self):
        model = conv_model()
        state = model.state_dict()
        assert list(state) == ["0.weight", "0.bias"] + [f"4.neurons.{j}.{k}" for j in range(2) for k in "wb"]
        w = state["0.weight"]
        assert len(w) == 3 and len(w[0]) == 2 and len(w[0][0]) == 2 and len(w[0][0][0]) == 2
        assert all(type(v) is float for v in flat(list(state.values())))
        assert flat(list(state.values())) == values(model)
        assert json.loads(json.dumps(state)) == state
        state["0.bias"][0] = 123.0  # a copy: the model does not change
        assert model[0].bias[0].data != 123.0

    @parameterized.expand([("mlp", lambda s: mlp((4, 8, 3), s)), ("conv", conv_model),
                           ("custom", lambda s: Custom())])
    def test_round_trip(self, _, make):
        source, target = make(1), make(2)
        random.seed(5)
        for p in source.parameters():
            p.data = random.uniform(-1, 1)
        objects = target.parameters()
        assert values(source) != values(target)
        target.load_state_dict(source.state_dict())
        assert values(target) == values(source)
        assert all(a is b for a, b in zip(objects, target.parameters()))  # optimizers stay valid
        assert all(type(v) is float for v in values(target))

    def test_ints_load_as_floats(self):
        layer = Linear(2, 1)
        layer.load_state_dict({"neurons.0.w": [1, 2], "neurons.0.b": -3})
        assert values(layer) == [1.0, 2.0, -3.0]
        assert all(type(v) is float for v in values(layer))

    def test_nan_and_inf_values_load(self):
        layer = Linear(2, 1)
        layer.load_state_dict({"neurons.0.w": [math.inf, -math.inf], "neurons.0.b": math.nan})
        assert values(layer)[:2] == [math.inf, -math.inf] and math.isnan(values(layer)[2])

    def _assert_rejected(self, model, state, *fragments, strict=True):
        before = values(model)
        with pytest.raises(ValueError) as info:
            model.load_state_dict(state, strict=strict)
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        assert values(model) == before, "the model changed although loading failed"
        return message

    def _other_state(self, make=None):
        other = (make or (lambda: mlp((3, 4, 2), seed=9)))()
        return other.state_dict()

    def test_missing_key(self):
        state = self._other_state()
        del state["1.neurons.1.b"]
        del state["0.neurons.2.w"]
        self._assert_rejected(mlp((3, 4, 2)), state, "missing keys", "1.neurons.1.b", "0.neurons.2.w")

    def test_unexpected_key(self):
        state = self._other_state()
        state["2.neurons.0.w"] = [0.0]
        self._assert_rejected(mlp((3, 4, 2)), state, "unexpected keys", "2.neurons.0.w")

    @parameterized.expand([
        ("short_list", "0.neurons.1.w", [0.5, 0.5]),
        ("long_list", "0.neurons.1.w", [0.5] * 4),
        ("number_for_list", "0.neurons.1.w", 0.5),
        ("list_for_number", "1.neurons.0.b", [0.5]),
        ("nested_for_flat", "0.neurons.1.w", [[0.5], [0.5], [0.5]]),
        ("empty_list", "0.neurons.1.w", []),
    ])
    def test_mis_shaped_entry(self, _, key, value):
        state = self._other_state()
        state[key] = value
        self._assert_rejected(mlp((3, 4, 2)), state, key, "expected shape")

    @parameterized.expand([
        ("ragged_conv",
         [[[[0.0, 0.0], [0.0, 0.0]]] * 2] * 2 + [[[[0.0, 0.0], [0.0]], [[0.0, 0.0], [0.0, 0.0]]]]),
        ("wrong_kernel", [[[[0.0] * 3] * 3] * 2] * 3),
        ("too_few_channels", [[[[0.0, 0.0], [0.0, 0.0]]]] * 3),
    ])
    def test_mis_shaped_conv_weight(self, _, weight):
        model = conv_model()
        state = conv_model(seed=3).state_dict()
        state["0.weight"] = weight
        self._assert_rejected(model, state, "0.weight", "expected shape [3, 2, 2, 2]")

    @parameterized.expand([
        ("string", "0.5"),
        ("none", None),
        ("bool", True),
        ("code", "__import__('os').system('echo hacked')"),
        ("dict", {"value": 0.5}),
    ])
    def test_non_number_entries(self, _, bad):
        state = self._other_state()
        state["1.neurons.0.b"] = bad
        self._assert_rejected(mlp((3, 4, 2)), state, "1.neurons.0.b")
        state = self._other_state()
        state["0.neurons.2.w"] = [0.1, bad, 0.3]
        self._assert_rejected(mlp((3, 4, 2)), state, "0.neurons.2.w")
        state = conv_model(seed=3).state_dict()
        state["0.weight"][2][1][1][0] = bad
        self._assert_rejected(conv_model(), state, "0.weight")

    def test_every_problem_listed_at_once(self):
        state = self._other_state()
        del state["0.neurons.0.b"]
        state["extra"] = 1.0
        state["1.neurons.1.w"] = [1.0]
        state["1.neurons.0.b"] = "x"
        message = self._assert_rejected(mlp((3, 4, 2)), state, "missing keys: 0.neurons.0.b",
                                        "unexpected keys: extra", "1.neurons.1.w", "1.neurons.0.b")
        assert message.startswith("cannot load state dict into Sequential")

    def test_strict_false(self):
        model = mlp((3, 4, 2))
        source = mlp((3, 4, 2), seed=9)
        state = source.state_dict()
        del state["1.neurons.1.b"]
        state["extra.w"] = [1.0, 2.0]
        keep = model[1].neurons[1].b.data
        model.load_state_dict(state, strict=False)
        assert model[1].neurons[1].b.data == keep
        assert model[0].neurons[0].w[0].data == source[0].neurons[0].w[0].data
        assert values(model)[:-1] == values(source)[:-1]
        # shapes and values are still checked, and nothing changes on failure
        state["0.neurons.0.w"] = [1.0]
        self._assert_rejected(mlp((3, 4, 2), seed=4), state, "0.neurons.0.w", strict=False)
        state["0.neurons.0.w"] = ["a", 1.0, 2.0]
        self._assert_rejected(mlp((3, 4, 2), seed=4), state, "0.neurons.0.w", strict=False)

    def test_not_a_dict(self):
        with pytest.raises(TypeError, match="expects a dict, got list"):
            mlp().load_state_dict([1.0, 2.0])


# --------------------------------------------------------------------------
# Checkpoints: nn.save / nn.load, model.save / model.load
# --------------------------------------------------------------------------

class TestCheckpoints:
    def test_model_round_trip(self, tmp_path):
        model = conv_model(1)
        path = tmp_path / "model.json"
        nn.save(model, path)
        assert nn.load(path) == model.state_dict()
        assert nn.load(str(path)) == model.state_dict()
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)  # the file is plain JSON
        assert payload["state"] == model.state_dict()
        target = conv_model(2)
        target.load_state_dict(nn.load(path))
        assert values(target) == values(model)

    def test_dict_checkpoint(self, tmp_path):
        model = mlp((3, 5, 2), seed=1)
        path = tmp_path / "ckpt.json"
        nn.save({"model": model, "epoch": 3, "history": [0.5, 0.25], "note": None}, path)
        ckpt = nn.load(path)
        assert ckpt == {"model": model.state_dict(), "epoch": 3, "history": [0.5, 0.25], "note": None}
        assert type(ckpt["epoch"]) is int
        target = mlp((3, 5, 2), seed=2)
        target.load_state_dict(ckpt["model"])
        assert values(target) == values(model)
        target = mlp((3, 5, 2), seed=2)
        assert target.load(path) is target  # model.load unwraps the 'model' entry
        assert values(target) == values(model)

    def test_model_save_and_load_methods(self, tmp_path):
        model = mlp((4, 6, 3), seed=1)
        path = str(tmp_path / "m.json")
        model.save(path)
        target = mlp((4, 6, 3), seed=2)
        target.load(path)
        assert values(target) == values(model)
        x = [0.1, 0.2, 0.3, 0.4]
        assert [y.data for y in target(x)] == [y.data for y in model(x)]
        with pytest.raises(ValueError, match="missing keys"):
            mlp((4, 6, 3, 1)).load(path)

    def test_nan_and_inf_parameters(self, tmp_path):
        layer = Linear(3, 1)
        layer.neurons[0].w[0].data = math.nan
        layer.neurons[0].w[1].data = math.inf
        layer.neurons[0].w[2].data = -math.inf
        path = tmp_path / "nan.json"
        layer.save(path)
        w = nn.load(path)["neurons.0.w"]
        assert math.isnan(w[0]) and w[1:] == [math.inf, -math.inf]

    def test_truncated_file(self, tmp_path):
        model = mlp((3, 4, 2), seed=1)
        good = tmp_path / "good.json"
        model.save(good)
        text = good.read_text(encoding="utf-8")
        bad = tmp_path / "truncated.json"
        bad.write_text(text[: len(text) // 2], encoding="utf-8")
        with pytest.raises(ValueError, match="truncated") as info:
            nn.load(bad)
        assert str(bad) in str(info.value)
        target = mlp((3, 4, 2), seed=2)
        before = values(target)
        with pytest.raises(ValueError, match="truncated"):
            target.load(bad)
        assert values(target) == before

    @parameterized.expand([
        ("binary", bytes(range(256)) * 4),
        ("text", b"hello, this is not a checkpoint\n"),
        ("empty", b""),
        ("json_list", b"[1, 2, 3]"),
        ("json_without_header", b'{"0.neurons.0.w": [1.0, 2.0]}'),
        ("newer_version", b'{"format": "scalargrad-checkpoint", "version": 99, "state": {}}'),
        ("deeply_nested", b"[" * 100000 + b"]" * 100000),
    ])
    def test_garbage_file(self, _, content):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "garbage.json")
            with open(path, "wb") as f:
                f.write(content)
            with pytest.raises(ValueError) as info:
                nn.load(path)
            assert path in str(info.value)

    def test_pickle_file_is_not_unpickled(self, tmp_path):
        marker = tmp_path / "pwned"
        path = tmp_path / "evil.pt"
        path.write_bytes(pickle.dumps(_Exploit(str(marker))))
        with pytest.raises(ValueError, match="evil.pt"):
            nn.load(path)
        assert not marker.exists()

    def test_loading_never_runs_code(self, tmp_path):
        marker = tmp_path / "pwned"
        code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
        path = tmp_path / "code.json"
        path.write_text(json.dumps({"format": "scalargrad-checkpoint", "version": 1,
                                    "state": {"neurons.0.w": [code, "1.0"], "neurons.0.b": code}}))
        state = nn.load(path)
        assert state == {"neurons.0.w": [code, "1.0"], "neurons.0.b": code}  # strings stay strings
        layer = Linear(2, 1)
        before = values(layer)
        with pytest.raises(ValueError, match="neurons.0.w"):
            layer.load(path)
        assert values(layer) == before
        assert not marker.exists()

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            nn.load(tmp_path / "nope.json")

    @parameterized.expand([
        ("replace_fails", "os.replace"),
        ("fsync_fails_after_the_write", "os.fsync"),
        ("json_dumps_fails", "json.dumps"),
    ])
    def test_atomic_write(self, _, target):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "ckpt.json")
            old = mlp((3, 4, 2), seed=1)
            nn.save({"model": old, "epoch": 1}, path)
            with open(path, "rb") as f:
                before = f.read()
            new = mlp((3, 4, 2), seed=2)
            module_name, attr = target.split(".")
            module = getattr(serialization, module_name)
            original = getattr(module, attr)

            def crash(*args, **kwargs):
                raise OSError("simulated crash")

            setattr(module, attr, crash)
            try:
                with pytest.raises(OSError, match="simulated crash"):
                    nn.save({"model": new, "epoch": 2}, path)
            finally:
                setattr(module, attr, original)
            with open(path, "rb") as f:
                assert f.read() == before
            assert os.listdir(folder) == ["ckpt.json"]
            ckpt = nn.load(path)
            assert ckpt["epoch"] == 1 and ckpt["model"] == old.state_dict()

    def test_write_interrupted_midway(self, tmp_path, monkeypatch):
        path = tmp_path / "ckpt.json"
        mlp(seed=1).save(path)
        before = path.read_bytes()
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, text):
                self.f.write(text[: len(text) // 2])
                self.f.flush()
                raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of the write

            def __getattr__(self, name):
                return getattr(self.f, name)

        monkeypatch.setattr(serialization.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
        with pytest.raises(KeyboardInterrupt):
            mlp(seed=2).save(path)
        monkeypatch.undo()
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.json"]

    def test_unsaveable_object(self, tmp_path):
        path = tmp_path / "x.json"
        with pytest.raises(TypeError, match="cannot store a function"):
            nn.save({"model": mlp(), "fn": lambda: 0}, path)
        with pytest.raises(TypeError, match="keys must be strings"):
            nn.save({1: 2}, path)
        assert list(tmp_path.iterdir()) == []


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# --------------------------------------------------------------------------
# PyTorch interop
# --------------------------------------------------------------------------

def _torch_mlp():
    torch.manual_seed(0)
    tn = torch.nn
    return tn.Sequential(
        tn.Linear(5, 8), tn.ReLU(), tn.Linear(8, 8), tn.Sigmoid(), tn.Linear(8, 6), tn.Tanh(),
        tn.Linear(6, 6), tn.LeakyReLU(), tn.Linear(6, 4), tn.Softplus(), tn.Linear(4, 4), tn.LeakyReLU(0.2),
        tn.Linear(4, 3),
    ).double()


class TestInterop:
    def test_sequential_from_torch_mlp(self):
        tm = _torch_mlp()
        model = Sequential.from_torch(tm)
        kinds = [(type(m).__name__, getattr(m, "activation", None)) for m in model]
        assert kinds == [("Linear", "relu"), ("Linear", "sigmoid"), ("Linear", "tanh"),
                         ("Linear", "leaky_relu"), ("Linear", "softplus"), ("Linear", "identity"),
                         ("LeakyReLU", None), ("Linear", "identity")]
        rng = random.Random(0)
        for _ in range(5):
            x = [rng.uniform(-2, 2) for _ in range(5)]
            with torch.no_grad():
                outputs_close(model(x), tm(torch.tensor(x, dtype=torch.float64)))

    def test_to_torch_round_trip(self):
        model = Sequential.from_torch(_torch_mlp())
        back = Sequential.from_torch(model.to_torch())
        assert back.state_dict() == model.state_dict()
        assert repr(back) == repr(model)

    def test_float32_torch_model(self):
        torch.manual_seed(1)
        tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        model = Sequential.from_torch(tm)
        assert values(model)[:3] == tm[0].weight[0].double().tolist()
        with torch.no_grad():
            outputs_close(model([0.5, -0.5, 1.0]),
                          tm.double()(torch.tensor([0.5, -0.5, 1.0], dtype=torch.float64)))

    @parameterized.expand([(a,) for a in ("identity", "relu", "sigmoid", "tanh", "leaky_relu", "softplus")])
    def test_linear_from_torch(self, activation):
        torch.manual_seed(2)
        tl = torch.nn.Linear(6, 3, dtype=torch.float64)
        layer = Linear.from_torch(tl, activation=activation)
        assert layer.activation == activation and layer.size_in == 6 and layer.size_out == 3
        assert layer.weight() == tl.weight.tolist()
        assert [n.b.data for n in layer.neurons] == tl.bias.tolist()
        act = {"identity": lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
               "leaky_relu": torch.nn.functional.leaky_relu,
               "softplus": torch.nn.functional.softplus}[activation]
        x = [0.3, -1.2, 0.7, 2.0, -0.1, 0.0]
        with torch.no_grad():
            expected = act(tl(torch.tensor(x, dtype=torch.float64)))
            outputs_close(layer(x), expected)
            outputs_close(layer(x), layer.to_torch()(torch.tensor(x, dtype=torch.float64)))

    def test_linear_without_bias(self):
        tl = torch.nn.Linear(3, 2, bias=False, dtype=torch.float64)
        layer = Linear.from_torch(tl, activation="relu")
        assert layer.num_parameters() == 6
        assert layer.to_torch()[0].bias is None
        x = [1.0, -2.0, 0.5]
        with torch.no_grad():
            outputs_close(layer(x), torch.relu(tl(torch.tensor(x, dtype=torch.float64))))

    def test_cnn_from_torch(self):
        torch.manual_seed(3)
        tn = torch.nn
        tm = tn.Sequential(
            tn.Conv2d(2, 3, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
            tn.Conv2d(3, 4, 2, stride=2, bias=False), tn.Tanh(), tn.Conv2d(4, 2, 1),
            tn.MaxPool2d(2, stride=1), tn.Flatten(), tn.Dropout(0.5), tn.Linear(2, 3), tn.Sigmoid(),
        ).double().eval()
        model = Sequential.from_torch(tm)
        kinds = [type(m).__name__ for m in model]
        assert kinds == ["Conv2D", "MaxPool2D", "Conv2D", "Conv2D", "MaxPool2D", "Flatten", "Dropout",
                         "Linear"]
        assert model[0].activation == "relu" and model[2].activation == "tanh" and model[2].bias is None
        assert model[4].stride == (1, 1) and model[6].p == 0.5
        model.eval()
        rng = random.Random(1)
        x = [[[rng.uniform(-1, 1) for _ in range(8)] for _ in range(8)] for _ in range(2)]
        with torch.no_grad():
            outputs_close(model(x), tm(torch.tensor([x], dtype=torch.float64))[0])
            # and back again: our model in PyTorch takes single (unbatched) images
            outputs_close(model(x), model.to_torch()(torch.tensor(x, dtype=torch.float64)))

    def test_eval_mode_carries_over(self):
        model = Sequential([Linear(4, 4), Dropout(0.5), Linear(4, 2)]).eval()
        tm = model.to_torch()
        assert not any(m.training for m in tm.modules() if isinstance(m, torch.nn.Dropout))
        x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
        with torch.no_grad():
            outputs_close(model([1.0, 2.0, 3.0, 4.0]), tm(x))
        back = Sequential.from_torch(tm)
        assert not back[1].training
        assert Sequential([Dropout(0.5)]).to_torch()[0].training  # train mode stays train mode

    def test_softmax_and_identity(self):
        tm = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Identity(),
                                 torch.nn.Softmax(dim=-1)).double()
        model = Sequential.from_torch(tm)
        assert [type(m) for m in model] == [Linear, Identity, Softmax]
        x = [0.5, 0.1, -0.3]
        with torch.no_grad():
            outputs_close(model(x), tm(torch.tensor(x, dtype=torch.float64)))
            outputs_close(model(x), model.to_torch()(torch.tensor(x, dtype=torch.float64)))

    def test_activation_modules_to_torch(self):
        for ours, theirs in [(ReLU(), torch.nn.ReLU), (Sigmoid(), torch.nn.Sigmoid), (Tanh(), torch.nn.Tanh),
                             (Softplus(), torch.nn.Softplus), (Identity(), torch.nn.Identity),
                             (Flatten(), torch.nn.Flatten), (MaxPool2D(2), torch.nn.MaxPool2d)]:
            assert isinstance(ours.to_torch(), theirs)
        assert LeakyReLU(0.3).to_torch().negative_slope == 0.3

    def test_unsupported_torch_modules(self):
        tn = torch.nn
        with pytest.raises(ValueError, match="BatchNorm1d"):
            Sequential.from_torch(tn.Sequential(tn.Linear(2, 2), tn.BatchNorm1d(2)))
        with pytest.raises(ValueError, match="groups=1"):
            Sequential.from_torch(tn.Sequential(tn.Conv2d(2, 2, 3, groups=2)))
        with pytest.raises(ValueError, match="MaxPool2d"):
            Sequential.from_torch(tn.Sequential(tn.MaxPool2d(2, padding=1)))
        with pytest.raises(ValueError, match="MaxPool2d"):
            Sequential.from_torch(tn.Sequential(tn.MaxPool2d(2, ceil_mode=True)))
        with pytest.raises(TypeError, match="torch.nn.Linear"):
            Linear.from_torch(tn.Conv2d(1, 1, 1))


# --------------------------------------------------------------------------
# nn.init
# --------------------------------------------------------------------------

def _fans(target):
    if isinstance(target, Linear):
        return target.size_in, target.size_out
    kh, kw = target.kernel_size
    return target.in_channels * kh * kw, target.out_channels * kh * kw


def _weights(target):
    if isinstance(target, Linear):
        return [p for n in target.neurons for p in n.w]
    return flat(target.weight)


def _biases(target):
    return [n.b for n in target.neurons] if isinstance(target, Linear) else list(target.bias)


GAIN = math.sqrt(2.0)
# (name, call, kind, parameter of the distribution from fans): kind 'uniform' gives the bound, 'normal' the
# std
INIT_CASES = [
    ("xavier_uniform", lambda t: init.xavier_uniform_(t), "uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    ("xavier_uniform_gain", lambda t: init.xavier_uniform_(t, gain=GAIN), "uniform",
     lambda fi, fo: GAIN * math.sqrt(6 / (fi + fo))),
    ("xavier_normal", lambda t: init.xavier_normal_(t), "normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t), "uniform", lambda fi, fo: math.sqrt(6 / fi)),
    ("kaiming_uniform_a", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), "uniform",
     lambda fi, fo: math.sqrt(1 / fi)),
    ("kaiming_uniform_fan_out_tanh", lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="tanh"),
     "uniform", lambda fi, fo: math.sqrt(3) * 5 / 3 / math.sqrt(fo)),
    ("kaiming_normal", lambda t: init.kaiming_normal_(t), "normal", lambda fi, fo: math.sqrt(2 / fi)),
    ("kaiming_normal_fan_out_relu", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     "normal", lambda fi, fo: math.sqrt(2 / fo)),
    ("uniform", lambda t: init.uniform_(t, -0.3, 0.3), "uniform", lambda fi, fo: 0.3),
    ("normal", lambda t: init.normal_(t, 0.0, 0.05), "normal", lambda fi, fo: 0.05),
]
LAYERS = [("linear", lambda: Linear(40, 30)), ("conv", lambda: Conv2D(6, 8, 3))]


def _std(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


class TestInit:
    @parameterized.expand([(f"{n}_{ln}", call, kind, param, make)
                           for n, call, kind, param in INIT_CASES for ln, make in LAYERS])
    def test_values_follow_torch_rules(self, _, call, kind, param, make):
        random.seed(0)
        layer = make()
        objects = layer.parameters()
        biases = [b.data for b in _biases(layer)]
        assert call(layer) is layer
        assert all(a is b for a, b in zip(objects, layer.parameters()))
        assert [b.data for b in _biases(layer)] == biases  # only the weights are set
        ws = [p.data for p in _weights(layer)]
        # torch's fans for the same shape
        shape = (30, 40) if isinstance(layer, Linear) else (8, 6, 3, 3)
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert (fan_in, fan_out) == _fans(layer)
        p = param(fan_in, fan_out)
        if kind == "uniform":
            assert all(-p <= w <= p for w in ws)
            assert max(abs(w) for w in ws) > 0.98 * p
        else:
            assert max(abs(w) for w in ws) < 6 * p
        expected_std = p / math.sqrt(3) if kind == "uniform" else p
        assert abs(_std(ws) / expected_std - 1) < 0.1
        assert abs(sum(ws) / len(ws)) < 0.15 * expected_std

    @parameterized.expand([(n, call, kind, param) for n, call, kind, param in INIT_CASES])
    def test_statistics_on_a_big_layer(self, _, call, kind, param):
        random.seed(1)
        layer = Linear(300, 200)
        call(layer)
        ws = [p.data for p in _weights(layer)]
        p = param(300, 200)
        expected_std = p / math.sqrt(3) if kind == "uniform" else p
        assert abs(_std(ws) / expected_std - 1) < 0.02
        assert abs(sum(ws) / len(ws)) < 0.02 * expected_std

    def test_constant_zeros_ones(self):
        for make in (lambda: Linear(5, 4), lambda: Conv2D(2, 3, 2), lambda: Neuron(4)):
            layer = make()
            weights = _weights(layer) if not isinstance(layer, Neuron) else layer.w
            init.constant_(layer, 0.25)
            assert {p.data for p in weights} == {0.25}
            init.zeros_(layer)
            assert {p.data for p in weights} == {0.0} and all(type(p.data) is float for p in weights)
            init.ones_(layer)
            assert {p.data for p in weights} == {1.0}

    def test_on_lists_of_scalars(self):
        layer = Linear(3, 2)
        biases = [n.b for n in layer.neurons]
        assert init.zeros_(biases) is biases and [b.data for b in biases] == [0.0, 0.0]
        init.uniform_(biases, 5.0, 6.0)
        assert all(5.0 <= b.data <= 6.0 for b in biases)
        grid = [[Scalar(0.0) for _ in range(50)] for _ in range(20)]  # [fan_out][fan_in], like torch
        random.seed(2)
        init.xavier_uniform_(grid)
        bound = math.sqrt(6 / 70)
        assert all(abs(p.data) <= bound for p in flat(grid)) \
            and max(abs(p.data) for p in flat(grid)) > 0.98 * bound

    def test_seeded_and_repeatable(self):
        a, b = Linear(10, 10), Linear(10, 10)
        random.seed(3)
        init.kaiming_normal_(a)
        random.seed(3)
        init.kaiming_normal_(b)
        assert values(a) != [] and [p.data for p in _weights(a)] == [p.data for p in _weights(b)]

    @parameterized.expand([
        ("linear", "linear", None), ("conv2d", "conv2d", None), ("sigmoid", "sigmoid", None),
        ("tanh", "tanh", None), ("relu", "relu", None), ("leaky_relu", "leaky_relu", None),
        ("leaky_relu_0_2", "leaky_relu", 0.2), ("leaky_relu_0", "leaky_relu", 0),
        ("leaky_relu_sqrt5", "leaky_relu", math.sqrt(5)),
    ])
    def test_calculate_gain_matches_torch(self, _, nonlinearity, param):
        expected = torch.nn.init.calculate_gain(nonlinearity, param)
        assert math.isclose(init.calculate_gain(nonlinearity, param), expected, rel_tol=1e-15)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
            init.calculate_gain("swish")
        with pytest.raises(ValueError, match="mode"):
            init.kaiming_uniform_(Linear(2, 2), mode="fan_avg")
        with pytest.raises(TypeError, match="expected a layer"):
            init.xavier_uniform_("weights")


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

class TestBadInput:
    @parameterized.expand([("too_few", 2), ("too_many", 4), ("none", 0)])
    def test_linear_wrong_number_of_inputs(self, _, n):
        with pytest.raises(ValueError, match=rf"Linear\(3, 2\) expects 3 inputs, got {n}"):
            Linear(3, 2)([0.5] * n)
        with pytest.raises(ValueError, match=rf"expects 3 inputs, got {n}"):
            Neuron(3)([0.5] * n)
        with pytest.raises(ValueError, match=rf"Linear\(3, 4\) expects 3 inputs, got {n}"):
            Sequential([Linear(3, 4), Linear(4, 1)])([Scalar(0.5)] * n)

    def test_mismatch_between_layers(self):
        with pytest.raises(ValueError, match=r"Linear\(5, 1\) expects 5 inputs, got 4"):
            Sequential([Linear(3, 4), Linear(5, 1)])([0.1, 0.2, 0.3])

    def test_a_layer_of_ones_own_takes_a_batch_by_stating_its_sample_depth(self):
        class Double(Module):
            sample_depth = 1

            def forward(self, x, scale=2.0):
                if len(x) != 2:
                    raise ValueError(f"Double takes 2 numbers, got {len(x)}")
                return [scale * v for v in x]

        double = Double()
        assert double([1.0, 2.0]) == [2.0, 4.0]
        assert double([[1.0, 2.0], [3.0, 4.0]]) == [[2.0, 4.0], [6.0, 8.0]]
        assert double([[1.0, 2.0], [3.0, 4.0]], scale=3.0) == [[3.0, 6.0], [9.0, 12.0]]  # each sample's call
        assert double([1.0, 2.0], scale=3.0) == [3.0, 6.0]
        with pytest.raises(ValueError, match=r"^Double expects one sample nested 1 deep or a batch of them "
                                             r"\(a list of samples\); got lists shaped \[1\]\[1\]\[2\]$"):
            double([[[1.0, 2.0]]])
        with pytest.raises(ValueError,
                           match=r"got a list of 2 lists of 3 \(sample 0: Double takes 2 numbers, got 3\)$"):
            double([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    def test_input_not_a_list(self):
        with pytest.raises(TypeError, match="expects a list of 3 inputs, got float"):
            Linear(3, 2)(0.5)
        with pytest.raises(TypeError, match="str"):
            Linear(2, 1)(["a", 1.0])

    @parameterized.expand([("unknown", "gelu"), ("capitalised", "ReLU"), ("none", None), ("empty", "")])
    def test_unknown_activation(self, _, name):
        for make in (lambda: Linear(2, 2, activation=name), lambda: Neuron(2, activation=name),
                     lambda: Conv2D(1, 1, 1, activation=name)):
            with pytest.raises(ValueError, match="unknown activation") as info:
                make()
            assert "relu" in str(info.value)  # the message lists the choices

    @parameterized.expand([("zero", 0), ("negative", -3), ("float", 2.5), ("bool", True), ("string", "3"),
                           ("none", None)])
    def test_non_positive_sizes(self, _, size):
        for make, what in [(lambda: Linear(size, 2), "size_in"), (lambda: Linear(2, size), "size_out"),
                           (lambda: Neuron(size), "size"), (lambda: Conv2D(size, 1, 1), "in_channels"),
                           (lambda: Conv2D(1, size, 1), "out_channels")]:
            with pytest.raises(ValueError, match=f"{what} must be a positive int"):
                make()

    @parameterized.expand([("kernel_0", {"kernel_size": 0}), ("stride_0", {"kernel_size": 2, "stride": 0}),
                           ("negative_padding", {"kernel_size": 2, "padding": -1}),
                           ("kernel_triple", {"kernel_size": (2, 2, 2)}),
                           ("float_kernel", {"kernel_size": 2.0})])
    def test_bad_conv_and_pool_settings(self, _, kwargs):
        with pytest.raises(ValueError):
            Conv2D(1, 1, **kwargs)
        pool_kwargs = {k: v for k, v in kwargs.items() if k != "padding"}
        if pool_kwargs != {"kernel_size": 2}:
            with pytest.raises(ValueError):
                MaxPool2D(**pool_kwargs)
