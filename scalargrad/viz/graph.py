"""Drawing the graph that produced a Scalar with graphviz: ``draw_graph``, behind ``Scalar.render``.

>>> from scalargrad import Scalar
>>> x = Scalar(2.0, name='x')
>>> y = (x * x).relu()
>>> y.backward()
>>> g = draw_graph(y)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
from collections import deque
from typing import TYPE_CHECKING

from .._util.files import write_new
from ..scalar import Scalar
from .output import escape, has_display, import_graphviz, picture_format, run_dot, show_png, write_bytes

if TYPE_CHECKING:
    import graphviz

__all__ = ["draw_graph"]

# dot's layout can take minutes on a few hundred nodes with long edges; these
# settings bound its optimisation passes and draw straight edges.
_FAST_LAYOUT_ABOVE = 150
_FAST_LAYOUT = {"nslimit": "2", "nslimit1": "2", "mclimit": "0.2", "searchsize": "10", "splines": "line"}
_SMALLEST_RETRY = 25


def _fmt(value) -> str:
    if isinstance(value, Scalar):  # a gradient recorded with create_graph=True
        value = value.data
    return f"{value:.4g}"


def _collect(root: Scalar, max_nodes: int):
    """Breadth-first from root: the nodes kept (nearest first) and what was left out."""
    kept, order = {root}, [root]
    queue = deque([root])
    while queue and len(order) < max_nodes:
        node = queue.popleft()
        for p in node.parents:
            if p not in kept:
                if len(order) >= max_nodes:
                    break
                kept.add(p)
                order.append(p)
                queue.append(p)
    # Count everything, iteratively, so a huge graph is summarised, not drawn.
    seen, stack, edges = {root}, [root], 0
    while stack:
        node = stack.pop()
        edges += len(node.parents)
        for p in node.parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return order, kept, len(seen) - len(order), edges


def draw_graph(root: Scalar, path: str | None = None, format: str | None = None, show: bool | None = None,
               rankdir: str = "LR", max_nodes: int = 500, show_grad: bool = True,
               layout_timeout: float = 60.0) -> graphviz.Digraph:
    """Draw the graph that produced ``root``: one record per value, one small node per op.

    Returns the ``graphviz.Digraph`` (a notebook shows it inline). With ``path``
    the picture is also written there (png, svg or pdf, from ``format`` or the
    file's suffix). With ``show=True`` it is opened with Pillow. Called with
    neither on a machine without a display, it writes ``graph.png`` in the
    working directory (``graph-1.png``, ... if that exists: no file is
    replaced) and says which. Graphs above ``max_nodes`` keep the nodes
    nearest the root and summarise the rest in one node; if Graphviz still
    needs more than ``layout_timeout`` seconds, fewer nodes are drawn.
    """
    if not isinstance(root, Scalar):
        raise TypeError(f"draw_graph needs a Scalar, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    graphviz = import_graphviz()
    fmt = picture_format(path, format)

    order, kept, hidden, edges = _collect(root, max_nodes)
    graph_attr = {"rankdir": rankdir}
    if len(order) > _FAST_LAYOUT_ABOVE:
        graph_attr.update(_FAST_LAYOUT)
    dot = graphviz.Digraph(format=fmt, graph_attr=graph_attr,
                           node_attr={"fontname": "Helvetica", "fontsize": "11"})
    for node in order:
        uid = str(id(node))
        fields = [escape(node.name)] if node.name else []
        fields.append(f"data {_fmt(node.data)}")
        if show_grad:
            fields.append(f"grad {_fmt(node.grad)}")
        dot.node(uid, "{ " + " | ".join(fields) + " }", shape="record",
                 style="filled", fillcolor="#e8f0fe" if node.parents else "#ffffff")
        if node.parents:
            op = node.op or "op"
            fan_in = len(node.parents)
            label = f"{op} ({fan_in})" if fan_in > 2 else op
            dot.node(uid + "op", escape(label), shape="ellipse", fontsize="10")
            dot.edge(uid + "op", uid)
            for p in node.parents:
                if p in kept:
                    dot.edge(str(id(p)), uid + "op")
    if hidden:
        dot.node("more", f"+ {hidden} more nodes, {edges} edges in all", shape="note",
                 style="filled", fillcolor="#fff3cd")
        for node in order:
            if node.parents and any(p not in kept for p in node.parents):
                dot.edge("more", str(id(node)) + "op", style="dashed")

    if path is None and show is False:
        return dot
    try:
        image = run_dot(dot.source, fmt if path is not None else "png", layout_timeout)
    except subprocess.TimeoutExpired:
        drawn = len(order)  # what this attempt drew: a small graph draws fewer nodes than max_nodes allows
        if drawn <= _SMALLEST_RETRY:
            raise RuntimeError(f"Graphviz could not lay out even {drawn} nodes in {layout_timeout:g} s") from None
        fewer = max(_SMALLEST_RETRY, drawn // 4)  # < drawn, so each retry really draws fewer nodes
        print(f"graph too large to lay out in {layout_timeout:g} s; drawing the {fewer} nodes nearest the root "
              f"(of {drawn + hidden})")
        return draw_graph(root, path, format, show, rankdir, fewer, show_grad, layout_timeout)
    if path is not None:
        write_bytes(path, image)
    if show or (show is None and path is None):
        png = image if path is None or fmt == "png" else run_dot(dot.source, "png", layout_timeout)
        if show is None and not has_display():
            # Never replace a file of the user's: graph.png, else graph-1.png, graph-2.png, ...
            target = write_new(os.path.abspath("graph.png"), png)
            print(f"no display found: graph written to {target}")
        else:
            show_png(png)
    return dot
