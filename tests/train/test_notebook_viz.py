"""Pictures in a real Jupyter kernel (nbclient): graphs and plots show inline, and nothing else happens.

In a notebook ``render()`` gives the picture as the cell's value (SVG) and
writes no file and opens no window, even with no display; ``show=True``
still opens the viewer; ``plot_history``/``plot_decision_boundary`` show as
PNG without ``%matplotlib inline``, once; a 100,000-node graph's inline
picture stays within its bound. One kernel runs all the cells (starting one
takes seconds).
"""

import os
import re
import shutil

import pytest

from tests.kernel import mime_types, run_cells, text_of

SETUP = """
import os
os.environ.pop('DISPLAY', None); os.environ.pop('WAYLAND_DISPLAY', None)   # a headless server
import PIL.Image
shown = []
PIL.Image.Image.show = lambda image, *args, **kwargs: shown.append(image.size)   # the viewer, patched
from scalargrad import Scalar
x0, x1 = Scalar(0.1, name='x0'), Scalar(0.2, name='x1')
w0, w1, b = Scalar(0.3, name='w0'), Scalar(0.4, name='w1'), Scalar(0.5, name='b')
f = (x0 * w0) + (x1 * w1) + b
f.backward()
from benchmarks.bench_pictures import chain   # y = y * 1.0001 + x, 2 nodes a step
"""

CELLS = {
    "render": "f.render()",
    "render twice, no file": "f.render()\nf.render()\nprint(sorted(os.listdir('.')), len(shown))",
    "show": "g = f.render(show=True)\nprint('shown', len(shown), shown[-1][0] > 300)",
    "big": "chain(50_000).render()",
    "model": ("from scalargrad.nn import Linear, Sequential\n"
              "Sequential([Linear(2, 4, activation='relu'), Linear(4, 1)]).plot(input_size=2)"),
    "history": ("from scalargrad.viz import plot_history\n"
                "plot_history([{'epoch': 1, 'train_loss': 0.9, 'val_accuracy': 0.6},"
                " {'epoch': 2, 'train_loss': 0.5, 'val_accuracy': 0.8}])"),
    "boundary, assigned": ("from scalargrad.viz import plot_decision_boundary\n"
                           "fig = plot_decision_boundary(lambda p: p[0] - p[1], [[0, 1], [1, 0], [2, 1]],"
                           " [0, 1, 1], resolution=20)"),
    "boundary, displayed": "from IPython.display import display\ndisplay(fig)",
    "boundary, value": "fig",
    "files": "print(sorted(os.listdir('.')), len(shown))",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    if shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("the Graphviz 'dot' program is not installed")
    folder = tmp_path_factory.mktemp("notebook")
    cells = run_cells([SETUP, *CELLS.values()], cwd=folder)
    return dict(zip(CELLS, cells[1:]))


def displays(cell_outputs):
    return [out for out in cell_outputs if out.get("output_type") in ("display_data", "execute_result")]


def test_render_shows_the_graph_inline_as_svg(outputs):
    assert "image/svg+xml" in mime_types(outputs["render"])
    svg = displays(outputs["render"])[0]["data"]["image/svg+xml"]
    for text in ("x0", "w1", "data 0.61", "grad 1"):
        assert text in svg


def test_render_in_a_notebook_writes_no_file_and_opens_no_window_even_headless(outputs):
    assert text_of(outputs["render twice, no file"]).strip() == "[] 0"
    printed = [out for out in outputs["render"] if out["output_type"] == "stream"]
    assert printed == []  # nothing printed either


def test_show_true_opens_the_viewer_in_a_notebook(outputs):
    assert "shown 1 True" in text_of(outputs["show"])


def test_a_100000_node_graph_shows_a_bounded_picture(outputs):
    svg = displays(outputs["big"])[0]["data"]["image/svg+xml"]
    size = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    width, height = (float(v) for v in size.groups())
    assert width <= 20 * 72 + 1 and height <= 30 * 72 + 1  # 20 x 30 inches at most
    assert "more nodes not drawn" in svg
    assert svg.count('class="node"') < 300  # at most 100 values, their ops, constants and the note


def test_model_plot_shows_inline(outputs):
    assert "image/svg+xml" in mime_types(outputs["model"])
    assert "Linear" in displays(outputs["model"])[0]["data"]["image/svg+xml"]


def test_plots_show_inline_as_png_without_matplotlib_inline(outputs):
    for cell in ("history", "boundary, displayed", "boundary, value"):
        shown = displays(outputs[cell])
        assert len(shown) == 1, cell  # once: no second copy from a pyplot backend
        assert shown[0]["data"]["image/png"], cell
    assert displays(outputs["boundary, assigned"]) == []  # an assignment shows nothing, as in Python


def test_no_file_was_written_by_any_cell(outputs):
    assert text_of(outputs["files"]).strip() == "[] 1"  # and the viewer opened only for show=True
