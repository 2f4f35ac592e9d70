"""The Trainer's checkpoint file: model, optimizer, scheduler, History, position and random state.

The file is JSON written atomically by ``scalargrad.nn.save`` (format
``kind='scalargrad-trainer'``, ``version=1``; files written by earlier
versions of scalargrad load unchanged). Reading one checks everything before
the Trainer changes anything.

The optimizer's state numbers the parameters by position; the checkpoint
also keeps each one's name in the model (``'optimizer_param_names'``), so
that a resumed optimizer given the same parameters in another order still
gets each parameter's own state back, as the model's state is matched by name.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

from .._util.checks import boolean, finite, integer, nonnegative_int
from ..nn import load, save
from ..nn.optim.state_dict import reorder_state_dict
from .history import History
from .position import TrainingPosition

__all__ = ["CHECKPOINT_KIND", "CHECKPOINT_VERSION", "ResumePoint", "TrainerCheckpoint",
           "optimizer_param_names", "optimizer_state_for", "read_checkpoint", "rng_state_from_json",
           "rng_state_to_json", "write_checkpoint"]

CHECKPOINT_KIND = "scalargrad-trainer"
CHECKPOINT_VERSION = 1

_REQUIRED = ("model", "optimizer", "scheduler", "history", "epoch", "batch", "epoch_loss_sum",
             "epoch_batches", "epoch_seconds", "rng_state", "loader_seed", "stop_training", "callbacks")


def rng_state_to_json(state: tuple) -> list:
    """``random.getstate()`` as JSON-able lists."""
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def rng_state_from_json(value: Any) -> tuple:
    """The ``random.setstate()`` argument back from ``rng_state_to_json`` output; ValueError if it is not
    one."""
    try:
        version, internal, gauss_next = value
        if not all(type(v) is int for v in (version, *internal)):
            raise TypeError("its numbers must be ints")
        state = (version, tuple(internal), None if gauss_next is None else finite(gauss_next, "gauss_next"))
        random.Random().setstate(state)  # validates it without touching the global generator
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"the field 'rng_state' is not a random.getstate() value ({e})") from None
    return state


@dataclass
class ResumePoint:
    """What the next ``run()`` takes from a loaded checkpoint to continue where it stopped."""

    position: TrainingPosition
    rng_state: tuple
    loader_seed: int | None
    stop_training: bool
    callback_states: list  # [[class name, state], ...]
    batch_size: int | None = None   # the data the run was made with (None in older checkpoints)
    num_samples: int | None = None


@dataclass
class TrainerCheckpoint:
    """A checked checkpoint: the states to load into model, optimizer and scheduler, the History and
    where to resume."""

    model: Any
    optimizer: Any
    scheduler: Any
    history: History
    resume: ResumePoint
    optimizer_param_names: list[list[str]] | None = None  # None in older checkpoints


def optimizer_param_names(optimizer: Any, model: Any) -> list[list[str]] | None:
    """The model's name of each of the optimizer's parameters, group by group, in the optimizer's order;
    None when some parameter is not the model's (or either object cannot say).

    >>> from scalargrad.nn import Linear, SGD
    >>> model = Linear(1, 1)
    >>> optimizer_param_names(SGD(model.parameters()[::-1], lr=0.1), model)
    [['neurons.0.b', 'neurons.0.w.0']]
    """
    named_parameters = getattr(model, "named_parameters", None)
    groups = getattr(optimizer, "param_groups", None)
    if not callable(named_parameters) or not isinstance(groups, list):
        return None
    name_of = {id(p): name for name, p in named_parameters()}
    try:
        return [[name_of[id(p)] for p in group["params"]] for group in groups]
    except (KeyError, TypeError):
        return None


def optimizer_state_for(checkpoint: TrainerCheckpoint, optimizer: Any, model: Any) -> Any:
    """The checkpoint's optimizer state with its parameters matched to ``optimizer``'s by name.

    The same parameters in another order get their own state; a group that
    holds other parameters than the saved one is refused (ValueError naming
    them). Without names on either side (an older checkpoint, or an optimizer
    over parameters outside the model) the state is matched by position.
    """
    saved_names, names = checkpoint.optimizer_param_names, optimizer_param_names(optimizer, model)
    if saved_names is None or names is None or saved_names == names:
        return checkpoint.optimizer
    return reorder_state_dict(checkpoint.optimizer, saved_names, names)


def write_checkpoint(path: str, *, model: Any, optimizer: Any, scheduler: Any, history: History,
                     position: TrainingPosition, loader_seed: int | None, seed: int | None, num_epochs: int,
                     stop_training: bool, callback_states: list, batch_size: int | None = None,
                     num_samples: int | None = None) -> None:
    """Write the whole training state to ``path`` (JSON, atomically), with the model's names of the
    optimizer's parameters."""
    state = {
        "kind": CHECKPOINT_KIND,
        "version": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "optimizer_param_names": optimizer_param_names(optimizer, model),
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
        "batch_size": batch_size,
        "num_samples": num_samples,
    }
    save(state, path)


