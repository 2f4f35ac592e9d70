"""Drawing a model's layers with graphviz: ``plot_model``, behind ``Module.plot``.

>>> from scalargrad.nn import Sequential, Linear
>>> dot = plot_model(Sequential([Linear(2, 4, activation='relu'), Linear(4, 1)]))
>>> 'Linear' in dot.source and '12 parameters' in dot.source
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..nn import Module
from ..nn.summary import layer_table
from .output import escape, import_graphviz, picture_format, run_dot, write_bytes

if TYPE_CHECKING:
    import graphviz

__all__ = ["plot_model"]


def plot_model(model: Module, path: str | None = None, input_size: int | tuple[int, ...] | None = None,
               format: str | None = None, rankdir: str = "TB") -> graphviz.Digraph:
    """Draw a model's layers as a graphviz diagram: one box per layer, in the order data flows through them.

    Each box names the layer, its type with sizes and activation, its output
    size (all of them with ``input_size``, as in ``Module.summary``) and its
    parameter count. The order is traced as ``layer_table`` does: a layer
    called twice has a box per call, one never called stands apart. Returns
    the ``graphviz.Digraph``; with ``path`` the picture is also written
    there (png, svg or pdf).
    """
    if not isinstance(model, Module):
        raise TypeError(f"plot_model needs a Module, got {type(model).__name__}")
    graphviz = import_graphviz()
    fmt = picture_format(path, format)
    rows = layer_table(model, input_size)
    dot = graphviz.Digraph(format=fmt, graph_attr={"rankdir": rankdir},
                           node_attr={"fontname": "Helvetica", "fontsize": "11", "shape": "record",
                                      "style": "filled", "fillcolor": "#e8f0fe"})
    if input_size is not None:
        shape = input_size if isinstance(input_size, int) else " x ".join(map(str, input_size))
        dot.node("input", f"input | {shape}", fillcolor="#ffffff")
    previous = "input" if input_size is not None else None
    for i, row in enumerate(rows):
        uid = f"layer{i}"
        fields = [escape(row.name), escape(repr(row.layer).split("\n")[0].rstrip("("))]
        if row.output_size is not None:
            fields.append(f"output {row.output_size}")
        if row.call is not None and row.call > 1:
            fields.append(f"call {row.call} (the same layer)")
        else:
            fields.append(f"{row.num_parameters} parameters" + (" | not run" if row.call == 0 else ""))
        dot.node(uid, "{ " + " | ".join(fields) + " }")
        if row.call == 0:
            continue  # a layer the traced run never called takes no part in the flow
        if previous is not None:
            dot.edge(previous, uid)
        previous = uid
    if path is not None:
        write_bytes(path, run_dot(dot.source, fmt, 60.0))
    return dot
