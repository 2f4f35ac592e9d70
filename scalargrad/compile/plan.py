"""The plan of a compiled graph's fast form: which layers become loops, and in which order everything runs.

``make_plan`` finds the layers (``layers.find_layers``), schedules them with
the nodes outside any layer (``schedule``: stages in a forward order), and
checks that running the stages backward adds every gradient's terms in
``backward()``'s order (``sums_in_backward_order``). Where a loop would add
in another order, or a layer needs its own output, the plan has no layers:
one stage of every node, written line by line. ``fast.py`` writes the plan.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple, Union

from ..scalar import Scalar
from ..walk import leaves_read_by, put_first
from .layers import Layer, find_layers
from .source import needing_grad

__all__ = ["NodeStage", "Plan", "Slot", "Stage", "make_plan", "schedule", "sums_in_backward_order"]


@dataclass
class NodeStage:
    """Nodes outside any layer, written line by line in this order."""

    nodes: list[Scalar]


Stage = Union[Layer, NodeStage]  # a layer's loop, or nodes line by line


@dataclass
class Plan:
    """What the fast form writes: the ``stages`` in a forward order; the ``layers`` among them, in the order
    the writer numbers them (their first use); how many nodes read each Scalar (``readers``); the ids of
    the values a gradient reaches (``needs_grad``); and the parameters, the leaves that are not inputs
    (the layers' weights row by row, then those the other nodes read, in their order; or in the order
    asked for)."""

    stages: list[Stage]
    layers: list[Layer]
    readers: Counter
    needs_grad: set[int]
    params: list[Scalar]


def make_plan(inputs: list, nodes: list, first: Sequence[Scalar] = ()) -> Plan:
    """The plan for ``nodes`` (a Replay's order) fed by ``inputs``; its parameters listed with those in
    ``first`` first (``walk.put_first``)."""
    input_ids = {id(p) for p in inputs}
    # Keyed by the Scalars themselves (hashed by identity): three times faster than by id() here.
    readers = Counter(chain.from_iterable(node.parents for node in nodes))
    param_ids = set(map(id, readers)) - set(map(id, nodes)) - input_ids
    needs_grad = needing_grad(nodes, param_ids)
    layers = find_layers(nodes, needs_grad, readers)
    stages = schedule(nodes, layers) if layers else None
    if stages is None or not sums_in_backward_order(nodes, stages, needs_grad, readers):
        layers, stages = [], [NodeStage(list(nodes))]
    weights = list({id(w): w for layer in layers for row in layer.rows for w in row}.values())
    straight = chain.from_iterable(stage.nodes for stage in stages if isinstance(stage, NodeStage))
    params = put_first(weights + leaves_read_by(straight, skip=[*inputs, *weights]), first)
    return Plan(stages, layers, readers, needs_grad, params)


@dataclass(eq=False)
class _Unit:
    """What the schedule places: a layer, or one node outside the layers. ``first`` is the graph position
    of its first node (ready units are placed in that order), ``reads`` the units whose outputs it reads,
    ``readers`` those that read its outputs."""

    first: int
    layer: Layer | None = None
    node: Scalar | None = None
    reads: set = field(default_factory=set)
    readers: list = field(default_factory=list)


def schedule(nodes: list, layers: list[Layer]) -> list[Stage] | None:
    """The stages in a forward order: layers, and the nodes between them; None if a layer needs its own
    output (a recurrence) or layers need each other's outputs."""
    position = {id(node): i for i, node in enumerate(nodes)}
    units = [_Unit(position[id(layer.runs[0].neurons[0])], layer=layer) for layer in layers]
    unit_of: dict[int, _Unit] = {}  # id of a node -> its unit
    for unit in units:
        unit_of.update(dict.fromkeys((id(n) for run in unit.layer.runs for n in run.neurons), unit))
    for i, node in enumerate(nodes):
        if id(node) not in unit_of:
            unit_of[id(node)] = _Unit(i, node=node)
            units.append(unit_of[id(node)])
    for unit in units:
        read = unit.node.parents if unit.layer is None else [v for run in unit.layer.runs for v in run.inputs]
        unit.reads = {unit_of[id(v)] for v in read if id(v) in position}
        if unit in unit.reads:
            return None
        for source in unit.reads:
            source.readers.append(unit)
    number = {id(unit): k for k, unit in enumerate(units)}  # a tie-break, so the heap never compares units
    waiting = {id(unit): len(unit.reads) for unit in units}
    ready = [(unit.first, number[id(unit)], unit) for unit in units if not unit.reads]
    heapq.heapify(ready)
    stages: list[Stage] = []
    placed = 0
    while ready:
        _, _, unit = heapq.heappop(ready)
        placed += 1
        if unit.layer is not None:
            stages.append(unit.layer)
        elif stages and isinstance(stages[-1], NodeStage):
            stages[-1].nodes.append(unit.node)
        else:
            stages.append(NodeStage([unit.node]))
        for reader in unit.readers:
            waiting[id(reader)] -= 1
            if waiting[id(reader)] == 0:
                heapq.heappush(ready, (reader.first, number[id(reader)], reader))
    return stages if placed == len(units) else None


class Slot(NamedTuple):
    """When the compiled forward pass computes a node: its stage, then its run in the stage's loop (for a
    node written line by line, its graph position), then its neuron in the run (0 for such a node).
    Running backward, the code meets nodes in the reverse order of their slots."""

    stage: int
    run: int
    neuron: int


def sums_in_backward_order(nodes: list, stages: list[Stage], needs_grad: set, readers: Counter) -> bool:
    """Whether every gradient gets its terms in ``backward()``'s order (its readers' reverse graph order)
    when the stages run backward, each layer's runs and neurons in reverse.

    Within a layer the order holds by construction (runs and neurons in graph order; an input that gets
    a gradient has one run as its only reader) once each neuron's runs come in graph order. What is left
    to check: the values read by nodes written line by line, and weights read outside their layer.
    """
    position = {id(node): i for i, node in enumerate(nodes)}
    for stage in stages:
        if isinstance(stage, Layer):
            for j in range(len(stage.rows)):
                runs = [position[id(run.neurons[j])] for run in stage.runs]
                if runs != sorted(runs):
                    return False
    met: dict[int, list] = {}  # id of a value -> (graph position, slot) of each of its readers
    for s, stage in enumerate(stages):
        if isinstance(stage, NodeStage):
            for node in stage.nodes:
                for p in node.parents:
                    if id(p) in needs_grad:
                        met.setdefault(id(p), []).append((position[id(node)], Slot(s, position[id(node)], 0)))
            continue
        shared = [(j, w) for j, row in enumerate(stage.rows) for w in row if readers[w] != len(stage.runs)]
        for j, w in shared:  # a weight read outside this layer too (mostly none)
            met.setdefault(id(w), []).extend((position[id(run.neurons[j])], Slot(s, r, j))
                                             for r, run in enumerate(stage.runs))
    for found in met.values():
        slots = [slot for _, slot in sorted(found)]
        if slots != sorted(slots):
            return False
    return True
