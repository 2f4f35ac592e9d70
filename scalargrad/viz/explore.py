"""An explorable graph: one HTML page that steps through a Scalar's forward pass, then its backward pass.

``explore_graph(f, 'graph.html')``, or ``f.render('graph.html')``, writes a
self-contained page (inline SVG, CSS and JavaScript: it needs no network)
with the graph as ``render()`` draws it and the buttons Previous, Next and
Reset (or the arrow keys and Home), and Zoom (the picture at its own size,
scrolled to keep the current op in view). The forward steps compute one op
at a time; the backward steps start from ``f.grad = 1`` and visit the ops
in reverse, each passing ``its grad x local derivative`` to its inputs, so
every leaf's ``.grad`` fills in as it accumulates. The current op is
highlighted; a side panel shows its inputs and value, or its local
derivatives and what it passes to each input.

Every number on the page comes from scalargrad: values from the nodes, the
order from the engine's own sort (``backward_order``), local derivatives
from each op's declaration, and the accumulating gradients added up here in
Python in the order ``backward()`` adds them (so they end at exactly the
``.grad`` that ``f.backward()`` gives). The JavaScript only shows them.
A value without a name is called ``#k (op)`` for the k-th op, ``leaf #k``
or ``output``, in the panel and in the picture alike; the leaves table
lists the leaves in the order the formula names them, read left to right.

>>> import os, tempfile
>>> from scalargrad import Scalar
>>> x, w, b = Scalar(2.0, name='x'), Scalar(-0.5, name='w'), Scalar(0.3, name='b')
>>> y = (x * w + b).tanh()
>>> with tempfile.TemporaryDirectory() as folder:
...     page = explore_graph(y, os.path.join(folder, 'neuron.html'))
>>> len(page.steps)  # the start, 3 ops forward, the seed, 3 ops backward, done
9
>>> page.steps[1]['title'], page.steps[-2]['title']
('Forward 1 of 3: #1 (*)', 'Backward 3 of 3: #1 (*)')
>>> [(leaf['label'], leaf['data']) for leaf in page.leaves]
[('x', '2.0'), ('w', '-0.5'), ('b', '0.3')]
"""

from __future__ import annotations

import html
import math
import os
import pathlib
import re
import secrets
import subprocess
import webbrowser
from typing import Any

from .._util.checks import positive_int
from .._util.files import check_writable_folder, write_new
from .._util.notebook import in_notebook
from ..extend import local_derivatives
from ..scalar import Scalar, backward_lock, backward_order, declaration
from . import browser
from .explore_page import page_fragment
from .graph_source import DEFAULT_MAX_NODES, FAST_LAYOUT, digraph
from .output import import_graphviz, run_dot, write_bytes
from .walks import leaves_in_reading_order, nearest

__all__ = ["FIRST_LAYOUT_SECONDS", "ExplorableGraph", "explore_graph"]

# A page shows every value, so its layout can be slower than a picture's (which draws fewer when they would
# not be legible): after FIRST_LAYOUT_SECONDS, dot lays it out again with FAST_LAYOUT.
FIRST_LAYOUT_SECONDS = 5.0


def _short(x: float) -> str:
    return f"{x:.4g}"  # as render() prints a number


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)  # JSON has no nan or inf


