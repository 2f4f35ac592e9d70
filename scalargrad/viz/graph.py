"""Drawing the graph that produced a Scalar with graphviz: ``draw_graph``, behind ``Scalar.render``.

How big the picture is and where it goes are decided here; what it draws is ``graph_source``'s
``digraph`` (shared with ``explore``, to which ``draw_graph`` hands a path ending in ``.html``).

>>> from scalargrad import Scalar
>>> x = Scalar(2.0, name='x')
>>> y = (x * x).relu()
>>> y.backward()
>>> dot = draw_graph(y, show=False)  # show=False: only the Digraph, no picture, window or file
>>> 'data 4' in dot.source and 'grad 4' in dot.source and 'relu' in dot.source
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from .._util.files import write_new
from ..scalar import Scalar
from . import browser
from .explore import ExplorableGraph, explore_graph
from .graph_source import DEFAULT_MAX_NODES, PICTURE_INCHES, digraph
from .notebook import in_notebook
from .output import has_display, import_graphviz, picture_format, run_dot, show_png, write_bytes
from .walks import nearest

if TYPE_CHECKING:
    import graphviz

__all__ = ["draw_graph"]

# The default picture: at most DEFAULT_MAX_NODES values, fewer when their layout would have to shrink
# below MIN_SCALE to fit PICTURE_INCHES (20 x 30 in: a PNG of at most 1920 x 2880 px at dot's 96 dpi).
# At 0.6 the 11 pt labels are still 9 px high. It starts from _FIRST_TRY nodes and scales that by how
# much room the layout leaves (a picture's length grows about linearly with the nodes drawn); a grown
# layout that takes over _GROW_SECONDS (long edges make dot quadratic) keeps the first one.
# benchmarks/bench_pictures.py measures the result.
MIN_SCALE = 0.6
_FIRST_TRY = 30
_FEWEST_LEGIBLE = 8
_GROW_SECONDS = 5.0
_COUNT_LIMIT = 100_000  # nodes counted for the note; a bigger graph is "at least" that many
_SMALLEST_RETRY = 25


def _count(root: Scalar) -> tuple[int, bool]:
    """How many values the graph has, and whether that is all of them: counting stops past _COUNT_LIMIT,
    so a note on a graph of millions of nodes costs what one of 100,000 does."""
    reached = len(nearest(root, _COUNT_LIMIT + 1))
    return reached, reached <= _COUNT_LIMIT


def _room(source: str, timeout: float) -> float:
    """How many times the drawn nodes would still be legible, from a layout alone: above 1 there is
    room for more, below 1 the picture would shrink under MIN_SCALE to fit PICTURE_INCHES."""
    plain = run_dot(source, "plain", timeout).decode("utf-8", errors="replace")
    width, height = map(float, plain.split(None, 4)[2:4])  # first line: "graph <scale> <width> <height>"
    fill = max(width / PICTURE_INCHES[0], height / PICTURE_INCHES[1], 1e-9)
    return 1.0 / (fill * MIN_SCALE)


def _legible_limit(root: Scalar, size: tuple[int, bool], rankdir: str, show_grad: bool, fmt: str,
                   timeout: float) -> int:
    """How many nodes the default picture of ``root`` draws: as many as stay legible, at most
    DEFAULT_MAX_NODES (two layouts of at most that many nodes, the second within _GROW_SECONDS)."""
    dot, drawn = digraph(root, _FIRST_TRY, size, rankdir, show_grad, fmt)
    room = _room(dot.source, timeout)
    if room < 1.0:  # too big already: fewer nodes, in proportion
        return max(_FEWEST_LEGIBLE, int(drawn * room))
    if drawn < _FIRST_TRY or room < 1.5:  # all of the graph is drawn, or little room is left
        return drawn
    grown = min(DEFAULT_MAX_NODES, int(drawn * room))
    dot, drawn_grown = digraph(root, grown, size, rankdir, show_grad, fmt)
    try:
        room = _room(dot.source, min(timeout, _GROW_SECONDS))
    except subprocess.TimeoutExpired:
        return drawn
    return drawn_grown if room >= 1.0 else max(drawn, int(drawn_grown * room))


def draw_graph(root: Scalar, path: str | None = None, format: str | None = None, show: bool | None = None,
               rankdir: str = "LR", max_nodes: int | None = None, show_grad: bool = True,
               layout_timeout: float = 60.0) -> graphviz.Digraph | ExplorableGraph:
    """Draw the graph that produced ``root``: one record per value, one small node per op.

    Returns the ``graphviz.Digraph``. Where the picture goes:

    - in a Jupyter notebook, the returned Digraph shows inline (as SVG) and
      nothing else happens: no window, no file;
    - ``path`` writes it there (png, svg or pdf, from ``format`` or the
      file's suffix); ``show=True`` opens it in the system's image viewer
      (with Pillow), notebook or not; ``show=False`` only returns it;
    - in a script, a bare call opens the viewer when there is a display;
      without one it writes ``graph.png`` in the working directory
      (``graph-1.png``, ... if that exists: no file is replaced) and says which;
    - in a web page (Pyodide, see ``scalargrad.viz.browser``), SVG only: the
      picture shows in the page unless ``show=False``, and is written only to ``path``.

    The picture keeps the nodes nearest ``root``: by default up to
    ``DEFAULT_MAX_NODES`` (100), fewer if that many would not be legible
    within ``PICTURE_INCHES`` (20 x 30 in, 1920 x 2880 px as a PNG). Nodes
    left out are counted in one note. ``max_nodes`` draws exactly that many
    (within the same bound: write an ``.svg`` to zoom into a big one); if
    Graphviz needs more than ``layout_timeout`` seconds, fewer are drawn.
    A one-input ``*`` or ``+`` draws its constant in a dashed box; a fused op
    (a neuron's ``tanh(dot)``, ``dot``, ``sum``) says how many parents it has.

    A path ending in ``.html`` (or ``format='html'``) writes an explorable
    page instead, which steps through the forward and backward passes; see
    ``scalargrad.viz.explore_graph`` (``show_grad`` does not apply there).
    """
    if not isinstance(root, Scalar):
        raise TypeError(f"draw_graph needs a Scalar, got {type(root).__name__}")
    if (format or (os.path.splitext(path)[1].lstrip(".") if path is not None else "")).lower() == "html":
        return explore_graph(root, path, show=show, rankdir=rankdir, max_nodes=max_nodes,
                             layout_timeout=layout_timeout)
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    fmt = picture_format(path, format)
    in_page = browser.in_browser()
    if in_page and path is not None:
        browser.check_format(fmt)  # the page's Graphviz draws SVG only: say so before any layout
    import_graphviz()  # its ImportError says what to install, before any work
    notebook = in_notebook()
    in_script_bare = show is None and path is None and not notebook
    needs_image = path is not None or show is True or in_script_bare or (in_page and show is not False)

    size = _count(root)
    limit = max_nodes
    if limit is None:  # as many as stay legible; without dot (nothing to draw with), the most there can be
        limit = DEFAULT_MAX_NODES
        if size[0] > _FEWEST_LEGIBLE and (needs_image or shutil.which("dot") is not None):
            try:
                limit = _legible_limit(root, size, rankdir, show_grad, fmt, layout_timeout)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"Graphviz could not lay out even {_FIRST_TRY} nodes in "
                                   f"{layout_timeout:g} s") from None
    while True:
        dot, drawn = digraph(root, limit, size, rankdir, show_grad, fmt)
        try:
            image = b""
            if needs_image:
                image = run_dot(dot.source, fmt if path is not None else ("svg" if in_page else "png"),
                                layout_timeout)
            break
        except subprocess.TimeoutExpired:
            if drawn <= _SMALLEST_RETRY:
                raise RuntimeError(f"Graphviz could not lay out even {drawn} nodes in "
                                   f"{layout_timeout:g} s") from None
            limit = max(_SMALLEST_RETRY, drawn // 4)  # < drawn, so each retry really draws fewer nodes
            total = f"{size[0]}" if size[1] else f"at least {size[0]}"
            print(f"graph too large to lay out in {layout_timeout:g} s; drawing the {limit} nodes nearest "
                  f"the root (of {total})")

    if path is not None:
        write_bytes(path, image)
    if in_page:
        if show is not False:
            browser.show("svg", image.decode("utf-8"))
    elif show or in_script_bare:
        png = image if path is None or fmt == "png" else run_dot(dot.source, "png", layout_timeout)
        if show is None and not has_display():
            # Never replace a file of the user's: graph.png, else graph-1.png, graph-2.png, ...
            target = write_new(os.path.abspath("graph.png"), png)
            print(f"no display found: graph written to {target}")
        else:
            show_png(png)
    return dot
