"""The Trainer fails loudly, early and precisely instead of training wrongly or on nothing (issue 19).

* A resumed optimizer gets each parameter's own state back, matched by its
  name in the model as the model's state is, whatever order the parameters
  are given in; a group holding other parameters is refused.
* A ``ModelCheckpoint`` file-name template naming a key the run does not log
  is refused before the first epoch trains.
* A map-style dataset whose ``__getitem__`` raises gives an error naming the
  index, chained to the original; a loader with no batch (``drop_last=True``
  with a batch larger than the data) is refused before training.
* A nan or inf loss gives one warning naming the epoch and batch and pointing
  to ``detect_anomaly()``; ``TerminateOnNaN`` ends the run at that batch.
"""

from __future__ import annotations

import math
import random
import warnings

import pytest

from scalargrad.data import DataLoader
from scalargrad.nn import SGD, Adam, CrossEntropyLoss, Linear, MSELoss, Sequential, load
from scalargrad.train import AccuracyMetric, Callback, Evaluator, ModelCheckpoint, TerminateOnNaN, Trainer
from scalargrad.train import callbacks as callbacks_package


def blobs(n=22, seed=0):
    """Two separable clouds in 2-D; 22 samples make 6 batches of 4 (the last one of 2)."""
    rng = random.Random(seed)
    x, y = [], []
    for i in range(n):
        centre = 1.0 if i % 2 else -1.0
        x.append([centre + rng.uniform(-0.5, 0.5), centre + rng.uniform(-0.5, 0.5)])
        y.append(i % 2)
    return x, y


X, Y = blobs()
BATCHES_PER_EPOCH = 6


def make_model(seed=0):
    random.seed(seed)
    return Sequential([Linear(2, 4, activation="tanh"), Linear(4, 2)])


def weights(model):
    return [p.data for p in model.parameters()]


class Recorder(Callback):
    """Notes every event as a string: ``'batch 2.1'`` is batch 1 (from 0) of epoch 2."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("train_begin")

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, trainer, batch, logs):
        self.events.append(f"batch {trainer.epoch}.{batch}")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end {epoch}")

    def on_train_end(self, trainer):
        self.events.append("train_end")


class InterruptAt(Callback):
    """Interrupt after batch ``batch`` (from 0) of epoch ``epoch``, as Ctrl-C would."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, trainer, batch, logs):
        if (trainer.epoch, batch) == self.at:
            trainer.request_interrupt()


# ---- 1. a resumed optimizer's state follows its parameters by name ------------------------------------

OPTIMIZERS = {
    "sgd_momentum": lambda groups: SGD(groups, lr=0.1, momentum=0.9),
    "adam": lambda groups: Adam(groups, lr=0.05),
}


def rotated(params):
    """Not its own inverse (as a reversal is), so a mapping applied backwards shows."""
    return params[1:] + params[:1]


def shuffled(params):
    params = list(params)
    random.Random(4).shuffle(params)
    return params


def keep(params):
    return params


def two_groups(model, order=keep):
    """Layer 0's parameters at the optimizer's lr, layer 1's at lr 0.02; each group in ``order``."""
    first, second = model.modules[0].parameters(), model.modules[1].parameters()
    return [{"params": order(first)}, {"params": order(second), "lr": 0.02}]


def optimizer_trainer(make_optimizer, groups, checkpoint=None, callbacks=(), model_seed=0):
    """A seeded 3-epoch run whose optimizer gets ``groups(model)``."""
    model = make_model(model_seed)
    return Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=make_optimizer(groups(model)),
                   batch_size=4, num_epochs=3, seed=3, progress=False, checkpoint=checkpoint,
                   callbacks=list(callbacks))


def state_by_name(trainer):
    """Each parameter's optimizer state under its name in the model."""
    name_of = {id(p): name for name, p in trainer.model.named_parameters()}
    return {name_of[id(p)]: entry for p, entry in trainer.optimizer.state.items()}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("order", [rotated, shuffled, keep])
