"""Tests of the matplotlib plots in scalargrad.viz: plot_history and plot_decision_boundary.

The pictures are checked as pictures: PNG files that Pillow opens, of a
sensible size and not blank, and a decision boundary whose coloured regions
are where the model puts its classes.
"""

import math
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from scalargrad import Scalar, is_grad_enabled
from scalargrad.data import make_blobs, make_moons
from scalargrad.nn import Adam, CrossEntropyLoss, Dropout, Linear, Module, Sequential
from scalargrad.viz import plot_decision_boundary, plot_history
from scalargrad.viz.plots import _PALETTE

RECORDS = [
    {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "val_accuracy": 1.0 - 0.5 / e,
     "lr": 0.1, "seconds": 0.5}
    for e in range(1, 11)
]


def read_png(path):
    """The picture at ``path`` as an RGB uint8 array (opened with Pillow)."""
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def assert_picture(path, min_size=(300, 250), max_size=(3000, 2000)):
    pixels = read_png(path)
    height, width, _ = pixels.shape
    assert min_size[0] <= width <= max_size[0] and min_size[1] <= height <= max_size[1], (width, height)
    assert pixels.std() > 10  # not blank
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # lines, text, colours
    return pixels


def rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def region_colour(k):
    """Class k's background colour: the palette colour at alpha 0.3 over white."""
    return 0.3 * rgb(_PALETTE[k]) + 0.7 * 255.0


def colour_fraction(pixels, colour, tol=6.0):
    return float((np.abs(pixels.astype(float) - colour).max(axis=2) <= tol).mean())