def _how_many(items: list, one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


def _set(node: Scalar, field: str, value: float | None) -> list:
    """One change on the page: ``node``'s data or grad now shows ``value`` (None: not computed yet)."""
    if value is None:
        return [str(id(node)), field, "?", "?"]
    return [str(id(node)), field, _short(value), repr(value)]


def _graph_parts(root: Scalar, max_nodes: int) -> tuple[list, list]:
    """The engine's backward order (every op after its inputs) and the leaves in the order the formula
    names them, read left to right (``leaves_in_reading_order``: the closest to the order they were made).

    The sort marks nodes in their ``.grad`` slots and zeroes them: every gradient is put back as it was.
    """
    nodes = nearest(root, max_nodes + 1)
    if len(nodes) > max_nodes:
        raise ValueError(f"this graph has more than {max_nodes:,} values; an explorable graph steps through "
                         f"all of them: pass max_nodes=... to allow more (a page of thousands is slow to lay "
                         f"out and to read), or explore a smaller graph, one neuron say")
    with backward_lock:
        saved = [(node, node.grad) for node in nodes]
        try:
            order = backward_order(root, []) if root.parents else []
        finally:
            for node, grad in saved:
                node.grad = grad
    return order, leaves_in_reading_order(root)


def _labels(root: Scalar, order: list, leaves: list) -> dict[int, str]:
    """How the panel names a value: its name, else ``output`` for the root, ``#k (op)`` for the k-th op,
    ``leaf #k`` for a leaf."""
    labels = {id(leaf): leaf.name or f"leaf #{k}" for k, leaf in enumerate(leaves, 1)}
    labels.update({id(node): node.name or f"#{k} ({node.op})" for k, node in enumerate(order, 1)})
    labels[id(root)] = root.name or "output"
    return labels


def _step(phase: str, title: str, text: list[str], node: Scalar | None = None, table: dict | None = None,
          changes: list | None = None, with_inputs: bool = True, **numbers: Any) -> dict:
    """One step of the page (see ``explorer_data``): ``node`` is highlighted, with its inputs if
    ``with_inputs``."""
    inputs = [str(id(p)) for p in node.parents] if node is not None and with_inputs else []
    return {"phase": phase, "title": title, "text": text, "table": table,
            "node": None if node is None else str(id(node)), "inputs": inputs, "set": changes or [],
            **numbers}


def explorer_data(root: Scalar, order: list, leaves: list) -> tuple[dict, dict[int, float]]:
    """What the page shows: ``title``, ``steps`` and ``leaves`` (each leaf's picture ``node`` name,
    ``label`` and ``data``); and for each value (by id) the widest gradient it shows, for the layout.

    A step is a dict: ``phase`` ('start', 'forward', 'seed', 'backward', 'done'), ``title`` and
    ``text`` (lines for the panel), ``table`` (``head`` and ``rows``, or None), ``node`` and
    ``inputs`` (what to highlight, as the picture's node names ``str(id(node))``), ``set`` (the
    fields that change: ``[name, 'data' or 'grad', short text, full text]``), and the numbers:
    ``value`` (forward), ``grad`` and ``edges`` (backward: each input's ``local`` derivative, the
    gradient ``passed`` to it, and its ``grad`` after the addition).
    """
    labels = _labels(root, order, leaves)
    name, everything = labels[id(root)], [*leaves, *order]
    sizes = f"{_how_many(leaves, 'leaf', 'leaves')}, {_how_many(order, 'op', 'ops')}"
    unknown = [_set(n, "data", None) for n in order] + [_set(n, "grad", None) for n in everything]
    steps = [_step("start", f"The graph of {name}: {sizes}",
                   [("Next (or the right arrow) computes the ops one at a time, in the order backward() "
                     "sorts them; then the backward pass runs them in reverse. Previous goes back, Reset "
                     "restarts."),
                    "? marks what is not computed yet."],
                   changes=unknown)]
    for k, node in enumerate(order, 1):
        constant = declaration(node)[1]
        text = [f"{labels[id(node)]} = {node.op}({', '.join(labels[id(p)] for p in node.parents)})",
                f"value: {node.data!r}"]
        if isinstance(constant, (int, float)):
            text.insert(1, f"with the constant {constant!r}")
        table = {"head": ["input", "value"], "rows": [[labels[id(p)], repr(p.data)] for p in node.parents]}
        steps.append(_step("forward", f"Forward {k} of {len(order)}: {labels[id(node)]}", text, node, table,
                           [_set(node, "data", node.data)], value=_number(node.data)))

    grads = {id(n): 0.0 for n in everything}  # what the sort leaves: every gradient zero, then the seed
    grads[id(root)] = 1.0
    widest = dict(grads)
    steps.append(_step("seed", f"Backward: {name}.grad = 1",
                       [(f"backward() sets {name}.grad = 1 (d({name})/d({name})) and every other gradient "
                         "to 0, then visits the ops in reverse order. When an op's turn comes, every op that "
                         "uses it has passed its share, so its gradient is complete.")],
                       root, changes=[_set(n, "grad", grads[id(n)]) for n in everything], with_inputs=False,
                       grad=1.0))
    for k, node in enumerate(reversed(order), 1):
        g = grads[id(node)]
        rows, edges, changes = [], [], []
        for p, d in zip(node.parents, local_derivatives(node)):
            passed = g * d
            grads[id(p)] = now = grads[id(p)] + passed  # as backward() adds it
            if len(_short(now)) > len(_short(widest[id(p)])):
                widest[id(p)] = now
            rows.append([labels[id(p)], repr(d), repr(passed), repr(now)])
            edges.append({"parent": str(id(p)), "local": _number(d), "passed": _number(passed),
                          "grad": _number(now)})
            changes.append(_set(p, "grad", now))
        table = {"head": ["input", "local derivative", "passed", "its grad now"], "rows": rows}
        steps.append(_step("backward", f"Backward {k} of {len(order)}: {labels[id(node)]}",
                           [f"{labels[id(node)]}.grad = {g!r}, complete.",
                            "Each input gets grad x local derivative, added to the gradient it has:"],
                           node, table, changes, grad=_number(g), edges=edges))
    steps.append(_step("done", "Done: every leaf holds its gradient",
                       [(f"Each leaf's .grad is d({name})/d(leaf): what {name}.backward() adds to the "
                         "gradient the leaf held before. The ops' gradients are scratch values, recomputed "
                         "by every pass.")]))
    leaf_rows = [{"node": str(id(leaf)), "label": labels[id(leaf)], "data": repr(leaf.data)}
                 for leaf in leaves]
    return {"title": f"scalargrad: the graph of {name}", "steps": steps, "leaves": leaf_rows}, widest


def _inline_svg(svg: bytes) -> str:
    """dot's SVG as an element of the page: no XML prologue, comments or namespace addresses."""
    text = svg.decode("utf-8")
    text = re.sub(r"<!--.*?-->\n?", "", text[text.index("<svg"):], flags=re.DOTALL)
    head, rest = text.split(">", 1)
    head = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", head)  # HTML puts an inline <svg> in its namespace
    return head + ">" + rest


class ExplorableGraph:
    """The explorable page of a graph, as ``explore_graph`` wrote it.

    ``path`` is the file written (None when nothing was), ``steps`` and
    ``leaves`` what the page shows (see ``explorer_data``), ``html`` the
    whole page. In a Jupyter notebook it shows inline, controls included, when it
    is a cell's value (click it, then the arrow keys step too).
    """

    def __init__(self, data: dict, svg: str, path: str | None) -> None:
        self.title, self.steps, self.leaves = data["title"], data["steps"], data["leaves"]
        self.svg, self.path = svg, path
        self.element_id = f"sgx-{secrets.token_hex(4)}"  # tells two explorers on one notebook page apart

    def fragment(self, page: bool = False) -> str:
        """The explorer as one ``<div>`` (its style and script inside); ``page=True``: the arrow keys work
        anywhere on the page, not only once it is clicked."""
        return page_fragment(self.svg, {"steps": self.steps, "leaves": self.leaves, "page": page},
                             self.element_id)

    @property
    def html(self) -> str:
        """The whole self-contained HTML page."""
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{html.escape(self.title)}</title>\n</head>\n<body>\n{self.fragment(page=True)}\n"
                f"</body>\n</html>\n")

    def _repr_html_(self) -> str:  # how Jupyter shows it inline
        return self.fragment()

    def __repr__(self) -> str:
        return f"ExplorableGraph({self.title!r}, {len(self.steps)} steps, path={self.path!r})"


