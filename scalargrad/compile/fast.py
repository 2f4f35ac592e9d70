"""The fast form of a compiled graph: each layer written once, as a loop over its runs.

A batch of 32 samples through a 16-32-16-3 MLP is 1,800 neuron nodes but
only three layers. The readable form writes every node; this one writes
each layer (``layers.find_layers``) as one loop over its runs, with the
weights in local variables, arithmetic written out (no calls), and in
backward the weight rows of ReLUs that are off skipped and each weight's
gradient summed in its own local variable. The nodes that are not in a
layer (the loss, mostly) are written line by line as in the readable form.

The gradients add up in the order ``backward()`` adds them, so the bits are
the same: each value's gradient terms are summed in the order of its readers
in the graph. The plan is checked for that; a graph where the loops would
add in another order is written node by node instead.
"""

from __future__ import annotations

import heapq
from collections import Counter
from itertools import chain
from typing import Any

from ..op import summed
from ..scalar import Scalar
from .layers import Layer, find_layers
from .source import StraightLine, aligned

__all__ = ["write_fast_source"]


def write_fast_source(function_name: str, inputs: list, output: Scalar, nodes: list,
                      names: list[str]) -> tuple[str, dict]:
    """The fast source of ``function_name(inputs...)`` (see the module docstring), and its globals."""
    input_ids = {id(p) for p in inputs}
    readers = Counter(map(id, chain.from_iterable(node.parents for node in nodes)))
    needs_grad = _needing_grad(nodes, input_ids, readers)
    layers = find_layers(nodes, needs_grad, readers)
    stages = _schedule(nodes, layers) if layers else None
    if stages is None or not _sums_in_backward_order(nodes, layers, stages, needs_grad, readers):
        layers, stages = [], [list(nodes)]
    defaults, params = {}, {}
    for k, layer in enumerate(layers):
        for j, row in enumerate(layer.rows):
            defaults.update({id(w): f"w{k}_{j}_{i}" for i, w in enumerate(row)})
            params.update({id(w): w for w in row})
    for stage in stages:
        if type(stage) is list:
            params.update({id(p): p for node in stage for p in node.parents if p.is_leaf and id(p) not in input_ids})
    code = StraightLine(inputs, output, nodes, names, defaults, list(params.values()))
    return _Emitter(code, layers, stages, input_ids, readers).source(function_name, inputs)


def _needing_grad(nodes: list, input_ids: set, readers: Counter) -> set:
    """The ids of the values a gradient flows into: the parameters (leaves that are not fed) and the
    nodes that read one, directly or not."""
    params = set(readers) - set(map(id, nodes)) - input_ids  # set operations: no loop over the edges
    needs = set(params)
    for node in nodes:  # every node after its inputs
        for p in node.parents:  # (a neuron's first parent answers for it: a weight, or a hidden value)
            if id(p) in needs:
                needs.add(id(node))
                break
    return needs