def test_a_resumed_optimizer_over_reordered_parameters_gets_each_ones_own_state(tmp_path, optimizer, order):
    make_optimizer = OPTIMIZERS[optimizer]
    reference = optimizer_trainer(make_optimizer, lambda m: m.parameters())
    reference.run()
    path = str(tmp_path / "run.json")
    interrupted = optimizer_trainer(make_optimizer, lambda m: m.parameters(), path, [InterruptAt(2, 2)])
    interrupted.run()

    resumed = optimizer_trainer(make_optimizer, lambda m: order(m.parameters()), path, model_seed=9)
    given_order = list(resumed.optimizer.param_groups[0]["params"])
    resumed.load_checkpoint(path)
    assert state_by_name(resumed) == state_by_name(interrupted)
    assert resumed.optimizer.param_groups[0]["params"] == given_order  # the optimizer keeps its own order
    resumed.run()
    assert weights(resumed.model) == weights(reference.model)  # bit for bit


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_state_follows_the_parameters_within_each_group(tmp_path, optimizer):
    make_optimizer = OPTIMIZERS[optimizer]
    reference = optimizer_trainer(make_optimizer, two_groups)
    reference.run()
    path = str(tmp_path / "run.json")
    optimizer_trainer(make_optimizer, two_groups, path, [InterruptAt(1, 4)]).run()
    resumed = optimizer_trainer(make_optimizer, lambda m: two_groups(m, rotated), path, model_seed=9)
    resumed.resume(path)
    assert weights(resumed.model) == weights(reference.model)
    lrs = [g["lr"] for g in reference.optimizer.param_groups]
    assert [g["lr"] for g in resumed.optimizer.param_groups] == lrs
    assert resumed.optimizer.param_groups[1]["lr"] == 0.02


def test_a_parameter_moved_to_another_group_is_refused_and_nothing_changes(tmp_path):
    path = str(tmp_path / "run.json")
    optimizer_trainer(OPTIMIZERS["adam"], two_groups, path, [InterruptAt(1, 2)]).run()

    def moved(model):  # the first layer's first weight now sits in the second group
        groups = two_groups(model)
        groups[1]["params"].insert(0, groups[0]["params"].pop(0))
        return groups

    other = optimizer_trainer(OPTIMIZERS["adam"], moved, path, model_seed=9)
    before = weights(other.model)
    refusal = (r"run\.json: the field 'optimizer': the saved parameter group 0 holds other parameters than "
               r"the optimizer's group 0: only in the saved one \['0\.neurons\.0\.w\.0'\], only in the "
               r"optimizer's \[\]")
    with pytest.raises(ValueError, match=refusal):
        other.load_checkpoint(path)
    assert weights(other.model) == before and other.optimizer.state == {}
    assert [len(g["params"]) for g in other.optimizer.param_groups] == [11, 11]


def test_a_checkpoint_without_parameter_names_still_resumes_by_position(tmp_path):
    """A checkpoint written before the names were kept resumes as it always did."""
    reference = optimizer_trainer(OPTIMIZERS["sgd_momentum"], lambda m: m.parameters())
    reference.run()
    path = tmp_path / "run.json"
    interrupted = optimizer_trainer(OPTIMIZERS["sgd_momentum"], lambda m: m.parameters(), str(path),
                                    [InterruptAt(2, 1)])
    interrupted.run()
    text = path.read_text()
    assert '"optimizer_param_names":[["0.neurons.0.w.0",' in text
    old = tmp_path / "old.json"
    old.write_text(text.replace('"optimizer_param_names"', '"unused"', 1))
    resumed = optimizer_trainer(OPTIMIZERS["sgd_momentum"], lambda m: m.parameters(), model_seed=9)
    resumed.resume(old)
    assert weights(resumed.model) == weights(reference.model)


