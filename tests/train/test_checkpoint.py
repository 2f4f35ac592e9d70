"""A checkpoint of model, optimizer and scheduler resumes training exactly where it stopped."""

import json
import random
import tempfile
from pathlib import Path

import pytest
from parameterized import parameterized

from scalargrad.nn import (
    SGD,
    Adam,
    CosineAnnealingLR,
    CrossEntropyLoss,
    Dropout,
    Linear,
    RMSprop,
    Sequential,
    StepLR,
    load,
    save,
)

X = [[0.1 * i, -0.2 * i + 1.0, (i % 3) - 1.0] for i in range(12)]
Y = [i % 3 for i in range(12)]


def _make(opt_name):
    random.seed(7)
    model = Sequential([Linear(3, 8, activation="tanh"), Dropout(0.2), Linear(8, 3)])
    if opt_name == "adam":
        optim = Adam(model.parameters(), lr=0.01, weight_decay=0.01)
    elif opt_name == "sgd":
        optim = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    else:
        optim = RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
    sched = StepLR(optim, step_size=2, gamma=0.5) if opt_name != "rmsprop" \
        else CosineAnnealingLR(optim, T_max=4)
    return model, optim, sched


def _train(model, optim, sched, epochs):
    loss_fn = CrossEntropyLoss()
    for _ in range(epochs):
        for k in range(0, len(X), 4):
            optim.zero_grad()
            loss = loss_fn([model(x) for x in X[k:k + 4]], Y[k:k + 4])
            loss.backward()
            optim.step()
        sched.step()


@parameterized.expand([("adam",), ("sgd",), ("rmsprop",)])
def test_resume_from_checkpoint_matches_uninterrupted_run(opt_name):
    folder = Path(tempfile.mkdtemp())
    # Uninterrupted: 6 epochs.
    model, optim, sched = _make(opt_name)
    random.seed(11)
    _train(model, optim, sched, 6)
    expected = [p.data for p in model.parameters()]
    expected_lr = sched.get_last_lr()

    # Interrupted after 3 epochs: everything needed to continue goes into one file.
    model, optim, sched = _make(opt_name)
    random.seed(11)
    _train(model, optim, sched, 3)
    path = folder / "ckpt.json"
    save({"model": model, "optimizer": optim, "scheduler": sched, "epoch": 3,
          "random": json.loads(json.dumps(random.getstate()))}, path)

    # A fresh process would start from scratch: new objects, another random state.
    random.seed(999)
    model2, optim2, sched2 = _make(opt_name)
    for p in model2.parameters():
        p.data = 0.0
    ckpt = load(path)
    model2.load_state_dict(ckpt["model"])
    optim2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    version, state, gauss = ckpt["random"]
    random.setstate((version, tuple(state), gauss))
    assert ckpt["epoch"] == 3
    _train(model2, optim2, sched2, 3)
    assert [p.data for p in model2.parameters()] == expected  # bit for bit
    assert sched2.get_last_lr() == expected_lr


def test_checkpoint_file_is_plain_json_with_a_header(tmp_path):
    model, optim, sched = _make("sgd")
    save({"model": model, "optimizer": optim, "scheduler": sched}, tmp_path / "c.json")
    payload = json.loads((tmp_path / "c.json").read_text())
    assert payload["format"] == "scalargrad-checkpoint"
    assert set(payload["state"]) == {"model", "optimizer", "scheduler"}
    assert payload["state"]["model"] == model.state_dict()


def test_saving_something_that_is_not_data_fails_before_writing(tmp_path):
    target = tmp_path / "c.json"
    with pytest.raises(TypeError, match="cannot store a"):
        save({"model": object()}, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
