"""The layer table that ``Module.summary()`` prints and ``viz.plot_model`` draws.

One row per layer: containers are opened up, and a module that is one layer
even though it holds sub-modules (a Linear holds its Neurons) stays one row.
Given an input size, the model is run once on zeros, without recording a
graph, so every row's output size is known.

>>> from scalargrad.nn import Sequential, Linear
>>> [(row.name, row.kind, row.output_size) for row in layer_table(Sequential([Linear(3, 2), Linear(2, 1)]))]
[('0', 'Linear', '2'), ('1', 'Linear', '1')]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from .._util.checks import positive_int_or_tuple
from .._util.nested import shape
from ..scalar import no_grad

__all__ = ["LayerRow", "layer_table"]


class LayerRow(NamedTuple):
    """One layer of a model as ``summary()`` and ``plot()`` show it."""

    name: str  # path in the model, e.g. '0' or 'encoder.1'
    layer: Any  # the Module itself
    kind: str  # class name, with the activation when it is not the identity: 'Linear(relu)'
    output_size: str | None  # '16', '4 x 3 x 3', or None when unknown
    num_parameters: int


def layer_table(model: Any, input_size: int | tuple[int, ...] | None = None) -> list[LayerRow]:
    """The rows of ``model``'s layer table, in order (the model itself when it has no sub-modules).

    With ``input_size`` (``16`` for a vector, ``(1, 8, 8)`` for an image)
    every output size is measured by one run on zeros in eval mode, and
    each module's mode is restored afterwards; otherwise a row shows the
    size a layer knows by itself (its ``output_size``) or None. A size that
    is not a positive int (or a tuple of them) raises TypeError or
    ValueError naming ``input_size``.
    """
    if input_size is not None:  # checked before anything runs: -1 or (1, 0, 8) would give empty zeros
        input_size = positive_int_or_tuple(input_size, "input_size")
    layers = list(_layers(model)) or [(type(model).__name__, model)]
    traced = _traced_output_sizes(model, layers, input_size) if input_size is not None else {}
    rows = []
    for name, layer in layers:
        kind = type(layer).__name__
        activation = getattr(layer, "activation", None)
        if isinstance(activation, str) and activation != "identity":
            kind += f"({activation})"
        size = traced.get(id(layer)) or getattr(layer, "output_size", None)
        rows.append(LayerRow(name, layer, kind, None if size is None else str(size), layer.num_parameters()))
    return rows


def _layers(module: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(name, module) for every layer below ``module``: children, with containers opened up."""
    for name, child in module.named_children():
        full = f"{prefix}.{name}" if prefix else name
        if child.listed_as_one_layer or not any(True for _ in child.named_children()):
            yield full, child
        else:
            yield from _layers(child, full)


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


def _traced_output_sizes(model: Any, layers: list, input_size: int | tuple[int, ...]) -> dict[int, str]:
    """Run ``model`` once on zeros, recording each listed layer's output size by ``id``."""
    sizes = {}
    wrapped = []
    for _, layer in layers:
        if "forward" in vars(layer):
            continue  # the same layer listed twice
        original = layer.forward

        def traced(*args, _original=original, _layer=layer, **kwargs) -> Any:
            out = _original(*args, **kwargs)
            sizes[id(_layer)] = _size_text(out)
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
    return sizes
