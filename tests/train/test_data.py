"""Tests of scalargrad.data: Dataset, DataLoader, splits and the toy data sets.

The generators are checked for shape, labels and determinism, and for a
geometric property that shows the points are what the name says (moons lie
on their half circles, make_regression is exactly linear, ...).
"""

import math
import random
import sys
from collections import Counter

import numpy as np
import pytest

from scalargrad.data import (
    DataLoader,
    Dataset,
    load_digits,
    make_blobs,
    make_circles,
    make_classification,
    make_moons,
    make_regression,
    make_spirals,
    ratio_split,
    split_train_val,
    xor,
)


def toy(n):
    """n samples whose x remembers its index: x[i] == [float(i), -float(i)], y[i] == i."""
    return [[float(i), -float(i)] for i in range(n)], list(range(n))


def ids(batches):
    """The sample indices served by a list of (xb, yb) batches, in order."""
    return [int(t) for _, yb in batches for t in yb]


# ---- Dataset ------------------------------------------------------------------------

class TestDataset:
    def test_lists(self):
        ds = Dataset([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], [0, 1, 0])
        assert len(ds) == 3
        assert ds[1] == ([2.0, 3.0], 1)
        assert ds[-1] == ([4.0, 5.0], 0)
        assert repr(ds) == "Dataset(3 samples)"

    def test_numpy_arrays_become_lists(self):
        x = np.arange(12, dtype=np.float64).reshape(6, 2)
        y = np.array([0, 1, 2, 0, 1, 2])
        ds = Dataset(x, y)
        assert type(ds.x) is list and all(type(row) is list for row in ds.x)
        assert all(type(v) is float for row in ds.x for v in row)
        assert type(ds.y) is list and all(type(t) is int for t in ds.y)
        assert ds.x == x.tolist() and ds.y == y.tolist()

    def test_list_of_numpy_rows_becomes_lists(self):
        ds = Dataset([np.array([1.0, 2.0]), np.array([3.0, 4.0])], (np.int64(0), np.int64(1)))
        assert ds.x == [[1.0, 2.0], [3.0, 4.0]] and all(type(row) is list for row in ds.x)
        assert ds.y == [0, 1] and all(type(t) is int for t in ds.y)

    def test_mismatched_lengths(self):
        with pytest.raises(ValueError, match="3 samples but y has 2"):
            Dataset([[0.0], [1.0], [2.0]], [0, 1])
        with pytest.raises(ValueError):
            Dataset(np.zeros((4, 2)), np.zeros(5))

    @pytest.mark.parametrize("bad", ["abc", b"abc", 3, None])
    def test_not_a_sequence(self, bad):
        with pytest.raises(TypeError, match="must be a list"):
            Dataset(bad, [0, 1, 2])

    def test_slicing_gives_a_dataset(self):
        ds = Dataset(*toy(10))
        part = ds[2:8:2]
        assert isinstance(part, Dataset)
        assert part.x == [[2.0, -2.0], [4.0, -4.0], [6.0, -6.0]] and part.y == [2, 4, 6]
        assert len(ds[::-1]) == 10 and ds[::-1].y == list(range(9, -1, -1))
        assert len(ds[20:]) == 0

    def test_subset_keeps_the_given_order(self):
        ds = Dataset(*toy(10))
        sub = ds.subset([7, 1, 7, 3])
        assert sub.y == [7, 1, 7, 3]
        assert sub.x == [[7.0, -7.0], [1.0, -1.0], [7.0, -7.0], [3.0, -3.0]]
        assert len(ds.subset([])) == 0

    def test_index_out_of_range(self):
        with pytest.raises(IndexError):
            Dataset(*toy(3))[3]


# ---- DataLoader ------------------------------------------------------------------------

