"""Splits: a dataset shuffled and cut into parts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._util import checks
from .arguments import random_source
from .loading import Dataset, as_dataset

__all__ = ["ratio_split", "split_train_val"]



def ratio_split(dataset, *ratios: float, seed: int | None = None) -> list[Dataset]:
    """Shuffle and cut a dataset into parts of the given ratios (e.g. 0.8, 0.1, 0.1).

    The ratios must be positive and add up to 1; rounding leftovers go to
    the first parts, so every sample lands in exactly one part.
    """
    ds = as_dataset(dataset)
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
    random_source(seed).shuffle(indices)
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
    random_source(seed).shuffle(indices)
    val, train = indices[:n_val], indices[n_val:]
    return ([ds.x[i] for i in train], [ds.y[i] for i in train],
            [ds.x[i] for i in val], [ds.y[i] for i in val])
