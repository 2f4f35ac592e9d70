"""Checks of the Trainer's and the Evaluator's arguments, and where the training batches come from.

The generic rules (an int, a bool, ...) come from ``scalargrad._util.checks``;
what is here is particular to training: which objects can serve as a model,
a loss, an optimizer or a logger, and how ``x=``/``y=``, ``dataset=`` or
``loader=`` turn into batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._util.checks import boolean, int_at_least
from ..data import Dataset, is_map_style
from .callbacks.callback import HOOK_NAMES
from .values import paired_samples

__all__ = ["TrainingData", "check_callbacks", "check_has_batches", "check_model_loss_optimizer",
           "check_options", "check_stateful", "count", "true_or_false"]


def map_style_dataset(dataset: Any, who: str) -> Any:
    """``dataset=``: a map-style dataset (``__len__``, ``__getitem__`` giving ``(x, y)``) holding samples."""
    if not is_map_style(dataset):
        raise TypeError(f"{who}: dataset= must be a map-style dataset (an object with __len__ and "
                        f"__getitem__ returning (x, y) samples), got {type(dataset).__name__}; "
                        f"give lists as x= and y=")
    if len(dataset) == 0:
        raise ValueError(f"{who}: the dataset is empty")
    return dataset


def count(value: Any, name: str) -> int:
    """An int >= 1: TypeError for anything but an int, ValueError below 1.

    ``checks.int_at_least(value, name, 1)``, whose message ("must be >= 1") the Trainer and the
    Evaluator have always given, and users' tests match, rather than ``positive_int``'s "a positive int".
    """
    return int_at_least(value, name, 1)


def true_or_false(value: Any, name: str) -> bool:
    """``checks.boolean`` (a bool, numpy's too; 0 and 1 are refused) with the message that users' tests
    match: "replay must be True or False, got 'yes'".

    >>> true_or_false(1, "replay")
    Traceback (most recent call last):
    ...
    TypeError: replay must be True or False, got 1
    """
    try:
        return boolean(value, name)
    except TypeError:
        raise TypeError(f"{name} must be True or False, got {value!r}") from None


def check_model_loss_optimizer(model: Any, loss: Any, optimizer: Any) -> None:
    """TypeError unless the model and the loss are callable and the optimizer has step() and zero_grad()."""
    if model is None or not callable(model):
        raise TypeError(f"Trainer needs a callable model=, got {type(model).__name__}")
    if loss is None or not callable(loss):
        raise TypeError(f"Trainer needs a callable loss= (e.g. CrossEntropyLoss()), "
                        f"got {type(loss).__name__}")
    if optimizer is None or not callable(getattr(optimizer, "step", None)) \
            or not callable(getattr(optimizer, "zero_grad", None)):
        raise TypeError(f"Trainer needs an optimizer= with step() and zero_grad(), "
                        f"got {type(optimizer).__name__}")


def check_options(evaluator: Any, logger: Any, scheduler: Any, scheduler_monitor: Any) -> None:
    """TypeError for a Trainer option of the wrong kind."""
    if evaluator is not None and not callable(getattr(evaluator, "results", None)):
        raise TypeError(f"evaluator must be an Evaluator, got {type(evaluator).__name__}")
    if logger is not None and not callable(getattr(logger, "info", None)) and not callable(logger):
        raise TypeError("logger must be a logging.Logger or a callable taking a str, "
                        f"got {type(logger).__name__}")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
    if scheduler_monitor is not None and not isinstance(scheduler_monitor, str):
        raise TypeError(f"scheduler_monitor must be a str, got {type(scheduler_monitor).__name__}")


def check_has_batches(loader: Any, epoch: int) -> None:
    """ValueError when ``loader`` says it has no batches (``len(loader) == 0``): a run over it would train
    on nothing. ``epoch`` is the first epoch the run would train; a loader without a length passes.

    torch's DataLoader serves no batch when ``drop_last=True`` drops the only, incomplete one, and so
    does ours; the Trainer refuses such a loader before training rather than train on nothing.

    >>> from scalargrad.data import DataLoader
    >>> check_has_batches(DataLoader(([[0.0]] * 3, [0] * 3), batch_size=4, drop_last=True), 1)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: the loader has no batches in epoch 1: drop_last=True drops its only batch, ...
    """
    try:
        n_batches = len(loader)
    except TypeError:
        return
    if n_batches:
        return
    batch_size = getattr(loader, "batch_size", None)
    try:
        n_samples = len(loader.dataset)
    except (AttributeError, TypeError):
        n_samples = None
    if getattr(loader, "drop_last", False) is True and batch_size is not None and n_samples:
        why = (f"drop_last=True drops its only batch, which is incomplete (batch_size={batch_size} is more "
               f"than the {n_samples} samples); give a batch_size up to {n_samples}, or drop_last=False")
    else:
        why = "it is empty (len(loader) is 0)"
    raise ValueError(f"the loader has no batches in epoch {epoch}: {why}")


def check_callbacks(callbacks: Sequence[Any] | None) -> list[Any]:
    """The callbacks as a new list; each must have at least one hook."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback objects, got {type(callbacks).__name__}")
    for cb in callbacks:
        if not any(callable(getattr(cb, hook, None)) for hook in HOOK_NAMES):
            raise TypeError(f"a callback needs at least one of {list(HOOK_NAMES)}, got {type(cb).__name__}")
    return list(callbacks)