class TestDataLoader:
    @pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
        (10, 3, False, [3, 3, 3, 1]),
        (10, 3, True, [3, 3, 3]),
        (9, 3, False, [3, 3, 3]),
        (9, 3, True, [3, 3, 3]),
        (5, 1, False, [1] * 5),
        (5, 5, False, [5]),
        (5, 8, False, [5]),
        (5, 8, True, []),
        (100, 32, False, [32, 32, 32, 4]),
    ])
    def test_batch_sizes(self, n, batch_size, drop_last, sizes):
        loader = DataLoader(toy(n), batch_size=batch_size, seed=0, drop_last=drop_last)
        batches = list(loader)
        assert [len(xb) for xb, yb in batches] == sizes
        assert [len(yb) for xb, yb in batches] == sizes
        assert len(loader) == len(sizes)

    @pytest.mark.parametrize("seed", [0, 1, None])
    def test_every_sample_once_per_epoch(self, seed):
        loader = DataLoader(toy(23), batch_size=4, seed=seed)
        for _ in range(5):
            batches = list(loader)
            assert sorted(ids(batches)) == list(range(23))
            for xb, yb in batches:  # x and y stay paired
                assert xb == [[float(t), -float(t)] for t in yb]

    def test_drop_last_drops_only_the_partial_batch(self):
        loader = DataLoader(toy(23), batch_size=4, seed=3, drop_last=True)
        served = ids(list(loader))
        assert len(served) == 20 and len(set(served)) == 20
        assert served == loader.order(0)[:20]

    def test_no_shuffle_keeps_order(self):
        loader = DataLoader(toy(10), batch_size=4, shuffle=False)
        for _ in range(3):
            batches = list(loader)
            assert ids(batches) == list(range(10))
            assert batches[0] == ([[0.0, -0.0], [1.0, -1.0], [2.0, -2.0], [3.0, -3.0]], [0, 1, 2, 3])
        assert loader.order(7) == list(range(10))

    def test_accepts_a_dataset(self):
        ds = Dataset(*toy(6))
        loader = DataLoader(ds, batch_size=4, shuffle=False)
        assert loader.dataset is ds
        assert ids(list(loader)) == list(range(6))

    def test_seeded_order_depends_only_on_seed_and_epoch(self):
        a = DataLoader(toy(50), batch_size=8, seed=42)
        random.seed(1)
        first = [ids(list(a)) for _ in range(4)]
        # A fresh loader with the same seed, with the global random state moved on,
        # gives the same epochs; so does asking for the epochs directly, in any order.
        random.seed(999)
        random.random()
        b = DataLoader(toy(50), batch_size=8, seed=42)
        assert [ids(list(b)) for _ in range(4)] == first
        assert [b.order(e) for e in (3, 0, 2, 1)] == [first[3], first[0], first[2], first[1]]
        # The batch size does not change which samples come in which order.
        c = DataLoader(toy(50), batch_size=5, seed=42)
        assert [c.order(e) for e in range(4)] == first

    def test_different_epochs_and_seeds_differ(self):
        loader = DataLoader(toy(50), batch_size=8, seed=7)
        orders = [tuple(loader.order(e)) for e in range(10)]
        assert len(set(orders)) == 10
        assert all(o != tuple(range(50)) for o in orders)
        others = {tuple(DataLoader(toy(50), seed=s).order(0)) for s in (-2, -1, 0, 1, 2, 7, 10**12)}
        assert len(others) == 7  # in particular seed -1 and seed 1 differ

    def test_epoch_counter(self):
        loader = DataLoader(toy(12), batch_size=5, seed=0)
        assert loader.epoch == 0
        for epoch in range(3):
            assert ids(list(loader)) == loader.order(epoch)
        assert loader.epoch == 3

    @pytest.mark.parametrize("drop_last", [False, True])
    def test_epoch_batches_resume(self, drop_last):
        loader = DataLoader(toy(23), batch_size=4, seed=5, drop_last=drop_last)
        for epoch in (0, 3):
            full = list(loader.epoch_batches(epoch))
            assert full == list(DataLoader(toy(23), batch_size=4, seed=5,
                                           drop_last=drop_last).epoch_batches(epoch))
            for start in range(len(full) + 2):
                assert list(loader.epoch_batches(epoch, start)) == full[start:]
        assert loader.epoch == 0  # epoch_batches does not advance the loader

    def test_epoch_batches_bad_arguments(self):
        loader = DataLoader(toy(10), batch_size=3, seed=0)
        for bad in (-1, 1.0, True, "1"):
            with pytest.raises(ValueError, match="start"):
                loader.epoch_batches(0, bad)  # fails at the call, not at the first next()
        with pytest.raises(TypeError, match="epoch"):
            loader.order(1.0)

    def test_seed_none_uses_global_random(self):
        loader = DataLoader(toy(40), batch_size=8)
        random.seed(123)
        first = ids(list(loader))
        second = ids(list(loader))
        random.seed(123)
        assert ids(list(loader)) == first
        assert ids(list(loader)) == second
        assert first != second
        random.seed(123)
        expected = list(range(40))
        random.shuffle(expected)
        assert first == expected

    @pytest.mark.parametrize("bad", [0, -1, 1.5, "4", None, True])
    def test_bad_batch_size(self, bad):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(toy(10), batch_size=bad)

    @pytest.mark.parametrize("bad", [1.5, "0", True, [1]])
    def test_bad_seed(self, bad):
        with pytest.raises(TypeError, match="seed"):
            DataLoader(toy(10), seed=bad)

    def test_empty_dataset(self):
        with pytest.raises(ValueError, match="empty"):
            DataLoader(([], []))

    @pytest.mark.parametrize("bad", [[[0.0], [1.0]], ([[0.0]],), ([[0.0]], [0], [0]), "xy"])
    def test_not_a_dataset(self, bad):
        with pytest.raises(TypeError, match="Dataset"):
            DataLoader(bad)

    def test_repr(self):
        assert repr(DataLoader(toy(5), batch_size=2, seed=1)) == (
            "DataLoader(5 samples, batch_size=2, shuffle=True, seed=1)")