# ---- 2. a ModelCheckpoint template is checked before training ------------------------------------------


class CountBatches(Callback):
    def __init__(self):
        self.batches = 0

    def on_batch_end(self, trainer, batch, logs):
        self.batches += 1


def checkpoint_trainer(template, tmp_path, evaluator=False, groups=None, counter=None):
    model = make_model(0)
    optimizer = SGD(groups(model) if groups else model.parameters(), lr=0.1)
    ev = Evaluator(x=X, y=Y, model=model, metric=AccuracyMetric()) if evaluator else None
    save = ModelCheckpoint(str(tmp_path / template), monitor="train_loss", save_best_only=False)
    return Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optimizer, batch_size=4,
                   num_epochs=2, evaluator=ev, progress=False, callbacks=[save, counter or CountBatches()])


@pytest.mark.parametrize(("template", "problem"), [
    ("m-{val_loss:.3f}.json", r"uses the field \{val_loss\}, which this run does not log"),
    ("m-{epoch}-{}.json", r"has the positional field \{\}"),
    ("m-{0}.json", r"has the positional field \{0\}"),
    ("m-{train_loss:d}.json", r"cannot be filled with the epoch's numbers \(ValueError: Unknown format code"),
    ("m-{epoch.json", r"is not a valid file-name template"),
])
def test_a_template_field_the_run_does_not_log_fails_before_the_first_batch(tmp_path, template, problem):
    counter = CountBatches()
    trainer = checkpoint_trainer(template, tmp_path, counter=counter)
    before = weights(trainer.model)
    with pytest.raises(ValueError, match=r"ModelCheckpoint path '.*" + problem + r".*; the keys it logs are: "
                                         r"epoch, train_loss, lr, seconds$"):
        trainer.run()
    assert counter.batches == 0 and weights(trainer.model) == before
    assert list(tmp_path.iterdir()) == []


def test_every_key_the_run_logs_can_fill_the_template(tmp_path):
    trainer = checkpoint_trainer("m-{epoch:02d}-{train_loss:.2f}-{val_accuracy:.2f}-{lr}-{seconds:.0f}.json",
                                 tmp_path, evaluator=True)
    history = trainer.run()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[1].startswith(f"m-02-{history['train_loss'][1]:.2f}-"
                                                   f"{history['val_accuracy'][1]:.2f}-0.1-")


def test_per_group_learning_rates_are_keys_only_when_the_groups_differ(tmp_path):
    checkpoint_trainer("m-{epoch}-{lr_0}-{lr_1}.json", tmp_path, groups=two_groups).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1-0.1-0.02.json", "m-2-0.1-0.02.json"]

    def same_lr(model):
        return [{"params": model.modules[0].parameters()}, {"params": model.modules[1].parameters()}]

    with pytest.raises(ValueError, match=r"\{lr_1\}, which this run does not log"):
        checkpoint_trainer("n-{lr_1}.json", tmp_path, groups=same_lr).run()


# ---- 3. data: a failing sample names its index; a loader with no batch is refused ------------------------


class Broken:
    """A map-style dataset whose sample ``bad`` cannot be loaded."""

    def __init__(self, bad, error):
        self.bad, self.error = bad, error

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error
        return X[i], Y[i]


class NeedsTwoArguments(Exception):
    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")


def run_over(dataset, how):
    model = make_model(0)
    if how == "loader":
        return list(DataLoader(dataset, batch_size=4, seed=1))
    if how == "trainer":
        return Trainer(dataset=dataset, model=model, loss=CrossEntropyLoss(),
                       optimizer=SGD(model.parameters(), lr=0.1), batch_size=4, num_epochs=1, seed=2,
                       progress=False).run()
    return Evaluator(dataset=dataset, model=model, metric=AccuracyMetric(), batch_size=5).evaluate()


