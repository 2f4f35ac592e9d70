"""In a Jupyter notebook, on a real kernel: ``model.summary()`` shows as a table, the Trainer draws tqdm's
widget instead of printing a line per epoch (and falls back to lines without ipywidgets), and
``model.plot()`` follows the data through the layers."""

import inspect

import pytest

from scalargrad.nn import Linear, Sequential
from tests.kernel import mime_types, run_cells, text_of
from tests.train.test_summary import HeadFirst

WIDGET = "application/vnd.jupyter.widget-view+json"

SETUP = """
from scalargrad.nn import CrossEntropyLoss, Linear, Module, Sequential, SGD
from scalargrad.train import Trainer

model = Sequential([Linear(2, 3, activation='tanh'), Linear(3, 2)])
x, y = [[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]], [1, 0, 1, 0]

def train(**options):
    return Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.5),
                   batch_size=2, num_epochs=3, **options).run()
"""

CELLS = {
    "setup": SETUP + inspect.getsource(HeadFirst),
    "summary last": "model.summary()",
    "summary then more": "model.summary()\nprint('after')",
    "print summary then more": "print(model.summary())\nprint('after')",
    "print summary": "print(model.summary())",
    "train default": "history = train()\nprint(len(history))",
    "train progress=True": "history = train(progress=True)\nprint(len(history))",
    "no ipywidgets": "import sys\nsys.modules['ipywidgets'] = None  # import ipywidgets now fails\n"
                     "history = train()",
    "no ipywidgets, progress=True": "history = train(progress=True)",
    "plot": "dot = HeadFirst().plot(input_size=4)\n"
            "print([line.strip() for line in dot.source.splitlines() if '->' in line])\n"
            "print([line.split('{ ')[1].split(' |')[0] for line in dot.source.splitlines() "
            "if 'label=\"{' in line])",
}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    outputs = run_cells(list(CELLS.values()), tmp_path_factory.mktemp("notebook"))
    return dict(zip(CELLS, outputs))


def table():
    return str(Sequential([Linear(2, 3, activation="tanh"), Linear(3, 2)]).summary())


def streams(outputs):
    return "".join(out["text"] for out in outputs if out["output_type"] == "stream")


def test_summary_on_the_last_line_shows_the_table_once(notebook):
    outputs = notebook["summary last"]
    assert [out["output_type"] for out in outputs] == ["execute_result"]
    assert mime_types(outputs) == {"text/plain"}
    assert text_of(outputs) == table()  # the table itself, not a quoted one-line str


def test_summary_inside_a_cell_shows_nothing_as_torchinfo_and_print_shows_it(notebook):
    assert streams(notebook["summary then more"]) == "after\n"  # a notebook shows a cell's last value only
    outputs = notebook["print summary then more"]
    assert mime_types(outputs) == set()
    assert streams(outputs) == table() + "\nafter\n"


def test_printed_summary_appears_once(notebook):
    outputs = notebook["print summary"]
    assert mime_types(outputs) == set() and streams(outputs) == table() + "\n"


@pytest.mark.parametrize("cell", ["train default", "train progress=True"])
def test_the_trainer_draws_tqdm_widgets_and_prints_no_epoch_lines(notebook, cell):
    outputs = notebook[cell]
    bars = [out for out in outputs if WIDGET in out.get("data", {})]
    assert len(bars) == 3  # one bar per epoch
    assert [out["data"]["text/plain"].split(":")[0] for out in bars] == ["Epoch 1/3", "Epoch 2/3",
                                                                         "Epoch 3/3"]
    assert streams(outputs) == "3\n"  # nothing printed but the cell's own line


def test_without_ipywidgets_the_trainer_prints_a_line_per_epoch(notebook):
    outputs = notebook["no ipywidgets"]
    lines = streams(outputs).splitlines()
    assert WIDGET not in mime_types(outputs)
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert all("train_loss: " in line for line in lines)


def test_without_ipywidgets_progress_true_draws_the_text_bar(notebook):
    outputs = notebook["no ipywidgets, progress=True"]
    text = streams(outputs)
    assert WIDGET not in mime_types(outputs)
    assert "Epoch 3/3: 100%" in text and "\r" in text and " - train_loss: " not in text


def test_plot_follows_the_data_through_the_layers(notebook):
    edges, boxes = streams(notebook["plot"]).splitlines()
    assert edges == "['input -> layer0', 'layer0 -> layer1']"
    assert boxes == "['body', 'head']"  # declared head first, but the data meets body first
