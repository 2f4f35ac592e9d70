"""The layer table that ``Module.summary()`` prints and ``viz.plot_model`` draws.

One row per layer: containers are opened up, and a module that is one layer
even though it holds sub-modules (a Linear holds its Neurons) stays one row.
The rows follow the data: the model is run once on zeros, without recording
a graph, and each layer's row comes where it is called, with its output size.

>>> from scalargrad.nn import Sequential, Linear
>>> [(row.name, row.kind, row.output_size) for row in layer_table(Sequential([Linear(3, 2), Linear(2, 1)]))]
[('0', 'Linear', '2'), ('1', 'Linear', '1')]
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

from .._util.checks import positive_int_or_tuple
from .._util.nested import shape
from ..scalar import no_grad

__all__ = ["LayerRow", "ModelSummary", "in_interactive_session", "layer_table"]


class LayerRow(NamedTuple):
    """One layer of a model as ``summary()`` and ``plot()`` show it."""

    name: str  # path in the model, e.g. '0' or 'encoder.1'
    layer: Any  # the Module itself
    kind: str  # class name, with the activation when it is not the identity: 'Linear(relu)'
    output_size: str | None  # '16', '4 x 3 x 3', or None when unknown
    num_parameters: int  # 0 on a layer's second and later calls: its parameters are counted once
    # Which call of ``layer`` this row is in the traced run: 1, 2 for a layer the
    # data goes through again, 0 for a layer the run never called; None when
    # the model could not be run (the rows are then in attribute order).
    call: int | None = None


def layer_table(model: Any, input_size: int | tuple[int, ...] | None = None) -> list[LayerRow]:
    """The rows of ``model``'s layer table in the order data flows (the model alone if it has no sub-modules).

    The model is run once on zeros of ``input_size`` (``16`` for a vector,
    ``(1, 8, 8)`` for an image) in eval mode, without recording a graph,
    and each module's mode is restored afterwards. Each call of a layer is a
    row, in call order, with the size of what it returned; a layer called
    again (a shared activation, tied weights) has a row per call, its
    parameters counted in the first; layers the run never called come last.

    Without ``input_size`` the sizes that the layers' ``size_in`` give (a
    Linear's) are tried in turn, and the first on which the model runs is
    used. When none runs (a model that starts with a Conv2D, say), the rows
    are in attribute order and show the sizes layers know by themselves.
    A size that is not a positive int (or a tuple of them) raises TypeError
    or ValueError naming ``input_size``.
    """
    if input_size is not None:  # checked before anything runs: -1 or (1, 0, 8) would give empty zeros
        input_size = positive_int_or_tuple(input_size, "input_size")
    layers = list(_layers(model)) or [(type(model).__name__, model)]
    calls = _trace(model, layers, input_size) if input_size is not None else _trace_some_input(model, layers)
    if calls is None:
        return [_row(name, layer, None, None) for name, layer in layers]
    return _rows_in_call_order(layers, calls)


class ModelSummary(str):
    """What ``Module.summary()`` gives: the layer table as text, with its numbers kept for programs.

    It is a ``str`` (print it, search it, write it to a file) whose ``repr``
    is the table too, so a notebook or the REPL shows the table rather than
    an escaped string. ``rows`` holds the ``LayerRow``s (``name``, ``kind``,
    ``output_size``, ``num_parameters``, ``layer``, ``call``) and
    ``total_parameters`` the model's count (shared parameters once).

    >>> from scalargrad.nn import Sequential, Linear
    >>> table = ModelSummary.from_rows(layer_table(Sequential([Linear(3, 2)])), 8)
    >>> table.rows[0].kind, table.total_parameters, table.splitlines()[-1]
    ('Linear', 8, 'Total parameters: 8')
    """

    rows: list[LayerRow]
    total_parameters: int

    @classmethod
    def from_rows(cls, rows: list[LayerRow], total_parameters: int) -> ModelSummary:
        """The table of ``rows`` (from ``layer_table``), ending on ``total_parameters``."""
        table = cls(_table_text(rows, total_parameters))
        table.rows = list(rows)
        table.total_parameters = total_parameters
        return table

    def __repr__(self) -> str:
        return str(self)


def in_interactive_session() -> bool:
    """True in Python's REPL, IPython and Jupyter, which show a line's value themselves; False in a script.

    Each of them sets ``sys.ps1``, its prompt (IPython too, "so that scripts
    can decide if they are running interactively"); a script does not, even
    under ``python -i`` until its prompt appears. torchinfo uses the same test.

    >>> in_interactive_session()  # doctests run as a script
    False
    """
    return hasattr(sys, "ps1")


def _table_text(rows: list[LayerRow], total_parameters: int) -> str:
    table = []
    for row in rows:
        calls = " (not run)" if row.call == 0 else f" (call {row.call})" if row.call and row.call > 1 else ""
        name = row.name + calls
        table.append((name, row.kind, row.output_size or "-", str(row.num_parameters)))
    width = [max(25, *(len(r[0]) + 1 for r in table)), 21, 15, 10]
    line = "=" * (sum(width) + 3)

    def fmt(cells: tuple[str, ...]) -> str:
        return " ".join(c.ljust(w) for c, w in zip(cells, width)).rstrip()

    out = [fmt(("Layer", "Type", "Output size", "Parameters")), line]
    out += [fmt(r) for r in table]
    out += [line, f"Total parameters: {total_parameters}"]
    return "\n".join(out)


def _layers(module: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(name, module) for every layer below ``module``: children, with containers opened up."""
    for name, child in module.named_children():
        full = f"{prefix}.{name}" if prefix else name
        if child.listed_as_one_layer or not any(True for _ in child.named_children()):
            yield full, child
        else:
            yield from _layers(child, full)


def _row(name: str, layer: Any, size: str | None, call: int | None) -> LayerRow:
    kind = type(layer).__name__
    activation = getattr(layer, "activation", None)
    if isinstance(activation, str) and activation != "identity":
        kind += f"({activation})"
    if size is None and call != 0:
        size = getattr(layer, "output_size", None)
    parameters = 0 if call is not None and call > 1 else layer.num_parameters()
    return LayerRow(name, layer, kind, None if size is None else str(size), parameters, call)


def _rows_in_call_order(layers: list[tuple[str, Any]], calls: list[tuple[Any, str]]) -> list[LayerRow]:
    """A row per call; a layer listed under several names takes them in turn (the last for further calls)."""
    names: dict[int, list[str]] = {}
    for name, layer in layers:
        names.setdefault(id(layer), []).append(name)
    count: dict[int, int] = {}
    rows = []
    for layer, size in calls:
        k = count[id(layer)] = count.get(id(layer), 0) + 1
        own = names[id(layer)]
        rows.append(_row(own[min(k, len(own)) - 1], layer, size, k))
    rows += [_row(name, layer, None, 0) for name, layer in layers if id(layer) not in count]
    return rows


def _size_text(output: Any) -> str:
    if isinstance(output, (list, tuple)):
        dims = shape(output)
        return " x ".join(map(str, dims)) if dims else "0"
    return "1"


def _zeros(size: int | tuple[int, ...]) -> list:
    if isinstance(size, int):
        return [0.0] * size
    if len(size) == 1:
        return [0.0] * size[0]
    return [_zeros(size[1:]) for _ in range(size[0])]


def _trace_some_input(model: Any, layers: list[tuple[str, Any]]) -> list[tuple[Any, str]] | None:
    """``_trace`` on the first of the layers' ``size_in`` that the model runs on; else None."""
    tried = set()
    for _, layer in layers:
        size = getattr(layer, "size_in", None)
        if isinstance(size, int) and size >= 1 and size not in tried:
            tried.add(size)
            calls = _trace_or_none(model, layers, size)
            if calls is not None:
                return calls
    return None


def _trace_or_none(model: Any, layers: list[tuple[str, Any]], size: int) -> list[tuple[Any, str]] | None:
    # The size is a guess, so any error means "not this size": summary() without
    # input_size never ran the model before, and must not fail where it did not.
    try:
        return _trace(model, layers, size)
    except Exception:  # noqa: BLE001
        return None


def _trace(model: Any, layers: list[tuple[str, Any]],
           input_size: int | tuple[int, ...]) -> list[tuple[Any, str]]:
    """Run ``model`` once on zeros: (layer, output size) for every call of a listed layer, in call order."""
    calls = []
    wrapped = []
    for _, layer in layers:
        if "forward" in vars(layer):
            continue  # the same layer listed twice
        original = layer.forward

        def traced(*args, _original=original, _layer=layer, **kwargs) -> Any:
            call = [_layer, "-"]
            calls.append(call)  # on entry, so the calls are in the order they start
            out = _original(*args, **kwargs)
            call[1] = _size_text(out)
            return out

        # An instance attribute shadows the class's forward for this one run;
        # object.__setattr__ skips Module.__setattr__'s parameter naming.
        object.__setattr__(layer, "forward", traced)
        wrapped.append(layer)
    was_training = [(m, m.training) for _, m in model.named_modules()]
    try:
        model.eval()
        with no_grad():
            model(_zeros(input_size))
    finally:
        for layer in wrapped:
            object.__delattr__(layer, "forward")
        for m, mode in was_training:
            object.__setattr__(m, "training", mode)
    return [(layer, size) for layer, size in calls]
