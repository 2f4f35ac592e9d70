"""The fast form of a compiled graph: each layer written once, as a loop over its runs.

A batch of 32 samples through a 16-32-16-3 MLP is 1,800 neuron nodes but
only three layers. The readable form writes every node; this one writes
each layer (``layers.find_layers``) as one loop over its runs, with the
weights in local variables, arithmetic written out (no calls), and in
backward the weight rows of ReLUs that are off skipped and each weight's
gradient summed in its own local variable. The nodes that are not in a
layer (the loss, mostly) are written line by line as in the readable form.

The gradients add up in the order ``backward()`` adds them: each value's
gradient terms are summed in the order of its readers in the graph. The plan
is checked for that; a graph where the loops would add in another order is
written node by node instead. So the bits are the same as the graph's, up to
the sums: compiled code adds in order, which is ``sum()`` up to CPython 3.11
and on PyPy, while CPython 3.12's ``sum()`` compensates its rounding (the
bound is in ``templates.py``).
"""

from __future__ import annotations

import heapq
from collections import Counter
from itertools import chain

from ..scalar import Scalar
from .layers import Layer, find_layers
from .names import gradient_name
from .source import StraightLine, aligned, needing_grad
from .templates import chained_sum, template_of, times_source

__all__ = ["write_fast_source"]


def write_fast_source(function_name: str, inputs: list, output: Scalar, nodes: list,
                      names: list[str]) -> tuple[str, dict]:
    """The fast source of ``function_name(inputs...)`` (see the module docstring), and its globals."""
    input_ids = {id(p) for p in inputs}
    # Keyed by the Scalars themselves (hashed by identity): three times faster than by id() here.
    readers = Counter(chain.from_iterable(node.parents for node in nodes))
    param_ids = set(map(id, readers)) - set(map(id, nodes)) - input_ids
    needs_grad = needing_grad(nodes, param_ids)
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
            params.update({id(p): p for node in stage for p in node.parents
                           if p.is_leaf and id(p) not in input_ids})
    code = StraightLine(inputs, output, nodes, names, defaults, list(params.values()), needs_grad, fast=True)
    return _Emitter(code, layers, stages, input_ids, readers).source(function_name, inputs)


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
    for stage in stages:
        if type(stage) is not list:
            for j in range(len(stage.rows)):
                if [position[id(run.neurons[j])] for run in stage.runs] != \
                        sorted(position[id(run.neurons[j])] for run in stage.runs):
                    return False
    met: dict[int, list] = {}  # id -> (graph position, backward key) of each reader
    for s, stage in enumerate(stages):
        if type(stage) is list:
            for node in stage:
                for p in node.parents:
                    if id(p) in needs_grad:
                        met.setdefault(id(p), []).append((position[id(node)], s * span + position[id(node)]))
            continue
        width = len(stage.rows)
        shared = [(j, w) for j, row in enumerate(stage.rows) for w in row if readers[w] != len(stage.runs)]
        for j, w in shared:  # a weight read outside this layer too (mostly none)
            met.setdefault(id(w), []).extend((position[id(run.neurons[j])], s * span + r * width + j)
                                             for r, run in enumerate(stage.runs))
    for found in met.values():
        keys = [key for _, key in sorted(found)]
        if keys != sorted(keys):
            return False
    return True


