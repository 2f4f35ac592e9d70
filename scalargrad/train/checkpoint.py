"""The Trainer's checkpoint file: model, optimizer, scheduler, History, position and random state.

The file is JSON written atomically by ``scalargrad.nn.save`` (format
``kind='scalargrad-trainer'``, ``version=1``; files written by earlier
versions of scalargrad load unchanged). Reading one checks everything before
the Trainer changes anything.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

from ..nn import load, save
from .history import History
from .position import TrainingPosition

__all__ = ["CHECKPOINT_KIND", "CHECKPOINT_VERSION", "ResumePoint", "TrainerCheckpoint", "read_checkpoint",
           "rng_state_from_json", "rng_state_to_json", "write_checkpoint"]

CHECKPOINT_KIND = "scalargrad-trainer"
CHECKPOINT_VERSION = 1

_REQUIRED = ("model", "optimizer", "scheduler", "history", "epoch", "batch", "epoch_loss_sum", "epoch_batches",
             "epoch_seconds", "rng_state", "loader_seed", "stop_training", "callbacks")


def rng_state_to_json(state: tuple) -> list:
    """``random.getstate()`` as JSON-able lists."""
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def rng_state_from_json(value: Any) -> tuple:
    """The ``random.setstate()`` argument back from ``rng_state_to_json`` output; ValueError if it is not one."""
    try:
        version, internal, gauss_next = value
        state = (int(version), tuple(int(v) for v in internal), None if gauss_next is None else float(gauss_next))
        random.Random().setstate(state)  # validates it without touching the global generator
    except (TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's rng_state is not a random.getstate() value ({e})") from None
    return state


@dataclass
class ResumePoint:
    """What the next ``run()`` takes from a loaded checkpoint to continue where it stopped."""

    position: TrainingPosition
    rng_state: tuple
    loader_seed: int | None
    stop_training: bool
    callback_states: list  # [[class name, state], ...]


@dataclass
class TrainerCheckpoint:
    """A checked checkpoint: the states to load into model, optimizer and scheduler, the History and
    where to resume."""

    model: Any
    optimizer: Any
    scheduler: Any
    history: History
    resume: ResumePoint


def write_checkpoint(path: str, *, model: Any, optimizer: Any, scheduler: Any, history: History,
                     position: TrainingPosition, loader_seed: int | None, seed: int | None, num_epochs: int,
                     stop_training: bool, callback_states: list) -> None:
    """Write the whole training state to ``path`` (JSON, atomically)."""
    state = {
        "kind": CHECKPOINT_KIND,
        "version": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None and hasattr(scheduler, "state_dict")
        else None,
        "history": history.state_dict(),
        **position.state_dict(),  # epoch (completed epochs), batch (done in the next), epoch_loss_sum, ...
        "rng_state": rng_state_to_json(random.getstate()),
        "loader_seed": loader_seed,
        "seed": seed,
        "num_epochs": num_epochs,
        "stop_training": stop_training,
        "callbacks": callback_states,
    }
    save(state, path)


def read_checkpoint(path: str | os.PathLike, has_scheduler: bool) -> TrainerCheckpoint:
    """Read and check a Trainer checkpoint; ``has_scheduler`` says whether the Trainer loading it has one."""
    where = os.fspath(path)
    state = load(path)
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        raise ValueError(f"{where}: not a Trainer checkpoint (a model-only file? load that with model.load(path))")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise ValueError(f"{where}: the checkpoint is missing {missing}")
    if (state["scheduler"] is None) != (not has_scheduler):
        have = "has" if has_scheduler else "has no"
        raise ValueError(f"{where}: the checkpoint {'has no' if state['scheduler'] is None else 'has a'}"
                         f" scheduler state but this Trainer {have} scheduler")
    position = TrainingPosition()
    try:
        position.load_state_dict(state)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    rng_state = rng_state_from_json(state["rng_state"])
    history = History.from_state(state["history"])
    callbacks = state["callbacks"]
    if not isinstance(callbacks, list) or not all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in callbacks):
        raise ValueError(f"{where}: bad callback states (expected [[class name, state], ...])")
    resume = ResumePoint(position, rng_state, state["loader_seed"], bool(state["stop_training"]), callbacks)
    return TrainerCheckpoint(state["model"], state["optimizer"], state["scheduler"], history, resume)
