"""The explorable graph (``render('graph.html')``, ``viz.explore_graph``): one self-contained page whose
steps carry scalargrad's own forward values and backward gradients, in the engine's order.

The numbers are read back from the JSON the page embeds (what its script shows) and compared with
the graph's nodes, with ``backward()`` (exactly) and with torch float64. The page in a real browser is
tested in ``test_explore_browser.py``.
"""

import html
import json
import math
import re
from pathlib import Path

import pytest
import torch

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.extend import defop, local_derivatives
from scalargrad.nn import Neuron
from scalargrad.scalar import backward_order
from scalargrad.viz import draw_graph, explore_graph
from scalargrad.viz.explore import ExplorableGraph
from tests.graphs import chain  # dot_program, the fixture that skips without dot, comes from conftest
from tests.helpers import assert_close, tt

needs_dot = pytest.mark.usefixtures("dot_program")

DATA = re.compile(r'<script type="application/json" class="sgx-data">(.*?)</script>', re.DOTALL)


def page_data(path):
    """The steps and leaves a written page embeds; a nan or inf written as a bare JSON word fails."""
    found = DATA.findall(Path(path).read_text(encoding="utf-8"))
    assert len(found) == 1
    return json.loads(found[0], parse_constant=lambda word: pytest.fail(f"not JSON: {word}"))


# Each graph is built by one function, on Scalars and on torch float64 tensors alike, from these leaf values.
LEAVES = {"x0": 0.1, "x1": 0.2, "w0": 0.3, "w1": 0.4, "b": 0.5}


def linear(v):  # the README's quickstart
    return (v["x0"] * v["w0"]) + (v["x1"] * v["w1"]) + v["b"]


def neuron(v):  # a tanh neuron written op by op
    return (v["x0"] * v["w0"] + v["x1"] * v["w1"] + v["b"]).tanh()


def fused_neuron(v):  # nn.Neuron: one 'tanh(dot)' node with five parents
    if isinstance(v["b"], Scalar):
        cell = Neuron(size=2, activation="tanh")
        cell.w, cell.b = [v["w0"], v["w1"]], v["b"]
        return cell([v["x0"], v["x1"]])
    return torch.tanh(v["x0"] * v["w0"] + v["x1"] * v["w1"] + v["b"])


def reused(v):  # x0 feeds three ops: its gradient arrives in three parts
    return (v["x0"] * v["x0"] + v["x0"].exp() * v["w0"]) / (v["b"] - v["x1"] * v["w1"])


GRAPHS = {"linear": linear, "neuron": neuron, "fused neuron": fused_neuron, "reused leaf": reused}


def explored(build, tmp_path):
    """The leaves, the output and the page's data; the leaves' .grad are still 0 (the page changes none)."""
    leaves = {name: Scalar(value, name=name) for name, value in LEAVES.items()}
    f = build(leaves)
    path = tmp_path / "graph.html"
    page = f.render(str(path))
    assert isinstance(page, ExplorableGraph) and page.path == str(path)
    assert all(leaf.grad == 0.0 for leaf in leaves.values())
    return leaves, f, page_data(path)


def steps_of(data, phase):
    return [step for step in data["steps"] if step["phase"] == phase]