# ---- splits ----------------------------------------------------------------------------

class TestRatioSplit:
    @pytest.mark.parametrize("n, ratios, sizes", [
        (10, (0.8, 0.1, 0.1), [8, 1, 1]),
        (10, (1 / 3, 1 / 3, 1 / 3), [4, 3, 3]),
        (11, (0.5, 0.5), [6, 5]),
        (7, (1.0,), [7]),
        (3, (0.25, 0.25, 0.25, 0.25), [1, 1, 1, 0]),
        (1000, (0.7, 0.2, 0.1), [700, 200, 100]),
    ])
    def test_sizes(self, n, ratios, sizes):
        parts = ratio_split(toy(n), *ratios, seed=0)
        assert [len(p) for p in parts] == sizes
        assert sum(sizes) == n

    @pytest.mark.parametrize("n", [1, 2, 9, 10, 37, 101])
    def test_disjoint_and_complete(self, n):
        parts = ratio_split(Dataset(*toy(n)), 0.6, 0.3, 0.1, seed=1)
        assert all(isinstance(p, Dataset) for p in parts)
        served = [t for p in parts for t in p.y]
        assert sorted(served) == list(range(n))  # every sample in exactly one part
        for p in parts:
            assert p.x == [[float(t), -float(t)] for t in p.y]

    def test_deterministic_with_seed(self):
        a = [p.y for p in ratio_split(toy(50), 0.5, 0.5, seed=3)]
        random.seed(0)
        b = [p.y for p in ratio_split(toy(50), 0.5, 0.5, seed=3)]
        c = [p.y for p in ratio_split(toy(50), 0.5, 0.5, seed=4)]
        assert a == b and a != c
        assert a[0] != list(range(25))  # shuffled

    def test_seed_none_uses_global_random(self):
        random.seed(8)
        a = [p.y for p in ratio_split(toy(50), 0.5, 0.5)]
        random.seed(8)
        assert [p.y for p in ratio_split(toy(50), 0.5, 0.5)] == a

    @pytest.mark.parametrize("ratios", [(), (0.5, 0.6), (0.5, 0.4), (1.2, -0.2), (0.0, 1.0), (2.0,)])
    def test_bad_ratios(self, ratios):
        with pytest.raises(ValueError, match="ratios"):
            ratio_split(toy(10), *ratios)