@pytest.mark.parametrize("how", ["loader", "trainer", "evaluator"])
@pytest.mark.parametrize("bad", [0, 7, 21])
def test_a_failing_sample_is_named_by_its_index_and_chained_to_the_original(how, bad):
    original = KeyError("no such file")
    with pytest.raises(KeyError, match=rf"loading sample {bad} of the dataset failed: Broken\[{bad}\] raised "
                                       r"KeyError: 'no such file'") as caught:
        run_over(Broken(bad, original), how)
    assert caught.value.__cause__ is original


def test_an_error_that_cannot_be_remade_from_a_message_becomes_a_runtime_error():
    original = NeedsTwoArguments("img_3.png", "truncated")
    with pytest.raises(RuntimeError, match=r"Broken\[3\] raised NeedsTwoArguments: img_3\.png: truncated") \
            as caught:
        run_over(Broken(3, original), "loader")
    assert caught.value.__cause__ is original


def loader_trainer(loader, callbacks=()):
    model = make_model(0)
    optimizer = SGD(model.parameters(), lr=0.1)
    return Trainer(loader=loader, model=model, loss=CrossEntropyLoss(), optimizer=optimizer, num_epochs=2,
                   progress=False, callbacks=list(callbacks))


def test_drop_last_with_a_batch_larger_than_the_data_is_refused_before_training():
    loader = DataLoader((X, Y), batch_size=32, drop_last=True)
    assert len(loader) == 0 and list(loader) == []  # as torch's DataLoader: no batch, no error
    recorder = Recorder()
    refusal = (r"^the loader has no batches in epoch 1: drop_last=True drops its only batch, which is "
               r"incomplete \(batch_size=32 is more than the 22 samples\); give a batch_size up to 22, "
               r"or drop_last=False$")
    with pytest.raises(ValueError, match=refusal):
        loader_trainer(loader, [recorder]).run()
    assert recorder.events == []  # refused before any callback heard of a run


def test_drop_last_with_a_batch_as_large_as_the_data_trains_that_batch():
    recorder = Recorder()
    history = loader_trainer(DataLoader((X, Y), batch_size=22, drop_last=True), [recorder]).run()
    assert len(history) == 2
    assert recorder.events.count("batch 1.0") == 1 and "batch 1.1" not in recorder.events


def test_an_empty_loader_is_refused_before_training():
    recorder = Recorder()
    with pytest.raises(ValueError, match=r"^the loader has no batches in epoch 1: it is empty"):
        loader_trainer([], [recorder]).run()
    assert recorder.events == []


# ---- 4. a nan or inf loss: one warning, and TerminateOnNaN ----------------------------------------------


class PoisonAt:
    """Cross-entropy, but the loss of the ``at``-th call (from 1) is multiplied by ``poison``: its
    gradients, and so the weights after that step, are no longer finite."""

    def __init__(self, at, poison=math.nan):
        self.at, self.poison, self.calls = at, poison, 0

    def __call__(self, outputs, targets):
        self.calls += 1
        loss = CrossEntropyLoss()(outputs, targets)
        return loss * self.poison if self.calls == self.at else loss


def poisoned_trainer(at, poison=math.nan, callbacks=(), **kwargs):
    model = make_model(0)
    optimizer = SGD(model.parameters(), lr=0.1)
    return Trainer(x=X, y=Y, model=model, loss=PoisonAt(at, poison), optimizer=optimizer, batch_size=4,
                   num_epochs=3, seed=1, progress=False, callbacks=list(callbacks), **kwargs)


