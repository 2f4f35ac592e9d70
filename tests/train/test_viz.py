"""Graph pictures with the real Graphviz ``dot`` program, model summaries and diagrams."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import Conv2D, Flatten, Linear, MaxPool2D, Sequential
from scalargrad.viz import draw_graph, plot_model
from tests.graphs import chain, quickstart

ROOT = Path(__file__).resolve().parents[2]


def test_png_opens_with_pillow_and_has_a_sensible_size(dot_program, tmp_path):
    path = tmp_path / "f.png"
    quickstart().render(str(path))
    with Image.open(path) as im:
        assert im.format == "PNG"
        width, height = im.size
        assert 300 < width < 5000 and 100 < height < 3000
        low, high = im.convert("L").getextrema()
        assert high - low > 100  # not blank


def test_svg_holds_names_data_and_grads(dot_program, tmp_path):
    path = tmp_path / "f.svg"
    quickstart().render(str(path))
    svg = path.read_text()
    for text in ("x0", "w1", "data 0.61", "grad 1", "data 0.3", "grad 0.1", ">+<", ">*<"):
        assert text in svg, text


def test_pdf_and_explicit_format(dot_program, tmp_path):
    path = tmp_path / "f.out"
    quickstart().render(str(path), format="pdf")
    assert path.read_bytes().startswith(b"%PDF")


def test_show_grad_false_leaves_gradients_out():
    source = draw_graph(quickstart(), show=False, show_grad=False).source
    assert "data 0.61" in source and "grad" not in source


def test_returns_a_digraph_and_draws_one_op_node_per_operation():
    f = quickstart()
    dot = f.render(show=False)
    assert type(dot).__name__ == "Digraph"
    values = re.findall(r"shape=record", dot.source)
    ops = re.findall(r"shape=ellipse", dot.source)
    assert len(values) == 9 and len(ops) == 4  # 5 leaves + 4 results; 2 products, 2 sums


def test_fused_nodes_say_how_many_parents_they_have_not_inputs():
    ws = [Scalar(0.1 * i, name=f"w{i}") for i in range(5)]
    y = F.dot(ws, [Scalar(1.0) for _ in range(5)])
    assert "dot\\n10 parents" in draw_graph(y, show=False).source  # 5 weights and 5 inputs, all drawn
    assert "dot\\n10 parents, 3 drawn" in draw_graph(y, show=False, max_nodes=4).source
    layer = Linear(3, 1, activation="tanh")
    layer.initialize([([0.1, 0.2, 0.3], 0.1)])
    # plain-number inputs are no parents: 3 weights and the bias
    assert "tanh(dot)\\n4 parents" in draw_graph(layer([1.0, 2.0, 3.0])[0], show=False).source


def test_a_one_input_product_or_sum_draws_its_constant():
    x = Scalar(0.4, name="x")
    source = draw_graph((x * 2.5 + 3.0) * 1.0001, show=False).source
    boxes = re.findall(r"\[label=\"?([^\" ]+)\"? fontsize=10 shape=box style=dashed\]", source)
    assert sorted(boxes) == ["1.0001", "2.5", "3"]
    assert source.count("style=dashed]") == 2 * 3  # the box and its edge, per constant
    assert "shape=box" not in draw_graph(Scalar(0.0) * 4.0, show=False).source  # 0 * c hides c: no guess
    assert "shape=box" not in draw_graph(x - 1.0, show=False).source  # x - c or c - x: not told apart
    assert "shape=box" not in draw_graph(Scalar(1e20) + 1.0, show=False).source  # 1 is lost in 1e20 + 1


def test_above_max_nodes_the_rest_becomes_one_summary_node():
    y = chain(1000)  # 2000 interior nodes + 1 leaf
    source = draw_graph(y, show=False, max_nodes=50).source
    assert len(re.findall(r"shape=record", source)) == 50
    assert "+ 1,951 more nodes not drawn" in source
    assert "max_nodes=" in source  # says how to draw more


def test_counting_the_hidden_nodes_stops_at_a_limit(monkeypatch):
    from scalargrad.viz import graph

    monkeypatch.setattr(graph, "_COUNT_LIMIT", 300)
    source = draw_graph(chain(1000), show=False, max_nodes=50).source
    match = re.search(r"\+ at least (\d+) more nodes not drawn", source)
    assert match and 250 - 1 <= int(match.group(1)) < 2001 - 50
    assert "at least" not in draw_graph(chain(100), show=False, max_nodes=50).source  # 201 nodes: exact


def viz_imports():
    """Each module of scalargrad.viz and the modules of viz it imports, at the top or inside a function."""
    folder = ROOT / "scalargrad" / "viz"
    found = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.stem] = {node.module.split(".")[0] for node in ast.walk(tree)
                            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
    return found


def test_the_viz_modules_import_one_way():
    imports = viz_imports()
    finished, visiting = set(), []

    def visit(module):  # the modules are few: recursion is fine here
        if module in visiting:
            cycle = visiting[visiting.index(module):] + [module]
            raise AssertionError(f"an import cycle: {' -> '.join(cycle)}")
        if module in finished:
            return
        visiting.append(module)
        for imported in imports.get(module, ()):
            visit(imported)
        visiting.pop()
        finished.add(module)

    for module in imports:
        visit(module)
    assert {"explore", "graph_source", "walks"} <= imports["graph"]  # draw_graph hands .html to explore


def test_the_walks_are_iterative_and_counting_is_nearest_bounded():
    from scalargrad.viz.graph import _count
    from scalargrad.viz.walks import leaves_in_reading_order, nearest

    y = chain(100_000)  # 200,001 values, a path 200,000 deep
    assert [leaf.name for leaf in leaves_in_reading_order(y)] == ["x"]
    assert _count(y) == (100_001, False) and _count(chain(10)) == (21, True)
    assert nearest(y, 5)[0] is y and len(nearest(y, 5)) == 5 and nearest(Scalar(1.0), 5) != []


def png_size(path):
    with Image.open(path) as im:
        return im.size


def scale_of(source):
    """How much dot shrinks this picture to fit its size bound (1: not at all)."""
    from scalargrad.viz.output import run_dot

    return float(run_dot(source, "plain", 60).split()[1])


def moons_loss():
    from benchmarks.bench_pictures import moons_loss as build

    return build()


@pytest.mark.parametrize("build", [lambda: chain(50_000), moons_loss, lambda: chain(3)],
                         ids=["chain-100k", "moons-loss", "chain-7"])
def test_the_default_picture_is_bounded_and_legible(dot_program, tmp_path, build):
    y = build()
    path = tmp_path / "g.png"
    dot = y.render(str(path))
    width, height = png_size(path)
    assert width <= 1920 and height <= 2880
    assert 7 <= dot.source.count("shape=record") <= 100
    assert scale_of(dot.source) >= 0.5  # labels at least half their size: readable on a screen


def test_a_small_graph_is_drawn_whole_and_unshrunk(dot_program):
    dot = quickstart().render(show=False)
    assert dot.source.count("shape=record") == 9 and "more nodes" not in dot.source
    assert scale_of(dot.source) == 1.0


def test_an_explicit_max_nodes_is_drawn_within_the_same_bound(dot_program, tmp_path):
    path = tmp_path / "g.png"
    dot = chain(1000).render(str(path), max_nodes=40)
    assert dot.source.count("shape=record") == 40
    width, height = png_size(path)
    assert width <= 1920 and height <= 2880


def test_show_true_on_a_100000_node_graph_opens_a_bounded_picture(dot_program, monkeypatch):
    shown = []
    monkeypatch.setattr(Image.Image, "show", lambda im, *a, **k: shown.append(im.size))
    chain(50_000).render(show=True)  # before: Pillow's DecompressionBombError on a 32767 px PNG
    assert len(shown) == 1 and shown[0][0] <= 1920 and shown[0][1] <= 2880


def test_a_script_never_imports_ipython():
    code = ("import sys; from scalargrad import Scalar; x = Scalar(1.0); (x * x).render(show=False); "
            "assert 'IPython' not in sys.modules, 'IPython imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_parameters_are_named_after_their_place_in_the_model():
    model = Sequential([Linear(2, 4, activation="relu"), Linear(4, 1)])
    names = [p.name for p in model.parameters()]
    assert names[:3] == ["0.neurons.0.w.0", "0.neurons.0.w.1", "0.neurons.0.b"]
    assert "0.neurons.3.w.1" in names and names[-1] == "1.neurons.0.b"
    y = model([Scalar(1.0), Scalar(2.0)])[0]
    assert y.name is None  # interior values stay nameless
    user = Scalar(1.0, name="mine")
    model.modules[1].neurons[0].b = user
    assert user.name == "mine"  # a name the user gave is kept


def test_headless_render_writes_graph_png_and_says_where(dot_program, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    quickstart().render()
    assert (tmp_path / "graph.png").stat().st_size > 1000
    assert str(tmp_path / "graph.png") in capsys.readouterr().out


def test_show_true_opens_the_png_with_pillow(dot_program, monkeypatch):
    shown = []
    monkeypatch.setattr(Image.Image, "show", lambda im, *a, **k: shown.append(im.size))
    quickstart().render(show=True)
    assert len(shown) == 1 and shown[0][0] > 300


def test_without_the_graphviz_package_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        quickstart().render(show=False)


def test_without_the_dot_program_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        quickstart().render(str(tmp_path / "f.png"))
    assert not (tmp_path / "f.png").exists()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="format"):
        quickstart().render(show=False, format="gif")
    with pytest.raises(ValueError, match="max_nodes"):
        quickstart().render(show=False, max_nodes=0)
    with pytest.raises(TypeError, match="Scalar"):
        draw_graph(3.0)


def test_summary_counts_match_num_parameters():
    model = Sequential([Conv2D(1, 4, 3, padding=1, activation="relu"), MaxPool2D(2), Flatten(),
                        Linear(64, 10)])
    text = model.summary(input_size=(1, 8, 8))
    rows = [line.split() for line in text.splitlines()[2:-2]]
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert sum(int(r[-1]) for r in rows) == model.num_parameters() == 4 * 9 + 4 + 64 * 10 + 10
    assert text.splitlines()[-1] == f"Total parameters: {model.num_parameters()}"
    assert "4 x 8 x 8" in text and "4 x 4 x 4" in text and " 64 " in text


def test_model_plot_draws_each_layer_with_sizes(dot_program, tmp_path):
    model = Sequential([Linear(16, 16, activation="relu"), Linear(16, 8, activation="relu"), Linear(8, 3)])
    path = tmp_path / "model.png"
    dot = model.plot(str(path), input_size=16)
    assert dot.source.count("parameters") == 3
    assert "272 parameters" in dot.source and "activation=\\'relu\\'" in dot.source.replace("'", "\\'")
    assert "output 3" in dot.source
    with Image.open(path) as im:
        assert im.size[1] > im.size[0] / 4  # top to bottom
    with pytest.raises(TypeError, match="Module"):
        plot_model(quickstart())


def test_a_layout_that_takes_too_long_is_redrawn_with_fewer_nodes(monkeypatch, capsys, tmp_path):
    import subprocess

    from scalargrad.viz import graph

    calls = []

    def slow_then_fast(source, fmt, timeout):
        calls.append(source.count("shape=record"))
        if len(calls) == 1:
            raise subprocess.TimeoutExpired("dot", timeout)
        return b"\x89PNG fake"

    monkeypatch.setattr(graph, "run_dot", slow_then_fast)
    dot = chain(1000).render(str(tmp_path / "g.png"), max_nodes=400, layout_timeout=5)
    assert calls == [400, 100]
    assert "drawing the 100 nodes nearest the root" in capsys.readouterr().out
    assert dot.source.count("shape=record") == 100
    assert (tmp_path / "g.png").read_bytes() == b"\x89PNG fake"