def _check_path(path: Any) -> str | None:
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"the path of an explorable graph must be a str or a path, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str) or not path.lower().endswith(".html"):
        raise ValueError(f"an explorable graph is an HTML page: its path must end in .html, got {path!r}")
    check_writable_folder(path, "explorable graph path")
    return path


def explore_graph(root: Scalar, path: str | os.PathLike | None = None, show: bool | None = None,
                  rankdir: str = "LR", max_nodes: int | None = None,
                  layout_timeout: float = 60.0) -> ExplorableGraph:
    """Write an HTML page that steps through ``root``'s forward and backward passes (see the module's doc).

    Needs graphviz (the package and the ``dot`` program), as ``render()``
    does; the page itself needs nothing but a browser. Where it goes:

    - ``path`` (ending in ``.html``) writes it there; ``show=True`` also
      opens it in the web browser;
    - in a Jupyter notebook the returned ``ExplorableGraph`` shows inline
      when it is the cell's value (with a path too, as a picture does);
      without a path nothing is written;
    - in a script without a path it writes ``graph.html`` in the working
      directory (``graph-1.html``, ... if that exists) and says which;
    - in a web page (Pyodide, see ``scalargrad.viz.browser``) the page shows
      it unless ``show=False``; only ``path`` is written, no browser is opened.

    The page shows every value of the graph, so it refuses one of more than
    ``max_nodes`` values (default ``DEFAULT_MAX_NODES``, 100) with a
    ValueError saying so. No ``.grad`` changes: the backward pass is added
    up aside, as one pass from zero gradients would add it (hooks are not
    called).

    >>> import os, tempfile
    >>> from scalargrad import Scalar
    >>> x0, w0, b = Scalar(0.1, name='x0'), Scalar(0.3, name='w0'), Scalar(0.5, name='b')
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     page = explore_graph(x0 * w0 + b, os.path.join(folder, 'graph.html'))
    ...     os.listdir(folder)
    ['graph.html']
    >>> page.steps[0]['title']
    'The graph of output: 3 leaves, 2 ops'
    >>> page.steps[-2]['edges'][1]['grad']  # w0's gradient: x0
    0.1
    >>> x0.grad, w0.grad  # the page changes no gradient
    (0.0, 0.0)
    """
    if not isinstance(root, Scalar):
        raise TypeError(f"explore_graph needs a Scalar, got {type(root).__name__}")
    limit = DEFAULT_MAX_NODES if max_nodes is None else positive_int(max_nodes, "max_nodes")
    path = _check_path(path)
    import_graphviz()  # its ImportError says what to install, before any work

    order, leaves = _graph_parts(root, limit)
    data, widest = explorer_data(root, order, leaves)
    count = len(order) + len(leaves)
    dot = digraph(root, count, (count, True), rankdir, True, "svg", grads=widest,
                  labels=_labels(root, order, leaves))[0]
    try:
        svg = run_dot(dot.source, "svg", min(layout_timeout, FIRST_LAYOUT_SECONDS))
    except subprocess.TimeoutExpired:  # long edges make dot slow: bound its passes, draw straight edges
        dot.graph_attr.update(FAST_LAYOUT)
        try:
            svg = run_dot(dot.source, "svg", layout_timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"Graphviz could not lay out {count} values in {layout_timeout:g} s; "
                               f"explore a smaller graph") from None
    explorer = ExplorableGraph(data, _inline_svg(svg), path)
    page = explorer.html.encode("utf-8")
    if path is not None:
        write_bytes(path, page)
    if browser.in_browser():  # the web page shows it: no other browser, no file but the one asked for
        if show is not False:
            browser.show("html", page.decode("utf-8"))
        return explorer
    if path is None and (show or not in_notebook()):
        explorer.path = write_new(os.path.abspath("graph.html"), page)  # never replaces a file of the user's
        print(f"explorable graph written to {explorer.path}")
    if show:
        webbrowser.open(pathlib.Path(explorer.path).resolve().as_uri())
    return explorer