class _Emitter:
    """Writes the stages: straight-line nodes through ``StraightLine``, layers as loops. The loops' own
    variables (``a0``, ``z0``, ``X0``, ``GX0``, ...) are the forms ``names.LOOP_NAME`` keeps from every
    other name: add a new one there first."""

    def __init__(self, code: StraightLine, layers: list[Layer], stages: list, input_ids: set,
                 readers: Counter) -> None:
        self.code, self.layers, self.stages = code, layers, stages
        self.var, self.input_ids = code.var, input_ids
        self.number = {id(layer): k for k, layer in enumerate(layers)}
        self.layer_of = {id(n): k for k, layer in enumerate(layers)
                         for run in layer.runs for n in run.neurons}
        self.direct = {}  # layer number -> (the layer whose outputs it reads as they are, in which order)
        for k, layer in enumerate(layers):
            fed = self._fed_by(layer, readers)
            if fed is not None and fed[0] not in {m for m, _ in self.direct.values()}:
                self.direct[k] = fed
        feeding = {m for m, _ in self.direct.values()}
        self.unpacked = set(range(len(layers))) - feeding  # their outputs become variables after the loop
        self._weight_names: dict[int, list[list[str]]] = {}
        self._input_sources: dict[int, list[str]] = {}

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
            if any(readers[n] != width or n is self.code.output for n in source_run.neurons):
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
        grads = [code.gradient(p) if id(p) in code.assigned else "0.0" for p in code.params]
        lines += _wrapped(grads, "    add_grads(params, ", ")")
        lines.append(f"    return {self.var[id(code.output)]}")
        return aligned(lines), code.writer.globals

    # ---- a layer's loops -------------------------------------------------------------------

    def _weights(self, layer: Layer) -> list[list[str]]:
        """The variables of the layer's weights, row by row (looked up once per layer)."""
        names = self._weight_names.get(id(layer))
        if names is None:
            names = self._weight_names[id(layer)] = [[self.var[id(w)] for w in row] for row in layer.rows]
        return names

    def _inputs(self, layer: Layer) -> list[str]:
        """A run's inputs as the loop body reads them: ``a3`` for a column that varies, else its number
        (worked out once per layer)."""
        names = self._input_sources.get(id(layer))
        if names is None:
            constants = layer.constants
            names = self._input_sources[id(layer)] = [
                self.code.writer.name_of(constants[i]) if i in constants else f"a{i}"
                for i in range(len(layer.runs[0].inputs))]
        return names

    def _loop_columns(self, k: int, layer: Layer) -> list[int]:
        """The input columns a run's ``X`` tuple holds, in its order (the loop names column i ``a{i}``)."""
        if k not in self.direct:
            return list(layer.varying)
        columns = [0] * len(layer.varying)
        for i, slot in zip(layer.varying, self.direct[k][1]):  # read as the feeding layer wrote them
            columns[slot] = i
        return columns

    def _layer_forward(self, k: int, layer: Layer) -> list:
        width, act, inputs = len(layer.rows), layer.activation, self._inputs(layer)
        neurons = f"{width} neuron{'s' * (width != 1)} ({act.name})"
        lines = [f"    # layer {k}: {neurons} over {len(inputs)} inputs, run {len(layer.runs)} times"]
        if k in self.direct:
            lines.append(f"    X{k} = H{self.direct[k][0]}")
        else:
            name_of = self.code.writer.name_of
            rows = [_tuple(name_of(run.inputs[i]) for i in layer.varying) for run in layer.runs]
            lines.append(f"    X{k} = [{', '.join(rows)}]")
        lines.append(f"    H{k} = []")
        if _needs_z(act):
            lines.append(f"    Z{k} = []")
        lines.append(f"    for {_tuple(f'a{i}' for i in self._loop_columns(k, layer))} in X{k}:")
        values = []
        for j in range(width):
            products = [times_source(w, x) for w, x in zip(self._weights(layer)[j], inputs)]
            head, z = chained_sum(f"z{j}", products)
            lines += [f"        {line}" for line in head]
            if act.name == "identity":
                values.append(z)
            else:
                lines.append(f"        z{j} = {z}")
                values.append(template_of(act)[0].format(f"z{j}", c=self.code.writer.name_of(layer.slope)))
        lines.append(f"        H{k}.append({_tuple(values)})")
        if _needs_z(act):
            lines.append(f"        Z{k}.append({_tuple(f'z{j}' for j in range(width))})")
        if k in self.unpacked:
            rows = [_tuple(self.var[id(n)] for n in run.neurons) for run in layer.runs]
            lines.append(f"    {_tuple(rows)} = H{k}")
        return lines

    def _layer_backward(self, k: int, layer: Layer) -> list:
        code, width, act = self.code, len(layer.rows), layer.activation
        lines = [f"    # layer {k} backward: its runs and neurons in reverse, as backward() meets them"]
        feeds = [reader for reader, (m, _) in self.direct.items() if m == k]
        if feeds:
            lines.append(f"    G{k} = GX{feeds[0]}")
        else:
            rows = [_tuple(code.gradient(n) if id(n) in code.assigned else "0.0" for n in run.neurons)
                    for run in layer.runs]
            lines.append(f"    G{k} = [{', '.join(rows)}]")
        fresh = [w for row in layer.rows for w in row if id(w) not in code.assigned]
        code.assigned.update(map(id, fresh))
        for start in range(0, len(fresh), 16):
            lines.append(f"    {' = '.join(code.gradient(w) for w in fresh[start:start + 16])} = 0.0")
        columns = self._loop_columns(k, layer)
        loop = {f"X{k}": _tuple(f"a{i}" for i in columns), f"H{k}": _tuple(f"y{j}" for j in range(width))}
        if _needs_z(act):
            loop[f"Z{k}"] = _tuple(f"z{j}" for j in range(width))
        loop[f"G{k}"] = _tuple(f"g{j}" for j in range(width))
        if layer.inputs_need_grad:
            lines.append(f"    GX{k} = []")
        reversed_lists = ", ".join(f"reversed({x})" for x in loop)
        lines.append(f"    for {', '.join(loop.values())} in zip({reversed_lists}):")
        for j in reversed(range(width)):
            lines += self._neuron_backward(layer, j)
        if not layer.inputs_need_grad:
            return lines
        unit = act.name in ("relu", "identity")  # act'(z) is 1.0 wherever they pass a gradient
        grads = []
        for i in columns:
            weights = [self._weights(layer)[j][i] for j in reversed(range(width))]
            head, total = chained_sum(f"s{i}", [f"g{j} * {w}" if unit else f"g{j} * (d{j} * {w})"
                                                        for j, w in zip(reversed(range(width)), weights)])
            lines += [f"        {line}" for line in head]
            grads.append(total)
        lines += [f"        GX{k}.append({_tuple(grads)})", f"    GX{k}.reverse()"]
        if k not in self.direct:  # the inputs' gradients, as variables (this run is their only reader)
            rows = []
            for run in layer.runs:
                targets = []
                for i in layer.varying:
                    v = run.inputs[i]
                    graded = type(v) is Scalar and id(v) in code.needs_grad and id(v) not in self.input_ids
                    if graded:
                        code.assigned.add(id(v))
                    targets.append(code.gradient(v) if graded else "_")
                rows.append(_tuple(targets))
            lines.append(f"    {_tuple(rows)} = GX{k}")
        return lines

    def _neuron_backward(self, layer: Layer, j: int) -> list:
        """Neuron j's lines in the backward loop: its weights' gradient terms, skipped where a ReLU is off."""
        act = layer.activation
        grads = [gradient_name(w) for w in self._weights(layer)[j]]
        if act.name in ("relu", "identity"):  # act'(z) is 1.0 where they pass a gradient: g * x
            body = [f"{g} += {times_source(f'g{j}', x)}" for g, x in zip(grads, self._inputs(layer))]
        else:  # backward() multiplies each local derivative act'(z) * x by g: the same two products
            body = [f"{g} += g{j} * ({times_source(f'd{j}', x)})" for g, x in zip(grads, self._inputs(layer))]
        if act.name == "identity":
            return [f"        {line}" for line in body]
        if act.name == "relu":  # the output is 0.0 exactly where z <= 0.0: an off ReLU passes nothing back
            if layer.inputs_need_grad:  # (and adds 0.0 to its inputs' gradients)
                head = [f"        if y{j} <= 0.0:", f"            g{j} = 0.0", "        else:"]
            else:
                head = [f"        if not y{j} <= 0.0:"]
            return head + [f"            {line}" for line in body]
        derivative = template_of(act)[1].format(f"z{j}", y=f"y{j}", c=self.code.writer.name_of(layer.slope))
        return [f"        d{j} = {derivative}"] + [f"        {line}" for line in body]


def _tuple(items) -> str:
    """A tuple display of the items (with a trailing comma for one item)."""
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _wrapped(names: list[str], head: str, tail: str) -> list[str]:
    """``head(a, b, ...)tail`` over lines of about 100 characters (``(a,)`` for one name)."""
    if len(names) < 2:
        return [f"{head}{_tuple(names)}{tail}"]
    lines, line = [], head + "("
    for name in names:
        if len(line) + len(name) > 100 and line[-1] != "(":
            lines.append(line.rstrip())
            line = " " * (len(head) + 1)
        line += name + ", "
    lines.append(line[:-2] + ")" + tail)
    return lines


def _needs_z(act) -> bool:
    """Whether the backward loop needs the pre-activations (the activation's derivative reads z)."""
    return act.name not in ("relu", "identity") and "{0}" in template_of(act)[1]
