"""Gaps the issue-19 mutation round found: each behaviour below is documented, and a one-line change to
it went unnoticed by the rest of the suite.

* Writers: a new file gets the permissions the umask gives, as with ``open``; a replaced file keeps
  every bit ``chmod`` sets (the sticky bit too); the file being written is hidden until complete; an
  ``OSError`` of the caller's own, with no errno, comes out as it went in.
* Readers: a file of exactly the size limit is read, one byte more is refused; a file that grows past
  the limit after its size was checked is refused, not cut short; a file larger than one read chunk
  comes back whole and in order; JSON nested exactly ``MAX_JSON_DEPTH`` levels deep loads.
* Resuming: a checkpoint naming an optimizer parameter twice is refused; an optimizer over a parameter
  outside the model gets its state by position; a loader with no batch is refused naming the epoch the
  resumed run would train; a resumed epoch's ``seconds`` count the time before the interruption.
* ``Trainer.terminate()`` ends the run for good, even when a later callback clears ``stop_training``;
  ``TerminateOnNaN`` also ends a run whose loss is -inf, as Keras's does.
* Epoch logs: each group's rate is logged whichever group differs; a file-name template may read an
  attribute of a logged value, as ``str.format`` (and Keras's ``filepath.format``) allows.
* An empty loader with ``drop_last=True`` is called empty, not blamed on ``drop_last``.
* ``transpose`` of a 0-d numpy array gives the plain number, as for any numpy input; ``tensordot`` over
  two axes is, bit for bit, the matmul torch defines it as (which fixes its summation order).
"""

from __future__ import annotations

import glob
import json
import math
import os
import random
import stat
import sys
import time

import pytest

from scalargrad import Scalar
from scalargrad._util import files
from scalargrad._util.files import MAX_JSON_DEPTH, atomic_open, read_json, read_text
from scalargrad.data import DataLoader
from scalargrad.functional import matmul
from scalargrad.nested_ops import permute, reshape, tensordot, transpose
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, load, save
from scalargrad.train import Callback, ModelCheckpoint, TerminateOnNaN, Trainer
from scalargrad.train.checkpoint import TrainerCheckpoint, optimizer_state_for
from tests.train.test_hostile_files import _model
from tests.train.test_train_soundness import InterruptAt, X, Y, make_model, weights

posix = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX modes")


# ---- writers -----------------------------------------------------------------------------------------------

@posix
def test_a_new_file_gets_the_permissions_the_umask_gives_as_with_open(tmp_path):
    old_umask = os.umask(0o027)
    try:
        with open(tmp_path / "by_open.json", "w") as f:
            f.write("{}")
        save(_model(), tmp_path / "by_save.json")
    finally:
        os.umask(old_umask)
    modes = [stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in ("by_open.json", "by_save.json")]
    assert modes == [0o640, 0o640]


@posix
def test_a_replaced_file_keeps_its_sticky_bit_with_its_other_mode_bits(tmp_path):
    target = tmp_path / "run.json"
    save(Linear(2, 1), target)
    try:
        os.chmod(target, stat.S_ISVTX | 0o640)
    except OSError:  # BSD and macOS let only root set it on a file
        pytest.skip("this system does not let the sticky bit be set on a file")
    if not os.stat(target).st_mode & stat.S_ISVTX:
        pytest.skip("this system does not keep the sticky bit on a file")
    save(_model(), target)
    assert stat.S_IMODE(os.stat(target).st_mode) == stat.S_ISVTX | 0o640
    assert load(target) == _model().state_dict()


def test_the_file_being_written_is_hidden_until_it_is_complete(tmp_path):
    (tmp_path / "kept.json").write_text("{}")
    with atomic_open(tmp_path / "run.json") as f:
        f.write("{}")
        f.flush()
        assert glob.glob(str(tmp_path / "*")) == [str(tmp_path / "kept.json")]  # what `ls` or a glob sees
        (hidden,) = set(os.listdir(tmp_path)) - {"kept.json"}
        assert hidden.startswith(".run.json.") and hidden.endswith(".tmp")
    assert sorted(os.listdir(tmp_path)) == ["kept.json", "run.json"]