def loss_warnings(run):
    """The RuntimeWarnings ``run()`` gives, every one of them (no deduplication)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return [w for w in caught if issubclass(w.category, RuntimeWarning)], result


@pytest.mark.parametrize(("poison", "shown"), [(math.nan, "nan"), (math.inf, "inf")])
def test_the_first_non_finite_loss_is_warned_about_once_naming_epoch_and_batch(poison, shown):
    trainer = poisoned_trainer(BATCHES_PER_EPOCH + 2, poison)  # epoch 2, batch 1 (from 0)
    caught, history = loss_warnings(trainer.run)
    assert all(math.isnan(v) for v in history["train_loss"][1:])  # every later loss is nan too
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"the training loss is {shown} in epoch 2 at batch 1 (batches count from 0)")
    assert "scalargrad.detect_anomaly()" in message and "TerminateOnNaN()" in message
    assert caught[0].filename == __file__  # points at the call of run()

    caught, _ = loss_warnings(trainer.run)  # a new run: its own first nan loss, at its first batch
    assert len(caught) == 1 and "nan in epoch 1 at batch 0" in str(caught[0].message)


@pytest.mark.parametrize("replay", [False, True])
def test_a_nan_in_the_data_is_warned_about_with_replay_too(replay):
    xs = [[i / 10, 1.0 - i / 10] for i in range(12)]
    ys = [[float(i % 3)] for i in range(12)]
    xs[9] = [math.nan, 0.5]  # in the third batch of 4
    model = Sequential([Linear(2, 1)])
    trainer = Trainer(x=xs, y=ys, model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.01),
                      batch_size=4, num_epochs=2, shuffle=False, replay=replay, progress=False)
    caught, _ = loss_warnings(trainer.run)
    assert [str(w.message)[:52] for w in caught] == ["the training loss is nan in epoch 1 at batch 2 (batc"]


def test_finite_losses_give_no_warning():
    caught, history = loss_warnings(poisoned_trainer(at=None).run)
    assert caught == [] and len(history) == 3


@pytest.mark.parametrize(("poison", "shown"), [(math.nan, "nan"), (math.inf, "inf")])
def test_terminate_on_nan_ends_the_run_right_after_the_first_bad_batch(tmp_path, poison, shown):
    path = str(tmp_path / "run.json")
    stop, recorder, lines = TerminateOnNaN(), Recorder(), []
    trainer = poisoned_trainer(BATCHES_PER_EPOCH + 2, poison, [stop, recorder], checkpoint=path,
                               logger=lines.append)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = trainer.run()
    epoch_1 = [f"batch 1.{b}" for b in range(BATCHES_PER_EPOCH)]
    assert recorder.events == ["train_begin", "epoch_begin 1", *epoch_1, "epoch_end 1",
                               "epoch_begin 2", "batch 2.0", "batch 2.1", "train_end"]
    assert (stop.stopped_epoch, stop.stopped_batch) == (2, 1)
    assert trainer.stop_training and not history.interrupted and len(history) == 1
    assert lines[-1] == f"Training terminated in epoch 2 at batch 1: the loss is {shown} (TerminateOnNaN)"
    saved = load(path)  # the checkpoint still holds the last whole epoch, with finite weights
    assert (saved["epoch"], saved["batch"]) == (1, 0)
    restored = make_model(5)
    restored.load_state_dict(saved["model"])
    assert all(math.isfinite(v) for v in weights(restored))


def test_a_terminated_trainer_runs_again_in_full_once_the_losses_are_finite():
    stop = TerminateOnNaN()
    trainer = poisoned_trainer(3, callbacks=[stop])  # only the third loss ever computed is poisoned
    start = trainer.model.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert len(trainer.run()) == 0
    assert (stop.stopped_epoch, stop.stopped_batch) == (1, 2) and trainer.termination is not None

    trainer.model.load_state_dict(start)  # finite weights again; the loss stays finite from now on
    history = trainer.run()
    assert len(history) == 3 and not trainer.stop_training and trainer.termination is None
    assert (stop.stopped_epoch, stop.stopped_batch) == (None, None)


def test_terminate_on_nan_is_exported_with_the_other_callbacks():
    assert callbacks_package.TerminateOnNaN is TerminateOnNaN
    assert issubclass(TerminateOnNaN, Callback) and repr(TerminateOnNaN()) == "TerminateOnNaN()"