class TestSplitTrainVal:
    def test_seed_api_order_and_alignment(self):
        x, y = toy(20)
        x_tr, y_tr, x_val, y_val = split_train_val(x, y, val_size=0.25, seed=0)
        assert (len(x_tr), len(y_tr), len(x_val), len(y_val)) == (15, 15, 5, 5)
        assert x_tr == [[float(t), -float(t)] for t in y_tr]
        assert x_val == [[float(t), -float(t)] for t in y_val]
        assert sorted(y_tr + y_val) == list(range(20))
        assert y_tr + y_val != list(range(20))  # shuffled

    @pytest.mark.parametrize("val_size, n_val", [
        (0.1, 10), (0.5, 50), (0.99, 99), (0.001, 0), (0.004, 0), (0.006, 1),
        (0, 0), (1, 1), (30, 30), (100, 100), (np.int64(7), 7), (np.float32(0.25), 25),
    ])
    def test_fraction_and_count(self, val_size, n_val):
        x_tr, y_tr, x_val, y_val = split_train_val(*toy(100), val_size=val_size, seed=2)
        assert len(x_val) == len(y_val) == n_val
        assert len(x_tr) == len(y_tr) == 100 - n_val

    def test_default_val_size(self):
        x_tr, _, x_val, _ = split_train_val(*toy(50))
        assert (len(x_tr), len(x_val)) == (45, 5)

    def test_numpy_inputs(self):
        x = np.arange(20.0).reshape(10, 2)
        y = np.arange(10)
        x_tr, y_tr, x_val, y_val = split_train_val(x, y, val_size=3, seed=0)
        assert all(type(row) is list for row in x_tr + x_val)
        assert all(type(t) is int for t in y_tr + y_val)
        assert all(row == [2.0 * t, 2.0 * t + 1] for row, t in zip(x_tr + x_val, y_tr + y_val))

    def test_deterministic_with_seed(self):
        a = split_train_val(*toy(30), val_size=0.2, seed=11)
        random.random()
        assert split_train_val(*toy(30), val_size=0.2, seed=11) == a
        assert split_train_val(*toy(30), val_size=0.2, seed=12) != a
        random.seed(4)
        b = split_train_val(*toy(30), val_size=0.2)
        random.seed(4)
        assert split_train_val(*toy(30), val_size=0.2) == b

    @pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, -1, 11, float("nan")])
    def test_bad_val_size_value(self, bad):
        with pytest.raises(ValueError, match="val_size"):
            split_train_val(*toy(10), val_size=bad)

    @pytest.mark.parametrize("bad", ["0.1", None, True, [0.1]])
    def test_bad_val_size_type(self, bad):
        with pytest.raises(TypeError, match="val_size"):
            split_train_val(*toy(10), val_size=bad)

    def test_mismatched_lengths(self):
        with pytest.raises(ValueError):
            split_train_val([[0.0]] * 5, [0] * 4)


# ---- toy data sets ----------------------------------------------------------------------

GENERATORS = {
    "moons": lambda seed, n=100: make_moons(n, noise=0.1, seed=seed),
    "circles": lambda seed, n=100: make_circles(n, noise=0.1, seed=seed),
    "spirals": lambda seed, n=90: make_spirals(n, n_classes=3, seed=seed),
    "blobs": lambda seed, n=100: make_blobs(n, n_features=3, centers=4, seed=seed),
    "classification": lambda seed, n=100: make_classification(n, n_features=5, n_classes=3, seed=seed),
    "regression": lambda seed, n=100: make_regression(n, n_features=4, seed=seed),
    "xor": lambda seed, n=100: xor(n, noise=0.1, seed=seed),
}
SHAPES = {  # name: (n_features, label set or None for float targets)
    "moons": (2, {0, 1}), "circles": (2, {0, 1}), "spirals": (2, {0, 1, 2}), "blobs": (3, {0, 1, 2, 3}),
    "classification": (5, {0, 1, 2}), "regression": (4, None), "xor": (2, {0, 1}),
}


