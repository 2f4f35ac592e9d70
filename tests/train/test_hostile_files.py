"""Hostile files: links, permissions, FIFOs, devices, huge numbers and deep nesting never lose data,
hang, exhaust memory or escape as anything but a ValueError/TypeError naming the file."""

import contextlib
import json
import os
import stat
import sys
import threading
import time

import pytest

from scalargrad._util.files import atomic_open, read_text
from scalargrad.nn import SGD, Linear, load, save
from scalargrad.train import History

posix = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX symlinks, FIFOs, devices and modes")


def _model():
    layer = Linear(2, 1)
    for i, p in enumerate(layer.parameters()):
        p.data = 0.25 * (i + 1)
    return layer


# ---- point 4: a symlink is written through, permissions are kept ----------------------------------

@posix
def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "exp7.json"
    save(Linear(2, 1), target)
    link = tmp_path / "latest.json"
    link.symlink_to(os.path.join("runs", "exp7.json"))
    model = _model()
    save(model, link)
    assert link.is_symlink()
    assert load(target) == model.state_dict()
    assert not [n for n in os.listdir(tmp_path / "runs") if n.endswith(".tmp")]


@posix
def test_saving_keeps_the_files_permission_bits(tmp_path):
    path = tmp_path / "run.json"
    save(_model(), path)
    os.chmod(path, 0o600)
    save(_model(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    History([{"epoch": 1}]).to_json(path)  # every writer goes through the same helper
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---- point 16: errors name the user's path -------------------------------------------------------

@posix
def test_a_failed_save_names_the_users_path_not_the_temporary_file(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(PermissionError) as info:
            save(_model(), folder / "run.json")
        assert info.value.filename == str(folder / "run.json")
        assert ".tmp" not in str(info.value)
    finally:
        os.chmod(folder, 0o700)


def test_saving_into_a_missing_folder_names_the_users_path(tmp_path):
    path = tmp_path / "missing" / "run.json"
    with pytest.raises(FileNotFoundError) as info:
        save(_model(), path)
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)


def test_atomic_open_onto_a_folder_names_it(tmp_path):
    with pytest.raises(IsADirectoryError) as info, atomic_open(tmp_path) as f:
        f.write("x")
    assert info.value.filename == str(tmp_path)


# ---- point 14: only regular files, and not too large ----------------------------------------------

@posix
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_loading_a_device_is_refused_before_reading():
    with pytest.raises(ValueError, match="/dev/zero: not a regular file"):
        load("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        History.from_json("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        History.from_csv("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        Linear(2, 1).load("/dev/zero")


@posix
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_loading_a_fifo_fails_at_once_instead_of_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    # a writer that opens the FIFO after 10 s (and closes it) ends a read that waits, so a regression
    # fails this test with "waited" instead of hanging the run
    def open_as_a_writer():
        with contextlib.suppress(OSError):  # no reader waiting: nothing to end
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    waited = threading.Timer(10.0, open_as_a_writer)
    waited.start()
    try:
        for read in (load, History.from_json, History.from_csv):
            start = time.monotonic()
            with pytest.raises(ValueError, match="not a regular file"):
                read(fifo)
            assert time.monotonic() - start < 5.0, f"{read.__qualname__} waited for a writer"
    finally:
        waited.cancel()


def test_loading_a_folder_is_a_value_error_naming_it(tmp_path):
    for read in (load, History.from_json, History.from_csv, Linear(2, 1).load):
        with pytest.raises(ValueError, match=f"{tmp_path}: not a regular file \\(a folder\\)"):
            read(tmp_path)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to count descriptors")
def test_refused_reads_close_their_file_descriptor(tmp_path):
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 10 + "0]")
    os.mkfifo(tmp_path / "pipe.json")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        for path in (tmp_path, tmp_path / "pipe.json"):
            with pytest.raises((ValueError, OSError)):
                load(path)
        with pytest.raises(ValueError, match="more than"):
            read_text(big, limit=5)
    assert len(os.listdir("/proc/self/fd")) == before


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch):
    from scalargrad._util import files

    path = tmp_path / "big.json"
    save(_model(), path)
    History([{"epoch": 1}]).to_json(tmp_path / "h.json")
    History([{"epoch": 1}]).to_csv(tmp_path / "h.csv")
    monkeypatch.setattr(files, "MAX_READ_BYTES", 5)
    with pytest.raises(ValueError, match="more than"):
        load(path)
    with pytest.raises(ValueError, match="more than"):
        History.from_json(tmp_path / "h.json")
    with pytest.raises(ValueError, match="more than"):
        History.from_csv(tmp_path / "h.csv")


def test_the_size_limit_is_a_generous_module_constant():
    from scalargrad._util.files import MAX_READ_BYTES

    assert MAX_READ_BYTES >= 1 << 30


# ---- point 13: numbers JSON allows but floats do not, and deep nesting -----------------------------

def _write_checkpoint(path, state):
    path.write_text(json.dumps({"format": "scalargrad-checkpoint", "version": 1, "state": state}))
    return path


def test_deep_nesting_is_a_value_error_naming_the_file_for_every_loader(tmp_path):
    deep = json.loads("[" * 900 + "]" * 900)
    path = tmp_path / "deep.json"
    path.write_text('{"format":"scalargrad-checkpoint","version":1,"state":' + "[" * 900 + "]" * 900 + "}")
    with pytest.raises(ValueError, match="deep.json.*nested"):
        load(path)
    with pytest.raises(ValueError, match="deep.json.*nested"):
        Linear(2, 1).load(path)
    (tmp_path / "h.json").write_text('{"records": [{"epoch": ' + "[" * 5000 + "]" * 5000 + "}]}")
    with pytest.raises(ValueError, match="h.json.*nested"):
        History.from_json(tmp_path / "h.json")
    assert deep is not None


def test_a_huge_int_or_infinity_in_model_weights_is_a_value_error(tmp_path):
    state = _model().state_dict()
    key = next(iter(state))
    for bad in (10 ** 400,):
        broken = dict(state)
        broken[key] = [bad] * len(state[key]) if isinstance(state[key], list) else bad
        with pytest.raises(ValueError):
            Linear(2, 1).load(_write_checkpoint(tmp_path / "m.json", broken))


def test_a_huge_int_in_an_optimizer_buffer_or_lr_is_a_value_error(tmp_path):
    model = _model()
    optim = SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = optim.state_dict()
    state["param_groups"][0]["lr"] = 10 ** 400
    with pytest.raises(ValueError, match="lr"):
        SGD(model.parameters(), lr=0.1, momentum=0.9).load_state_dict(state)
    state = optim.state_dict()
    state["state"] = {"0": {"momentum_buffer": 10 ** 400}}
    with pytest.raises(ValueError, match="momentum_buffer"):
        SGD(model.parameters(), lr=0.1, momentum=0.9).load_state_dict(state)


# ---- a key given twice: refused, not the last one silently kept -----------------------------------------

@pytest.mark.parametrize("text, key", [
    ('{"format":"scalargrad-checkpoint","version":1,"state":{},"state":{"w":[1]}}', "state"),
    ('{"format":"scalargrad-checkpoint","version":1,"state":{"w":[1.0],"b":0.5,"w":[2.0]}}', "w"),
    ('{"format":"scalargrad-checkpoint","version":1,"state":[{"lr":0.1,"lr":0.2}]}', "lr"),
], ids=["header", "state", "nested"])
def test_a_checkpoint_with_a_key_given_twice_is_refused_naming_file_and_key(tmp_path, text, key):
    path = tmp_path / "twice.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"{path}: the key '{key}' appears twice"):
        load(path)
    with pytest.raises(ValueError, match=f"twice.json: the key '{key}' appears twice"):
        Linear(2, 1).load(path)


def test_a_history_file_with_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "h.json"
    path.write_text('{"records": [{"epoch": 1, "train_loss": 0.5, "train_loss": 0.1}]}')
    with pytest.raises(ValueError, match="h.json: the key 'train_loss' appears twice"):
        History.from_json(path)


def test_equal_keys_in_different_objects_are_fine(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text('{"format":"scalargrad-checkpoint","version":1,"state":{"a":{"w":1},"b":{"w":2}}}')
    assert load(path) == {"a": {"w": 1}, "b": {"w": 2}}


# ---- a byte-order mark and unknown versions ----------------------------------------------------------

def test_a_checkpoint_with_a_utf8_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.json"
    model = _model()
    save(model, path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load(path) == model.state_dict()
    History([{"epoch": 1, "train_loss": 0.5}]).to_json(tmp_path / "h.json")
    (tmp_path / "h.json").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "h.json").read_bytes())
    assert History.from_json(tmp_path / "h.json")["train_loss"] == [0.5]


@pytest.mark.parametrize("version", [-5, 0, True, 1.0, "1", None, 10 ** 400, 2])
def test_a_checkpoint_of_an_unknown_version_is_refused(tmp_path, version):
    path = tmp_path / "v.json"
    text = json.dumps({"format": "scalargrad-checkpoint", "version": 1, "state": {}})
    path.write_text(text.replace('"version": 1', f'"version": {json.dumps(version)}'))
    with pytest.raises(ValueError, match="v.json: unsupported checkpoint version"):
        load(path)


# ---- point 19: render() never replaces a user's file, and retries really draw fewer nodes -----------

def _headless(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    from scalargrad.viz import graph

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(graph, "run_dot", lambda source, fmt, timeout: b"\x89PNG new")
    return graph


def _small_graph(n):
    from scalargrad import Scalar

    y = Scalar(1.0, name="x")
    for _ in range(n):
        y = y * 1.5
    return y  # n + 1 nodes (the constant is kept in the node)


def test_a_bare_render_without_a_display_never_replaces_an_existing_graph_png(monkeypatch, tmp_path, capsys):
    _headless(monkeypatch, tmp_path)
    (tmp_path / "graph.png").write_bytes(b"the user's own picture")
    (tmp_path / "graph-1.png").write_bytes(b"another one")
    _small_graph(3).render()
    assert (tmp_path / "graph.png").read_bytes() == b"the user's own picture"
    assert (tmp_path / "graph-1.png").read_bytes() == b"another one"
    assert (tmp_path / "graph-2.png").read_bytes() == b"\x89PNG new"
    assert str(tmp_path / "graph-2.png") in capsys.readouterr().out


def test_a_layout_retry_on_a_small_graph_draws_fewer_nodes_and_says_how_many(monkeypatch, tmp_path, capsys):
    import subprocess

    graph = _headless(monkeypatch, tmp_path)
    drawn = []

    def slow_twice(source, fmt, timeout):
        drawn.append(source.count("shape=record"))
        if len(drawn) <= 2:
            raise subprocess.TimeoutExpired("dot", timeout)
        return b"\x89PNG small"

    monkeypatch.setattr(graph, "run_dot", slow_twice)
    _small_graph(200).render(str(tmp_path / "g.png"), layout_timeout=5, max_nodes=500)  # 201 nodes
    assert drawn == [201, 50, 25]
    out = capsys.readouterr().out
    assert "drawing the 50 nodes nearest the root (of 201)" in out
    assert "drawing the 25 nodes nearest the root (of 201)" in out
    assert (tmp_path / "g.png").read_bytes() == b"\x89PNG small"


# ---- the same defect elsewhere: a scheduler count too large for a float ------------------------------

@pytest.mark.parametrize("key", ["last_epoch", "T_max"])
def test_a_scheduler_count_too_large_for_a_float_is_refused_when_loaded(key):
    from scalargrad.nn import CosineAnnealingLR

    optim = SGD(Linear(2, 1).parameters(), lr=0.1)
    scheduler = CosineAnnealingLR(optim, T_max=5)
    state = scheduler.state_dict()
    state[key] = 10 ** 400
    with pytest.raises(ValueError, match=key):
        scheduler.load_state_dict(state)
    scheduler.step()  # unchanged, and still working


def test_a_history_file_whose_interrupted_flag_is_not_a_bool_is_refused(tmp_path):
    path = tmp_path / "h.json"
    path.write_text('{"records": [{"epoch": 1}], "interrupted": "no"}')
    with pytest.raises(TypeError, match="h.json.*interrupted"):
        History.from_json(path)
