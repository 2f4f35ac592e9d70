"""Where a writer may write: every writer refuses a target that is not a regular file (a FIFO, a socket,
a device) or that is marked read-only, leaves it untouched, names it in the error, keeps the owner and
mode of a file it replaces, names the file when the disk is full, and takes any name the folder takes.

Every writer (``nn.save``, ``Module.save``, History files, ``render``, the ``plot_*`` functions, Trainer
checkpoints, ``ModelCheckpoint``) goes through ``scalargrad._util.files.atomic_open``; the cases below
call each of them.
"""

import errno
import os
import socket
import stat
import sys

import pytest

from scalargrad import Scalar
from scalargrad._util.files import atomic_open
from scalargrad.nn import SGD, Linear, MSELoss, load, save
from scalargrad.train import History, ModelCheckpoint, Trainer
from tests.train.test_hostile_files import _model

posix = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX FIFOs, sockets, devices and modes")


def _render(path):
    pytest.importorskip("graphviz")
    from scalargrad.viz import graph

    original = graph.run_dot
    graph.run_dot = lambda source, fmt, timeout: b"\x89PNG picture"
    try:
        (Scalar(1.0, name="x") * 2.0).render(str(path), format="png")
    finally:
        graph.run_dot = original


def _plot(path):
    pytest.importorskip("matplotlib")
    from scalargrad.viz import plot_history

    plot_history([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}], path)


def _train(path, **trainer_args):
    model = Linear(2, 1)
    Trainer(x=[[0.1, 0.2], [0.3, 0.4]], y=[[0.5], [0.6]], model=model, loss=MSELoss(),
            optimizer=SGD(model.parameters(), lr=0.01), batch_size=2, num_epochs=1, progress=False,
            **trainer_args).run()


def _trainer_checkpoint(path):
    _train(path, checkpoint=path)


def _model_checkpoint(path):
    _train(path, callbacks=[ModelCheckpoint(path, monitor="train_loss")])


def _model_checkpoint_named_later(path):
    # the name is filled in from the epoch's record, so the target is only known when it is written
    template = os.path.join(os.path.dirname(path), "{epoch}" + os.path.basename(path)[1:])
    _train(path, callbacks=[ModelCheckpoint(template, monitor="train_loss")])


WRITERS = [
    ("nn_save", lambda path: save(_model(), path)),
    ("module_save", lambda path: _model().save(path)),
    ("history_json", lambda path: History([{"epoch": 1}]).to_json(path)),
    ("history_csv", lambda path: History([{"epoch": 1}]).to_csv(path)),
    ("render", _render),
    ("plot", _plot),
    ("trainer_checkpoint", _trainer_checkpoint),
    ("model_checkpoint", _model_checkpoint),
    ("model_checkpoint_named_later", _model_checkpoint_named_later),
]


def _fifo(folder):
    os.mkfifo(folder / "1.png")
    return folder / "1.png"


def _socket(folder, monkeypatch):
    monkeypatch.chdir(folder)  # a socket's address is short (about 100 bytes): bind by a relative name
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("1.png")
    server.close()  # the socket file stays where it was bound
    return folder / "1.png"


# ---- a target that is not a regular file is refused and left as it was ------------------------------------

@posix
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize("name, write", WRITERS)
def test_every_writer_refuses_a_fifo_and_leaves_it(tmp_path, name, write):
    target = _fifo(tmp_path)
    with pytest.raises(ValueError, match=f"{target}: a FIFO, not a regular file"):
        write(str(target))
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert os.listdir(tmp_path) == ["1.png"]  # no temporary file left behind


@posix
@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no unix sockets")
@pytest.mark.parametrize("name, write", WRITERS)
def test_every_writer_refuses_a_socket_and_leaves_it(tmp_path, monkeypatch, name, write):
    target = _socket(tmp_path, monkeypatch)
    with pytest.raises(ValueError, match=f"{target}: a socket, not a regular file"):
        write(str(target))
    assert stat.S_ISSOCK(os.lstat(target).st_mode)
    assert os.listdir(tmp_path) == ["1.png"]


@posix
def test_a_symlink_to_a_fifo_is_refused_and_both_stay(tmp_path):
    target = _fifo(tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(ValueError, match="a FIFO, not a regular file"):
        save(_model(), link)
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(target).st_mode)


def _never_replace_a_device(monkeypatch):
    """Turn a replaced device into a failed test instead of a damaged machine: as root, a writer that
    renamed its temporary file over /dev/null would delete the device."""
    for name in ("replace", "rename"):
        monkeypatch.setattr(os, name, _guarded(getattr(os, name)))


def _guarded(move):
    def guarded(source, destination, *args, **kwargs):
        if os.fspath(destination).startswith("/dev/"):
            raise AssertionError(f"a writer tried to replace {destination}")
        return move(source, destination, *args, **kwargs)

    return guarded


@posix
@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
@pytest.mark.parametrize("name, write", [w for w in WRITERS if w[0] != "model_checkpoint_named_later"])
def test_a_device_is_refused_and_stays_a_device(monkeypatch, device, name, write):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    before = os.stat(device)
    assert stat.S_ISCHR(before.st_mode)
    _never_replace_a_device(monkeypatch)
    with pytest.raises(ValueError, match=f"{device}: a character device, not a regular file"):
        write(device)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, stat.S_IMODE(after.st_mode)) == (
        before.st_ino, before.st_rdev, stat.S_IMODE(before.st_mode))
    assert not [n for n in os.listdir("/dev") if n.endswith(".tmp")]