class TestGenerators:
    @pytest.mark.parametrize("name", sorted(GENERATORS))
    @pytest.mark.parametrize("n", [1, 7, 90])
    def test_shapes_and_labels(self, name, n):
        x, y = GENERATORS[name](0, n)
        n_features, labels = SHAPES[name]
        assert type(x) is list and type(y) is list
        assert len(x) == len(y) == n
        assert all(type(row) is list and len(row) == n_features for row in x)
        assert all(type(v) is float and math.isfinite(v) for row in x for v in row)
        if labels is None:
            assert all(type(t) is float for t in y)
        else:
            assert all(type(t) is int for t in y)
            assert set(y) <= labels
            if n == 90:
                assert set(y) == labels
                counts = Counter(y).values()
                assert max(counts) - min(counts) <= 1  # balanced classes

    @pytest.mark.parametrize("name", sorted(GENERATORS))
    def test_deterministic_with_seed(self, name):
        a = GENERATORS[name](3)
        random.seed(0)
        random.random()
        assert GENERATORS[name](3) == a
        assert GENERATORS[name](4) != a

    @pytest.mark.parametrize("name", sorted(GENERATORS))
    def test_seed_none_uses_global_random(self, name):
        random.seed(17)
        a = GENERATORS[name](None)
        random.seed(17)
        assert GENERATORS[name](None) == a
        assert GENERATORS[name](None) != a

    @pytest.mark.parametrize("name", ["moons", "circles", "spirals", "blobs", "classification", "xor"])
    def test_samples_are_shuffled(self, name):
        _, y = GENERATORS[name](0, 90)
        assert y != sorted(y)
        assert not all(y[i] == i % len(set(y)) for i in range(len(y)))  # not in the generating order

    @pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_blobs, make_classification,
                                      make_regression, xor])
    @pytest.mark.parametrize("bad", [0, -3, 2.5, True])
    def test_bad_n_samples(self, make, bad):
        with pytest.raises(ValueError, match="n_samples"):
            make(bad)


