"""What EarlyStopping and ModelCheckpoint count as an improvement, when training stops, and how
each callback gets its own state back on a resume.

The rule is Keras's: in 'min' mode a value improves on the best when ``value < best - min_delta``, in
'max' mode when ``value > best + min_delta``; a tie with the best is no improvement. torch's
``ReduceLROnPlateau`` with ``threshold_mode='abs'`` applies the same rule, and with ``patience - 1``
it first cuts the learning rate at the epoch EarlyStopping(patience) stops at: it is the reference.
The monitored values come from a scripted metric, through a real Trainer.
"""

import math
import random
import warnings

import pytest
import torch
from parameterized import parameterized

from scalargrad.nn import SGD, Linear, MSELoss
from scalargrad.train import Callback, EarlyStopping, Evaluator, Metric, ModelCheckpoint, Trainer
from scalargrad.train.callbacks import CallbackList, MonitorCallback

X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, -1.0]]
Y = [[0.5], [-0.5], [1.0], [0.0]]


class ScriptedMetric(Metric):
    """The next value of ``script`` at each evaluation (one per epoch)."""

    name = "score"

    def __init__(self, script, higher_is_better=False):
        self.script, self.calls = list(script), 0
        self.higher_is_better = higher_is_better

    def reset(self):
        pass

    def update(self, outputs, targets):
        pass

    def compute(self):
        self.calls += 1
        return self.script[self.calls - 1]


def scripted_trainer(script, callbacks, higher_is_better=False, num_epochs=None, model_seed=0, **kwargs):
    """A Trainer whose 'val_score' follows ``script``, for ``len(script)`` epochs unless told."""
    random.seed(model_seed)
    model = Linear(2, 1)
    evaluator = Evaluator(x=X, y=Y, model=model, metric=ScriptedMetric(script, higher_is_better))
    return Trainer(x=X, y=Y, model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.05),
                   batch_size=4, num_epochs=num_epochs or len(script), evaluator=evaluator, progress=False,
                   callbacks=callbacks, **kwargs)


def torch_plateau(values, mode, min_delta, patience):
    """torch's reading of ``values``: the epochs (from 1) it counts as improvements, and the first epoch
    that ends ``patience`` epochs in a row without one (None if none does), where it stops counting."""
    optim = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optim, mode=mode, factor=0.5, patience=patience - 1,
                                                         threshold=min_delta, threshold_mode="abs")
    improvements = []
    for epoch, value in enumerate(values, 1):
        plateau.step(value)
        if optim.param_groups[0]["lr"] != 1.0:
            return improvements, epoch
        if plateau.num_bad_epochs == 0:
            improvements.append(epoch)
    return improvements, None


def torch_improves(mode, min_delta, best, value):
    """Whether torch counts ``value`` as an improvement on ``best``."""
    improvements, _ = torch_plateau([best, value], mode, min_delta, patience=10)
    return improvements[-1:] == [2]


INF = math.inf
# (what the case pins, values of 'val_score' in 'min' mode, patience, min_delta); 'max' mode runs them
# negated. The comments give the epoch torch (and Keras's rule) stops at.
SEQUENCES = [
    ("a tie with the best is no improvement", [1.0, 1.0, 1.0, 1.0], 2, 0.0),  # stops at epoch 3
    ("a tie after waiting is no improvement", [1.0, 2.0, 1.0, 1.0], 3, 0.0),  # stops at 4
    ("min_delta is subtracted from the best", [1.0, 0.875, 0.75, 0.5, 0.5], 2, 0.25),  # 3: 0.75 ties 1 - 0.25
    ("beating best - min_delta is an improvement", [1.0, 0.5, 0.625, 0.25, 0.375, 0.375, 0.375], 2, 0.125),
    ("small steps add up against the best", [1.0, 0.9375, 0.875, 0.8125, 0.75], 3, 0.125),  # improves at 4
    ("wait restarts after an improvement", [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5], 3, 0.0),  # 6, not 5
    ("wait restarts each time", [3.0, 3.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0], 2, 0.0),  # 7
    ("steady improvement never stops", [1.0, 0.75, 0.5, 0.25, 0.0], 1, 0.0),
    ("patience 1 stops at the first epoch without", [1.0, 0.5, 0.5, 0.25], 1, 0.0),  # 3
    ("-0.0 ties 0.0", [0.0, -0.0, -0.0, -0.0], 3, 0.0),  # 4
    ("inf never improves on the start", [INF, INF, 1.0, 0.5], 2, 0.0),  # 2, no best epoch
]
CASES = [(values if mode == "min" else [-v for v in values], mode, patience, min_delta)
         for _, values, patience, min_delta in SEQUENCES for mode in ("min", "max")]
