"""Run every example end to end (small settings) and check its last line, ``final <metric>=<value>``.

The examples are called in-process through ``main([...])`` with stdout
captured; one test also runs ``python -m examples.xor`` in a subprocess to
cover the command-line route. The digits runs need scikit-learn and are
skipped without it.
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
EXAMPLES = ["train_classification", "train_regression", "xor", "moons", "digits", "linear_regression"]
FINAL = re.compile(r"final ([a-z0-9_]+)=(\S+)\Z")

needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the digits example needs scikit-learn")
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


def test_digits_without_sklearn_exits_1(capsys, monkeypatch):
    digits = example("digits")

    def missing(*args, **kwargs):
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn")

    monkeypatch.setattr(digits, "load_digits", missing)
    with pytest.raises(SystemExit) as exit_info:
        digits.main([])
    assert exit_info.value.code == 1
    assert "scikit-learn" in capsys.readouterr().err


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