class TestGeometry:
    @pytest.mark.parametrize("n", [100, 101, 2, 3])
    def test_moons_lie_on_the_two_half_circles(self, n):
        x, y = make_moons(n, noise=0.0, seed=0)
        assert Counter(y) == {0: n // 2, 1: n - n // 2}
        for (a, b), label in zip(x, y):
            if label == 0:  # upper half of the unit circle around (0, 0)
                assert math.isclose(math.hypot(a, b), 1.0, abs_tol=1e-12) and b >= -1e-12
            else:  # lower half of the unit circle around (1, 0.5)
                assert math.isclose(math.hypot(a - 1.0, b - 0.5), 1.0, abs_tol=1e-12) and b <= 0.5 + 1e-12
        # the half circles are covered end to end: both ends of each arc are present
        points = {(round(a, 9), round(b, 9), t) for (a, b), t in zip(x, y)}
        if n >= 4:
            assert {(1.0, 0.0, 0), (-1.0, 0.0, 0), (0.0, 0.5, 1), (2.0, 0.5, 1)} <= points
        else:  # one point on the upper arc: its start
            assert (1.0, 0.0, 0) in points

    def test_moons_noise_spreads_points(self):
        x, y = make_moons(2000, noise=0.1, seed=0)
        dist = [math.hypot(a, b) - 1.0 if t == 0 else math.hypot(a - 1.0, b - 0.5) - 1.0
                for (a, b), t in zip(x, y)]
        spread = math.sqrt(sum(d * d for d in dist) / len(dist))
        assert 0.07 < spread < 0.13

    @pytest.mark.parametrize("factor", [0.5, 0.3, 0.8])
    def test_circles_radii_are_one_and_factor(self, factor):
        x, y = make_circles(101, noise=0.0, factor=factor, seed=0)
        assert Counter(y) == {0: 50, 1: 51}
        for (a, b), label in zip(x, y):
            assert math.isclose(math.hypot(a, b), 1.0 if label == 0 else factor, rel_tol=1e-12)
        # evenly spaced, distinct angles on each circle
        for label, count in ((0, 50), (1, 51)):
            angles = sorted(math.atan2(b, a) % (2 * math.pi) for (a, b), t in zip(x, y) if t == label)
            gaps = [b - a for a, b in zip(angles, angles[1:])]
            assert all(math.isclose(g, 2 * math.pi / count, rel_tol=1e-9) for g in gaps)

    def test_circles_bad_factor(self):
        for bad in (0.0, 1.0, 1.5, -0.5):
            with pytest.raises(ValueError, match="factor"):
                make_circles(10, factor=bad)

    @pytest.mark.parametrize("n, k", [(300, 3), (10, 3), (11, 3), (50, 4), (7, 2)])
    def test_spirals_follow_their_arms(self, n, k):
        x, y = make_spirals(n, n_classes=k, noise=0.0, seed=0)
        counts = Counter(y)
        assert set(counts) == set(range(k)) and max(counts.values()) - min(counts.values()) <= 1
        for c in range(k):
            pts = [p for p, t in zip(x, y) if t == c]
            radii = sorted(math.hypot(a, b) for a, b in pts)
            # radii run evenly from 0 to 1 along each arm
            assert math.isclose(radii[0], 0.0, abs_tol=1e-12)
            if len(pts) > 1:
                assert math.isclose(radii[-1], 1.0, rel_tol=1e-12)
                step = 1.0 / (len(pts) - 1)
                assert all(math.isclose(b - a, step, rel_tol=1e-9) for a, b in zip(radii, radii[1:]))
            # the angle grows with the radius: t = 4c + 4r, with x = r sin t, y = r cos t
            for a, b in pts:
                r = math.hypot(a, b)
                t = 4.0 * c + 4.0 * r
                assert math.isclose(a, r * math.sin(t), abs_tol=1e-12)
                assert math.isclose(b, r * math.cos(t), abs_tol=1e-12)

    def test_spirals_noise_moves_only_the_angle(self):
        x, _ = make_spirals(300, noise=0.5, seed=1)
        assert max(math.hypot(a, b) for a, b in x) <= 1.0 + 1e-12

    def test_blobs_near_explicit_centres(self):
        centers = [[0.0, 0.0], [10.0, 0.0], [0.0, -10.0], [5.0, 5.0]]
        x, y = make_blobs(4000, centers=centers, cluster_std=0.5, seed=0)
        assert Counter(y) == {0: 1000, 1: 1000, 2: 1000, 3: 1000}
        for c, centre in enumerate(centers):
            pts = np.array([p for p, t in zip(x, y) if t == c])
            assert np.allclose(pts.mean(axis=0), centre, atol=0.06)
            assert np.allclose(pts.std(axis=0), 0.5, rtol=0.08)
            assert np.linalg.norm(pts - centre, axis=1).max() < 0.5 * 6  # no point far from its centre

    def test_blobs_random_centres_inside_the_box(self):
        x, y = make_blobs(600, n_features=3, centers=3, cluster_std=0.01, center_box=(2.0, 4.0), seed=5)
        pts = np.array(x)
        labels = np.array(y)
        means = np.array([pts[labels == c].mean(axis=0) for c in range(3)])
        assert ((means > 2.0 - 0.01) & (means < 4.0 + 0.01)).all()
        assert (np.linalg.norm(pts - means[labels], axis=1) < 0.01 * 6).all()

    def test_blobs_bad_centers(self):
        with pytest.raises(ValueError, match="centers"):
            make_blobs(10, centers=0)

    def test_classification_informative_features_carry_the_class(self):
        x, y = make_classification(3000, n_features=6, n_classes=4, n_informative=3, class_sep=3.0,
                                   noise=0.3, seed=0)
        pts, labels = np.array(x), np.array(y)
        means = np.array([pts[labels == c].mean(axis=0) for c in range(4)])
        # noise features: mean ~0 and std ~noise for every class
        assert np.allclose(means[:, 3:], 0.0, atol=0.05)
        assert np.allclose(pts[:, 3:].std(axis=0), 0.3, rtol=0.08)
        # informative features: class centres near +-class_sep, so a nearest-centre rule is near perfect
        assert (np.abs(np.abs(means[:, :3]) - 3.0) < 2.0).all()
        pred = np.argmin(((pts[:, None, :3] - means[None, :, :3]) ** 2).sum(axis=2), axis=1)
        assert (pred == labels).mean() > 0.95

    def test_classification_bad_informative(self):
        for bad in (0, 7):
            with pytest.raises(ValueError, match="n_informative"):
                make_classification(10, n_features=6, n_informative=bad)

    @pytest.mark.parametrize("n_features, n_informative, bias", [(4, None, 0.0), (6, 2, 3.5), (1, 1, -2.0)])
    def test_regression_is_exactly_linear_without_noise(self, n_features, n_informative, bias):
        x, y = make_regression(60, n_features=n_features, n_informative=n_informative, noise=0.0, bias=bias,
                               seed=1)
        a = np.hstack([np.array(x), np.ones((60, 1))])
        coef, *_ = np.linalg.lstsq(a, np.array(y), rcond=None)
        residual = a @ coef - np.array(y)
        assert np.abs(residual).max() < 1e-12
        assert math.isclose(coef[-1], bias, abs_tol=1e-12)
        k = n_features if n_informative is None else n_informative
        w = coef[:k]
        assert (np.abs(w) <= 1.0).all() and (np.abs(w) > 1e-6).all()  # uniform(-1, 1) weights
        assert np.allclose(coef[k:-1], 0.0, atol=1e-12)  # uninformative features have no weight
        # the hidden w is the same for the same seed
        x2, y2 = make_regression(60, n_features=n_features, n_informative=n_informative, noise=0.0,
                                 bias=bias, seed=1)
        assert (x2, y2) == (x, y)

    def test_regression_noise_level(self):
        x, y = make_regression(4000, n_features=3, noise=0.5, seed=2)
        a = np.hstack([np.array(x), np.ones((4000, 1))])
        coef, *_ = np.linalg.lstsq(a, np.array(y), rcond=None)
        assert math.isclose((a @ coef - np.array(y)).std(), 0.5, rel_tol=0.05)

    def test_regression_bad_informative(self):
        with pytest.raises(ValueError, match="n_informative"):
            make_regression(10, n_features=3, n_informative=4)

    def test_xor_is_the_readme_table(self):
        x, y = xor()
        assert x == [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
        assert y == [1, 0, 0, 1]
        x[0][0] = 5.0  # the caller gets fresh lists
        assert xor()[0][0] == [1.0, 1.0]

    def test_xor_samples_are_labelled_corners(self):
        x, y = xor(20, noise=0.0, seed=0)
        table = {(1.0, 1.0): 1, (0.0, 1.0): 0, (1.0, 0.0): 0, (0.0, 0.0): 1}
        assert all(table[tuple(p)] == t for p, t in zip(x, y))
        assert Counter(map(tuple, x)) == {c: 5 for c in table}
        x, y = xor(400, noise=0.05, seed=0)
        for p, t in zip(x, y):
            corner = min(table, key=lambda c: math.dist(c, p))
            assert math.dist(corner, p) < 0.05 * 6 and table[corner] == t


# ---- load_digits ---------------------------------------------------------------------------

class TestLoadDigits:
    @pytest.fixture(scope="class")
    @classmethod
    def digits(cls):
        pytest.importorskip("sklearn")
        return load_digits()

    def test_flat(self, digits):
        x, y = digits
        assert len(x) == len(y) == 1797
        assert all(type(row) is list and len(row) == 64 for row in x)
        assert all(type(v) is float and 0.0 <= v <= 1.0 for row in x for v in row)
        assert max(v for row in x for v in row) == 1.0
        assert all(type(t) is int for t in y)
        counts = Counter(y)
        assert set(counts) == set(range(10))
        assert all(170 <= c <= 190 for c in counts.values())

    def test_matches_scikit_learn(self, digits):
        from sklearn.datasets import load_digits as sk_load_digits
        bunch = sk_load_digits()
        x, y = digits
        assert np.array_equal(np.array(x) * 16.0, bunch.data)
        assert y == bunch.target.tolist()

    def test_as_images(self, digits):
        x_flat, y_flat = digits
        x, y = load_digits(as_images=True)
        assert y == y_flat
        assert len(x) == 1797
        for img, flat in zip(x, x_flat):
            assert len(img) == 1 and len(img[0]) == 8 and all(len(row) == 8 for row in img[0])
            assert [v for row in img[0] for v in row] == flat
        assert x[0][0][3][5] == x_flat[0][3 * 8 + 5]

    def test_without_scikit_learn(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "sklearn", None)
        monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
        with pytest.raises(ImportError, match="pip install scikit-learn"):
            load_digits()


# ---- the package ----------------------------------------------------------------------------

def test_the_package_keeps_its_public_names():
    """``from scalargrad.data import ...`` gives every name it gave when data was one module, each defined
    in one module of the package and listed in that module's ``__all__``."""
    import importlib

    from scalargrad import data

    before = {"DataLoader", "Dataset", "is_map_style", "load_digits", "load_samples", "make_blobs",
              "make_circles", "make_classification", "make_moons", "make_regression", "make_spirals",
              "ratio_split", "sample_list", "split_train_val", "xor"}
    assert before | {"load_mnist"} == set(data.__all__)
    modules = [importlib.import_module(f"scalargrad.data.{name}")
               for name in ("loading", "splits", "generated", "real")]
    for name in data.__all__:
        homes = [module for module in modules if name in module.__all__]
        assert len(homes) == 1, name
        assert getattr(data, name) is getattr(homes[0], name)
        assert getattr(data, name).__module__ == homes[0].__name__
