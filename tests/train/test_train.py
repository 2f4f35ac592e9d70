"""scalargrad.train: Trainer, Evaluator, metrics, History, callbacks, progress, Ctrl-C and resume."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import sys
import threading

import pytest

import scalargrad.train.progress as progress_module
from scalargrad import Scalar
from scalargrad.data import DataLoader
from scalargrad.data import split_train_val as data_split_train_val
from scalargrad.nn import (
    SGD,
    Adam,
    CrossEntropyLoss,
    Dropout,
    Linear,
    MSELoss,
    ReduceLROnPlateau,
    Sequential,
    StepLR,
    load,
    save,
)
from scalargrad.train import (
    AccuracyMetric,
    Callback,
    ConfusionMatrix,
    EarlyStopping,
    Evaluator,
    F1Metric,
    History,
    LambdaCallback,
    LossMetric,
    MAEMetric,
    Metric,
    ModelCheckpoint,
    MSEMetric,
    R2Metric,
    Trainer,
    split_train_val,
)

# ---- shared fixtures -------------------------------------------------------------------


def blobs(n=24, seed=0):
    """Two linearly separable clouds in 2-D: class 0 around (-1, -1), class 1 around (1, 1)."""
    rng = random.Random(seed)
    x, y = [], []
    for i in range(n):
        c = i % 2
        centre = 1.0 if c else -1.0
        x.append([centre + rng.uniform(-0.5, 0.5), centre + rng.uniform(-0.5, 0.5)])
        y.append(c)
    return x, y


X, Y = blobs(22)  # 22 samples: batches of 4 leave a partial last batch


def make_model(seed=0, dropout=0.25):
    random.seed(seed)
    layers = [Linear(2, 6, activation="relu")]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Linear(6, 2))
    return Sequential(layers)


def weights(model):
    return [p.data for p in model.parameters()]


def step(model, loss_fn, optim, xb, yb):
    outputs = [model(xi) for xi in xb]
    loss = loss_fn(outputs, yb)
    optim.zero_grad()
    loss.backward()
    optim.step()


def strip_seconds(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history.records]


class ScriptedMetric(Metric):
    """Reports the next value of a fixed script at every evaluation (drives callbacks and schedulers)."""

    higher_is_better = False

    def __init__(self, script, name="score"):
        self.script = list(script)
        self.name = name
        self.calls = 0

    def reset(self):
        pass

    def update(self, outputs, targets):
        pass

    def compute(self):
        value = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return value


def scripted_trainer(model, script, num_epochs, lr=0.1, name="score", **kwargs):
    optim = SGD(model.parameters(), lr=lr)
    evaluator = Evaluator(x=X[:4], y=Y[:4], model=model, metric=ScriptedMetric(script, name))
    return Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=8,
                   num_epochs=num_epochs, evaluator=evaluator, progress=False, **kwargs)


# ---- the Trainer is exactly the hand-written loop ------------------------------------------


def test_trainer_matches_hand_loop_with_shuffling_bit_for_bit():
    model = make_model(0)
    optim = SGD(model.parameters(), lr=0.1, momentum=0.9)
    evaluator = Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric())  # runs between epochs
    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4,
                      num_epochs=3, evaluator=evaluator, seed=7, progress=False).run()
    assert len(history) == 3

    ref = make_model(0)
    ref_optim = SGD(ref.parameters(), lr=0.1, momentum=0.9)
    loss_fn = CrossEntropyLoss()
    random.seed(7)
    loader = DataLoader((X, Y), batch_size=4, shuffle=True, seed=7)
    for epoch in range(3):
        for xb, yb in loader.epoch_batches(epoch):
            step(ref, loss_fn, ref_optim, xb, yb)
    assert weights(model) == weights(ref)


def test_trainer_matches_original_loop_without_shuffling():
    model = make_model(1)
    optim = SGD(model.parameters(), lr=0.05)
    random.seed(3)  # Dropout draws from the global random; no seed= so the Trainer does not reseed
    Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4, num_epochs=2,
            shuffle=False, progress=False).run()

    ref = make_model(1)
    ref_optim = SGD(ref.parameters(), lr=0.05)
    loss_fn = CrossEntropyLoss()
    random.seed(3)
    for _ in range(2):  # the original scalargrad Trainer's loop: slices in order
        for i in range(0, len(X), 4):
            step(ref, loss_fn, ref_optim, X[i:i + 4], Y[i:i + 4])
    assert weights(model) == weights(ref)


def test_trainer_with_loader_matches_iterating_the_loader():
    model = make_model(2)
    optim = Adam(model.parameters(), lr=0.01)
    loader = DataLoader((X, Y), batch_size=5, seed=11)
    trainer = Trainer(model=model, loss=CrossEntropyLoss(), optimizer=optim, num_epochs=2, loader=loader,
                      seed=1, progress=False)
    assert trainer.batch_size == 5
    trainer.run()

    ref = make_model(2)
    ref_optim = Adam(ref.parameters(), lr=0.01)
    loss_fn = CrossEntropyLoss()
    random.seed(1)
    ref_loader = DataLoader((X, Y), batch_size=5, seed=11)
    for _ in range(2):
        for xb, yb in ref_loader:
            step(ref, loss_fn, ref_optim, xb, yb)
    assert weights(model) == weights(ref)


def test_same_seed_same_run_and_train_loss_is_the_mean_batch_loss():
    runs = []
    for _ in range(2):
        model = make_model(4)
        trainer = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(),
                          optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=2, seed=9,
                          progress=False)
        history = trainer.run()
        runs.append((weights(model), strip_seconds(history)))
        assert len(trainer.losses) == 2 * 6  # every batch loss (the original API's attribute)
        assert history["train_loss"][1] == sum(trainer.losses[6:]) / 6
    assert runs[0] == runs[1]


def test_seed_api_learns_a_separable_problem(capsys):
    from scalargrad.nn import Linear, Sequential  # the seed API's imports, verbatim

    x, y = blobs(40, seed=1)
    x_tr, y_tr, x_val, y_val = split_train_val(x, y, val_size=0.25)
    random.seed(0)
    model = Sequential([Linear(2, 4, activation="relu"), Linear(4, 2, activation="identity")])
    history = Trainer(x=x_tr, y=y_tr, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.075, momentum=0.9), batch_size=4, num_epochs=15,
                      evaluator=Evaluator(x=x_val, y=y_val, model=model, metric=AccuracyMetric())).run()
    assert isinstance(history, History) and len(history) == 15
    assert history["val_accuracy"][-1] == 1.0
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert Evaluator(x=x_tr, y=y_tr, model=model, metric=AccuracyMetric()).run() == 1.0
    assert capsys.readouterr().out.count("Epoch ") == 15  # stdout is not a terminal: one line per epoch


def test_original_positional_arguments_still_work():
    model = make_model(0, dropout=0)
    evaluator = Evaluator(X, Y, model, AccuracyMetric())
    trainer = Trainer(X, Y, model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), 4, 2, evaluator, None,
                      progress=False)
    assert trainer.batch_size == 4 and trainer.num_epochs == 2 and trainer.evaluator is evaluator
    assert len(trainer.run()) == 2 and evaluator.metric.NAME == "Accuracy"


def test_split_train_val_is_re_exported_from_data():
    assert split_train_val is data_split_train_val
    x_tr, y_tr, x_val, _ = split_train_val(list(range(10)), list(range(10)), val_size=0.3, seed=0)
    assert len(x_val) == 3 and sorted(x_tr + x_val) == list(range(10)) and x_tr == y_tr


def test_numpy_data_is_accepted():
    np = pytest.importorskip("numpy")
    model = make_model(0, dropout=0)
    trainer = Trainer(x=np.array(X), y=np.array(Y), model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=1, progress=False,
                      evaluator=Evaluator(x=np.array(X), y=np.array(Y), model=model, metric=AccuracyMetric()))
    assert len(trainer.run()) == 1


# ---- Evaluator ---------------------------------------------------------------------------


class Recording(Metric):
    name = "recording"

    def reset(self):
        self.outputs = []

    def update(self, outputs, targets):
        self.outputs.extend(outputs)

    def compute(self):
        return len(self.outputs)


def test_evaluator_records_no_graph_and_turns_dropout_off():
    model = make_model(0, dropout=0.9)
    metric = Recording()
    random.seed(5)
    state = random.getstate()
    assert Evaluator(x=X, y=Y, model=model, metric=metric).evaluate() == len(X)
    assert all(o.is_leaf for out in metric.outputs for o in out)  # no_grad: outputs are leaves
    assert random.getstate() == state  # Dropout in eval mode draws nothing
    model.eval()
    with_eval = [[o.data for o in model(xi)] for xi in X]
    assert [[o.data for o in out] for out in metric.outputs] == with_eval


def test_evaluator_restores_each_modules_mode():
    model = make_model(0)
    model.train()
    model[1].eval()  # a mixed state must come back exactly
    before = [m.training for _, m in model.named_modules()]
    Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric()).run()
    assert [m.training for _, m in model.named_modules()] == before

    model.eval()
    Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric()).run()
    assert not any(m.training for _, m in model.named_modules())


def test_evaluator_restores_mode_when_the_model_fails():
    class Broken(Sequential):
        def forward(self, x):
            raise RuntimeError("boom")

    model = Broken([Linear(2, 2)])
    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric()).evaluate()
    assert model.training


def test_evaluator_metric_lists_batches_and_plain_callables():
    model = make_model(3)
    metrics = [AccuracyMetric(), F1Metric(), LossMetric(CrossEntropyLoss()), ConfusionMatrix()]
    whole = Evaluator(x=X, y=Y, model=model, metric=metrics).evaluate()
    assert list(whole) == ["accuracy", "f1", "loss", "confusion_matrix"]
    batched = Evaluator(x=X, y=Y, model=model, metric=metrics, batch_size=5).evaluate()
    assert batched["accuracy"] == whole["accuracy"] \
        and batched["confusion_matrix"] == whole["confusion_matrix"]
    assert batched["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    model.eval()
    assert whole["loss"] == pytest.approx(CrossEntropyLoss()([model(xi) for xi in X], Y).data, rel=1e-12)

    class OriginalStyle:  # the original scalargrad's metric interface: NAME and __call__
        NAME = "Hits"

        def __call__(self, outputs, targets):
            return sum(int(max(o, key=lambda s: s.data) is o[t]) for o, t in zip(outputs, targets))

    ev = Evaluator(x=X, y=Y, model=model, metric=[OriginalStyle(), AccuracyMetric()])
    result = ev.run()
    assert result["hits"] == round(result["accuracy"] * len(X))


def test_evaluator_bad_arguments():
    model = make_model(0)
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        Evaluator(x=X[:3], y=Y[:2], model=model, metric=AccuracyMetric())
    with pytest.raises(ValueError, match="empty"):
        Evaluator(x=[], y=[], model=model, metric=AccuracyMetric())
    with pytest.raises(TypeError, match="metric="):
        Evaluator(x=X, y=Y, model=model)
    with pytest.raises(ValueError, match="named 'accuracy'"):
        Evaluator(x=X, y=Y, model=model, metric=[AccuracyMetric(), AccuracyMetric()])
    with pytest.raises(ValueError, match="batch_size"):
        Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric(), batch_size=0)


# ---- metrics against hand computations ------------------------------------------------------


def test_accuracy_multiclass_and_output_forms():
    outputs = [[Scalar(0.1), Scalar(2.0), Scalar(0.3)], [3.0, 1.0, 0.0], [0.0, 0.5, 0.4], [0.2, 0.1, 0.9]]
    targets = [1, 0, 2, 2]
    # predictions 1, 0, 1, 2 -> 3 of 4 right
    assert AccuracyMetric()(outputs, targets) == 0.75
    assert AccuracyMetric().higher_is_better and AccuracyMetric.NAME == "Accuracy"


def test_accuracy_binary_thresholds():
    probs = [Scalar(0.9), [Scalar(0.4)], 0.6, [0.1], 0.5]
    # 0/1 targets: threshold 0.5 -> predictions 1, 0, 1, 0, 0
    assert AccuracyMetric()(probs, [1, 1, 1, 0, 0]) == 4 / 5
    # -1/+1 targets: threshold 0 -> predictions sign(output)
    scores = [Scalar(0.3), [-2.0], -0.1, 0.0, [Scalar(5.0)]]
    assert AccuracyMetric()(scores, [1, -1, 1, -1, -1]) == 3 / 5
    # an explicit threshold (logits with 0/1 targets)
    assert AccuracyMetric(threshold=0.0)([0.2, -0.3, 0.1], [1, 0, 0]) == 2 / 3
    with pytest.raises(ValueError, match="0/1 or -1/"):
        AccuracyMetric()([0.5], [2])
    with pytest.raises(ValueError, match="mix 0 and -1"):
        AccuracyMetric()([0.5, 0.1], [0, -1])


def test_accuracy_accumulates_over_updates():
    m = AccuracyMetric()
    m.reset()
    m.update([[1.0, 0.0]], [0])
    m.update([[1.0, 0.0], [0.0, 1.0], [0.3, 0.2]], [1, 1, 1])
    assert m.compute() == 2 / 4
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        m.update([[1.0, 0.0], [1.0, 0.0]], [0])
    with pytest.raises(ValueError, match="out of range"):
        m.update([[1.0, 0.0]], [2])


def test_regression_metrics_against_hand_computation():
    outputs = [[Scalar(1.0)], Scalar(2.5), 0.0, [4.0]]
    targets = [1.5, 2.0, -1.0, 3.0]
    errors = [-0.5, 0.5, 1.0, 1.0]
    assert MSEMetric()(outputs, targets) == pytest.approx(sum(e * e for e in errors) / 4)
    assert MAEMetric()(outputs, targets) == pytest.approx(sum(abs(e) for e in errors) / 4)
    mean = sum(targets) / 4
    ss_tot = sum((t - mean) ** 2 for t in targets)
    ss_res = sum(e * e for e in errors)
    assert R2Metric()(outputs, targets) == pytest.approx(1 - ss_res / ss_tot, rel=1e-12)
    assert not MSEMetric().higher_is_better and R2Metric().higher_is_better and MSEMetric.NAME == "MSE"


def test_r2_streams_and_handles_vectors_and_constants():
    outputs = [[1.0, 2.0], [2.0, 1.0], [2.5, 0.0], [4.0, 1.0]]
    targets = [[1.0, 3.0], [2.0, 1.5], [3.0, 0.0], [4.5, 1.0]]

    def r2(col):
        t = [row[col] for row in targets]
        o = [row[col] for row in outputs]
        mean = sum(t) / len(t)
        return 1 - sum((a - b) ** 2 for a, b in zip(o, t)) / sum((b - mean) ** 2 for b in t)

    m = R2Metric()
    m.reset()
    m.update(outputs[:1], targets[:1])
    m.update(outputs[1:], targets[1:])
    assert m.compute() == pytest.approx((r2(0) + r2(1)) / 2, rel=1e-12)
    assert R2Metric()([1.0, 1.0], [1.0, 1.0]) == 1.0  # constant targets, perfect fit (as scikit-learn)
    assert R2Metric()([1.0, 2.0], [1.0, 1.0]) == 0.0
    assert math.isnan(R2Metric()([1.0], [2.0]))


def test_macro_f1_against_hand_computation_with_a_class_never_predicted():
    # three classes; class 2 occurs as a target but is never predicted
    outputs = [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.9], [0.0, 2.0, 1.0],
               [3.0, 0, 0]]
    targets = [0, 1, 2, 2, 1, 1]
    preds = [0, 1, 1, 0, 1, 0]
    scores = []
    for c in (0, 1, 2):
        tp = sum(p == c and t == c for p, t in zip(preds, targets))
        fp = sum(p == c and t != c for p, t in zip(preds, targets))
        fn = sum(p != c and t == c for p, t in zip(preds, targets))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    assert F1Metric()(outputs, targets) == pytest.approx(sum(scores) / 3, rel=1e-12)
    # binary single outputs: macro over the two classes
    probs, labels = [0.9, 0.8, 0.3, 0.2, 0.7], [1, 0, 1, 0, 1]
    # predictions 1 1 0 0 1: class 1 tp=2 fp=1 fn=1 -> 2/3; class 0 tp=1 fp=1 fn=1 -> 1/2
    assert F1Metric()(probs, labels) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_confusion_matrix_with_a_class_never_predicted():
    outputs = [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.9], [0.0, 2.0, 1.0],
               [3.0, 0, 0]]
    targets = [0, 1, 2, 2, 1, 1]
    cm = ConfusionMatrix()
    assert cm(outputs, targets) == [[1, 0, 0], [1, 2, 0], [1, 1, 0]]  # column 2 (never predicted) is zeros
    assert cm.labels == [0, 1, 2] and cm.scalar is False
    assert ConfusionMatrix(num_classes=4)(outputs, targets)[3] == [0, 0, 0, 0]
    binary = ConfusionMatrix()
    assert binary([0.5, -1.0, 2.0], [1, -1, -1]) == [[1, 1], [0, 1]] and binary.labels == [-1, 1]


def test_trainer_keeps_confusion_matrix_out_of_history_but_in_logs():
    model = make_model(0)
    seen = []
    ev = Evaluator(x=X, y=Y, model=model, metric=[AccuracyMetric(), ConfusionMatrix()])
    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=2, evaluator=ev,
                      progress=False,
                      callbacks=[LambdaCallback(on_epoch_end=lambda t, e, logs: seen.append(logs))]).run()
    assert "val_confusion_matrix" not in history
    assert "val_accuracy" in history
    matrix = seen[-1]["val_confusion_matrix"]
    assert sum(map(sum, matrix)) == len(X)


# ---- History -------------------------------------------------------------------------------


def test_history_access_and_json_csv_round_trip(tmp_path):
    records = [{"epoch": 1, "train_loss": 0.6931471805599453, "val_accuracy": 0.5, "lr": 0.1,
                "seconds": 0.01},
               {"epoch": 2, "train_loss": 0.1 + 0.2, "val_accuracy": 1.0, "lr": 1e-05, "seconds": 0.02}]
    history = History(records, interrupted=True)
    assert len(history) == 2 and history[1]["epoch"] == 2
    assert history["train_loss"] == [0.6931471805599453, 0.30000000000000004]
    assert history.records == records and "lr" in history
    with pytest.raises(KeyError, match="val_loss.*train_loss"):
        history["val_loss"]

    history.to_json(tmp_path / "h.json")
    assert History.from_json(tmp_path / "h.json") == history
    assert json.loads((tmp_path / "h.json").read_text())["records"][0]["epoch"] == 1

    history.to_csv(tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,val_accuracy,lr,seconds" and len(lines) == 3
    back = History.from_csv(tmp_path / "h.csv")
    assert back.records == records  # floats bit for bit, epoch back as an int

    ragged = History([{"epoch": 1, "a": 1.5}, {"epoch": 2, "b": float("inf")}])
    ragged.to_csv(tmp_path / "r.csv")
    assert History.from_csv(tmp_path / "r.csv").records == ragged.records


def test_trainer_history_records(tmp_path):
    model = make_model(0)
    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=2, progress=False,
                      evaluator=Evaluator(x=X, y=Y, model=model, metric=[AccuracyMetric(), F1Metric()])).run()
    assert history.keys() == ["epoch", "train_loss", "val_accuracy", "val_f1", "lr", "seconds"]
    assert history["epoch"] == [1, 2] and history["lr"] == [0.1, 0.1]
    assert all(s >= 0 for s in history["seconds"]) and not history.interrupted
    history.to_json(tmp_path / "h.json")
    assert History.from_json(tmp_path / "h.json").records == history.records


def test_mse_metric_rejects_mismatched_widths():
    with pytest.raises(ValueError, match="2 values but its target has 1"):
        MSEMetric()([[1.0, 2.0]], [1.0])


# ---- callbacks -----------------------------------------------------------------------------


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("train_begin")

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, trainer, batch, logs):
        assert set(logs) == {"batch", "size", "loss"} and logs["batch"] == batch
        self.events.append(f"batch {batch} size {logs['size']}")

    def on_epoch_end(self, trainer, epoch, logs):
        assert logs["epoch"] == epoch and "train_loss" in logs
        self.events.append(f"epoch_end {epoch}")

    def on_train_end(self, trainer):
        self.events.append("train_end")


def test_callback_order():
    model = make_model(0)
    rec = Recorder()
    Trainer(x=X[:10], y=Y[:10], model=model, loss=CrossEntropyLoss(),
            optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=2, callbacks=[rec],
            progress=False).run()
    per_epoch = ["batch 0 size 4", "batch 1 size 4", "batch 2 size 2"]
    assert rec.events == (["train_begin", "epoch_begin 1", *per_epoch, "epoch_end 1",
                           "epoch_begin 2", *per_epoch, "epoch_end 2", "train_end"])


def test_early_stopping_stops_and_restores_the_best_weights():
    model = make_model(0)
    snapshots = {}
    keep = LambdaCallback(on_epoch_end=lambda t, epoch, logs: snapshots.__setitem__(epoch, weights(model)))
    stop = EarlyStopping(monitor="val_score", patience=2, mode="min", restore_best=True)
    trainer = scripted_trainer(model, [1.0, 0.5, 0.7, 0.6, 0.1], num_epochs=10, callbacks=[keep, stop])
    history = trainer.run()
    assert len(history) == 4 and trainer.stop_training  # best at epoch 2, no improvement in 3 and 4
    assert stop.best == 0.5 and stop.best_epoch == 2 and stop.stopped_epoch == 4
    assert weights(model) == snapshots[2] != snapshots[4]


def test_early_stopping_min_delta_mode_auto_and_unknown_monitor():
    stop = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    model = make_model(0)
    trainer = scripted_trainer(model, [0.5, 0.52, 0.9], num_epochs=5, name="accuracy", callbacks=[stop])
    trainer.evaluator.metrics[0].higher_is_better = True
    history = trainer.run()
    assert stop._mode == "max" and len(history) == 2  # 0.52 is not 0.05 better than 0.5

    bad = EarlyStopping(monitor="val_loss")
    with pytest.raises(ValueError, match=r"'val_loss' is not in the epoch logs; available keys: "
                                         r"epoch, train_loss, val_score, lr, seconds"):
        scripted_trainer(make_model(0), [1.0], num_epochs=3, callbacks=[bad]).run()
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_model_checkpoint_saves_best_and_every_epoch(tmp_path):
    model = make_model(0)
    snapshots = {}
    keep = LambdaCallback(on_epoch_end=lambda t, epoch, logs: snapshots.__setitem__(epoch, weights(model)))
    best = ModelCheckpoint(tmp_path / "best.json", monitor="val_score", mode="min")
    every = ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_score:.1f}.json"), save_best_only=False)
    scripted_trainer(model, [1.0, 0.5, 0.7], num_epochs=3, callbacks=[keep, best, every]).run()
    assert best.best_epoch == 2 and best.last_saved == str(tmp_path / "best.json")
    restored = make_model(9).load(str(tmp_path / "best.json"))
    assert weights(restored) == snapshots[2]
    assert sorted(os.listdir(tmp_path)) == ["best.json", "m-01-1.0.json", "m-02-0.5.json", "m-03-0.7.json"]
    assert weights(make_model(9).load(str(tmp_path / "m-03-0.7.json"))) == snapshots[3]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_trainer_stop_training_from_a_callback_ends_after_the_epoch():
    model = make_model(0)

    def stop(trainer, batch, logs):
        trainer.stop_training = True

    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=5,
                      callbacks=[LambdaCallback(on_batch_end=stop)], progress=False).run()
    assert len(history) == 1 and not history.interrupted


# ---- schedulers ----------------------------------------------------------------------------


def test_scheduler_is_stepped_once_per_epoch():
    model = make_model(0)
    optim = SGD(model.parameters(), lr=0.1)
    sched = StepLR(optim, step_size=1, gamma=0.5)
    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4,
                      num_epochs=3, scheduler=sched, progress=False).run()
    assert history["lr"] == [0.1, 0.05, 0.025]  # the lr each epoch trained with
    assert sched.last_epoch == 3 and optim.lr == 0.0125


def test_reduce_lr_on_plateau_gets_the_monitored_metric():
    model = make_model(0)
    trainer = scripted_trainer(model, [1.0, 1.0, 1.0, 1.0], num_epochs=4, name="loss")
    sched = ReduceLROnPlateau(trainer.optimizer, patience=0, factor=0.5)
    trainer.scheduler = sched
    history = trainer.run()
    assert history["lr"] == [0.1, 0.1, 0.05, 0.025] and sched.best == 1.0

    # without validation it watches train_loss; an explicit unknown key is an error
    model = make_model(0)
    optim = SGD(model.parameters(), lr=0.1)
    sched = ReduceLROnPlateau(optim, patience=5)
    history = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4,
                      num_epochs=2, scheduler=sched, progress=False).run()
    assert sched.best == min(history["train_loss"])
    with pytest.raises(ValueError, match="scheduler_monitor 'val_nope'.*train_loss"):
        Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4, num_epochs=1,
                scheduler=sched, scheduler_monitor="val_nope", progress=False).run()


# ---- progress and logging ------------------------------------------------------------------


def quick_trainer(**kwargs):
    model = make_model(0, dropout=0)
    return Trainer(x=X[:8], y=Y[:8], model=model, loss=CrossEntropyLoss(),
                   optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=2, **kwargs)


def test_progress_none_without_a_terminal_prints_one_line_per_epoch(capsys):
    quick_trainer().run()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert lines[0].startswith("Epoch 1/2 - train_loss: ") and " - lr: 0.1 - " in lines[0]
    assert lines[1].startswith("Epoch 2/2 - ") and lines[1].endswith("s")


def test_progress_none_on_a_terminal_draws_a_bar(monkeypatch):
    pytest.importorskip("tqdm")
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    quick_trainer().run()
    out = terminal.getvalue()
    assert "Epoch 1/2: 100%" in out and "\r" in out and " - lr: " not in out


def test_progress_false_is_silent(capsys):
    quick_trainer(progress=False).run()
    assert capsys.readouterr() == ("", "")


def test_progress_true_draws_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    quick_trainer(progress=True).run()
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2" in out and "batch" in out
    assert "train_loss=" in out and "lr=0.1" in out  # the final postfix holds the epoch summary


def test_progress_true_without_tqdm_says_so_once(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    monkeypatch.setattr(progress_module, "_tqdm_notice_shown", False)
    quick_trainer(progress=True).run()
    quick_trainer(progress=True).run()
    out, err = capsys.readouterr()
    assert out.count("Epoch 1/2") == 2 and err.count("tqdm is not installed") == 1


def test_logger_receives_the_epoch_lines(capsys, caplog):
    lines = []
    quick_trainer(logger=lines.append).run()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2")
    logger = logging.getLogger("scalargrad.test")
    with caplog.at_level(logging.INFO, logger="scalargrad.test"):
        quick_trainer(logger=logger).run()
    assert [r.getMessage()[:9] for r in caplog.records] == ["Epoch 1/2", "Epoch 2/2"]
    assert capsys.readouterr().out == ""  # the logger replaces the plain stdout log


# ---- Ctrl-C, checkpoints and resume --------------------------------------------------------


def resumable(checkpoint=None, callbacks=(), num_epochs=3, seed=5, model_seed=0, **kwargs):
    """A run with everything that carries state: Dropout, Adam, a scheduler, validation."""
    model = make_model(model_seed, dropout=0.3)
    optim = Adam(model.parameters(), lr=0.02)
    sched = StepLR(optim, step_size=1, gamma=0.8)
    evaluator = Evaluator(x=X[:6], y=Y[:6], model=model,
                          metric=[LossMetric(CrossEntropyLoss()), AccuracyMetric()])
    return Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optim, batch_size=4,
                   num_epochs=num_epochs, evaluator=evaluator, scheduler=sched, seed=seed, progress=False,
                   checkpoint=checkpoint, callbacks=list(callbacks), **kwargs)


class InterruptAt(Callback):
    def __init__(self, epoch, batch, how="flag"):
        self.at, self.how = (epoch, batch), how

    def on_batch_end(self, trainer, batch, logs):
        if (trainer.epoch, batch) == self.at:
            if self.how == "flag":
                trainer.request_interrupt()
            else:
                os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(scope="module")
def reference():
    trainer = resumable()
    history = trainer.run()
    return weights(trainer.model), strip_seconds(history)


@pytest.mark.parametrize(("epoch", "batch", "how"), [(2, 2, "flag"), (1, 0, "signal"), (2, 5, "flag"),
                                                    (3, 3, "signal")])
def test_interrupt_then_resume_in_a_fresh_trainer_is_bit_identical(tmp_path, reference, epoch, batch, how):
    path = str(tmp_path / "run.json")
    handler = signal.getsignal(signal.SIGINT)
    trainer = resumable(path, [InterruptAt(epoch, batch, how)])
    history = trainer.run()
    assert history.interrupted and len(history) == epoch - 1
    assert signal.getsignal(signal.SIGINT) is handler

    state = load(path)  # a plain, readable checkpoint
    assert (state["epoch"], state["batch"]) == (epoch - 1, batch + 1)  # batch 5 is an epoch's last
    assert state["history"]["interrupted"] is True and len(state["history"]["records"]) == epoch - 1
    assert state["model"] == trainer.model.state_dict()

    random.seed(12345)  # scramble the global generator: the checkpoint must restore it
    fresh = resumable(path, model_seed=99, seed=5)
    assert weights(fresh.model) != reference[0]
    resumed = fresh.resume(path)
    assert not resumed.interrupted and len(resumed) == 3
    assert weights(fresh.model) == reference[0]
    assert strip_seconds(resumed) == reference[1]  # losses and metrics identical too
    assert load(path)["epoch"] == 3


def test_resume_after_a_finished_run_extends_it(tmp_path, reference):
    path = str(tmp_path / "run.json")
    resumable(path, num_epochs=2).run()
    longer = resumable(path, num_epochs=3, model_seed=42)
    history = longer.resume(path)
    assert weights(longer.model) == reference[0] and strip_seconds(history) == reference[1]


def test_resume_without_a_seed_uses_the_saved_shuffling_seed(tmp_path):
    random.seed(21)
    ref = resumable(seed=None)
    ref_history = ref.run()
    path = str(tmp_path / "run.json")
    random.seed(21)
    resumable(path, [InterruptAt(2, 1)], seed=None).run()
    random.seed(0)
    fresh = resumable(path, seed=None, model_seed=3)
    history = fresh.resume(path)
    assert weights(fresh.model) == weights(ref.model) and strip_seconds(history) == strip_seconds(ref_history)


def test_callback_state_is_checkpointed_and_restored(tmp_path):
    path = str(tmp_path / "run.json")
    full_stop = EarlyStopping(monitor="val_loss", patience=100)
    full = resumable(callbacks=[full_stop]).run()
    resumable(path, [EarlyStopping(monitor="val_loss", patience=100), InterruptAt(2, 3)]).run()
    saved = dict(load(path)["callbacks"])["EarlyStopping"]
    assert saved["best_epoch"] == 1 and saved["best"] == full["val_loss"][0]

    fresh_stop = EarlyStopping(monitor="val_loss", patience=100)
    resumed = resumable(path, [fresh_stop], model_seed=8).resume(path)
    assert strip_seconds(resumed) == strip_seconds(full)
    assert (fresh_stop.best, fresh_stop.best_epoch) == (full_stop.best, full_stop.best_epoch)
    assert fresh_stop.best == min(full["val_loss"])


def test_second_ctrl_c_aborts_at_once_and_handler_is_restored(tmp_path):
    class DoubleKill(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if batch == 1:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    trainer = resumable(str(tmp_path / "run.json"), [DoubleKill()])
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert signal.getsignal(signal.SIGINT) is handler
    assert not os.path.exists(tmp_path / "run.json")  # no checkpoint of a half-done step


def test_handler_is_restored_after_an_exception():
    def failing_loss(outputs, targets):
        raise RuntimeError("bad loss")

    handler = signal.getsignal(signal.SIGINT)
    model = make_model(0)
    with pytest.raises(RuntimeError, match="bad loss"):
        Trainer(x=X, y=Y, model=model, loss=failing_loss, optimizer=SGD(model.parameters(), lr=0.1),
                batch_size=4, num_epochs=1, progress=False).run()
    assert signal.getsignal(signal.SIGINT) is handler


def test_outside_the_main_thread_keyboard_interrupt_is_caught(tmp_path):
    class RaiseKI(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.epoch == 2 and batch == 1:
                raise KeyboardInterrupt

    result = {}

    def target():
        result["history"] = resumable(str(tmp_path / "run.json"), [RaiseKI()]).run()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    history = result["history"]
    assert history.interrupted and len(history) == 1
    assert load(str(tmp_path / "run.json"))["epoch"] == 1


def test_interrupt_notice_and_checkpoint_contents(tmp_path, capsys):
    path = str(tmp_path / "run.json")
    model = make_model(0)
    trainer = Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=3, checkpoint=path,
                      callbacks=[InterruptAt(2, 1)])
    trainer.run()
    out, err = capsys.readouterr()
    assert out.count("Epoch ") == 1
    assert "Training interrupted in epoch 2 after batch 2 of 6" in err and path in err
    state = load(path)
    assert state["scheduler"] is None and state["rng_state"][0] == random.getstate()[0]
    assert len(state["rng_state"][1]) == len(random.getstate()[1])


def test_load_checkpoint_errors_leave_the_trainer_untouched(tmp_path):
    path = str(tmp_path / "run.json")
    resumable(path, num_epochs=1).run()
    no_sched = make_model(0)
    plain = Trainer(x=X, y=Y, model=no_sched, loss=CrossEntropyLoss(), optimizer=Adam(no_sched.parameters()),
                    batch_size=4, num_epochs=2, progress=False)
    before = weights(no_sched)
    with pytest.raises(ValueError, match="scheduler"):
        plain.load_checkpoint(path)
    assert weights(no_sched) == before

    wrong = Sequential([Linear(2, 3), Linear(3, 2)])
    other = Trainer(x=X, y=Y, model=wrong, loss=CrossEntropyLoss(), optimizer=Adam(wrong.parameters()),
                    batch_size=4, num_epochs=2, progress=False,
                    scheduler=StepLR(Adam(wrong.parameters()), step_size=1))
    before = weights(wrong)
    with pytest.raises(ValueError):
        other.load_checkpoint(path)
    assert weights(wrong) == before

    save(no_sched, str(tmp_path / "model.json"))
    with pytest.raises(ValueError, match="not a Trainer checkpoint"):
        plain.load_checkpoint(str(tmp_path / "model.json"))


# ---- argument checks -----------------------------------------------------------------------


def trainer_kwargs(**overrides):
    model = make_model(0)
    kwargs = {"x": X, "y": Y, "model": model, "loss": CrossEntropyLoss(),
              "optimizer": SGD(model.parameters(), lr=0.1), "batch_size": 4, "num_epochs": 1}
    kwargs.update(overrides)
    return {k: v for k, v in kwargs.items() if v is not _DROP}


_DROP = object()


@pytest.mark.parametrize(("overrides", "error", "message"), [
    ({"num_epochs": 0}, ValueError, "num_epochs must be >= 1"),
    ({"num_epochs": 1.5}, TypeError, "num_epochs must be an int"),
    ({"num_epochs": _DROP}, TypeError, "num_epochs="),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"batch_size": _DROP}, TypeError, "batch_size="),
    ({"loader": DataLoader((X, Y), batch_size=4)}, ValueError, "not both"),
    ({"x": _DROP, "y": _DROP}, ValueError, "no training data"),
    ({"y": _DROP}, ValueError, "y is missing"),
    ({"y": Y[:-1]}, ValueError, "x has 22 samples but y has 21"),
    ({"x": [], "y": []}, ValueError, "empty"),
    ({"model": _DROP}, TypeError, "model="),
    ({"loss": _DROP}, TypeError, "loss="),
    ({"optimizer": object()}, TypeError, "optimizer="),
    ({"progress": "yes"}, TypeError, "progress"),
    ({"logger": 42}, TypeError, "logger"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"evaluator": object()}, TypeError, "evaluator"),
    ({"callbacks": Callback()}, TypeError, "callbacks must be a list"),
    ({"shuffle": "no"}, TypeError, "shuffle"),
])
def test_trainer_argument_errors(overrides, error, message):
    with pytest.raises(error, match=message):
        Trainer(**trainer_kwargs(**overrides))


def test_trainer_loader_argument_errors():
    loader = DataLoader((X, Y), batch_size=4)
    with pytest.raises(ValueError, match="conflicts with the loader's batch_size=4"):
        Trainer(**trainer_kwargs(x=_DROP, y=_DROP, batch_size=8, loader=loader))
    with pytest.raises(ValueError, match="shuffle"):
        Trainer(**trainer_kwargs(x=_DROP, y=_DROP, batch_size=_DROP, loader=loader, shuffle=False))
    with pytest.raises(TypeError, match="loader"):
        Trainer(**trainer_kwargs(x=_DROP, y=_DROP, loader=42))


def test_plain_iterable_loader_and_mse_regression():
    random.seed(0)
    model = Sequential([Linear(1, 1)])
    xs = [[i / 10] for i in range(10)]
    ys = [2 * v[0] + 1 for v in xs]
    batches = [(xs[i:i + 5], ys[i:i + 5]) for i in range(0, 10, 5)]  # a plain list of batches
    history = Trainer(model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.3), num_epochs=60,
                      loader=batches, progress=False,
                      evaluator=Evaluator(x=xs, y=ys, model=model, metric=[MSEMetric(), R2Metric()])).run()
    assert history["val_mse"][-1] < 0.01 and history["val_r2"][-1] > 0.95