def check_stateful(obj: Any, what: str) -> None:
    """TypeError unless ``obj`` has state_dict() and load_state_dict() (needed to write a checkpoint)."""
    if not callable(getattr(obj, "state_dict", None)) or not callable(getattr(obj, "load_state_dict", None)):
        raise TypeError(f"checkpoint= needs a {what} with state_dict() and load_state_dict()")


@dataclass
class TrainingData:
    """Where the batches come from: ``x``/``y`` lists or a map-style ``dataset`` (batched by the Trainer),
    or a user's ``loader``."""

    x: list | None
    y: list | None
    dataset: Any             # the dataset (x and y as a Dataset) for the DataLoader each run makes
    loader: Any              # the user's loader, or None
    batch_size: int | None
    shuffle: bool | None

    @classmethod
    def from_arguments(cls, x: Any, y: Any, loader: Any, batch_size: Any, shuffle: Any,
                       dataset: Any = None) -> TrainingData:
        """Check the Trainer's data arguments: ``x=`` and ``y=`` or ``dataset=``, with ``batch_size=``;
        or ``loader=``."""
        if dataset is not None:
            if x is not None or y is not None or loader is not None:
                raise ValueError("give one of x= and y=, dataset= or loader=")
            dataset = map_style_dataset(dataset, "Trainer")
        elif loader is not None:
            return cls.from_loader(x, y, loader, batch_size, shuffle)
        elif x is None and y is None:
            raise ValueError("no training data: give x= and y=, dataset= or loader=")
        elif x is None or y is None:
            raise ValueError(f"x= and y= go together; {'x' if x is None else 'y'} is missing")
        else:
            x, y = paired_samples(x, y, "Trainer")
            dataset = Dataset(x, y)
        if batch_size is None:
            given = "x= and y=" if x is not None else "dataset="
            raise TypeError(f"Trainer needs batch_size= (an int >= 1) with {given}")
        batch_size = count(batch_size, "batch_size")
        shuffle = True if shuffle is None else boolean(shuffle, "shuffle")
        return cls(x, y, dataset, None, batch_size, shuffle)

    @classmethod
    def from_loader(cls, x: Any, y: Any, loader: Any, batch_size: Any, shuffle: Any) -> TrainingData:
        """Check ``loader=`` (a DataLoader or any iterable of batches) against the other data arguments."""
        if x is not None or y is not None:
            raise ValueError("give either x= and y= or loader=, not both")
        if not hasattr(loader, "epoch_batches") and not isinstance(loader, Iterable):
            raise TypeError(f"loader must be a DataLoader or an iterable of (xb, yb) batches, "
                            f"got {type(loader).__name__}")
        if shuffle is not None:
            raise ValueError("shuffle= applies to x=/y=; set shuffle on the DataLoader instead")
        own = getattr(loader, "batch_size", None)
        if batch_size is not None:
            batch_size = count(batch_size, "batch_size")
            if own is not None and own != batch_size:
                raise ValueError(f"batch_size={batch_size} conflicts with the loader's batch_size={own}")
        return cls(None, None, None, loader, batch_size if batch_size is not None else own,
                   getattr(loader, "shuffle", None))
