"""``Module.summary()`` and the layer table behind it and ``plot()``: the table a script prints (and the
REPL shows), the rows a program reads, and the order data flows through the layers (traced, not attribute
order)."""

import code
import contextlib
import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scalargrad import Scalar
from scalargrad._util.nested import shape
from scalargrad.nn import Conv2D, Dropout, Flatten, Linear, MaxPool2D, Module, ReLU, Sequential, Tanh
from scalargrad.nn.summary import LayerRow, ModelSummary, in_interactive_session, layer_table

ROOT = Path(__file__).resolve().parents[2]


class HeadFirst(Module):
    """Declares ``head`` before ``body`` but runs body, then head: the flow is body -> head."""

    def __init__(self):
        super().__init__()
        self.head = Linear(16, 3)
        self.body = Linear(4, 16, activation="relu")

    def forward(self, x):
        return self.head(self.body(x))


class SharedActivation(Module):
    """One ReLU used twice, and a layer that forward never calls."""

    def __init__(self):
        super().__init__()
        self.act = ReLU()
        self.spare = Linear(2, 2)
        self.fc1 = Linear(4, 8)
        self.fc2 = Linear(8, 2)

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(x))))


class Tied(Module):
    """The same Linear applied twice: its parameters belong to both calls."""

    def __init__(self):
        super().__init__()
        self.block = Linear(3, 3, activation="tanh")
        self.out = Linear(3, 1)

    def forward(self, x):
        return self.out(self.block(self.block(x)))


