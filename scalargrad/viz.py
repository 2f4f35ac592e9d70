"""Pictures: the computational graph of a Scalar (graphviz).

graphviz (the Python package and the ``dot`` program) is optional and
imported only when a picture is asked for.

>>> from scalargrad import Scalar
>>> x = Scalar(2.0, name='x')
>>> y = (x * x).relu()
>>> y.backward()
>>> g = draw_graph(y)          # doctest: +SKIP  (a graphviz.Digraph)
"""

from __future__ import annotations

import os
import sys
from collections import deque

from .scalar import Scalar

__all__ = ["draw_graph"]

_FORMATS = ("png", "svg", "pdf")


def _import_graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing a graph needs the graphviz package: pip install graphviz "
            "(and the Graphviz 'dot' program: apt-get install graphviz / brew install graphviz)"
        ) from None
    return graphviz


def _escape(text: str) -> str:
    """Escape the characters that have a meaning inside a graphviz record label."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


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
               rankdir: str = "LR", max_nodes: int = 500, show_grad: bool = True):
    """Draw the graph that produced ``root``: one record per value, one small node per op.

    Returns the ``graphviz.Digraph`` (a notebook shows it inline). With ``path``
    the picture is also written there (png, svg or pdf, from ``format`` or the
    file's suffix). With ``show=True`` it is opened with Pillow. Called with
    neither on a machine without a display, it writes ``graph.png`` in the
    working directory and says so. Graphs above ``max_nodes`` keep the nodes
    nearest the root and summarise the rest in one node.
    """
    if not isinstance(root, Scalar):
        raise TypeError(f"draw_graph needs a Scalar, got {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    graphviz = _import_graphviz()
    fmt = format or (os.path.splitext(path)[1].lstrip(".").lower() if path else "") or "png"
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {fmt!r}")

    order, kept, hidden, edges = _collect(root, max_nodes)
    dot = graphviz.Digraph(format=fmt, graph_attr={"rankdir": rankdir},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"})
    for node in order:
        uid = str(id(node))
        fields = [_escape(node.name)] if node.name else []
        fields.append(f"data {_fmt(node.data)}")
        if show_grad:
            fields.append(f"grad {_fmt(node.grad)}")
        dot.node(uid, "{ " + " | ".join(fields) + " }", shape="record",
                 style="filled", fillcolor="#e8f0fe" if node.parents else "#ffffff")
        if node.parents:
            op = node.op or "op"
            fan_in = len(node.parents)
            label = f"{op} ({fan_in})" if fan_in > 2 else op
            dot.node(uid + "op", _escape(label), shape="ellipse", fontsize="10")
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

    if path is not None:
        _write(dot, path, fmt, graphviz)
    if show or (show is None and path is None):
        if show is None and not _has_display():
            path = os.path.abspath("graph.png")
            _write(dot, path, "png", graphviz)
            print(f"no display found: graph written to {path}")
        else:
            _open_with_pillow(dot, graphviz)
    return dot


def _write(dot, path: str, fmt: str, graphviz) -> None:
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "drawing a graph needs the Graphviz 'dot' program on PATH: "
            "apt-get install graphviz (Debian/Ubuntu) or brew install graphviz (macOS)"
        ) from None
    # Write next to the target and rename, so an interrupted write leaves no half picture.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_with_pillow(dot, graphviz) -> None:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("showing a graph needs Pillow: pip install pillow") from None
    import io
    try:
        data = dot.pipe(format="png")
    except graphviz.ExecutableNotFound:
        raise RuntimeError("drawing a graph needs the Graphviz 'dot' program: apt-get install graphviz") from None
    Image.open(io.BytesIO(data)).show()