class BackendError(OSError):
    """An OSError of the caller's own, made from one message (no errno), as a plotting library raises."""

    def __init__(self, detail):
        super().__init__(f"backend failed: {detail}")


@pytest.mark.parametrize("error", [OSError("the plot backend is gone"), BackendError("no display")])
def test_an_oserror_without_errno_raised_in_the_block_comes_out_as_it_went_in(tmp_path, error):
    with pytest.raises(OSError) as caught, atomic_open(tmp_path / "plot.png", "wb"):
        raise error
    assert caught.value is error and caught.value.filename is None
    assert os.listdir(tmp_path) == []


# ---- readers -----------------------------------------------------------------------------------------------

def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * 100)
    assert read_text(path, limit=100) == "x" * 100
    with pytest.raises(ValueError, match=r"notes\.txt: 100 bytes is more than a file may have \(99 bytes\)"):
        read_text(path, limit=99)


def test_a_file_that_grows_past_the_limit_after_its_size_was_checked_is_refused_not_cut_short(
        tmp_path, monkeypatch):
    path = tmp_path / "growing.txt"
    path.write_bytes(b"y" * 150)
    real_fstat = os.fstat

    def size_when_checked(fd):  # the file had 10 bytes when its size was checked, 150 once read
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, info.st_uid,
                               info.st_gid, 10, info.st_atime, info.st_mtime, info.st_ctime))

    monkeypatch.setattr(files.os, "fstat", size_when_checked)
    with pytest.raises(ValueError, match=r"growing\.txt: more than a file may have \(100 bytes\)"):
        read_text(path, limit=100)


def test_a_file_larger_than_one_read_chunk_comes_back_whole_and_in_order(tmp_path):
    text = "".join(f"line {i:07d}\n" for i in range(300_000))  # 3.6 MB: read in several 1 MiB chunks
    path = tmp_path / "big.txt"
    path.write_text(text)
    assert read_text(path) == text