def read_checkpoint(path: str | os.PathLike, has_scheduler: bool) -> TrainerCheckpoint:
    """Read and check a Trainer checkpoint; ``has_scheduler`` says whether the Trainer loading it has one.

    Every field but the model, optimizer and scheduler states (which their
    owners check) is checked here: TypeError or ValueError naming the file
    and the field.
    """
    where = os.fspath(path)
    state = load(path)
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        raise ValueError(f"{where}: not a Trainer checkpoint "
                         f"(a model-only file? load that with model.load(path))")
    version = state.get("version", CHECKPOINT_VERSION)
    if type(version) is not int or not 1 <= version <= CHECKPOINT_VERSION:
        raise ValueError(f"{where}: unsupported Trainer checkpoint version {version!r:.40} "
                         f"(this scalargrad reads versions 1 to {CHECKPOINT_VERSION})")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise ValueError(f"{where}: the checkpoint is missing {missing}")
    if (state["scheduler"] is None) != (not has_scheduler):
        have = "has" if has_scheduler else "has no"
        raise ValueError(f"{where}: the checkpoint {'has no' if state['scheduler'] is None else 'has a'}"
                         f" scheduler state but this Trainer {have} scheduler")
    try:
        resume = _resume_point(state)
        try:
            history = History.from_state(state["history"])
        except (TypeError, ValueError) as e:
            raise type(e)(f"the field 'history': {e}") from None
        names = _param_names(state.get("optimizer_param_names"))
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {e}") from None
    return TrainerCheckpoint(state["model"], state["optimizer"], state["scheduler"], history, resume, names)


def _param_names(value: Any) -> list[list[str]] | None:
    """The field 'optimizer_param_names', checked: None, or a list per group of distinct names."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(group, list) and all(isinstance(name, str) for name in group) for group in value):
        raise ValueError("the field 'optimizer_param_names' must be a list of lists of names")
    every = [name for group in value for name in group]
    if len(set(every)) != len(every):
        raise ValueError("the field 'optimizer_param_names' names a parameter twice")
    return value


def _optional_count(state: dict, key: str) -> int | None:
    value = state.get(key)
    return None if value is None else nonnegative_int(value, f"the field {key!r}")


def _resume_point(state: dict) -> ResumePoint:
    """The position, random state, loader seed and callback states, checked."""
    position = TrainingPosition()
    position.load_state_dict(state)
    rng_state = rng_state_from_json(state["rng_state"])
    loader_seed = state["loader_seed"]
    if loader_seed is not None:
        loader_seed = integer(loader_seed, "the field 'loader_seed'")
    stop = boolean(state["stop_training"], "the field 'stop_training'")
    callbacks = state["callbacks"]
    if not isinstance(callbacks, list) or not all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in callbacks):
        raise ValueError("bad field 'callbacks' (expected [[class name, state], ...])")
    return ResumePoint(position, rng_state, loader_seed, stop, callbacks,
                       _optional_count(state, "batch_size"), _optional_count(state, "num_samples"))
