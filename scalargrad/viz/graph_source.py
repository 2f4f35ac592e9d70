"""The dot source of a Scalar's graph: which values are drawn and how each is labelled.

Shared by ``viz.graph`` (``draw_graph``: the picture, its size and where it
goes) and ``viz.explore`` (the explorable page, which lays out the same
picture with its own labels); both import it, it imports neither.

>>> from scalargrad import Scalar
>>> x = Scalar(2.0, name='x')
>>> y = (x * 3.0).relu()
>>> dot, drawn = digraph(y, max_nodes=10, size=(3, True), rankdir='LR', show_grad=False, fmt='svg')
>>> drawn, 'data 6' in dot.source, 'relu' in dot.source
(3, True, True)
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

from ..scalar import Scalar
from .output import escape, import_graphviz
from .walks import nearest

if TYPE_CHECKING:
    import graphviz

__all__ = ["DEFAULT_MAX_NODES", "FAST_LAYOUT", "PICTURE_INCHES", "digraph"]

# The default picture draws at most DEFAULT_MAX_NODES values (viz.graph draws fewer when they would not be
# legible within PICTURE_INCHES: 20 x 30 in, a PNG of at most 1920 x 2880 px at dot's 96 dpi); an
# explorable page refuses a graph of more unless told.
DEFAULT_MAX_NODES = 100
PICTURE_INCHES = (20, 30)

# dot's layout can take minutes on a few hundred nodes with long edges; these
# settings bound its optimisation passes and draw straight edges.
_FAST_LAYOUT_ABOVE = 150
FAST_LAYOUT = {"nslimit": "2", "nslimit1": "2", "mclimit": "0.2", "searchsize": "10", "splines": "line"}


def _fmt(value) -> str:
    if isinstance(value, Scalar):  # a gradient recorded with create_graph=True
        value = value.data
    return f"{value:.4g}"


def _constant_of(node: Scalar) -> float | None:
    """The number a one-input ``*`` or ``+`` was applied with, when the values give it to 6 digits.

    The engine keeps an op's constant to itself; for these two ops ``y = x * c`` and ``y = x + c``,
    so ``c`` is recovered from the data: ``y / x`` is within a rounding of ``c`` unless ``y``
    underflowed, ``y - x`` only when ``c`` is not lost in the rounding of ``y`` (1e20 + 1 is 1e20).
    """
    x, y = node.parents[0].data, node.data
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    if node.op == "*" and x != 0.0 and abs(y) >= sys.float_info.min:
        c = y / x
        return c if x * c == y else None
    if node.op == "+":
        c = y - x
        return c if x + c == y and abs(c) >= math.ulp(y) * 1e7 else None
    return None


def _op_label(node: Scalar, kept: set[int]) -> str:
    """The op's name; a fused op (a neuron, dot, sum) also says how many parents it has, and how
    many of them are drawn, so '5' is never read as the number of a neuron's inputs."""
    op, parents = node.op or "op", node.parents
    if len(parents) <= 2:
        return escape(op)
    drawn = sum(id(p) in kept for p in parents)
    more = "" if drawn == len(parents) else f", {drawn} drawn"
    return f"{escape(op)}\\n{len(parents)} parents{more}"


def digraph(root: Scalar, max_nodes: int, size: tuple[int, bool], rankdir: str, show_grad: bool,
            fmt: str, grads: dict[int, float] | None = None,
            labels: dict[int, str] | None = None) -> tuple[graphviz.Digraph, int]:
    """The picture of the ``max_nodes`` nodes nearest ``root``, the rest summed up in one note (``size``
    is the graph's number of values and whether that count is exact); and the number of values it draws.

    Each value is a record named ``str(id(node))`` (its label, its data, its grad), its op an ellipse
    named that plus ``op``. A value's label is its ``.name``, or ``labels[id(node)]`` when ``labels``
    is given (the explorable page names every value, as its panel does); ``grads`` (by ``id``)
    replaces the ``.grad`` shown.
    """
    order = nearest(root, max_nodes)
    kept = {id(node) for node in order}
    graph_attr = {"rankdir": rankdir, "size": "{},{}".format(*PICTURE_INCHES)}
    if len(order) > _FAST_LAYOUT_ABOVE:
        graph_attr.update(FAST_LAYOUT)
    dot = import_graphviz().Digraph(format=fmt, graph_attr=graph_attr,
                                    node_attr={"fontname": "Helvetica", "fontsize": "11"})
    for node in order:
        uid = str(id(node))
        label = node.name if labels is None else labels.get(id(node), node.name)
        fields = [escape(label)] if label else []
        fields.append(f"data {_fmt(node.data)}")
        if show_grad:
            fields.append(f"grad {_fmt(node.grad if grads is None else grads[id(node)])}")
        dot.node(uid, "{ " + " | ".join(fields) + " }", shape="record",
                 style="filled", fillcolor="#e8f0fe" if node.parents else "#ffffff")
        if node.parents:
            dot.node(uid + "op", _op_label(node, kept), shape="ellipse", fontsize="10")
            dot.edge(uid + "op", uid)
            for p in node.parents:
                if id(p) in kept:
                    dot.edge(str(id(p)), uid + "op")
            constant = _constant_of(node) if len(node.parents) == 1 else None
            if constant is not None:
                dot.node(uid + "c", f"{constant:.6g}", shape="box", style="dashed", fontsize="10")
                dot.edge(uid + "c", uid + "op", style="dashed")
    total, exact = size
    if total > len(order):
        hidden = f"{total - len(order):,}" if exact else f"at least {total - len(order):,}"
        dot.node("more", f"+ {hidden} more nodes not drawn\\ndraw more: render('graph.svg', max_nodes=...)",
                 shape="note", style="filled", fillcolor="#fff3cd")
        for node in order:
            if node.parents and any(id(p) not in kept for p in node.parents):
                dot.edge("more", str(id(node)) + "op", style="dashed")
    return dot, len(order)
