"""Pictures in a web page (Pyodide), simulated on CPython: ``render()``, ``explore_graph`` and ``plot_model``.

Under Pyodide ``sys.platform`` is ``"emscripten"`` and the page provides ``globalThis.scalargradLayout``
(Graphviz compiled to WebAssembly) and ``globalThis.scalargradShow``, reached through Pyodide's
``js`` module (see ``scalargrad.viz.browser``). Here ``sys.platform`` is patched, and a fake ``js`` module
lays out with the real ``dot`` (SVG, or plain text for a layout's size, as viz-js gives them) and records
what the page is asked to show. Every test runs in an empty working directory, so a file written
where none was asked for is seen; the system's image viewer and web browser fail the test if opened.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
import webbrowser

import pytest

from scalargrad.nn import Linear, Sequential
from scalargrad.viz import browser, draw_graph, explore_graph, plot_model
from scalargrad.viz.explore import ExplorableGraph
from scalargrad.viz.output import run_dot
from tests.graphs import chain, quickstart

pytest.importorskip("graphviz")

SVG_ONLY = "in the browser Graphviz draws SVG only: use a .svg path, or none"


class FakePage:
    """What the playground page gives Python: Graphviz (here the real ``dot``: SVG, and plain text for a
    layout's size, as @viz-js/viz gives them) and a display."""

    def __init__(self) -> None:
        self.layouts: list[str] = []  # the DOT sources laid out
        self.shown: list[tuple[str, str]] = []  # (kind, content), in order

    def layout(self, source: str, fmt: str) -> str:
        assert fmt in ("svg", "plain"), f"the page's Graphviz was asked for {fmt!r}"
        assert isinstance(source, str)
        self.layouts.append(source)
        return subprocess.run(["dot", f"-T{fmt}"], input=source, capture_output=True, text=True,
                              check=True, timeout=60).stdout

    def show(self, kind: str, content: str) -> None:
        assert isinstance(content, str)
        self.shown.append((kind, content))

    def module(self) -> types.ModuleType:
        js = types.ModuleType("js")
        js.scalargradLayout = self.layout
        js.scalargradShow = self.show
        return js


def _no_viewer(*args, **kwargs):
    raise AssertionError("a viewer or web browser was opened in a web page")


@pytest.fixture
def fake_js(monkeypatch, tmp_path, dot_program):
    """The fake page's ``js`` module in sys.modules, in an empty working directory, on any platform."""
    page = FakePage()
    monkeypatch.setitem(sys.modules, "js", page.module())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(webbrowser, "open", _no_viewer)
    monkeypatch.setattr("scalargrad.viz.graph.show_png", _no_viewer)
    monkeypatch.setattr("scalargrad.viz.graph.has_display", lambda: False)  # else graph.png is written
    return page


@pytest.fixture
def in_page(fake_js, monkeypatch):
    """Running as in Pyodide: ``sys.platform`` is emscripten and the fake page's ``js`` module is there."""
    monkeypatch.setattr(sys, "platform", "emscripten")
    return fake_js


def files(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_in_browser_is_pyodide(monkeypatch):
    assert browser.in_browser() is (sys.platform == "emscripten")
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert browser.in_browser() is True
    monkeypatch.setattr(sys, "platform", "linux")
    assert browser.in_browser() is False


def test_a_bare_render_shows_one_svg_in_the_page_and_writes_nothing(in_page, tmp_path):
    dot = quickstart().render()
    assert type(dot).__name__ == "Digraph"
    assert dot.source.count("shape=record") == 9  # the same Digraph as on CPython
    assert [kind for kind, _ in in_page.shown] == ["svg"]
    svg = in_page.shown[0][1]
    assert svg.lstrip().startswith(("<?xml", "<!DOCTYPE", "<svg")) and "</svg>" in svg
    for text in ("x0", "x1", "w0", "w1", "data 0.61", "grad 0.1"):
        assert text in svg, text
    assert in_page.layouts  # laid out by the page's Graphviz
    assert files(tmp_path) == []  # no graph.png, no graph.svg


def test_a_notebook_in_the_page_shows_the_svg_in_the_page_too(in_page, monkeypatch, tmp_path):
    # A kernel under Pyodide: the Digraph's own inline display would need the dot program.
    monkeypatch.setattr("scalargrad.viz.graph.in_notebook", lambda: True)
    quickstart().render()
    assert [kind for kind, _ in in_page.shown] == ["svg"] and "data 0.61" in in_page.shown[0][1]
    assert files(tmp_path) == []


def test_show_true_without_a_path_shows_too(in_page, tmp_path):
    draw_graph(quickstart(), show=True)
    assert [kind for kind, _ in in_page.shown] == ["svg"]
    assert files(tmp_path) == []


def test_an_svg_path_is_written_and_shown(in_page, tmp_path):
    quickstart().render("g.svg")
    assert files(tmp_path) == ["g.svg"]
    written = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "data 0.61" in written and "w1" in written
    assert in_page.shown == [("svg", written)]


def test_show_false_shows_nothing(in_page, tmp_path):
    dot = quickstart().render(show=False)
    assert type(dot).__name__ == "Digraph" and "data 0.61" in dot.source
    assert in_page.shown == [] and files(tmp_path) == []
    quickstart().render("g.svg", show=False)
    assert in_page.shown == [] and files(tmp_path) == ["g.svg"]


@pytest.mark.parametrize("path, fmt", [("g.png", None), ("g.pdf", None), ("g.out", "pdf"), ("g.svg", "png")])
def test_a_picture_format_other_than_svg_says_svg_only(in_page, tmp_path, path, fmt):
    with pytest.raises(ValueError, match=re.escape(SVG_ONLY)):
        quickstart().render(path, format=fmt)
    assert in_page.layouts == [] and in_page.shown == [] and files(tmp_path) == []  # said before any work


def test_the_page_layout_refuses_other_formats_itself(in_page):
    with pytest.raises(ValueError, match=re.escape(SVG_ONLY)):
        browser.layout("digraph { a -> b }", "png")
    with pytest.raises(ValueError, match=re.escape(SVG_ONLY)):
        run_dot("digraph { a -> b }", "pdf", 60.0)
    assert in_page.layouts == []
    assert b"<svg" in run_dot("digraph { a -> b }", "svg", 60.0) and len(in_page.layouts) == 1
    assert run_dot("digraph { a -> b }", "plain", 60.0).startswith(b"graph ")  # a layout's size, as text


def test_an_html_path_writes_the_explorer_and_shows_it(in_page, tmp_path):
    page = quickstart().render("x.html")
    assert isinstance(page, ExplorableGraph) and page.path == "x.html"
    assert files(tmp_path) == ["x.html"]
    written = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert in_page.shown == [("html", written)]
    html = in_page.shown[0][1]
    assert html.startswith("<!DOCTYPE html>") and 'class="sgx-data"' in html and page.element_id in html
    assert "<svg" in html and "data 0.61" in html  # the graph, laid out by the page's Graphviz
    quickstart().render("y.html", show=False)
    assert len(in_page.shown) == 1 and files(tmp_path) == ["x.html", "y.html"]


def test_explore_graph_without_a_path_shows_the_page_and_writes_no_file(in_page, tmp_path):
    page = explore_graph(quickstart())
    assert page.path is None and files(tmp_path) == []
    assert [kind for kind, _ in in_page.shown] == ["html"]
    assert in_page.shown[0][1] == page.html
    assert 'class="sgx-data"' in in_page.shown[0][1]
    explore_graph(quickstart(), show=False)
    assert len(in_page.shown) == 1 and files(tmp_path) == []
    explore_graph(quickstart(), show=True)  # no web browser is opened (it would fail the test)
    assert [kind for kind, _ in in_page.shown] == ["html", "html"] and files(tmp_path) == []


def test_a_graph_too_big_to_draw_whole_is_cut_as_on_cpython(in_page, monkeypatch):
    y = chain(200)  # 401 values: the legible picture draws some of them
    in_browser = y.render().source
    assert [kind for kind, _ in in_page.shown] == ["svg"]
    assert "more nodes not drawn" in in_browser
    monkeypatch.setattr(sys, "platform", "linux")  # the same graph with the dot program
    on_cpython = draw_graph(y, "c.svg").source
    assert in_browser.count("shape=record") == on_cpython.count("shape=record") < 100


def test_plot_model_works_in_the_page(in_page, tmp_path):
    model = Sequential([Linear(2, 4, activation="relu"), Linear(4, 1)])
    dot = plot_model(model, "m.svg", input_size=2)
    assert "Linear" in dot.source and files(tmp_path) == ["m.svg"]
    assert "Linear" in (tmp_path / "m.svg").read_text(encoding="utf-8") and len(in_page.layouts) == 1
    with pytest.raises(ValueError, match=re.escape(SVG_ONLY)):
        model.plot("m.png")
    assert files(tmp_path) == ["m.svg"]
    assert "12 parameters" in plot_model(model).source and len(in_page.layouts) == 1  # no path: no layout


def test_a_page_without_scalargrad_layout_says_what_it_must_provide(in_page, tmp_path):
    del sys.modules["js"].scalargradLayout
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradLayout"):
        quickstart().render()
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradLayout"):
        explore_graph(quickstart())
    assert in_page.shown == [] and files(tmp_path) == []


def test_a_page_without_scalargrad_show_says_what_it_must_provide(in_page):
    del sys.modules["js"].scalargradShow
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradShow"):
        quickstart().render()
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradShow"):
        explore_graph(quickstart())
    quickstart().render(show=False)  # nothing to show: no need for it


def test_without_pyodides_js_module_the_error_says_so(in_page, monkeypatch):
    monkeypatch.setitem(sys.modules, "js", None)  # import js raises ImportError
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradLayout.*js module"):
        quickstart().render()
    with pytest.raises(RuntimeError, match=r"globalThis\.scalargradShow.*js module"):
        browser.show("svg", "<svg/>")


def test_a_failing_or_asynchronous_layout_is_a_clear_error(in_page):
    js = sys.modules["js"]

    def broken(source, fmt):
        raise ValueError("syntax error in line 1")

    js.scalargradLayout = broken
    with pytest.raises(RuntimeError, match="Graphviz in the page failed: syntax error in line 1"):
        quickstart().render()
    js.scalargradLayout = lambda source, fmt: object()  # a Promise, say
    with pytest.raises(TypeError, match="synchronously"):
        quickstart().render()
    assert in_page.shown == []


def test_show_refuses_an_unknown_kind(in_page):
    with pytest.raises(ValueError, match="kind must be one of svg, html"):
        browser.show("png", "")
    browser.show("html", "<p>hi</p>")
    assert in_page.shown == [("html", "<p>hi</p>")]


def test_on_cpython_the_page_is_never_used(fake_js, tmp_path, monkeypatch):
    # A js module on CPython (some other library's) changes nothing: dot draws, files are written as before.
    monkeypatch.setattr(sys, "platform", "linux")
    quickstart().render("g.png")
    quickstart().render("g.svg")
    explore_graph(quickstart())  # a script without a path: graph.html
    quickstart().render()  # no display (patched): graph.png
    assert fake_js.layouts == [] and fake_js.shown == []
    assert files(tmp_path) == ["g.png", "g.svg", "graph.html", "graph.png"]
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