def _schedule(nodes: list, layers: list[Layer]) -> list | None:
    """The stages in a forward order: lists of nodes written line by line, and layers; None if a layer
    needs its own output (a recurrence) or layers need each other's outputs."""
    position = {id(node): i for i, node in enumerate(nodes)}
    unit = {}  # id of a node -> its layer's number, or its own number after the layers'
    for k, layer in enumerate(layers):
        for run in layer.runs:
            unit.update(dict.fromkeys(map(id, run.neurons), k))
    needs: dict[int, set] = {}
    for i, node in enumerate(nodes):
        if unit.setdefault(id(node), len(layers) + i) >= len(layers):
            needs[unit[id(node)]] = {unit[id(p)] for p in node.parents if id(p) in position}
    for k, layer in enumerate(layers):
        needs[k] = {unit[id(v)] for run in layer.runs for v in run.inputs if id(v) in position}
        if k in needs[k]:
            return None
    readers: dict[int, list] = {}
    for u, wanted in needs.items():
        for v in wanted:
            readers.setdefault(v, []).append(u)
    first = {k: position[id(layer.runs[0].neurons[0])] for k, layer in enumerate(layers)}
    waiting = {u: len(wanted) for u, wanted in needs.items()}
    ready = [(first.get(u, u - len(layers)), u) for u, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    stages: list = []
    while ready:
        _, u = heapq.heappop(ready)
        if u < len(layers):
            stages.append(layers[u])
        elif stages and type(stages[-1]) is list:
            stages[-1].append(nodes[u - len(layers)])
        else:
            stages.append([nodes[u - len(layers)]])
        for v in readers.get(u, ()):
            waiting[v] -= 1
            if waiting[v] == 0:
                heapq.heappush(ready, (first.get(v, v - len(layers)), v))
    return stages if sum(len(s) if type(s) is list else 1 for s in stages) == len(needs) else None


def _sums_in_backward_order(nodes: list, layers: list[Layer], stages: list, needs_grad: set,
                            readers: Counter) -> bool:
    """Whether every gradient gets its terms in ``backward()``'s order (its readers' reverse graph order)
    when the stages run backward, each layer's runs and neurons in reverse.

    Within a layer the order holds by construction (runs and neurons in graph order; an input that gets
    a gradient has one run as its only reader) once each neuron's runs come in graph order. What is left
    to check: the values read by nodes written line by line, and weights read outside their layer.
    """
    span = len(nodes) + 1
    position = {id(node): i for i, node in enumerate(nodes)}
    stage_of = {}
    for s, stage in enumerate(stages):
        if type(stage) is list:
            stage_of.update(dict.fromkeys(map(id, stage), s))
        else:
            for j in range(len(stage.rows)):
                if [position[id(run.neurons[j])] for run in stage.runs] != \
                        sorted(position[id(run.neurons[j])] for run in stage.runs):
                    return False
    shared = {id(w) for layer in layers for row in layer.rows for w in row if readers[id(w)] != len(layer.runs)}
    met: dict[int, list] = {}  # id -> (graph position, backward key) of each reader
    for node in nodes:
        s = stage_of.get(id(node))
        if s is not None:
            for p in node.parents:
                if id(p) in needs_grad:
                    met.setdefault(id(p), []).append((position[id(node)], s * span + position[id(node)]))
    for s, stage in enumerate(stages):
        if type(stage) is not list:
            width = len(stage.rows)
            for r, run in enumerate(stage.runs):
                for j, (n, row) in enumerate(zip(run.neurons, stage.rows)):
                    for w in row:
                        if id(w) in shared:
                            met.setdefault(id(w), []).append((position[id(n)], s * span + r * width + j))
    for found in met.values():
        keys = [key for _, key in sorted(found)]
        if keys != sorted(keys):
            return False
    return True


class _Emitter:
    """Writes the stages: straight-line nodes through ``StraightLine``, layers as loops."""

    def __init__(self, code: StraightLine, layers: list[Layer], stages: list, input_ids: set,
                 readers: Counter) -> None:
        self.code, self.layers, self.stages = code, layers, stages
        self.var, self.input_ids = code.var, input_ids
        self.number = {id(layer): k for k, layer in enumerate(layers)}
        self.layer_of = {id(n): k for k, layer in enumerate(layers) for run in layer.runs for n in run.neurons}
        self.direct = {}  # layer number -> (the layer whose outputs it reads as they are, in which order)
        for k, layer in enumerate(layers):
            fed = self._fed_by(layer, readers)
            if fed is not None and fed[0] not in {m for m, _ in self.direct.values()}:
                self.direct[k] = fed
        feeding = {m for m, _ in self.direct.values()}
        self.unpacked = set(range(len(layers))) - feeding  # their outputs become variables after the loop

    def _fed_by(self, layer: Layer, readers: Counter):
        """(m, order) when every run of ``layer`` reads all outputs of the same-numbered run of layer m, and
        nothing else reads them, in one order for all runs (``order[i]``: the output in input column
        ``varying[i]``); else None."""
        m = self.layer_of.get(id(layer.runs[0].inputs[layer.varying[0]]))
        if m is None:
            return None
        source = self.layers[m]
        if len(source.runs) != len(layer.runs) or len(source.rows) != len(layer.varying):
            return None
        order, width = None, len(layer.rows)
        for run, source_run in zip(layer.runs, source.runs):
            slots = {id(n): j for j, n in enumerate(source_run.neurons)}
            read = [slots.get(id(run.inputs[i])) for i in layer.varying]
            if None in read or len(set(read)) != len(read) or (order is not None and read != order):
                return None
            if any(readers[id(n)] != width for n in source_run.neurons) or self.code.output in source_run.neurons:
                return None
            order = read
        return m, order

    def source(self, function_name: str, inputs: list) -> tuple[str, dict]:
        """The function's text and globals."""
        code = self.code
        lines = [f"def {function_name}({', '.join(self.var[id(p)] for p in inputs)}):",
                 "    # the parameters' current values",
                 *_wrapped([self.var[id(p)] for p in code.params], "    ", " = [p.data for p in params]"),
                 "    # forward"]
        for stage in self.stages:
            if type(stage) is list:
                for node in stage:
                    lines += code.forward(node)
            else:
                lines += self._layer_forward(self.number[id(stage)], stage)
        lines.append("    # backward")
        lines += code.seed()
        for stage in reversed(self.stages):
            if type(stage) is list:
                for node in reversed(stage):
                    lines += code.backward(node)
            else:
                lines += self._layer_backward(self.number[id(stage)], stage)
        lines.append("    # add this pass's gradients to the parameters' .grad, as backward() does")
        grads = [f"g_{self.var[id(p)]}" if id(p) in code.assigned else "0.0" for p in code.params]
        lines += _wrapped(grads, "    add_grads(params, ", ")")
        lines.append(f"    return {self.var[id(code.output)]}")
        return aligned(lines), code.writer.globals

    # ---- a layer's loops -------------------------------------------------------------------

    def _value_of(self, v: Any) -> str:
        """A run's input as source: a variable, or a number."""
        return self.code.writer.name_of(v)

    def _weight(self, layer: Layer, j: int, i: int) -> str:
        return self.var[id(layer.rows[j][i])]

    def _layer_forward(self, k: int, layer: Layer) -> list:
        width, columns = len(layer.rows), len(layer.runs[0].inputs)
        act = layer.activation
        lines = [(f"    # layer {k}: {width} neurons ({act.name}) over {columns} inputs, run {len(layer.runs)} times",
                  "")]
        if k in self.direct:
            m, order = self.direct[k]
            lines.append(f"    X{k} = H{m}")
            targets = [""] * len(order)
            for i, j in enumerate(order):
                targets[j] = f"a{layer.varying[i]}"
        else:
            rows = [f"({', '.join(self._value_of(run.inputs[i]) for i in layer.varying)},)" for run in layer.runs]
            lines.append(f"    X{k} = [{', '.join(rows)}]")
            targets = [f"a{i}" for i in layer.varying]
        constants = layer.constants
        store_z = _needs_z(act)
        lines.append(f"    H{k} = []" + (f"\n    Z{k} = []" if store_z else ""))
        lines.append(f"    for {', '.join(targets)}, in X{k}:")
        values = []
        for j in range(width):
            terms = []
            for i in range(columns):
                w = self._weight(layer, j, i)
                x = constants.get(i, f"a{i}")
                terms.append(w if x == 1.0 else f"{w} * {x!r}" if type(x) is float else f"{w} * {x}")
            if act.name == "identity":
                values.append(summed(terms))
                continue
            lines.append(f"        z{j} = {summed(terms)}")
            values.append(act.inline[0].format(f"z{j}", c=repr(layer.slope)))
        lines.append(f"        H{k}.append(({', '.join(values)},))")
        if store_z:
            lines.append(f"        Z{k}.append(({', '.join(f'z{j}' for j in range(width))},))")
        if k in self.unpacked:
            rows = [f"({', '.join(self._output_name(n) for n in run.neurons)},)" for run in layer.runs]
            lines.append(f"    {', '.join(rows)}, = H{k}")
        return lines

    def _output_name(self, node: Scalar) -> str:
        return self.var[id(node)]

    def _layer_backward(self, k: int, layer: Layer) -> list:
        code, width, columns = self.code, len(layer.rows), len(layer.runs[0].inputs)
        act, constants = layer.activation, layer.constants
        lines = [(f"    # layer {k} backward: its runs and neurons in reverse, as backward() meets them", "")]
        fed = [m for m, (source, _) in self.direct.items() if source == k]
        if fed:
            lines.append(f"    G{k} = GX{fed[0]}")
        else:
            rows = []
            for run in layer.runs:
                grads = [f"g_{self.var[id(n)]}" if id(n) in code.assigned else "0.0" for n in run.neurons]
                rows.append(f"({', '.join(grads)},)")
            lines.append(f"    G{k} = [{', '.join(rows)}]")
        fresh = [w for row in layer.rows for w in row if id(w) not in code.assigned]
        for w in fresh:
            code.assigned.add(id(w))
        for start in range(0, len(fresh), 16):
            chunk = fresh[start:start + 16]
            lines.append(f"    {' = '.join(f'g_{self.var[id(w)]}' for w in chunk)} = 0.0")
        store_z = _needs_z(act)
        if k in self.direct:
            m, order = self.direct[k]
            x_targets = [""] * len(order)
            for i, j in enumerate(order):
                x_targets[j] = f"a{layer.varying[i]}"
        else:
            x_targets = [f"a{i}" for i in layer.varying]
        loop = [f"({', '.join(x_targets)},)", f"({', '.join(f'y{j}' for j in range(width))},)"]
        sources = [f"reversed(X{k})", f"reversed(H{k})"]
        if store_z:
            loop.append(f"({', '.join(f'z{j}' for j in range(width))},)")
            sources.append(f"reversed(Z{k})")
        loop.append(f"({', '.join(f'g{j}' for j in range(width))},)")
        sources.append(f"reversed(G{k})")
        if layer.inputs_need_grad:
            lines.append(f"    GX{k} = []")
        lines.append(f"    for {', '.join(loop)} in zip({', '.join(sources)}):")
        for j in reversed(range(width)):
            lines += self._neuron_backward(layer, j, constants)
        if layer.inputs_need_grad:
            columns_out = x_targets if k in self.direct else [f"a{i}" for i in layer.varying]
            grads = []
            for name in columns_out:
                i = int(name[1:])
                grads.append(summed([self._input_term(layer, j, i) for j in reversed(range(width))]))
            lines.append(f"        GX{k}.append(({', '.join(grads)},))")
            lines.append(f"    GX{k}.reverse()")
            if k not in self.direct:
                rows = []
                for run in layer.runs:
                    names = []
                    for i in layer.varying:
                        v = run.inputs[i]
                        if type(v) is Scalar and id(v) in code.needs_grad and id(v) not in self.input_ids:
                            code.assigned.add(id(v))
                            names.append(f"g_{self.var[id(v)]}")
                        else:
                            names.append("_")
                    rows.append(f"({', '.join(names)},)")
                lines.append(f"    {', '.join(rows)}, = GX{k}")
        return lines

    def _input_term(self, layer: Layer, j: int, i: int) -> str:
        w = self._weight(layer, j, i)
        if layer.activation.name in ("relu", "identity"):
            return f"g{j} * {w}"
        return f"g{j} * (d{j} * {w})"

    def _neuron_backward(self, layer: Layer, j: int, constants: dict) -> list:
        act = layer.activation
        grads = [f"g_{self._weight(layer, j, i)}" for i in range(len(layer.rows[j]))]
        inputs = [constants.get(i, f"a{i}") for i in range(len(grads))]
        if act.name in ("relu", "identity"):  # act'(z) is 1.0 where they pass a gradient: g * x
            terms = [f"g{j}" if x == 1.0 else f"g{j} * {x!r}" if type(x) is float else f"g{j} * {x}"
                     for x in inputs]
        else:  # backward() multiplies each local derivative act'(z) * x by g: the same two products
            terms = [f"g{j} * (d{j} * {x!r})" if type(x) is float else f"g{j} * (d{j} * {x})" for x in inputs]
        body = [f"{g} += {t}" for g, t in zip(grads, terms)]
        if act.name == "identity":
            return [f"        {line}" for line in body]
        if act.name == "relu":  # the output is 0.0 exactly where z <= 0.0: an off ReLU passes nothing back
            if layer.inputs_need_grad:  # (and adds 0.0 to its inputs' gradients)
                lines = [f"        if y{j} <= 0.0:", f"            g{j} = 0.0", "        else:"]
            else:
                lines = [f"        if not y{j} <= 0.0:"]
            return lines + [f"            {line}" for line in body]
        derivative = act.inline[1].format(f"z{j}", y=f"y{j}", c=repr(layer.slope))
        return [f"        d{j} = {derivative}"] + [f"        {line}" for line in body]


def _wrapped(names: list[str], head: str, tail: str) -> list[str]:
    """``head(a, b, ...)tail`` over lines of about 100 characters."""
    if not names:
        return [f"{head}(){tail}"]
    lines, line = [], head + "("
    for name in names:
        if len(line) + len(name) > 100 and line[-1] != "(":
            lines.append(line)
            line = " " * (len(head) + 1)
        line += name + ", "
    lines.append(line + ")" + tail)
    return lines


def _needs_z(act) -> bool:
    """Whether the backward loop needs the pre-activations (the activation's derivative reads z)."""
    return act.name not in ("relu", "identity") and "{0}" in act.inline[1]