@needs_dot
def test_the_page_needs_no_network(tmp_path):
    _, _, data = explored(linear, tmp_path)
    text = (tmp_path / "graph.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    outside_the_script = re.sub(r"<script>.*?</script>", "", text, flags=re.DOTALL)
    assert "http://" not in text and "https://" not in text and "//" not in outside_the_script
    assert not re.search(r"<link|\bsrc\s*=|\bhref\s*=|@import|url\(", text, re.IGNORECASE)
    assert text.count("<script>") == 1 and "<style>" in text  # the script and the style are inline
    assert len(data["steps"]) == 1 + 4 + 1 + 4 + 1  # start, 4 ops forward, the seed, 4 ops backward, done


@needs_dot
@pytest.mark.parametrize("name", GRAPHS)
def test_forward_steps_carry_the_nodes_values_and_match_torch(tmp_path, name):
    _, f, data = explored(GRAPHS[name], tmp_path)
    order = backward_order(f, [])
    forward = steps_of(data, "forward")
    assert [step["node"] for step in forward] == [str(id(node)) for node in order]  # ops after their inputs
    assert [step["value"] for step in forward] == [node.data for node in order]
    expected = GRAPHS[name]({k: tt(v) for k, v in LEAVES.items()})
    assert_close(forward[-1]["value"], expected, "output")
    assert {leaf["label"]: float(leaf["data"]) for leaf in data["leaves"]} == LEAVES


@needs_dot
@pytest.mark.parametrize("name", GRAPHS)
def test_backward_steps_follow_the_engine_and_end_at_the_leaves_grads(tmp_path, name):
    leaves, f, data = explored(GRAPHS[name], tmp_path)
    order = backward_order(f, [])
    f.backward()
    backward = steps_of(data, "backward")
    assert [step["node"] for step in backward] == [str(id(node)) for node in reversed(order)]
    by_name = {str(id(node)): node for node in order + list(leaves.values())}
    grads = {}
    for step in backward:
        node = by_name[step["node"]]
        assert step["grad"] == node.grad  # complete at its turn: what backward() leaves in it
        assert [e["parent"] for e in step["edges"]] == [str(id(p)) for p in node.parents]
        for edge in step["edges"]:
            assert edge["passed"] == step["grad"] * edge["local"]
            grads[edge["parent"]] = grads.get(edge["parent"], 0.0) + edge["passed"]
            assert edge["grad"] == grads[edge["parent"]]  # what the page shows: the sum so far
    for leaf in leaves.values():
        assert grads[str(id(leaf))] == leaf.grad  # exactly backward()'s gradient
    torch_leaves = {k: tt(v) for k, v in LEAVES.items()}
    GRAPHS[name](torch_leaves).backward()
    for key, leaf in leaves.items():
        assert_close(leaf.grad, torch_leaves[key].grad, f"d/d{key}")


@needs_dot
def test_the_page_shows_each_leaf_grad_as_it_accumulates(tmp_path):
    leaves, f, data = explored(reused, tmp_path)
    f.backward()
    x0 = str(id(leaves["x0"]))
    shown = [change for step in steps_of(data, "backward") for change in step["set"] if change[0] == x0]
    assert len(shown) == 3 and all(change[1] == "grad" for change in shown)
    assert float(shown[-1][3]) == leaves["x0"].grad  # the full text: repr, exact
    assert shown[-1][2] == f"{leaves['x0'].grad:.4g}"  # the picture's text, as render() writes it
    start = data["steps"][0]["set"]
    assert {change[2] for change in start} == {"?"}  # nothing computed before the first step


@needs_dot
def test_the_seed_and_the_start_say_what_backward_does(tmp_path):
    _, f, data = explored(linear, tmp_path)
    (seed,) = steps_of(data, "seed")
    assert seed["node"] == str(id(f)) and seed["inputs"] == [] and seed["grad"] == 1.0
    assert {c[3] for c in seed["set"] if c[0] != str(id(f))} == {"0.0"}
    assert [str(id(f)), "grad", "1", "1.0"] in seed["set"]
    assert data["steps"][-1]["phase"] == "done"


@pytest.mark.parametrize("make", [
    lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a ** b, lambda a, b: a - b, lambda a, b: 2.0 / a,
    lambda a, b: a.exp(), lambda a, b: a.log(), lambda a, b: a.sigmoid(), lambda a, b: a.relu(),
    lambda a, b: a.tanh(), lambda a, b: a.abs(), lambda a, b: a.sqrt(), lambda a, b: a ** 3.0,
    lambda a, b: 3.0 ** b,
])
def test_local_derivatives_match_torch(make):
    a, b = Scalar(1.7), Scalar(-0.6)
    y = make(a, b)
    ta, tb = tt(1.7), tt(-0.6)
    ty = make(ta, tb)
    torch_inputs = [t for t, s in ((ta, a), (tb, b)) if any(p is s for p in y.parents)]
    expected = torch.autograd.grad(ty, torch_inputs)
    for got, want in zip(local_derivatives(y), expected):
        assert_close(got, want, "local derivative")


def test_local_derivatives_of_fused_nodes_match_torch():
    ws, xs, b = [Scalar(0.3), Scalar(-0.2)], [Scalar(1.5), Scalar(0.5)], Scalar(0.1)
    tws, txs, tb = [tt(0.3), tt(-0.2)], [tt(1.5), tt(0.5)], tt(0.1)
    for y, ty in ((F.dot(ws, xs, b), tws[0] * txs[0] + tws[1] * txs[1] + tb),
                  (F.linear([[ws[0], ws[1]]], xs, [b], activation="sigmoid")[0],
                   torch.sigmoid(tws[0] * txs[0] + tws[1] * txs[1] + tb))):
        expected = torch.autograd.grad(ty, [*tws, *txs, tb])
        assert len(local_derivatives(y)) == 5
        for got, want in zip(local_derivatives(y), expected):
            assert_close(got, want, f"local derivative of {y.op}")
    assert local_derivatives(b) == []


@needs_dot
def test_no_gradient_changes(tmp_path):
    leaves = {name: Scalar(value, name=name) for name, value in LEAVES.items()}
    f = neuron(leaves)
    f.backward()
    nodes = [f, *f.parents, *leaves.values()]
    before = [node.grad for node in nodes]
    explore_graph(f, tmp_path / "g.html")
    assert [node.grad for node in nodes] == before  # leaves and the ops' own gradients
    data = page_data(tmp_path / "g.html")  # one pass from zero, not added to the earlier one
    last = {e["parent"]: e["grad"] for step in steps_of(data, "backward") for e in step["edges"]}
    assert last[str(id(leaves["w0"]))] == leaves["w0"].grad


@needs_dot
def test_names_cannot_break_the_page_and_nan_stays_valid_json(tmp_path):
    evil = Scalar(0.0, name="</script><script>alert(1)</script>")
    y = evil.log() * Scalar(2.0, name="two")  # -inf
    text = explore_graph(y, tmp_path / "g.html").html
    assert text.count("</script>") == 2 and "alert(1)</script>" not in text
    data = page_data(tmp_path / "g.html")
    assert data["leaves"][0]["label"] == evil.name
    assert steps_of(data, "forward")[0]["value"] == "-inf"


@needs_dot
def test_render_and_draw_graph_dispatch_on_html(tmp_path):
    x = Scalar(3.0, name="x")
    y = x * x
    assert isinstance(draw_graph(y, str(tmp_path / "a.HTML")), ExplorableGraph)
    assert y.render(tmp_path / "b.html", format="html").path == str(tmp_path / "b.html")
    assert (tmp_path / "a.HTML").stat().st_size > 2000
    leaf = Scalar(2.0, name="alone")  # a leaf: no op to step through, only its own gradient
    assert [s["phase"] for s in leaf.render(str(tmp_path / "c.html")).steps] == ["start", "seed", "done"]


def test_bad_paths_and_arguments_say_what_is_wrong(tmp_path):
    y = Scalar(1.0) * 2.0
    with pytest.raises(ValueError, match=r"must end in \.html"):
        explore_graph(y, str(tmp_path / "graph.png"))
    with pytest.raises(ValueError, match=r"must end in \.html"):
        y.render(str(tmp_path / "graph.txt"), format="html")
    with pytest.raises(TypeError, match="str or a path, got int"):
        explore_graph(y, 42)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        explore_graph(y, str(tmp_path / "missing" / "graph.html"))
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(IsADirectoryError, match="a folder"):
        explore_graph(y, str(tmp_path / "folder.html"))
    with pytest.raises(TypeError, match="needs a Scalar, got float"):
        explore_graph(1.0, str(tmp_path / "g.html"))
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        explore_graph(y, str(tmp_path / "g.html"), max_nodes=0)
    with pytest.raises(TypeError, match="max_nodes must be an int, got float"):
        explore_graph(y, str(tmp_path / "g.html"), max_nodes=50.0)
    assert list(tmp_path.iterdir()) == [tmp_path / "folder.html"]  # nothing written


@needs_dot
def test_a_big_graph_is_refused_unless_max_nodes_allows_it(tmp_path):
    with pytest.raises(ValueError, match=r"more than 100 values.*max_nodes="):
        explore_graph(chain(100_000), tmp_path / "big.html")  # stops counting at the limit
    ws = [Scalar(0.1 * i, name=f"w{i}") for i in range(40)]
    total = F.sum([w * (i + 1.0) for i, w in enumerate(ws)])
    page = explore_graph(total, tmp_path / "big.html", max_nodes=81)
    assert len(page.steps) == 1 + 41 + 1 + 41 + 1


@needs_dot
def test_a_slow_layout_is_done_again_quickly_with_straight_edges(tmp_path, monkeypatch):
    monkeypatch.setattr("scalargrad.viz.explore.FIRST_LAYOUT_SECONDS", 0.3)
    page = explore_graph(chain(35), tmp_path / "slow.html", max_nodes=71, layout_timeout=2.0)  # dot alone: 5s
    assert len(page.steps) == 1 + 70 + 1 + 70 + 1


@needs_dot
def test_in_a_script_without_a_path_it_writes_a_new_file_and_can_open_a_browser(tmp_path, monkeypatch,
                                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    y = Scalar(2.0, name="x").tanh()
    first, second = explore_graph(y), explore_graph(y, show=True)
    assert [Path(first.path).name, Path(second.path).name] == ["graph.html", "graph-1.html"]
    assert "explorable graph written to" in capsys.readouterr().out
    assert opened == [Path(second.path).resolve().as_uri()]


@needs_dot
def test_in_a_notebook_it_shows_inline_and_writes_only_what_is_asked(tmp_path):
    pytest.importorskip("nbclient")
    from tests.kernel import mime_types, run_cells, text_of

    setup = ("import os\nfrom scalargrad import Scalar\nfrom scalargrad.viz import explore_graph\n"
             "x, w = Scalar(2.0, name='x'), Scalar(-0.5, name='w')\ny = (x * w).tanh()")
    cells = run_cells([setup, "explore_graph(y)", "y.render('y.html')", "print(sorted(os.listdir('.')))"],
                      cwd=tmp_path)
    for outputs in cells[1:3]:
        assert "text/html" in mime_types(outputs)
        inline = next(o for o in outputs if o["output_type"] == "execute_result")["data"]["text/html"]
        assert 'class="sgx-data"' in inline and "<svg" in inline and "<html" not in inline
    assert text_of(cells[3]).strip() == "['y.html']"
    assert math.isclose(page_data(tmp_path / "y.html")["steps"][-2]["edges"][0]["local"], -0.5)


@needs_dot
def test_unnamed_values_are_numbered_from_1_in_the_engine_order(tmp_path):
    x, w, b = Scalar(2.0), Scalar(-0.5), Scalar(0.3)  # no names: the page numbers them, as _labels documents
    y = x * w + b * x
    page = explore_graph(y, tmp_path / "g.html")
    order = backward_order(y, [])
    label = {str(id(node)): f"#{k} ({node.op})" for k, node in enumerate(order, 1)}
    label[str(id(y))] = "output"
    assert [leaf["label"] for leaf in page.leaves] == ["leaf #1", "leaf #2", "leaf #3"]
    label.update({leaf["node"]: leaf["label"] for leaf in page.leaves})
    forward = [step for step in page.steps if step["phase"] == "forward"]
    assert [step["title"] for step in forward] == [f"Forward {k} of 3: {label[str(id(node))]}"
                                                   for k, node in enumerate(order, 1)]
    assert forward[0]["title"] == "Forward 1 of 3: #1 (*)"
    inputs = [", ".join(label[str(id(p))] for p in node.parents) for node in order]
    assert [step["text"][0] for step in forward] == [
        f"{label[str(id(node))]} = {node.op}({names})" for node, names in zip(order, inputs)]
    backward = [step["title"] for step in page.steps if step["phase"] == "backward"]
    assert backward[-1] == "Backward 3 of 3: #1 (*)" and backward[0] == "Backward 1 of 3: output"


def record_texts(page):
    """The texts of each value's record in the page's picture, by the record's name (``str(id(node))``)."""
    records = re.finditer(r'<g id="node\d+" class="node">\s*<title>(\d+)</title>(.*?)</g>', page.svg,
                          re.DOTALL)
    return {m.group(1): [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", m.group(2))]
            for m in records}


@needs_dot
def test_the_picture_names_unnamed_values_as_the_panel_does(tmp_path):
    x, w, b = Scalar(2.0), Scalar(-0.5), Scalar(0.3, name="b")
    y = x * w + b * x
    page = explore_graph(y, tmp_path / "g.html")
    order = backward_order(y, [])
    expected = {str(id(node)): f"#{k} ({node.op})" for k, node in enumerate(order, 1)}
    expected[str(id(y))] = "output"
    expected.update({leaf["node"]: leaf["label"] for leaf in page.leaves})
    assert sorted(expected.values()) == ["#1 (*)", "#2 (*)", "b", "leaf #1", "leaf #2", "output"]
    records = record_texts(page)
    assert {name: texts[0] for name, texts in records.items()} == expected  # the panel's names, first line
    assert all(len(texts) == 3 for texts in records.values())  # name, data, grad: the page sets the last two


@needs_dot
def test_an_ops_name_in_the_picture_stays_text(tmp_path):
    @defop("<b>|{odd}", lambda x: 2.0 * x)
    def odd(maths, x, y, c):
        return 2.0

    y = odd(Scalar(1.0)) * Scalar(3.0)
    page = explore_graph(y, tmp_path / "g.html")
    assert record_texts(page)[str(id(y.parents[0]))][0] == "#1 (<b>|{odd})"
    assert "<b>" not in page.html


def made_out_of_id_order():
    """Leaves made in the order k, e, q, a (not the alphabet's), the last two in memory freed just before:
    neither their ids nor their names sort them as they were made (tried until the ids do not)."""
    for spare_count in range(1, 200):
        spare = [Scalar(0.0) for _ in range(spare_count)]
        k, e = Scalar(1.0, name="k"), Scalar(2.0, name="e")
        del spare
        q, a = Scalar(3.0, name="q"), Scalar(4.0, name="a")
        made = [k, e, q, a]
        if sorted(made, key=id) not in (made, made[::-1]):
            return made
    raise AssertionError("every try made the leaves in the order of their ids")


@needs_dot
@pytest.mark.parametrize("build", [
    lambda k, e, q, a: k * e + q * a,
    lambda k, e, q, a: (k * e + q) * (a + k),  # k used twice: its first use counts
    lambda k, e, q, a: F.sum([k * e, (q - a).exp(), e * a]),  # a fused op
], ids=["pairs", "reused", "sum"])
def test_the_leaves_table_lists_the_leaves_in_the_order_they_were_made(tmp_path, build):
    made = made_out_of_id_order()
    page = explore_graph(build(*made), tmp_path / "g.html")
    assert [leaf["label"] for leaf in page.leaves] == ["k", "e", "q", "a"]
    for leaf in made:
        leaf.name = None  # unnamed, they are numbered in the same order, in the panel and in the picture
    page = explore_graph(build(*made), tmp_path / "g.html")
    assert [leaf["node"] for leaf in page.leaves] == [str(id(leaf)) for leaf in made]
    records = record_texts(page)
    assert [records[str(id(leaf))][0] for leaf in made] == ["leaf #1", "leaf #2", "leaf #3", "leaf #4"]


@needs_dot
def test_the_quickstarts_leaves_are_listed_as_its_formula_reads(tmp_path):
    _, _, data = explored(linear, tmp_path)
    assert [leaf["label"] for leaf in data["leaves"]] == ["x0", "w0", "x1", "w1", "b"]