def test_json_nested_exactly_max_json_depth_levels_loads_and_one_more_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    value = read_json(path)
    for _ in range(MAX_JSON_DEPTH - 1):
        (value,) = value
    assert value == []
    path.write_text("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match=rf"deep\.json: not a file \(nested more than {MAX_JSON_DEPTH} "):
        read_json(path)


# ---- resuming ----------------------------------------------------------------------------------------------

def trainer_for(model=None, optimizer=None, num_epochs=3, **kwargs):
    model = model or make_model()
    optimizer = optimizer or SGD(model.parameters(), lr=0.1, momentum=0.9)
    if "loader" not in kwargs:
        kwargs = {"x": X, "y": Y, "batch_size": 4, **kwargs}
    return Trainer(model=model, loss=CrossEntropyLoss(), optimizer=optimizer, num_epochs=num_epochs,
                   progress=False, **kwargs)


def test_a_checkpoint_naming_an_optimizer_parameter_twice_is_refused_and_nothing_changes(tmp_path):
    path = tmp_path / "run.json"
    trainer_for(seed=3, checkpoint=str(path), callbacks=[InterruptAt(1, 2)]).run()
    state = json.loads(path.read_text())
    names = state["state"]["optimizer_param_names"][0]
    names[1] = names[0]  # a hand-edited (or corrupted) file: one parameter's name given twice
    path.write_text(json.dumps(state))

    model = make_model(9)
    optimizer = SGD(model.parameters()[::-1], lr=0.1, momentum=0.9)
    resumed = trainer_for(model, optimizer, seed=3)
    before = weights(model)
    with pytest.raises(ValueError, match=r"run\.json: the field 'optimizer_param_names' names a parameter "
                                         r"twice"):
        resumed.load_checkpoint(path)
    assert weights(model) == before and optimizer.state == {}


def test_an_optimizer_over_a_parameter_outside_the_model_gets_the_saved_state_by_position():
    model = Linear(1, 1)  # parameters neurons.0.w.0 and neurons.0.b
    first = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p, g in zip(model.parameters(), (0.5, -0.25)):
        p.grad = g
    first.step()
    checkpoint = TrainerCheckpoint(model=None, optimizer=first.state_dict(), scheduler=None, history=None,
                                   resume=None, optimizer_param_names=[["neurons.0.w.0", "neurons.0.b"]])
    temperature = Scalar(1.0)  # learned beside the model, so it has no name there
    optimizer = SGD([model.parameters()[0], temperature], lr=0.1, momentum=0.9)
    optimizer.load_state_dict(optimizer_state_for(checkpoint, optimizer, model))
    assert optimizer.state[temperature] == {"momentum_buffer": -0.25}  # the second saved entry, by position
    assert optimizer.state[model.parameters()[0]] == {"momentum_buffer": 0.5}


def test_a_resumed_run_whose_loader_has_no_batch_is_refused_naming_the_epoch_it_would_train(tmp_path):
    path = str(tmp_path / "run.json")
    trainer_for(num_epochs=2, loader=DataLoader((X, Y), batch_size=4), checkpoint=path).run()
    model = make_model(9)
    resumed = trainer_for(model, num_epochs=4, loader=DataLoader((X, Y), batch_size=32, drop_last=True))
    with pytest.warns(UserWarning, match="batch size of 4, this Trainer has 32"):
        resumed.load_checkpoint(path)
    with pytest.raises(ValueError, match=r"^the loader has no batches in epoch 3: drop_last=True drops "):
        resumed.run()


class SlowBatch(Callback):
    """Spends ``seconds`` after batch 0 of epoch 1: time that belongs to that epoch."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_batch_end(self, trainer, batch, logs):
        if (trainer.epoch, batch) == (1, 0):
            time.sleep(self.seconds)


def test_a_resumed_epoch_counts_the_seconds_spent_before_the_interruption(tmp_path):
    path = str(tmp_path / "run.json")
    trainer_for(num_epochs=1, seed=3, checkpoint=path,
                callbacks=[SlowBatch(0.5), InterruptAt(1, 2)]).run()
    assert load(path)["epoch_seconds"] >= 0.5
    history = trainer_for(num_epochs=1, seed=3, checkpoint=path).resume(path)
    assert len(history) == 1 and history["seconds"][0] >= 0.5


# ---- terminate() is for good -------------------------------------------------------------------------------

class NeverStopEarly(Callback):
    """Clears ``stop_training`` after every batch, as a callback overriding EarlyStopping might. It records
    the events, and raises when an epoch starts a fourth time: a run that never ends fails, not hangs."""

    def __init__(self):
        self.events = []

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(f"epoch_begin {epoch}")
        if self.events.count(f"epoch_begin {epoch}") > 3:
            raise RuntimeError("the run went on after terminate()")

    def on_batch_end(self, trainer, batch, logs):
        self.events.append(f"batch {trainer.epoch}.{batch}")
        trainer.stop_training = False


class TerminateAt(Callback):
    def on_batch_end(self, trainer, batch, logs):
        if (trainer.epoch, batch) == (2, 1):
            trainer.terminate("enough")


def test_terminate_ends_the_run_for_good_even_if_a_callback_clears_stop_training():
    keep_going, lines = NeverStopEarly(), []
    history = trainer_for(seed=1, callbacks=[TerminateAt(), keep_going], logger=lines.append).run()
    assert keep_going.events[-3:] == ["epoch_begin 2", "batch 2.0", "batch 2.1"]
    assert len(history) == 1 and lines[-1] == "enough"


class PoisonAt:
    """Cross-entropy, but the loss of the ``at``-th call (from 1) is multiplied by ``poison``."""

    def __init__(self, at, poison):
        self.at, self.poison, self.calls = at, poison, 0

    def __call__(self, outputs, targets):
        self.calls += 1
        loss = CrossEntropyLoss()(outputs, targets)
        return loss * self.poison if self.calls == self.at else loss


def test_terminate_on_nan_ends_the_run_at_a_loss_of_minus_infinity_as_keras_does():
    stop, model = TerminateOnNaN(), make_model()
    trainer = Trainer(x=X, y=Y, model=model, loss=PoisonAt(3, -math.inf), batch_size=4, num_epochs=2,
                      optimizer=SGD(model.parameters(), lr=0.1), seed=1, progress=False, callbacks=[stop])
    with pytest.warns(RuntimeWarning, match=r"^the training loss is -inf in epoch 1 at batch 2 "):
        history = trainer.run()
    assert (stop.stopped_epoch, stop.stopped_batch) == (1, 2) and len(history) == 0
    assert trainer.termination == ("Training terminated in epoch 1 at batch 2: the loss is -inf "
                                   "(TerminateOnNaN)")


# ---- epoch logs and the ModelCheckpoint template -----------------------------------------------------------

def three_groups(model, lrs):
    first, second = model.modules[0].parameters(), model.modules[1].parameters()
    return [{"params": first[:6], "lr": lrs[0]}, {"params": first[6:], "lr": lrs[1]},
            {"params": second, "lr": lrs[2]}]


@pytest.mark.parametrize("lrs", [(0.1, 0.1, 0.02), (0.1, 0.02, 0.1), (0.02, 0.1, 0.1)])
def test_the_rate_of_every_group_is_logged_whichever_group_differs(tmp_path, lrs):
    model = make_model()
    template = str(tmp_path / "m-{epoch}-{lr_0}-{lr_1}-{lr_2}.json")
    history = trainer_for(model, SGD(three_groups(model, lrs), lr=0.5), num_epochs=1,
                          callbacks=[ModelCheckpoint(template, monitor="train_loss")]).run()
    assert [history[f"lr_{i}"][0] for i in range(3)] == list(lrs) and history["lr"] == [lrs[0]]
    assert os.listdir(tmp_path) == [f"m-1-{lrs[0]}-{lrs[1]}-{lrs[2]}.json"]


def test_a_template_may_read_an_attribute_of_a_logged_value_as_str_format_allows(tmp_path):
    template = str(tmp_path / "m-{epoch.real:02d}-{train_loss.real:.3f}.json")
    history = trainer_for(num_epochs=2, callbacks=[ModelCheckpoint(template, monitor="train_loss",
                                                                   save_best_only=False)]).run()
    assert sorted(os.listdir(tmp_path)) == [f"m-{e:02d}-{loss:.3f}.json"
                                            for e, loss in enumerate(history["train_loss"], 1)]


# ---- data --------------------------------------------------------------------------------------------------

class EmptyLoader:
    """A loader of another library (torch's DataLoader, say) over an empty dataset, drop_last=True."""

    batch_size, drop_last, dataset = 4, True, ()

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(())


def test_an_empty_loader_with_drop_last_is_called_empty_not_blamed_on_drop_last():
    refusal = r"^the loader has no batches in epoch 1: it is empty \(len\(loader\) is 0\)$"
    with pytest.raises(ValueError, match=refusal):
        trainer_for(loader=EmptyLoader()).run()


# ---- nested ops --------------------------------------------------------------------------------------------

def test_transpose_of_a_0d_numpy_array_is_the_plain_number_as_for_any_numpy_input():
    np = pytest.importorskip("numpy")
    out = transpose(np.array(2.5), 0, -1)
    assert type(out) is float and out == 2.5  # torch.tensor(2.5).transpose(0, -1).item()
    assert transpose(np.array([[1.0, 2.0]])) == [[1.0], [2.0]]  # as a matrix's transpose is plain lists


def test_tensordot_over_two_axes_is_the_matmul_torch_defines_it_as_bit_for_bit():
    """torch.tensordot moves a's paired dimensions last and b's first, in the order given, and multiplies
    the two matrices; the sums then run in that order, which fixes the result to the last bit."""
    rng = random.Random(5)
    a = [[[rng.uniform(-1, 1) for _ in range(4)] for _ in range(3)] for _ in range(2)]  # (2, 3, 4)
    b = [[[rng.uniform(-1, 1) for _ in range(5)] for _ in range(3)] for _ in range(4)]  # (4, 3, 5)
    out = tensordot(a, b, ([1, 2], [1, 0]))  # a's 1 with b's 1, a's 2 with b's 0
    a_rows = reshape(permute(a, (0, 1, 2)), (2, 12))
    b_rows = reshape(permute(b, (1, 0, 2)), (12, 5))
    expected = matmul(a_rows, b_rows)
    assert [[y.data for y in row] for row in out] == [[y.data for y in row] for row in expected]