IDS = [f"{mode}: {what}" for what, *_ in SEQUENCES for mode in ("min", "max")]


@pytest.mark.parametrize(("values", "mode", "patience", "min_delta"), CASES, ids=IDS)
def test_early_stopping_stops_where_torch_plateau_does(values, mode, patience, min_delta):
    improvements, stop_epoch = torch_plateau(values, mode, min_delta, patience)
    stop = EarlyStopping(monitor="val_score", patience=patience, mode=mode, min_delta=min_delta)
    history = scripted_trainer(values, [stop]).run()
    assert len(history) == (stop_epoch or len(values))
    assert stop.stopped_epoch == stop_epoch
    best_epoch = improvements[-1] if improvements else None
    assert stop.best_epoch == best_epoch
    start = INF if mode == "min" else -INF
    assert repr(stop.best) == repr(values[best_epoch - 1] if best_epoch else start)  # -0.0 is not 0.0


@pytest.mark.parametrize(("values", "mode", "patience", "min_delta"), CASES, ids=IDS)
def test_model_checkpoint_saves_at_the_epochs_torch_counts_as_improvements(tmp_path, values, mode, patience,
                                                                           min_delta):
    improvements, _ = torch_plateau(values, mode, min_delta, patience=len(values) + 1)  # never stops
    checkpoint = ModelCheckpoint(str(tmp_path / "m-{epoch}.json"), monitor="val_score", mode=mode,
                                 min_delta=min_delta)
    scripted_trainer(values, [checkpoint]).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"m-{epoch}.json" for epoch in improvements)
    assert checkpoint.best_epoch == (improvements[-1] if improvements else None)
    assert checkpoint.last_saved == (str(tmp_path / f"m-{improvements[-1]}.json") if improvements else None)


@parameterized.expand([(mode, delta) for mode in ("min", "max") for delta in (0.0, 0.25, 1e-9)])
def test_improved_is_torch_rule_at_and_around_every_boundary(mode, min_delta):
    watch = MonitorCallback("val_score", mode=mode, min_delta=min_delta)
    sign = 1.0 if mode == "min" else -1.0
    for best in (1.0, 0.0, -0.0, -2.5, 1e300):
        watch.best = best
        edge = best - sign * min_delta  # a value exactly min_delta better: a tie, no improvement
        for value in (best, edge, math.nextafter(edge, -sign * INF), math.nextafter(edge, sign * INF),
                      best - sign * 2 * min_delta - sign * 1e-3, best + sign * 1e-3, -0.0, 0.0, INF, -INF):
            assert watch.improved(value) == torch_improves(mode, min_delta, best, value), (best, value)


def test_auto_mode_follows_the_metric_higher_is_better():
    values = [0.5, 0.75, 0.75, 0.75, 1.0]
    improvements, stop_epoch = torch_plateau(values, "max", 0.0, patience=2)  # ([1, 2], 4)
    stop = EarlyStopping(monitor="val_score", patience=2)  # mode 'auto': the metric's higher_is_better
    history = scripted_trainer(values, [stop], higher_is_better=True).run()
    assert stop.resolved_mode == "max" and len(history) == stop_epoch == stop.stopped_epoch
    assert (stop.best, stop.best_epoch) == (values[improvements[-1] - 1], improvements[-1])


@pytest.mark.parametrize("make", [lambda v: EarlyStopping(min_delta=v),
                                  lambda v: ModelCheckpoint("m.json", min_delta=v),
                                  lambda v: MonitorCallback("val_loss", min_delta=v)])
@pytest.mark.parametrize("min_delta", [math.nan, -0.125, -INF])
def test_min_delta_must_be_a_non_negative_number(make, min_delta):
    with pytest.raises(ValueError, match="min_delta must be non-negative"):
        make(min_delta)


# ---- resuming: each callback its own saved state ----------------------------------------------


