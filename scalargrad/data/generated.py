"""Generated data sets: moons, circles, spirals, blobs, classification and regression problems, XOR.

Each one is deterministic for a given ``seed`` and draws from Python's global
``random`` when it is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._util import checks
from .arguments import count, random_source
from .loading import sample_list

__all__ = [
    "make_blobs", "make_circles", "make_classification", "make_moons", "make_regression", "make_spirals",
    "xor",
]

LabelledPoints = tuple[list[list[float]], list[int]]  # (x, y) of a generated classification data set


def _shuffled(x: list, y: list, rng) -> tuple[list, list]:
    order = list(range(len(x)))
    rng.shuffle(order)
    return [x[i] for i in order], [y[i] for i in order]


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> LabelledPoints:
    """Two interleaving half circles in 2-D; labels 0 and 1 (micrograd's demo data)."""
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    rng = random_source(seed)
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
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    factor = checks.number(factor, "factor")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1, got {factor}")
    rng = random_source(seed)
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
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    n_classes = count(n_classes, "n_classes")
    rng = random_source(seed)
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
    n_samples = count(n_samples)
    n_features = count(n_features, "n_features")
    cluster_std = checks.nonnegative(cluster_std, "cluster_std")
    rng = random_source(seed)
    if checks.is_integer(centers):
        centers = count(centers, "centers")
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
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    n_features = count(n_features, "n_features")
    n_classes = count(n_classes, "n_classes")
    class_sep = checks.number(class_sep, "class_sep")
    n_informative = n_features if n_informative is None else checks.integer(n_informative, "n_informative")
    if not 1 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be between 1 and n_features, got {n_informative}")
    rng = random_source(seed)
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
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    bias = checks.number(bias, "bias")
    n_features = count(n_features, "n_features")
    n_informative = n_features if n_informative is None else checks.integer(n_informative, "n_informative")
    if not 1 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be between 1 and n_features, got {n_informative}")
    rng = random_source(seed)
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
    n_samples = count(n_samples)
    noise = checks.nonnegative(noise, "noise")
    rng = random_source(seed)
    x, y = [], []
    for i in range(n_samples):
        c = i % 4
        x.append([v + rng.gauss(0, noise) for v in corners[c]])
        y.append(labels[c])
    return _shuffled(x, y, rng)
