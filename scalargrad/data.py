"""Data: a Dataset, a DataLoader that batches and shuffles it, splits and toy data sets.

Everything here is plain Python lists and Python's ``random``; numpy arrays
are accepted and converted. The generators are deterministic for a given
``seed`` (and draw from the global ``random`` when it is None).

A ``DataLoader`` also takes a map-style dataset, as ``torch.utils.data`` does:
any object with ``__len__`` and ``__getitem__(i)`` returning a sample ``(x, y)``.
It loads the samples of each batch when the batch is served, not before.

>>> from scalargrad.data import make_moons, DataLoader
>>> x, y = make_moons(100, noise=0.1, seed=0)
>>> loader = DataLoader((x, y), batch_size=32, seed=0)
>>> [len(xb) for xb, yb in loader]
[32, 32, 32, 4]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ._util import checks
from ._util.nested import to_lists

__all__ = [
    "DataLoader", "Dataset", "is_map_style", "load_digits", "load_samples", "make_blobs", "make_circles",
    "make_classification", "make_moons", "make_regression", "make_spirals", "ratio_split", "sample_list",
    "split_train_val", "xor",
]

LabelledPoints = tuple[list[list[float]], list[int]]  # (x, y) of a generated classification data set


def _type_as_value_error(check: Callable[[Any, str], Any], value: Any, name: str) -> Any:
    """``check(value, name)`` (a rule of ``_util.checks``), with a wrong type raising ValueError rather than
    the package's TypeError (for the counts, ``batch_size`` and ``start``)."""
    # An exception to the policy kept on purpose: test_data's test_bad_n_samples/_batch_size pin ValueError.
    try:
        return check(value, name)
    except TypeError as e:
        raise ValueError(str(e)) from None


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


def _dataset(data) -> Any:
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
        self.dataset = _dataset(dataset)
        batch_size = _type_as_value_error(checks.positive_int, batch_size, "batch_size")
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
        start = _type_as_value_error(checks.nonnegative_int, start, "start")
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


# ---- splits ---------------------------------------------------------------------

def _rng(seed: int | None):
    return random if seed is None else random.Random(seed)