def run_script(source, tmp_path):
    """What ``python script.py`` prints (stdout), with this checkout's scalargrad first on the path."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def mlp():
    return Sequential([Linear(4, 3, activation="relu"), Linear(3, 2)])


# ---- printing: once, in a script, in the REPL ------------------------------------------------


def test_in_a_script_each_summary_prints_the_table_as_torchinfo_does(tmp_path):
    table = mlp().summary()
    out = run_script("""
        from scalargrad.nn import Linear, Sequential
        model = Sequential([Linear(4, 3, activation="relu"), Linear(3, 2)])
        model.summary()
        print("--")
        table = model.summary()
        print("--")
        def show():
            model.summary()
        for _ in range(2):
            show()
        print("--")
        print(model.summary())  # printed, and printed again
    """, tmp_path)
    bare, used, twice, printed = out.split("--\n")
    assert bare == used == table + "\n"
    assert twice == printed == 2 * (table + "\n")


REPL_SESSION = """\
from scalargrad.nn import Linear, Sequential
model = Sequential([Linear(4, 3, activation="relu"), Linear(3, 2)])
model.summary()
table = model.summary()
rows = table.rows
"""


def test_a_summary_typed_in_the_repl_shows_the_table_once():
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-q", "-i"], input=REPL_SESSION, capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    shown = re.sub(r"(>>>>? )+", "", done.stdout).strip()  # PyPy's REPL writes its prompts to stdout
    assert shown == str(mlp().summary(input_size=4))  # shown by the REPL; the assignment shows none
    assert "Error" not in done.stderr, done.stderr


def test_where_sys_ps1_is_set_the_session_shows_the_table(monkeypatch):
    assert not in_interactive_session()  # pytest runs as a script
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)  # what the REPL and IPython set
    model = mlp()
    console = code.InteractiveInterpreter({"model": model})
    with contextlib.redirect_stdout(io.StringIO()) as out:
        console.runsource("model.summary()")
        console.runsource("table = model.summary()")
    assert out.getvalue() == str(model.summary()) + "\n"
    assert not out.getvalue().startswith("'")  # the table, not a quoted str


def test_the_summary_is_a_str_whose_repr_is_the_table_and_keeps_its_rows():
    model = Sequential([Linear(4, 3, activation="relu"), Dropout(0.5), Linear(3, 2)])
    table = model.summary(input_size=4)
    assert isinstance(table, ModelSummary) and isinstance(table, str)
    assert repr(table) == str(table) and str(table).splitlines()[0].split() == ["Layer", "Type", "Output",
                                                                                "size", "Parameters"]
    assert [(r.name, r.kind, r.output_size, r.num_parameters) for r in table.rows] == [
        ("0", "Linear(relu)", "3", 15), ("1", "Dropout", "3", 0), ("2", "Linear", "2", 8)]
    assert all(isinstance(r, LayerRow) and r.call == 1 for r in table.rows)
    assert table.rows[1].layer is model.modules[1]
    assert table.total_parameters == model.num_parameters() == 23
    assert table.splitlines()[-1] == "Total parameters: 23"


def test_output_sizes_are_those_of_a_real_run():
    model = Sequential([Conv2D(1, 2, 3, padding=1, activation="relu"), MaxPool2D(2), Flatten(),
                        Linear(32, 5)])
    image = [[[0.1 * (r - c) for c in range(8)] for r in range(8)]]
    sizes = [tuple(int(d) for d in r.output_size.split(" x "))
             for r in model.summary(input_size=(1, 8, 8)).rows]
    outputs, x = [], image
    for layer in model.modules:
        x = layer(x)
        outputs.append(shape(x))
    assert sizes == outputs == [(2, 8, 8), (2, 4, 4), (32,), (5,)]


# ---- the order data flows --------------------------------------------------------------------


@pytest.mark.parametrize("input_size", [4, None])
def test_rows_follow_the_calls_not_the_attributes(input_size):
    model = HeadFirst()
    rows = layer_table(model, input_size)
    assert [(r.name, r.output_size, r.call) for r in rows] == [("body", "16", 1), ("head", "3", 1)]
    text = str(model.summary(input_size))
    assert text.index("body") < text.index("head")


def test_a_layer_called_twice_has_a_row_per_call_and_its_parameters_counted_once():
    model = SharedActivation()
    table = model.summary(input_size=4)
    assert [(r.name, r.output_size, r.call) for r in table.rows] == [
        ("fc1", "8", 1), ("act", "8", 1), ("fc2", "2", 1), ("act", "2", 2), ("spare", None, 0)]
    assert sum(r.num_parameters for r in table.rows) == table.total_parameters == model.num_parameters() == 64
    lines = table.splitlines()
    assert lines[5].split()[:3] == ["act", "(call", "2)"] \
        and lines[6].split()[:3] == ["spare", "(not", "run)"]


def test_tied_weights_count_once():
    model = Tied()
    rows = layer_table(model, 3)
    assert [(r.name, r.call, r.num_parameters) for r in rows] == [("block", 1, 12), ("block", 2, 0),
                                                                  ("out", 1, 4)]
    assert sum(r.num_parameters for r in rows) == model.num_parameters() == 16


def test_one_module_listed_twice_takes_its_names_in_turn():
    act = Tanh()
    model = Sequential([act, Linear(2, 2), act])
    assert [(r.name, r.call) for r in layer_table(model, 2)] == [("0", 1), ("1", 1), ("2", 2)]


def test_without_a_size_it_can_infer_the_rows_keep_attribute_order():
    model = Sequential([Conv2D(1, 2, 3), Flatten(), Linear(8, 2)])  # a Conv2D does not know its image size
    rows = layer_table(model)
    assert [(r.name, r.call) for r in rows] == [("0", None), ("1", None), ("2", None)]
    assert [r.output_size for r in rows] == [None, None, "2"]  # what the layers know by themselves


def test_tracing_leaves_the_model_as_it_was():
    model = HeadFirst()
    model.body.eval()
    before = model.state_dict()
    layer_table(model)  # tries 16 (head's size_in) first, which fails inside body, then 4
    assert all("forward" not in vars(m) for _, m in model.named_modules())
    assert model.training and not model.body.training and model.head.training
    assert model.state_dict() == before
    assert model([1.0, 2.0, 3.0, 4.0])[0].data == \
        model.head([n.data for n in model.body([1.0, 2.0, 3.0, 4.0])])[0].data


def test_a_model_that_fails_on_the_given_size_raises():
    with pytest.raises(ValueError, match="4 inputs"):
        HeadFirst().summary(input_size=5)


def test_a_model_without_children_is_one_row():
    class Scale(Module):
        def __init__(self):
            super().__init__()
            self.k = Scalar(2.0)

        def forward(self, x):
            return [self.k * v for v in x]

    rows = Scale().summary(input_size=3).rows
    assert [(r.name, r.output_size, r.num_parameters) for r in rows] == [("Scale", "3", 1)]


def test_plot_draws_the_flow(tmp_path):
    pytest.importorskip("graphviz")
    dot = HeadFirst().plot(input_size=4)
    edges = [line.strip() for line in dot.source.splitlines() if "->" in line]
    labels = {line.split()[0]: line for line in dot.source.splitlines() if "label=" in line}
    assert edges == ["input -> layer0", "layer0 -> layer1"]
    assert "body" in labels["layer0"] and "head" in labels["layer1"]
    shared = SharedActivation().plot(input_size=4).source
    assert [line.strip() for line in shared.splitlines() if "->" in line] == [
        # spare (layer4) stands apart
        "input -> layer0", "layer0 -> layer1", "layer1 -> layer2", "layer2 -> layer3"]
    assert "call 2 (the same layer)" in shared and "not run" in shared


def test_a_guess_that_fails_in_any_way_falls_back_to_attribute_order():
    class NeedsArrays(Module):  # runs only on objects with .tolist(): a guessed list of zeros fails
        def __init__(self):
            super().__init__()
            self.fc = Linear(2, 1)

        def forward(self, x):
            return self.fc(x.tolist())

    model = NeedsArrays()
    assert [(r.name, r.output_size, r.call) for r in model.summary().rows] == [("fc", "1", None)]
    assert "forward" not in vars(model.fc)
