"""Map-style datasets: any object with ``__len__`` and ``__getitem__`` giving ``(x, y)``, as in
torch.utils.data.

A DataLoader, a Trainer (``dataset=`` or ``loader=``) and an Evaluator
(``dataset=``) take one and load its samples when a batch needs them, and a
run over it reaches exactly the weights a run over the same samples as lists
reaches.
"""

from __future__ import annotations

import importlib.util
import random
import struct

import pytest

from scalargrad.data import DataLoader, Dataset, make_classification, ratio_split
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential
from scalargrad.train import AccuracyMetric, Evaluator, F1Metric, Trainer

X, Y = make_classification(n_samples=30, n_features=4, n_classes=3, seed=0)


class Samples:
    """A map-style dataset that builds each sample when asked, and logs every request."""

    def __init__(self, x, y, log=None):
        self.x, self.y = x, y  # kept under the same names a Dataset uses: the loader must still not read them
        self.log = [] if log is None else log

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.log.append(("get", i))
        return list(self.x[i]), self.y[i]


class FromDisk(Dataset):
    """A Dataset subclass with no .x or .y at all (it never calls Dataset.__init__): the issue's failing
    case."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.calls += 1
        return list(X[i]), Y[i]


def bits(values):
    return [struct.pack("<d", v) for v in values]


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_loader_serves_the_batches_a_dataset_of_lists_gives(shuffle, drop_last):
    ours = DataLoader(Samples(X, Y), batch_size=4, shuffle=shuffle, seed=5, drop_last=drop_last)
    lists = DataLoader(Dataset(X, Y), batch_size=4, shuffle=shuffle, seed=5, drop_last=drop_last)
    for epoch in range(3):
        assert list(ours.epoch_batches(epoch)) == list(lists.epoch_batches(epoch))
    assert len(ours) == len(lists)
    assert list(DataLoader(FromDisk(len(X)), batch_size=4, seed=5)) == \
        list(DataLoader((X, Y), batch_size=4, seed=5))


def test_loader_loads_each_batch_when_it_is_served():
    data = Samples(X, Y)
    batches = iter(DataLoader(data, batch_size=4, seed=1))
    assert data.log == []  # making the loader and its iterator loads nothing
    xb, yb = next(batches)
    assert len(data.log) == 4 and [X[i] for _, i in data.log] == xb and [Y[i] for _, i in data.log] == yb
    next(batches)
    assert len(data.log) == 8
    list(batches)
    assert sorted(i for _, i in data.log) == list(range(len(X)))  # every sample once per epoch


def test_a_resumed_epoch_loads_only_the_batches_it_serves():
    data = FromDisk(len(X))
    loader = DataLoader(data, batch_size=4, seed=2)
    rest = list(loader.epoch_batches(0, start=6))
    assert rest == list(DataLoader((X, Y), batch_size=4, seed=2).epoch_batches(0, start=6))
    assert data.calls == len(X) - 6 * 4


def _model():
    random.seed(11)
    return Sequential([Linear(4, 6, activation="tanh"), Linear(6, 3)])


def _run(**data):
    model = _model()
    trainer = Trainer(model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), num_epochs=3, seed=4,
                      progress=False, **data)
    history = trainer.run()
    return [p.data for p in model.parameters()], history["train_loss"]


@pytest.mark.parametrize("replay", [False, True])
def test_trainer_on_a_map_style_dataset_reaches_the_weights_of_the_lists(replay):
    weights, losses = _run(x=X, y=Y, batch_size=4, replay=replay)
    for data in ({"dataset": Samples(X, Y)}, {"dataset": FromDisk(len(X))}):
        w, l = _run(batch_size=4, replay=replay, **data)
        assert bits(w) == bits(weights) and l == losses
    model = _model()
    loader = DataLoader(FromDisk(len(X)), batch_size=4, seed=4)
    Trainer(model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9),
            num_epochs=3, loader=loader, progress=False, replay=replay).run()
    assert bits([p.data for p in model.parameters()]) == bits(weights)


def test_trainer_dataset_with_shuffle_false_keeps_the_order():
    data = Samples(X, Y)
    model = _model()
    Trainer(model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1), num_epochs=1,
            dataset=data, batch_size=7, shuffle=False, progress=False).run()
    assert [i for _, i in data.log] == list(range(len(X)))


def test_evaluator_on_a_map_style_dataset_loads_a_chunk_at_a_time():
    log = []
    data = Samples(X, Y, log)
    model = _model()

    def logged_model(x):
        log.append(("model",))
        return model(x)

    metrics = [AccuracyMetric(), F1Metric()]
    theirs = Evaluator(x=X, y=Y, model=model, metric=metrics).evaluate()
    ours = Evaluator(dataset=data, model=logged_model, metric=metrics, batch_size=8).evaluate()
    assert ours == theirs
    kinds = [entry[0] for entry in log]
    assert kinds[:9] == ["get"] * 8 + ["model"]  # the first chunk of 8 is loaded, then run, before the next
    assert kinds.count("get") == len(X) and kinds.count("model") == len(X)
    assert repr(Evaluator(dataset=data, model=model, metric=AccuracyMetric())) == \
        f"Evaluator({len(X)} samples, metrics=['accuracy'])"


def test_evaluator_plain_callable_metric_sees_every_target():
    def share_of_class_zero(outputs, targets):
        return sum(1 for t in targets if t == 0) / len(targets)

    expected = share_of_class_zero(None, Y)
    ev = Evaluator(dataset=FromDisk(len(X)), model=_model(), metric=share_of_class_zero, batch_size=7)
    assert ev.evaluate() == expected


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="needs numpy")
def test_samples_given_as_numpy_arrays_become_lists():
    import numpy as np

    class Arrays:
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            return np.array(X[i], dtype=np.float32), np.int64(Y[i])

    xb, yb = next(iter(DataLoader(Arrays(), batch_size=3, shuffle=False)))
    assert xb == [np.array(X[i], dtype=np.float32).tolist() for i in range(3)] and yb == Y[:3]
    assert all(type(v) is float for row in xb for v in row) and all(type(t) is int for t in yb)


def test_bad_items_and_arguments_get_errors_that_name_them():
    class Triples:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i, i, i

    with pytest.raises(TypeError, match=r"must be an \(x, y\) pair; Triples\[\d\] gave tuple"):
        list(DataLoader(Triples(), batch_size=2))
    with pytest.raises(TypeError, match="map-style dataset"):
        DataLoader(42)
    model = _model()
    common = {"model": model, "loss": CrossEntropyLoss(), "optimizer": SGD(model.parameters(), lr=0.1),
              "num_epochs": 1}
    with pytest.raises(TypeError, match="dataset= must be a map-style dataset"):
        Trainer(dataset=[(X[0], Y[0])], batch_size=2, **common)
    with pytest.raises(ValueError, match="give one of x= and y=, dataset= or loader="):
        Trainer(dataset=Samples(X, Y), x=X, y=Y, batch_size=2, **common)
    with pytest.raises(TypeError, match="batch_size= .* with dataset="):
        Trainer(dataset=Samples(X, Y), **common)
    with pytest.raises(ValueError, match="the dataset is empty"):
        Trainer(dataset=Samples([], []), batch_size=2, **common)
    with pytest.raises(ValueError, match="either x= and y= or dataset="):
        Evaluator(x=X, y=Y, dataset=Samples(X, Y), model=model, metric=AccuracyMetric())
    with pytest.raises(TypeError, match="ratio_split cuts a Dataset"):
        ratio_split(Samples(X, Y), 0.5, 0.5)
