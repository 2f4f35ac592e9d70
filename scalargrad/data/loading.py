"""Samples in memory and batches of them: ``Dataset``, ``DataLoader``, and how samples come in.

Everything here is plain Python lists and Python's ``random``; numpy arrays
are accepted and converted. A ``DataLoader`` also takes a map-style dataset,
as ``torch.utils.data`` does: any object with ``__len__`` and
``__getitem__(i)`` returning a sample ``(x, y)``. It loads the samples of
each batch when the batch is served, not before.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from .._util import checks
from .._util.nested import to_lists
from .arguments import type_as_value_error

__all__ = ["DataLoader", "Dataset", "is_map_style", "load_samples", "sample_list"]


def sample_list(values: Any, what: str) -> list:
    """A data set's inputs or targets (a list, a sequence or a numpy array) as a new list; numpy arrays
    in it, at any depth (a list of arrays, one per sample), become (nested) lists."""
    values = to_lists(values)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a list (or numpy array), got {type(values).__name__}")
    return list(values)


class Dataset:
    """Samples ``x`` and targets ``y`` side by side.

    >>> ds = Dataset([[0.0], [1.0]], [0, 1])
    >>> len(ds), ds[1]
    (2, ([1.0], 1))
    """

    def __init__(self, x: Sequence, y: Sequence) -> None:
        self.x = sample_list(x, "x")
        self.y = sample_list(y, "y")
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} samples but y has {len(self.y)} targets")

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int | slice) -> tuple[Any, Any] | Dataset:
        if isinstance(index, slice):
            return Dataset(self.x[index], self.y[index])
        return self.x[index], self.y[index]

    def subset(self, indices: Sequence[int]) -> Dataset:
        """The samples at ``indices``, in that order."""
        return Dataset([self.x[i] for i in indices], [self.y[i] for i in indices])

    def __repr__(self) -> str:
        return f"Dataset({len(self)} samples)"


def as_dataset(data) -> Any:
    """A Dataset from an (x, y) tuple; a Dataset or another map-style dataset as it is."""
    if isinstance(data, tuple) and len(data) == 2:
        return Dataset(*data)
    if is_map_style(data):
        return data
    raise TypeError("expected a Dataset, an (x, y) tuple, or a map-style dataset (an object with __len__ "
                    f"and __getitem__ returning (x, y) samples), got {type(data).__name__}")


def is_map_style(data: Any) -> bool:
    """Whether ``data`` is a map-style dataset: ``len(data)`` samples, ``data[i]`` an ``(x, y)`` pair.

    A ``Dataset`` is one; so is any object with ``__len__`` and ``__getitem__``, as in
    ``torch.utils.data``, but for the built-in containers: a tuple is ``(x, y)``, and
    a list, a dict or a string is taken for a mistake rather than read as samples.
    """
    kind = type(data)
    return hasattr(kind, "__len__") and hasattr(kind, "__getitem__") \
        and not issubclass(kind, (list, tuple, dict, str, bytes))


def _sample_error(error: Exception, dataset: Any, index: int) -> Exception:
    """The exception to raise, chained to ``error``, when ``dataset[index]`` raised ``error``: of the same
    kind, so that ``except`` clauses still catch it, with a message naming the sample (a RuntimeError for
    a kind that cannot be made from a message alone).

    >>> error = _sample_error(FileNotFoundError('img_7.png'), Dataset([[0.0]], [0]), 7)
    >>> type(error).__name__
    'FileNotFoundError'
    >>> print(error)
    loading sample 7 of the dataset failed: Dataset[7] raised FileNotFoundError: img_7.png
    """
    message = (f"loading sample {index} of the dataset failed: "
               f"{type(dataset).__name__}[{index}] raised {type(error).__name__}: {error}")
    try:
        return type(error)(message)
    except TypeError:  # a kind whose constructor wants other arguments
        return RuntimeError(message)


def load_samples(dataset: Any, indices: Sequence[int]) -> tuple[list, list]:
    """The inputs and the targets of the samples at ``indices`` of a map-style dataset, as two lists.

    A ``Dataset``'s lists are read directly; another dataset is asked for each
    sample in turn (``dataset[i]``), and numpy arrays in a sample become lists.
    An exception raised by ``dataset[i]`` comes back naming the index ``i``,
    chained to the original.
    """
    if type(dataset).__getitem__ is Dataset.__getitem__:
        x, y = dataset.x, dataset.y
        return [x[i] for i in indices], [y[i] for i in indices]
    xs, ys = [], []
    for i in indices:
        try:
            sample = dataset[i]
        except Exception as e:
            raise _sample_error(e, dataset, i) from e
        if not isinstance(sample, (tuple, list)) or len(sample) != 2:
            raise TypeError(f"a dataset's item must be an (x, y) pair; {type(dataset).__name__}[{i}] "
                            f"gave {type(sample).__name__} {sample!r}"[:300])
        xs.append(to_lists(sample[0]))
        ys.append(to_lists(sample[1]))
    return xs, ys


class DataLoader:
    """Batches of a dataset, reshuffled every epoch.

    ``dataset`` is a ``Dataset``, an ``(x, y)`` tuple of lists (or numpy
    arrays), or any map-style dataset (``__len__``, and ``__getitem__(i)``
    giving ``(x, y)``), whose samples are loaded batch by batch.

    Iterating gives ``(xb, yb)`` list pairs for the next epoch. With a
    ``seed`` the order of each epoch depends only on (seed, epoch), so a
    run interrupted mid-epoch can continue with ``epoch_batches(epoch,
    start)`` and see exactly the batches it would have seen; without one
    the order comes from Python's global ``random``.
    """

    def __init__(self, dataset: Any, batch_size: int = 1,
                 shuffle: bool = True, seed: int | None = None, drop_last: bool = False) -> None:
        self.dataset = as_dataset(dataset)
        batch_size = type_as_value_error(checks.positive_int, batch_size, "batch_size")
        if seed is not None:
            seed = checks.integer(seed, "seed")
        if len(self.dataset) == 0:
            raise ValueError("the dataset is empty")
        self.batch_size = batch_size
        self.shuffle = checks.boolean(shuffle, "shuffle")
        self.seed = seed
        self.drop_last = checks.boolean(drop_last, "drop_last")
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch: int) -> list[int]:
        """The sample indices of ``epoch`` in the order they are served."""
        checks.integer(epoch, "epoch")
        indices = list(range(len(self.dataset)))
        if self.shuffle:
            if self.seed is None:
                random.shuffle(indices)
            else:
                # A string seed is hashed (sha512), so every (seed, epoch) pair gets its own
                # stream; an int such as seed * k + epoch would collide (and Random(-s) == Random(s)).
                random.Random(f"DataLoader:{self.seed}:{epoch}").shuffle(indices)
        return indices

    def epoch_batches(self, epoch: int, start: int = 0) -> Iterator[tuple[list, list]]:
        """The batches of ``epoch`` from batch number ``start`` on."""
        start = type_as_value_error(checks.nonnegative_int, start, "start")
        return self._batches(self.order(epoch), start)  # checked and ordered now, not at the first next()

    def _batches(self, indices: list[int], start: int) -> Iterator[tuple[list, list]]:
        dataset, b = self.dataset, self.batch_size
        for k in range(start, len(self)):
            yield load_samples(dataset, indices[k * b:(k + 1) * b])

    def __iter__(self) -> Iterator[tuple[list, list]]:
        epoch = self.epoch
        self.epoch += 1
        return self.epoch_batches(epoch)

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed})")