def ratio_split(dataset, *ratios: float, seed: int | None = None) -> list[Dataset]:
    """Shuffle and cut a dataset into parts of the given ratios (e.g. 0.8, 0.1, 0.1).

    The ratios must be positive and add up to 1; rounding leftovers go to
    the first parts, so every sample lands in exactly one part.
    """
    ds = _dataset(dataset)
    if not isinstance(ds, Dataset):
        raise TypeError(f"ratio_split cuts a Dataset or an (x, y) tuple, got {type(ds).__name__}; for a "
                        f"map-style dataset, give each DataLoader its own indices' samples")
    # nan or inf would pass the sum test below
    ratios = tuple(checks.finite(r, "ratios entry") for r in ratios)
    if not ratios or any(r <= 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-9:
        raise ValueError(f"ratios must be positive and add up to 1, got {ratios}")
    n = len(ds)
    sizes = [math.floor(r * n) for r in ratios]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    indices = list(range(n))
    _rng(seed).shuffle(indices)
    parts, start = [], 0
    for size in sizes:
        parts.append(ds.subset(indices[start:start + size]))
        start += size
    return parts


def split_train_val(x: Sequence, y: Sequence, val_size: float = 0.1,
                    seed: int | None = None) -> tuple[list, list, list, list]:
    """Shuffle and split into ``(x_train, y_train, x_val, y_val)``.

    ``val_size`` is a fraction in (0, 1) or a number of samples.

    >>> x_tr, y_tr, x_val, y_val = split_train_val(list(range(10)), list(range(10)), val_size=0.2, seed=0)
    >>> len(x_tr), len(x_val)
    (8, 2)
    """
    ds = Dataset(x, y)
    n = len(ds)
    if not checks.is_number(val_size):
        raise TypeError(f"val_size must be a fraction or a count, got {type(val_size).__name__}")
    if checks.is_integer(val_size):  # a count (int, numpy ints); a float is a fraction
        n_val = int(val_size) if 0 <= val_size <= n else -1
    else:
        n_val = round(float(val_size) * n) if 0.0 < val_size < 1.0 else -1
    if n_val < 0:
        raise ValueError(f"val_size must be a fraction in (0, 1) or a count up to {n}, got {val_size}")
    indices = list(range(n))
    _rng(seed).shuffle(indices)
    val, train = indices[:n_val], indices[n_val:]
    return ([ds.x[i] for i in train], [ds.y[i] for i in train],
            [ds.x[i] for i in val], [ds.y[i] for i in val])


# ---- toy data sets ----------------------------------------------------------------

def _check_count(n: int, what: str = "n_samples") -> int:
    return _type_as_value_error(checks.positive_int, n, what)


def _shuffled(x: list, y: list, rng) -> tuple[list, list]:
    order = list(range(len(x)))
    rng.shuffle(order)
    return [x[i] for i in order], [y[i] for i in order]


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> LabelledPoints:
    """Two interleaving half circles in 2-D; labels 0 and 1 (micrograd's demo data)."""
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    x, y = [], []
    for i in range(n_out):
        t = math.pi * i / max(n_out - 1, 1)
        x.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        y.append(0)
    for i in range(n_in):
        t = math.pi * i / max(n_in - 1, 1)
        x.append([1.0 - math.cos(t) + rng.gauss(0, noise), 0.5 - math.sin(t) + rng.gauss(0, noise)])
        y.append(1)
    return _shuffled(x, y, rng)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.5,
                 seed: int | None = None) -> LabelledPoints:
    """A small circle (label 1) inside a large one (label 0) in 2-D."""
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    factor = checks.number(factor, "factor")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1, got {factor}")
    rng = _rng(seed)
    n_out = n_samples // 2
    x, y = [], []
    for i in range(n_samples):
        outer = i < n_out
        k, n = (i, n_out) if outer else (i - n_out, n_samples - n_out)
        t = 2.0 * math.pi * k / n
        r = 1.0 if outer else factor
        x.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        y.append(0 if outer else 1)
    return _shuffled(x, y, rng)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 seed: int | None = None) -> LabelledPoints:
    """``n_classes`` interleaved spiral arms in 2-D (the CS231n toy problem)."""
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    n_classes = _check_count(n_classes, "n_classes")
    rng = _rng(seed)
    x, y = [], []
    for i in range(n_samples):
        c = i % n_classes
        n_c = len(range(c, n_samples, n_classes))  # samples in class c (counts differ by at most 1)
        r = (i // n_classes) / max(n_c - 1, 1)
        t = c * 4.0 + r * 4.0 + rng.gauss(0, noise)
        x.append([r * math.sin(t), r * math.cos(t)])
        y.append(c)
    return _shuffled(x, y, rng)


def make_blobs(n_samples: int = 100, n_features: int = 2, centers: int | Sequence[Sequence[float]] = 3,
               cluster_std: float = 1.0, center_box: tuple[float, float] = (-10.0, 10.0),
               seed: int | None = None) -> LabelledPoints:
    """Gaussian blobs around ``centers`` (a count, drawn in ``center_box``, or explicit points)."""
    n_samples = _check_count(n_samples)
    n_features = _check_count(n_features, "n_features")
    cluster_std = checks.nonnegative(cluster_std, "cluster_std")
    rng = _rng(seed)
    if checks.is_integer(centers):
        centers = _check_count(centers, "centers")
        low, high = _box(center_box)
        centers = [[rng.uniform(low, high) for _ in range(n_features)] for _ in range(centers)]
    centers = _points(centers, "centers")
    x, y = [], []
    for i in range(n_samples):
        c = i % len(centers)
        x.append([v + rng.gauss(0, cluster_std) for v in centers[c]])
        y.append(c)
    return _shuffled(x, y, rng)


def _box(box: Any) -> tuple[float, float]:
    """``center_box``: a (low, high) pair of finite numbers with low <= high."""
    if not isinstance(box, (tuple, list)):
        raise TypeError(f"center_box must be a (low, high) pair, got {type(box).__name__}")
    if len(box) != 2:
        raise ValueError(f"center_box must be a (low, high) pair, got {box!r}"[:200])
    low, high = (checks.finite(v, "center_box entry") for v in box)
    if low > high:
        raise ValueError(f"center_box must be (low, high) with low <= high, got {box!r}")
    return low, high


def _points(points: Any, what: str) -> list[list[float]]:
    """A non-empty list of points, all of the same (non-zero) length, as lists of floats."""
    points = sample_list(points, what)
    if not points:
        raise ValueError(f"{what} must not be empty")
    out = []
    for i, p in enumerate(points):
        if not isinstance(p, (list, tuple)):
            raise TypeError(f"{what}: point {i} must be a non-empty list of numbers, got {p!r}"[:200])
        if not p:
            raise ValueError(f"{what}: point {i} must be a non-empty list of numbers, got {p!r}"[:200])
        out.append([checks.finite(v, f"{what} value", f" (point {i})") for v in p])
        if len(out[-1]) != len(out[0]):
            raise ValueError(f"{what}: point {i} has {len(p)} values but point 0 has {len(out[0])}")
    return out


def make_classification(n_samples: int = 100, n_features: int = 16, n_classes: int = 3,
                        n_informative: int | None = None, class_sep: float = 1.5, noise: float = 1.0,
                        seed: int | None = None) -> LabelledPoints:
    """A multiclass problem: each class is a Gaussian cloud around its own random centre.

    The first ``n_informative`` features (default: all) carry the class;
    the rest are pure noise.
    """
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    n_features = _check_count(n_features, "n_features")
    n_classes = _check_count(n_classes, "n_classes")
    class_sep = checks.number(class_sep, "class_sep")
    n_informative = n_features if n_informative is None else checks.integer(n_informative, "n_informative")
    if not 1 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be between 1 and n_features, got {n_informative}")
    rng = _rng(seed)
    centers = [[rng.choice((-class_sep, class_sep)) + rng.gauss(0, 0.5) for _ in range(n_informative)]
               for _ in range(n_classes)]
    x, y = [], []
    for i in range(n_samples):
        c = i % n_classes
        informative = [v + rng.gauss(0, noise) for v in centers[c]]
        x.append(informative + [rng.gauss(0, noise) for _ in range(n_features - n_informative)])
        y.append(c)
    return _shuffled(x, y, rng)


def make_regression(n_samples: int = 100, n_features: int = 16, n_informative: int | None = None,
                    noise: float = 0.1, bias: float = 0.0,
                    seed: int | None = None) -> tuple[list[list[float]], list[float]]:
    """Targets ``y = w . x + bias + noise`` for a random ``w`` over the first ``n_informative`` features.

    Returns ``(x, y)`` with ``y`` a list of floats.
    """
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    bias = checks.number(bias, "bias")
    n_features = _check_count(n_features, "n_features")
    n_informative = n_features if n_informative is None else checks.integer(n_informative, "n_informative")
    if not 1 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be between 1 and n_features, got {n_informative}")
    rng = _rng(seed)
    w = [rng.uniform(-1.0, 1.0) for _ in range(n_informative)]
    x, y = [], []
    for _ in range(n_samples):
        xi = [rng.gauss(0, 1) for _ in range(n_features)]
        x.append(xi)
        y.append(sum(a * b for a, b in zip(w, xi)) + bias + rng.gauss(0, noise))
    return x, y


def xor(n_samples: int | None = None, noise: float = 0.0, seed: int | None = None) -> LabelledPoints:
    """The four points of the README's quickstart: XNOR, the complement of XOR (label 1 when both inputs are
    equal).

    With ``n_samples``, that many noisy copies of the four corners.
    """
    corners = [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    labels = [1, 0, 0, 1]
    if n_samples is None:
        return [list(c) for c in corners], list(labels)
    n_samples = _check_count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    rng = _rng(seed)
    x, y = [], []
    for i in range(n_samples):
        c = i % 4
        x.append([v + rng.gauss(0, noise) for v in corners[c]])
        y.append(labels[c])
    return _shuffled(x, y, rng)


def load_digits(as_images: bool = False) -> tuple[list, list[int]]:
    """scikit-learn's 1,797 real 8x8 handwritten digits, pixels scaled to [0, 1].

    Returns ``(x, y)``: ``x`` is a list of 64 floats per image, or with
    ``as_images=True`` nested lists shaped ``[1][8][8]`` for Conv2D; ``y``
    the digits 0-9. The images ship with scikit-learn (no download).
    """
    as_images = checks.boolean(as_images, "as_images")
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn") from None
    bunch = _sk_load_digits()
    pixels = (bunch.data / 16.0).tolist()
    y = [int(t) for t in bunch.target]
    if as_images:
        return [[[row[r * 8:(r + 1) * 8] for r in range(8)]] for row in pixels], y
    return pixels, y
