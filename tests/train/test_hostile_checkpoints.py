"""Trainer checkpoints and loaders under attack: all-or-nothing loading, errors that name the file and
the field, no empty epochs, no training before a bad destination is noticed."""

import json
import random
import warnings

import pytest

from scalargrad.nn import SGD, Linear, MSELoss
from scalargrad.train import EarlyStopping, ModelCheckpoint, Trainer

X = [[0.1 * i, 0.2] for i in range(8)]
Y = [[0.5 * i] for i in range(8)]


def _trainer(x=X, y=Y, batch_size=4, **kw):
    random.seed(0)
    model = Linear(2, 1)
    return Trainer(x=x, y=y, model=model, loss=MSELoss(),
                   optimizer=SGD(model.parameters(), lr=0.01, momentum=0.5), batch_size=batch_size,
                   num_epochs=2, progress=False, **kw)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "run.json"
    _trainer(checkpoint=path, callbacks=[EarlyStopping(monitor="train_loss")]).run()
    return path


def _variant(path, change):
    payload = json.loads(path.read_text())
    change(payload["state"])
    bad = path.with_name("bad.json")
    bad.write_text(json.dumps(payload))
    return bad


def _weights(trainer):
    return [p.data for p in trainer.model.parameters()], trainer.optimizer.state_dict()


# ---- point 12: all or nothing, errors naming the file and the field ---------------------------------

def _drop_best(state):
    del state["callbacks"][0][1]["best"]


def _set(key, value):
    return lambda state: state.__setitem__(key, value)


@pytest.mark.parametrize("change, field", [
    (_drop_best, "best"),
    (lambda s: s["callbacks"].__setitem__(0, ["EarlyStopping", 5]), "EarlyStopping"),
    (lambda s: s["callbacks"][0][1].__setitem__("wait", "x"), "wait"),
    (lambda s: s["callbacks"][0][1].__setitem__("mode", "sideways"), "mode"),
    (_set("batch", "x"), "batch"),
    (_set("epoch", -1), "epoch"),
    (_set("epoch_batches", 1.5), "epoch_batches"),
    (_set("epoch_loss_sum", 10 ** 400), "epoch_loss_sum"),
    (_set("epoch_seconds", 10 ** 400), "epoch_seconds"),
    (_set("stop_training", "no"), "stop_training"),
    (_set("loader_seed", "abc"), "loader_seed"),
    (lambda s: s["rng_state"].__setitem__(2, 10 ** 400), "rng_state"),
    (lambda s: s["rng_state"][1].__setitem__(0, 10 ** 400), "rng_state"),
    (lambda s: s["model"].__setitem__(next(iter(s["model"])), [10 ** 400]), "model"),
    (lambda s: s["optimizer"]["param_groups"][0].__setitem__("lr", 10 ** 400), "optimizer"),
    (lambda s: s["optimizer"]["state"].__setitem__("0", {"momentum_buffer": 10 ** 400}), "optimizer"),
    (_set("history", 5), "history"),
    (_set("batch", 10 ** 9), "batch"),
])
def test_a_bad_field_fails_before_anything_changes_and_names_file_and_field(checkpoint, change, field):
    bad = _variant(checkpoint, change)
    trainer = _trainer(callbacks=[EarlyStopping(monitor="train_loss")])
    before = _weights(trainer)
    with pytest.raises((TypeError, ValueError)) as info:
        trainer.load_checkpoint(bad)
    assert str(bad) in str(info.value) and field in str(info.value)
    assert _weights(trainer) == before
    assert trainer._resume is None


def test_a_field_given_twice_is_refused_naming_file_and_field(checkpoint):
    bad = checkpoint.with_name("twice.json")
    text = checkpoint.read_text()
    bad.write_text(text.replace('"epoch":', '"epoch": 1, "epoch":', 1))
    trainer = _trainer(callbacks=[EarlyStopping(monitor="train_loss")])
    before = _weights(trainer)
    with pytest.raises(ValueError, match="twice.json: the key 'epoch' appears twice"):
        trainer.load_checkpoint(bad)
    assert _weights(trainer) == before


def test_a_batch_beyond_the_epoch_is_refused_not_trained_as_an_empty_epoch(checkpoint):
    bad = _variant(checkpoint, _set("batch", 10 ** 9))
    with pytest.raises(ValueError, match="'batch'.*beyond"):
        _trainer().resume(bad)


def test_resuming_with_another_batch_size_or_data_warns(checkpoint):
    with pytest.warns(UserWarning, match="batch size of 4"):
        _trainer(batch_size=2, callbacks=[EarlyStopping(monitor="train_loss")]).load_checkpoint(checkpoint)
    with pytest.warns(UserWarning, match="number of samples of 8"):
        _trainer(x=X[:6], y=Y[:6],
                 callbacks=[EarlyStopping(monitor="train_loss")]).load_checkpoint(checkpoint)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _trainer(callbacks=[EarlyStopping(monitor="train_loss")]).load_checkpoint(checkpoint)


def test_an_old_checkpoint_without_the_data_sizes_still_loads(checkpoint):
    def forget(state):
        del state["batch_size"], state["num_samples"]

    old = _variant(checkpoint, forget)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _trainer(batch_size=2, callbacks=[EarlyStopping(monitor="train_loss")]).load_checkpoint(old)


@pytest.mark.parametrize("version", [-5, 0, True, "1", 2])
def test_a_trainer_checkpoint_of_an_unknown_version_is_refused(checkpoint, version):
    bad = _variant(checkpoint, _set("version", version))
    with pytest.raises(ValueError, match="bad.json: unsupported Trainer checkpoint version"):
        _trainer().load_checkpoint(bad)


def test_a_trainer_checkpoint_with_a_byte_order_mark_resumes(checkpoint):
    checkpoint.write_bytes(b"\xef\xbb\xbf" + checkpoint.read_bytes())
    history = _trainer(callbacks=[EarlyStopping(monitor="train_loss")]).resume(checkpoint)
    assert len(history) == 2


# ---- point 10: a loader with no batches ---------------------------------------------------------------

def _loader_trainer(loader, num_epochs=2):
    model = Linear(2, 1)
    return Trainer(loader=loader, model=model, loss=MSELoss(), optimizer=SGD(model.parameters(), lr=0.01),
                   num_epochs=num_epochs, progress=False)


def test_a_one_shot_generator_fails_in_the_epoch_it_runs_dry():
    batches = ((X[k:k + 4], Y[k:k + 4]) for k in (0, 4))
    trainer = _loader_trainer(batches)
    with pytest.raises(ValueError, match="no batches in epoch 2.*generator"):
        trainer.run()
    assert len(trainer.history) == 1  # no nan record for the empty epoch


def test_an_empty_loader_fails_at_once():
    with pytest.raises(ValueError, match="no batches in epoch 1"):
        _loader_trainer([], num_epochs=1).run()


# ---- point 16: a destination that cannot be written fails when the Trainer is built ------------------

def test_a_checkpoint_in_a_missing_folder_fails_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _trainer(checkpoint=tmp_path / "missing_dir" / "run.json")
    with pytest.raises(IsADirectoryError):
        _trainer(checkpoint=tmp_path)


def test_a_model_checkpoint_in_a_missing_folder_fails_when_made(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ModelCheckpoint(tmp_path / "missing_dir" / "best.json")
    ModelCheckpoint(str(tmp_path / "{epoch}" / "best.json"))  # a folder named from the logs: checked later