def monitors():
    """Two EarlyStoppings of one class watching the loss both ways: their states differ from epoch 2."""
    return [EarlyStopping(monitor="train_loss", patience=100, mode="min"),
            EarlyStopping(monitor="train_loss", patience=100, mode="max")]


def state_of(callback):
    return callback.resolved_mode, callback.best, callback.best_epoch, callback.wait


def test_callbacks_of_one_class_each_get_back_their_own_state():
    saved = monitors()
    for stop, (best, epoch, wait) in zip(saved, [(0.5, 3, 1), (2.0, 1, 3)]):
        stop.best, stop.best_epoch, stop.wait = best, epoch, wait
    third = EarlyStopping(monitor="train_loss", patience=100)
    restored = [*monitors(), third]
    with pytest.warns(UserWarning, match="no state for the EarlyStopping callback; it starts afresh"):
        CallbackList(restored).load_state_dicts(CallbackList(saved).state_dicts())
    assert [state_of(cb) for cb in restored[:2]] == [state_of(cb) for cb in saved]
    assert state_of(third) == ("min", INF, None, 0)


def test_a_resumed_run_leaves_each_callback_where_an_uninterrupted_run_does(tmp_path):
    path = str(tmp_path / "run.json")
    full = monitors()
    scripted_trainer([1.0] * 5, full, seed=3).run()
    scripted_trainer([1.0] * 2, monitors(), seed=3, checkpoint=path).run()
    resumed = monitors()
    trainer = scripted_trainer([1.0] * 3, resumed, num_epochs=5, seed=3, model_seed=7)  # other first weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every callback finds its state
        trainer.resume(path)
    assert [state_of(cb) for cb in resumed] == [state_of(cb) for cb in full]
    assert full[0].best_epoch == 5 and full[1].best_epoch == 1  # the loss falls: the two states differ


def test_a_second_run_with_the_same_callback_counts_afresh():
    """on_train_begin forgets the last run's count: reused, the callback stops where a new one does."""
    values = [math.nan, 1.0, 1.0, 1.0, 1.0]  # a first epoch that cannot improve: it only adds to the count
    _, stop_epoch = torch_plateau(values, "min", 0.0, patience=3)
    reused = EarlyStopping(monitor="val_score", patience=3, mode="min")
    scripted_trainer([1.0, 2.0, 2.0, 2.0], [reused]).run()
    assert (reused.wait, reused.stopped_epoch) == (3, 4)
    history = scripted_trainer(values, [reused]).run()
    assert len(history) == stop_epoch == reused.stopped_epoch == 5
    assert (reused.best, reused.best_epoch) == (1.0, 2)


# ---- the list of callbacks --------------------------------------------------------------------


class OnBatchEnd(Callback):
    def __init__(self):
        self.batches = []

    def on_batch_end(self, trainer, batch, logs):
        self.batches.append(batch)


class OnEpochEnd(Callback):
    def on_epoch_end(self, trainer, epoch, logs):
        pass


def test_batch_logs_are_built_only_when_a_callback_listens_to_batch_ends():
    assert CallbackList([OnBatchEnd(), Callback()]).wants_batch_end
    assert not CallbackList([OnEpochEnd(), Callback(), EarlyStopping()]).wants_batch_end
    listener = OnBatchEnd()
    CallbackList([OnEpochEnd(), listener]).on_batch_end(None, 0, {"batch": 0, "size": 4, "loss": 1.0})
    assert listener.batches == [0]


@pytest.mark.parametrize("make", [lambda: EarlyStopping(monitor="val_loss"),
                                  lambda: ModelCheckpoint("best.json", monitor="val_loss")])
def test_a_monitor_the_run_does_not_log_is_refused_before_any_batch_trains(tmp_path, monkeypatch, make):
    monkeypatch.chdir(tmp_path)
    trainer = scripted_trainer([1.0, 1.0], [make()])
    before = [p.data for p in trainer.model.parameters()]
    with pytest.raises(ValueError, match=r"monitor 'val_loss' is not in the epoch logs; available keys: "
                                         r"epoch, train_loss, val_score, lr, seconds"):
        trainer.run()
    assert [p.data for p in trainer.model.parameters()] == before and trainer.losses == []
    assert not list(tmp_path.iterdir())
