"""Layers in a recorded graph: the neurons that one set of weights computes, run after run.

A Replay records a ``Linear`` (or ``Conv2D``) call as one neuron node per
output, all reading one input vector; the same weights run again for every
sample of the batch (and every window of an image). ``find_layers`` collects
those runs, so the fast form can write a layer once, as a loop over its runs,
instead of once per run. A run is kept out of a layer (and written node by
node) wherever a loop could not add the gradients in ``backward()``'s order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..neuron import NEURON, NeuronConstant
from ..op import Op
from ..scalar import Scalar, declaration

__all__ = ["Layer", "Run", "find_layers"]


@dataclass
class Run:
    """One application of a layer: its neuron nodes (in graph order) and its input vector.

    ``inputs`` holds, per weight column, the Scalar read there or a fixed number
    (a network input of plain numbers, the bias's 1.0).
    """

    neurons: list[Scalar]
    inputs: list[Any]


@dataclass
class Layer:
    """Neurons sharing their weights over several runs (the samples of a batch, the windows of an image).

    ``rows[j]`` are neuron j's weights (its bias among them, met by the
    input 1.0); ``activation`` is the activation's op, with its ``slope``;
    ``inputs_need_grad`` tells whether the runs' inputs get gradients;
    ``runs`` are in the order of the graph's nodes; ``varying`` are the input
    columns that differ between runs (the others hold one number in every
    run, such as the bias's 1.0).
    """

    rows: list[tuple[Scalar, ...]]
    activation: Op
    slope: float
    inputs_need_grad: bool
    runs: list[Run] = field(default_factory=list)
    varying: list[int] = field(default_factory=list)

    @property
    def constants(self) -> dict[int, float]:
        """The input columns holding one number in every run, and that number."""
        first, varying = self.runs[0].inputs, set(self.varying)
        return {i: first[i] for i in range(len(first)) if i not in varying}


def _replayed_neuron(node: Scalar) -> NeuronConstant | None:
    """A neuron node's constant, when a Replay build recorded it (else None)."""
    op, constant = declaration(node)
    return constant if op is NEURON and constant.replayed else None


def find_layers(nodes: list[Scalar], needs_grad: set[int], readers: Counter) -> list[Layer]:
    """The layers among ``nodes`` (a Replay's order), each with two runs or more, in order of first use.

    A layer's runs are the input vectors its weights read; a run whose inputs
    get gradients must be their only reader, each input once, so that the
    loop's sum of one input's terms is the sum ``backward()`` makes. ``readers`` counts each Scalar's
    readers among the nodes.
    """
    runs: dict[int, tuple[NeuronConstant, list]] = {}  # id of a shared input vector -> (a constant, neurons)
    for node in nodes:
        spec = _replayed_neuron(node)
        if spec is not None:
            runs.setdefault(id(spec.inputs), (spec, []))[1].append(node)
    if not runs:
        return []
    layers: dict[tuple, Layer] = {}
    for spec, neurons in runs.values():
        shared = [_replayed_neuron(n).weights for n in neurons]
        key = (spec.activation, spec.slope, spec.inputs_recorded, tuple(map(id, shared)))
        sources = spec.inputs.sources
        inputs = list(sources) + spec.inputs.values[len(sources):]
        if not _run_fits(inputs, len(neurons), spec.inputs_recorded, needs_grad, readers) \
                or any(len(w.sources) != len(inputs) for w in shared):
            continue
        layer = layers.get(key)
        if layer is None:
            rows = [w.sources for w in shared]
            layer = layers[key] = Layer(rows, spec.activation, spec.slope, spec.inputs_recorded)
        layer.runs.append(Run(neurons, inputs))
    found = []
    for layer in _fold_cut_windows(list(layers.values()), {id(node): i for i, node in enumerate(nodes)}):
        if len(layer.runs) < 2:
            continue
        columns = list(zip(*(run.inputs for run in layer.runs)))
        layer.varying = [i for i, column in enumerate(columns) if not _one_float(column)]
        if layer.varying:
            found.append(layer)
    return found


def _one_float(column: tuple) -> bool:
    """Whether every run holds the same float in this input column (a constant such as the bias's 1.0)."""
    return type(column[0]) is float and all(type(v) is float and v == column[0] for v in column)


def _fold_cut_windows(layers: list[Layer], position: dict[int, int]) -> list[Layer]:
    """Layers whose rows are each a part of a wider layer's rows, in the same columns, folded into it.

    A convolution with padding reads fewer pixels at the image's border: its border windows are layers
    of their own, over part of the kernel's weights. As runs of the whole kernel they read 0.0 in the
    missing columns; a product w * 0.0 is a zero, which leaves a sum that starts at 0.0 as it was (for
    finite weights and gradients), so the bits do not change and the kernel stays one loop.
    """
    wide: dict[int, list[Layer]] = {}  # id of a weight in a layer's first row -> the layers holding it
    for layer in layers:
        for w in layer.rows[0]:
            wide.setdefault(id(w), []).append(layer)
    kept = []
    for part in sorted(layers, key=lambda layer: len(layer.rows[0])):
        target = columns = None
        for whole in wide.get(id(part.rows[0][0]), ()):
            columns = _columns_within(part, whole) if whole is not part else None
            if columns is not None:
                target = whole
                break
        if target is None:
            kept.append(part)
            continue
        for run in part.runs:
            inputs = [0.0] * len(target.rows[0])
            for i, v in zip(columns, run.inputs):
                inputs[i] = v
            target.runs.append(Run(run.neurons, inputs))
    for layer in kept:
        layer.runs.sort(key=lambda run: position[id(run.neurons[0])])
    return kept


def _columns_within(part: Layer, whole: Layer) -> list[int] | None:
    """Where ``part``'s weight columns sit among ``whole``'s, when every row of ``part`` is a part of the
    same row of ``whole`` in those columns (and the two are alike otherwise); else None."""
    if (len(whole.rows[0]) <= len(part.rows[0]) or len(whole.rows) != len(part.rows)
            or (whole.activation, whole.slope, whole.inputs_need_grad)
            != (part.activation, part.slope, part.inputs_need_grad)):
        return None
    column = {id(w): i for i, w in enumerate(whole.rows[0])}
    columns = [column.get(id(w)) for w in part.rows[0]]
    if None in columns or columns != sorted(columns):
        return None
    if any(whole_row[i] is not w for whole_row, part_row in zip(whole.rows, part.rows)
           for i, w in zip(columns, part_row)):
        return None
    return columns


def _run_fits(inputs: list, width: int, inputs_need_grad: bool, needs_grad: set, readers: Counter) -> bool:
    """Whether each input that needs a gradient is read by this run only, and once (``width`` neurons)."""
    if not inputs:
        return False
    if not inputs_need_grad:
        return True
    graded = [v for v in inputs if type(v) is Scalar and id(v) in needs_grad]
    return len(set(map(id, graded))) == len(graded) and all(readers[v] == width for v in graded)