@posix
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_trainer_and_model_checkpoint_refuse_a_fifo_before_training(tmp_path):
    target = _fifo(tmp_path)
    model = Linear(2, 1)
    with pytest.raises(ValueError, match=f"{target}: a FIFO"):
        Trainer(x=[[0.1, 0.2]], y=[[0.5]], model=model, loss=MSELoss(),
                optimizer=SGD(model.parameters(), lr=0.1), batch_size=1, num_epochs=1, checkpoint=target)
    with pytest.raises(ValueError, match=f"{target}: a FIFO"):
        ModelCheckpoint(target)


# ---- a read-only file is not replaced; a replaced file keeps its owner and mode ---------------------------

@posix
@pytest.mark.parametrize("name, write", WRITERS)
def test_a_read_only_file_is_refused_and_left_as_it_was(tmp_path, name, write):
    target = tmp_path / "1.png"
    target.write_bytes(b"keep me")
    os.chmod(target, 0o444)
    with pytest.raises(PermissionError, match="read-only") as info:
        write(str(target))
    assert info.value.filename == str(target)
    assert target.read_bytes() == b"keep me" and stat.S_IMODE(os.stat(target).st_mode) == 0o444
    assert os.listdir(tmp_path) == ["1.png"]


def _plain_open_may_write(path):
    try:
        with open(path, "r+b"):
            return True
    except PermissionError:
        return False


@posix
@pytest.mark.parametrize("mode", [0o444, 0o464, 0o446, 0o644, 0o600, 0o200])
def test_a_file_is_refused_where_plain_open_refuses_it(tmp_path, mode):
    """Any write bit that lets plain ``open`` write (the group's, say) lets the save replace the file;
    as root, for whom every file opens, a file with no write bit at all is still refused."""
    target = tmp_path / "kept.json"
    target.write_text("{}")
    os.chmod(target, mode)
    as_root = os.geteuid() == 0
    refused = not _plain_open_may_write(target) or (as_root and not mode & 0o222)
    if refused:
        with pytest.raises(PermissionError, match="read-only"):
            save(_model(), target)
        assert target.read_text() == "{}"
    else:
        save(_model(), target)
        assert target.read_text() != "{}" and stat.S_IMODE(os.stat(target).st_mode) == mode


@posix
def test_a_symlink_to_a_read_only_file_is_refused(tmp_path):
    target = tmp_path / "kept.json"
    save(_model(), target)
    os.chmod(target, 0o444)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(PermissionError, match="read-only"):
        save(Linear(2, 1), link)
    assert load(target) == _model().state_dict()


@posix
def test_a_file_writable_by_its_owner_only_is_replaced_and_keeps_its_mode(tmp_path):
    target = tmp_path / "run.json"
    save(Linear(2, 1), target)
    os.chmod(target, 0o600)
    save(_model(), target)
    assert load(target) == _model().state_dict() and stat.S_IMODE(os.stat(target).st_mode) == 0o600


@posix
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root may give a file away")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    target = tmp_path / "shared.json"
    save(Linear(2, 1), target)
    os.chown(target, 1234, 5678)
    os.chmod(target, 0o640)
    save(_model(), target)
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o640)
    assert load(target) == _model().state_dict()


# ---- a full disk names the file; nothing is lost ---------------------------------------------------------

def _full_disk(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_syncing_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    save(_model(), target)
    monkeypatch.setattr(os, "fsync", _full_disk)
    with pytest.raises(OSError) as info:
        save(Linear(2, 1), target)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert str(target) in str(info.value)
    monkeypatch.undo()
    assert load(target) == _model().state_dict() and os.listdir(tmp_path) == ["run.json"]


def test_a_full_disk_while_writing_names_the_file(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OSError) as info, atomic_open(target, "wb"):
        _full_disk()  # what a file's write or flush raises when the disk is full: an errno and no file name
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert os.listdir(tmp_path) == []


def test_an_error_naming_another_file_keeps_its_name(tmp_path):
    with pytest.raises(FileNotFoundError) as info, atomic_open(tmp_path / "out.bin", "wb"):
        os.stat(tmp_path / "missing.ttf")  # e.g. a font a plot needs
    assert info.value.filename == str(tmp_path / "missing.ttf")


# ---- any name the folder takes, however long -------------------------------------------------------------

@pytest.mark.parametrize("name", ["a" * 235 + ".json", "b" * 250 + ".json", "é" * 122 + ".json"])
def test_a_long_legal_name_is_written(tmp_path, name):
    assert len(os.fsencode(name)) <= 255
    save(_model(), tmp_path / name)
    assert load(tmp_path / name) == _model().state_dict()
    assert os.listdir(tmp_path) == [name]


def test_without_a_known_name_limit_255_bytes_are_assumed(tmp_path, monkeypatch):
    def unknown(*args):
        raise OSError(errno.EINVAL, "no limit known")

    monkeypatch.setattr(os, "pathconf", unknown, raising=False)
    save(_model(), tmp_path / ("c" * 250 + ".json"))
    assert os.listdir(tmp_path) == ["c" * 250 + ".json"]


def test_a_name_too_long_for_the_folder_is_refused_naming_it(tmp_path):
    target = tmp_path / ("d" * 300 + ".json")
    with pytest.raises(OSError) as info:
        save(_model(), target)
    assert info.value.errno == errno.ENAMETOOLONG and info.value.filename == str(target)
    assert os.listdir(tmp_path) == []