def rendered(fig):
    """The figure drawn on its canvas, as an RGB array in the canvas's pixel coordinates."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3]


def pixel_at(fig, pixels, x0, x1):
    """The colour of the picture at data coordinates (x0, x1) of the first axes."""
    dx, dy = fig.axes[0].transData.transform((x0, x1))
    return pixels[round(pixels.shape[0] - dy), round(dx)].astype(float)


def no_temp_files(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")] == []


# ---- plot_history ---------------------------------------------------------------------

def lines_by_label(fig):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
            for ax in fig.axes for line in ax.get_lines()}


class TestPlotHistory:
    def test_writes_a_readable_png(self, tmp_path):
        path = tmp_path / "history.png"
        fig = plot_history(RECORDS, path=str(path))
        assert path.exists() and no_temp_files(tmp_path)
        assert_picture(path, min_size=(600, 300))
        from matplotlib.figure import Figure
        assert isinstance(fig, Figure)

    def test_panels_curves_and_labels(self):
        fig = plot_history(RECORDS)
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
        assert all(ax.get_xlabel() == "epoch" for ax in axes)
        assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
        assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["train_loss", "val_loss"]
        assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["val_accuracy"]
        assert "Training history" in fig._suptitle.get_text()
        lines = lines_by_label(fig)
        assert set(lines) == {"train_loss", "val_loss", "val_accuracy"}  # no lr, seconds, epoch
        assert lines["train_loss"] == (list(range(1, 11)), [r["train_loss"] for r in RECORDS])
        assert lines["val_accuracy"][1] == [r["val_accuracy"] for r in RECORDS]

    def test_history_object(self, tmp_path):
        from scalargrad.train import History
        fig = plot_history(History(RECORDS), path=str(tmp_path / "h.png"))
        assert lines_by_label(fig) == lines_by_label(plot_history(RECORDS))
        assert_picture(tmp_path / "h.png")

    def test_anything_with_records(self):
        class Run:
            records = RECORDS
        assert lines_by_label(plot_history(Run())) == lines_by_label(plot_history(RECORDS))

    def test_dict_of_lists(self):
        columns = {key: [r[key] for r in RECORDS] for key in RECORDS[0]}
        assert lines_by_label(plot_history(columns)) == lines_by_label(plot_history(RECORDS))
        # without an 'epoch' column the epochs are numbered from 1
        fig = plot_history({"train_loss": [3.0, 2.0, 1.5]})
        assert lines_by_label(fig) == {"train_loss": ([1, 2, 3], [3.0, 2.0, 1.5])}

    def test_a_real_training_run(self, tmp_path):
        from scalargrad.nn import SGD
        from scalargrad.train import AccuracyMetric, Evaluator, Trainer
        random.seed(0)
        x, y = make_moons(40, noise=0.1, seed=0)
        model = Sequential([Linear(2, 8, activation="tanh"), Linear(8, 2)])
        history = Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
                          optimizer=SGD(model.parameters(), lr=0.2), batch_size=10, num_epochs=5,
                          evaluator=Evaluator(x=x, y=y, model=model, metric=AccuracyMetric()),
                          seed=0, progress=False).run()
        fig = plot_history(history, path=str(tmp_path / "run.png"))
        lines = lines_by_label(fig)
        assert lines["train_loss"][1] == history["train_loss"]
        assert "val_accuracy" in lines
        assert_picture(tmp_path / "run.png")

    def test_missing_values_are_skipped(self):
        records = [{"epoch": e, "train_loss": 1.0 / e} for e in range(1, 7)]
        for r in records[1::2]:
            r["val_accuracy"] = r["epoch"] / 10
        records[2]["val_accuracy"] = None
        records[4]["train_loss"] = float("nan")
        lines = lines_by_label(plot_history(records))
        assert lines["val_accuracy"] == ([2, 4, 6], [0.2, 0.4, 0.6])
        assert lines["train_loss"][0] == [1, 2, 3, 4, 6]

    def test_choose_metrics(self):
        records = [dict(r, train_accuracy=0.9, val_mse=0.1) for r in RECORDS]
        fig = plot_history(records, metrics=["accuracy"])
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert titles == ["loss", "accuracy"]
        assert {"train_accuracy", "val_accuracy"} <= set(lines_by_label(fig))
        assert "val_mse" not in lines_by_label(fig)
        fig = plot_history(records, metrics=["val_mse", "lr"])
        assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["loss", "mse", "lr"]
        fig = plot_history(records)  # default: every metric, one panel each
        assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["loss", "accuracy", "mse"]
        with pytest.raises(ValueError, match="no metric 'f1'.*val_accuracy"):
            plot_history(records, metrics=["f1"])

    def test_many_panels_wrap(self, tmp_path):
        records = [dict(r, val_a=1, val_b=2, val_c=3, val_d=4) for r in RECORDS]
        fig = plot_history(records, path=str(tmp_path / "many.png"))
        assert len([ax for ax in fig.axes if ax.get_visible()]) == 6
        assert_picture(tmp_path / "many.png")

    def test_log_scale_for_a_loss_falling_a_lot(self):
        steep = [{"epoch": e, "train_loss": 10.0 ** -e} for e in range(1, 6)]
        assert plot_history(steep).axes[0].get_yscale() == "log"
        assert plot_history(RECORDS).axes[0].get_yscale() == "linear"

    def test_single_epoch(self, tmp_path):
        plot_history([{"epoch": 1, "train_loss": 0.5}], path=str(tmp_path / "one.png"))
        read_png(tmp_path / "one.png")

    def test_bad_histories(self):
        with pytest.raises(ValueError, match="empty"):
            plot_history([])
        with pytest.raises(ValueError, match="nothing to plot"):
            plot_history([{"epoch": 1, "lr": 0.1, "seconds": 2.0}])
        with pytest.raises(TypeError, match="record 1"):
            plot_history([{"train_loss": 1.0}, 0.5])
        with pytest.raises(TypeError, match="History"):
            plot_history(3.0)

    def test_other_formats_and_bad_suffix(self, tmp_path):
        plot_history(RECORDS, path=str(tmp_path / "h.svg"))
        assert (tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
        with pytest.raises(ValueError, match="cannot save a plot as 'docx'"):
            plot_history(RECORDS, path=str(tmp_path / "h.docx"))
        assert not (tmp_path / "h.docx").exists() and no_temp_files(tmp_path)

    def test_atomic_write(self, tmp_path, monkeypatch):
        path = tmp_path / "h.png"
        path.write_bytes(b"old picture")
        plot_history(RECORDS, path=str(path))  # replaces an existing file
        read_png(path)
        path.write_bytes(b"old picture")

        from matplotlib.figure import Figure

        def failing_savefig(self, f, **kwargs):
            f.write(b"half a png")
            raise OSError("disk full")

        monkeypatch.setattr(Figure, "savefig", failing_savefig)
        with pytest.raises(OSError, match="disk full"):
            plot_history(RECORDS, path=str(path))
        assert path.read_bytes() == b"old picture"  # the previous file is intact
        assert no_temp_files(tmp_path)


# ---- plot_decision_boundary ---------------------------------------------------------------

@pytest.fixture(scope="module")
def moons_model():
    """An MLP trained on noisy moons until it separates them."""
    x, y = make_moons(100, noise=0.1, seed=0)
    random.seed(1)
    model = Sequential([Linear(2, 16, activation="relu"), Linear(16, 16, activation="relu"), Linear(16, 2)])
    optim, loss_fn = Adam(model.parameters(), lr=0.02), CrossEntropyLoss()
    for _ in range(80):
        optim.zero_grad()
        loss_fn([model(p) for p in x], y).backward()
        optim.step()
    accuracy = sum(max((0, 1), key=lambda k: model(p)[k].data) == t for p, t in zip(x, y)) / len(y)
    assert accuracy >= 0.97
    return model, x, y


class TestPlotDecisionBoundary:
    def test_separating_model_vs_constant_model(self, moons_model, tmp_path):
        model, x, y = moons_model
        good_path, bad_path = tmp_path / "good.png", tmp_path / "bad.png"
        good = plot_decision_boundary(model, x, y, path=str(good_path))
        bad = plot_decision_boundary(lambda p: [Scalar(0.0), Scalar(1.0)], x, y, path=str(bad_path))
        assert no_temp_files(tmp_path)
        good_pixels, bad_pixels = assert_picture(good_path), assert_picture(bad_path)
        assert good_pixels.shape == bad_pixels.shape
        # The trained model paints both classes' regions; the constant one only class 1's.
        good_0, good_1 = (colour_fraction(good_pixels, region_colour(k)) for k in (0, 1))
        bad_0, bad_1 = (colour_fraction(bad_pixels, region_colour(k)) for k in (0, 1))
        assert good_0 > 0.15 and good_1 > 0.15
        assert bad_0 < 0.005 and bad_1 > 0.4
        assert (np.abs(good_pixels.astype(int) - bad_pixels.astype(int)).max(axis=2) > 30).mean() > 0.15
        # Titles give the accuracy on the points; labels and legend are there.
        assert "accuracy 100.0% on 100 points" in good.axes[0].get_title() or \
               "accuracy 99.0%" in good.axes[0].get_title()
        assert "accuracy 50.0% on 100 points" in bad.axes[0].get_title()
        ax = good.axes[0]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x[0]", "x[1]")
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]

    def test_points_coloured_by_label(self, moons_model):
        model, x, y = moons_model
        fig = plot_decision_boundary(model, x, y, resolution=20)
        pixels = rendered(fig)
        for k in (0, 1):  # the saturated point colours are both present
            assert colour_fraction(pixels, rgb(_PALETTE[k]), tol=10) > 0.002

    @pytest.mark.parametrize("feature", [0, 1])
    def test_regions_are_where_the_model_puts_them(self, feature):
        """A single score with ±1 labels: positive on the side where x[feature] > 0.

        Checking both features catches a transposed grid."""
        x = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
        y = [1 if p[feature] > 0 else -1 for p in x]
        fig = plot_decision_boundary(lambda p: Scalar(p[feature]), x, y, resolution=60)
        assert "accuracy 100.0% on 4 points" in fig.axes[0].get_title()
        pixels = rendered(fig)
        for side, k in ((-0.6, 0), (0.6, 1)):  # class -1 is the first colour, class 1 the second
            for along in (-1.2, 0.0, 1.2):
                point = (side, along) if feature == 0 else (along, side)
                colour = pixel_at(fig, pixels, *point)
                assert np.abs(colour - region_colour(k)).max() <= 6, (point, colour)
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["class -1", "class 1"]

    def test_one_element_list_and_zero_one_labels(self):
        x = [[-1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [2.0, 1.0]]
        y = [0, 1, 0, 1]
        fig = plot_decision_boundary(lambda p: [Scalar(p[0] - 0.0)], x, y, resolution=30)
        assert "accuracy 100.0%" in fig.axes[0].get_title()
        pixels = rendered(fig)
        assert np.abs(pixel_at(fig, pixels, -1.5, -0.3) - region_colour(0)).max() <= 6
        assert np.abs(pixel_at(fig, pixels, 1.5, -0.3) - region_colour(1)).max() <= 6

    def test_threshold_for_probabilities(self):
        x, y = [[-1.0, 0.0], [1.0, 0.0]], [0, 1]

        def model(p):
            return Scalar(p[0]).sigmoid()

        assert "accuracy 50.0%" in plot_decision_boundary(model, x, y, resolution=10).axes[0].get_title()
        fig = plot_decision_boundary(model, x, y, resolution=10, threshold=0.5)
        assert "accuracy 100.0%" in fig.axes[0].get_title()

    def test_multiclass_logits(self, tmp_path):
        centers = [[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]]
        x, y = make_blobs(90, centers=centers, cluster_std=0.5, seed=0)

        def nearest_centre(p):  # logits: minus the squared distance to each centre
            return [Scalar(-((p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2)) for c in centers]

        fig = plot_decision_boundary(nearest_centre, np.array(x), np.array(y), path=str(tmp_path / "b.png"))
        assert "accuracy 100.0% on 90 points" in fig.axes[0].get_title()
        pixels = assert_picture(tmp_path / "b.png")
        assert all(colour_fraction(pixels, region_colour(k)) > 0.05 for k in range(3))
        drawn = rendered(fig)
        # beside each blob, away from its points and from the other blobs, is that class's colour
        for k, point in enumerate([(-1.0, 1.5), (7.0, 1.5), (3.0, 3.0)]):
            colour = pixel_at(fig, drawn, *point)
            assert np.abs(colour - region_colour(k)).max() <= 6, (k, colour)

    def test_eval_mode_and_no_grad_while_drawing(self):
        class Probe(Module):
            def __init__(self):
                super().__init__()
                self.layer = Linear(2, 2)
                self.drop = Dropout(0.5)
                self.calls = []

            def forward(self, p):
                self.calls.append((self.training, self.drop.training, is_grad_enabled()))
                return self.drop(self.layer(p))

        random.seed(0)
        probe = Probe()
        x, y = [[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]], [0, 1, 0]
        plot_decision_boundary(probe, x, y, resolution=7)
        assert len(probe.calls) == 7 * 7 + 3
        assert set(probe.calls) == {(False, False, False)}
        assert probe.training and probe.drop.training and is_grad_enabled()  # restored
        probe.eval()
        plot_decision_boundary(probe, x, y, resolution=3)
        assert not probe.training and not probe.drop.training

    def test_mode_restored_when_the_model_fails(self):
        class Broken(Module):
            def forward(self, p):
                raise RuntimeError("boom")

        broken = Broken()
        with pytest.raises(RuntimeError, match="boom"):
            plot_decision_boundary(broken, [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=3)
        assert broken.training and is_grad_enabled()

    def test_grid_spans_the_points_plus_padding(self):
        seen = []

        def model(p):
            seen.append(p)
            return Scalar(p[0])

        x = [[-1.0, 2.0], [3.0, 4.0]]
        fig = plot_decision_boundary(model, x, [-1, 1], resolution=5, padding=0.5)
        grid = seen[:25]
        assert min(p[0] for p in grid) == -1.5 and max(p[0] for p in grid) == 3.5
        assert min(p[1] for p in grid) == 1.5 and max(p[1] for p in grid) == 4.5
        assert all(type(v) is float for p in seen for v in p)
        assert fig.axes[0].get_xlim() == (-1.5, 3.5) and fig.axes[0].get_ylim() == (1.5, 4.5)

    def test_bad_arguments(self):
        def model(p):
            return Scalar(p[0])

        with pytest.raises(ValueError, match="2-D inputs"):
            plot_decision_boundary(model, [[0.0, 1.0, 2.0]], [0])
        with pytest.raises(ValueError, match="2 points but y has 3"):
            plot_decision_boundary(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1, 0])
        with pytest.raises(ValueError, match="no points"):
            plot_decision_boundary(model, np.zeros((0, 2)), [])
        for bad in (1, 0, 2.5, True):
            with pytest.raises(ValueError, match="resolution"):
                plot_decision_boundary(model, [[0.0, 1.0]], [0], resolution=bad)
        with pytest.raises(ValueError, match="padding"):
            plot_decision_boundary(model, [[0.0, 1.0]], [0], padding=-1.0)
        with pytest.raises(ValueError, match="one output but y has 3 classes"):
            plot_decision_boundary(model, [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0, 1, 2], resolution=3)

    def test_single_point(self, tmp_path):
        plot_decision_boundary(lambda p: Scalar(1.0), [[2.0, 3.0]], [1], path=str(tmp_path / "one.png"),
                               padding=0.0, resolution=5)
        read_png(tmp_path / "one.png")


# ---- matplotlib missing, and no global state ------------------------------------------------

MATPLOTLIB_MODULES = ["matplotlib", "matplotlib.figure", "matplotlib.backends",
                      "matplotlib.backends.backend_agg", "matplotlib.ticker"]


def test_without_matplotlib(monkeypatch, tmp_path):
    for name in MATPLOTLIB_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
    calls = []

    def model(p):
        calls.append(p)
        return Scalar(0.0)

    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history(RECORDS, path=str(tmp_path / "h.png"))
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_decision_boundary(model, [[0.0, 1.0]], [1], path=str(tmp_path / "b.png"))
    assert calls == []  # failed before evaluating the model
    assert os.listdir(tmp_path) == []


def test_no_pyplot_and_the_backend_is_left_alone(tmp_path):
    """Plotting neither imports pyplot nor changes a backend the user chose (run in a fresh interpreter)."""
    code = textwrap.dedent(f"""
        import sys
        import matplotlib
        matplotlib.use("svg")
        from scalargrad import Scalar
        from scalargrad.viz import plot_decision_boundary, plot_history
        plot_history([{{"epoch": 1, "train_loss": 1.0}}, {{"epoch": 2, "train_loss": 0.5}}],
                     path={str(tmp_path / "h.png")!r})
        plot_decision_boundary(lambda p: Scalar(p[0]), [[0.0, 0.0], [1.0, 1.0]], [-1, 1],
                               path={str(tmp_path / "b.png")!r}, resolution=5)
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        assert "matplotlib.pyplot" not in sys.modules
        assert "IPython" not in sys.modules  # a script pays nothing for the notebook display
        print("ok")
    """)
    env = dict(os.environ, MPLBACKEND="", DISPLAY="")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            check=False, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    read_png(tmp_path / "h.png")
    read_png(tmp_path / "b.png")


def test_pixel_helpers_agree_with_the_saved_file(tmp_path):
    """The canvas drawing used for the geometric checks is the same picture as the PNG file."""
    fig = plot_decision_boundary(lambda p: Scalar(p[0]), [[-1.0, 0.0], [1.0, 0.0]], [-1, 1], resolution=10,
                                 path=str(tmp_path / "b.png"))
    saved = read_png(tmp_path / "b.png")
    drawn = rendered(fig)
    assert saved.shape == drawn.shape
    assert (np.abs(saved.astype(int) - drawn.astype(int)).max(axis=2) > 8).mean() < 0.01
    assert math.isclose(colour_fraction(saved, region_colour(0)), colour_fraction(drawn, region_colour(0)),
                        abs_tol=0.01)
