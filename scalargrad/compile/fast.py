"""The fast form of a compiled graph: each layer written once, as a loop over its runs.

A batch of 32 samples through a 16-32-16-3 MLP is 1,800 neuron nodes but
only three layers. The readable form writes every node; this one writes
each layer as one loop over its runs, with the weights in local variables,
arithmetic written out (no calls), and in backward the weight rows of ReLUs
that are off skipped and each weight's gradient summed in its own local
variable. The nodes that are not in a layer (the loss, mostly) are written
line by line as in the readable form (``source.StraightLine``).

The plan (``plan.py``) decides what becomes a loop and in which order the
stages run, so that the gradients add up in the order ``backward()`` adds
them; this module writes it. So the bits are the same as the graph's, up to
the sums: compiled code adds in order, which is ``sum()`` up to CPython 3.11
and on PyPy, while CPython 3.12's ``sum()`` compensates its rounding (the
bound is in ``templates.py``).

The names the writer makes are in ``GLOSSARY``, below: the loops' variables
are kept from every other name by ``names.LOOP_FAMILIES`` (add a new family
there too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..neuron import IDENTITY, RELU
from ..op import Op
from ..scalar import Scalar
from .layers import Layer
from .plan import NodeStage, Plan, make_plan
from .source import StraightLine, aligned
from .templates import chained_sum, template_of, times_source

__all__ = ["GLOSSARY", "write_fast_source"]

GLOSSARY = {
    # layer k's lists (layers are numbered in the order of their first use), one entry per run
    "X{k}": "the runs' inputs: a tuple of the input columns that vary from run to run",
    "H{k}": "the outputs, a tuple per run",
    "Z{k}": "the pre-activations, a tuple per run (when the activation's derivative reads them)",
    "G{k}": "the outputs' gradients, a tuple per run",
    "GX{k}": "the inputs' gradients, a tuple per run (when the inputs get gradients)",
    # a loop's variables, for input column i and neuron j
    "a{i}": "the run's input in column i",
    "z{j}": "neuron j's pre-activation (and its partial sums, for a sum too long for one expression)",
    "y{j}": "neuron j's output",
    "g{j}": "neuron j's gradient",
    "d{j}": "act'(z{j}), the activation's derivative (for activations other than the identity and ReLU)",
    "s{i}": "the partial sums of input i's gradient (for a sum too long for one expression)",
    # the function's other locals
    "_": "a value dropped when a tuple is unpacked (an input that gets no gradient)",
    # the values' variables, unless a Scalar has a name of its own (names.Namer makes each one unique)
    "w{k}_{j}_{i}": "weight i of neuron j of layer k",
    "t{n}": "the n-th node of the graph, written line by line (source.StraightLine)",
    "x{n}": "the n-th input (x_0_1 for element [0][1] of an input named x)",
    "out": "the output",
    "g_{v}": "the gradient of the variable v (names.gradient_name)",
}


def write_fast_source(function_name: str, inputs: list, output: Scalar, nodes: list,
                      names: list[str], first: Sequence[Scalar] = ()) -> tuple[str, dict]:
    """The fast source of ``function_name(inputs...)`` (see the module docstring), and its globals; the
    parameters those in ``first`` first (``walk.put_first``)."""
    plan = make_plan(inputs, nodes, first)
    defaults = {}
    for k, layer in enumerate(plan.layers):
        for j, row in enumerate(layer.rows):
            defaults.update({id(w): f"w{k}_{j}_{i}" for i, w in enumerate(row)})
    code = StraightLine(inputs, output, nodes, names, defaults, plan.params, plan.needs_grad, fast=True)
    return _FastWriter(code, plan, inputs).source(function_name, inputs)


def _derivative_is_one_where_it_passes(act: Op) -> bool:
    """Whether act'(z) is exactly 1.0 wherever the activation passes a gradient (the identity everywhere,
    a ReLU where it is on): backward then multiplies by the input alone, as ``backward()`` does."""
    return act is IDENTITY or act is RELU


def _needs_z(act: Op) -> bool:
    """Whether the backward loop needs the pre-activations (the activation's derivative reads z)."""
    return not _derivative_is_one_where_it_passes(act) and "{0}" in template_of(act)[1]


class _FastWriter:
    """Writes a plan's stages: nodes through ``StraightLine``, layers as loops (names: ``GLOSSARY``)."""

    def __init__(self, code: StraightLine, plan: Plan, inputs: list) -> None:
        self.code, self.plan = code, plan
        self.var, self.gradients = code.var, code.gradients
        self.input_ids = {id(p) for p in inputs}
        layers = plan.layers
        self.number = {id(layer): k for k, layer in enumerate(layers)}
        self.layer_of = {id(n): k for k, layer in enumerate(layers)
                         for run in layer.runs for n in run.neurons}  # id of a neuron node -> its layer
        # layer k -> (m, order): its runs read the output tuples of layer m's runs as they are (see _fed_by)
        self.fed_by: dict[int, tuple[int, list[int]]] = {}
        for k, layer in enumerate(layers):
            fed = self._fed_by(layer, plan.readers)
            if fed is not None and fed[0] not in {m for m, _ in self.fed_by.values()}:
                self.fed_by[k] = fed
        feeding = {m for m, _ in self.fed_by.values()}
        self.unpacked = set(range(len(layers))) - feeding  # their outputs become variables after the loop
        self._weight_names: dict[int, list[list[str]]] = {}
        self._input_sources: dict[int, list[str]] = {}

    def _fed_by(self, layer: Layer, readers: Counter) -> tuple[int, list[int]] | None:
        """(m, order) when every run of ``layer`` reads all outputs of the same-numbered run of layer m, and
        nothing else reads them, in one order for all runs (``order[i]``: the output in input column
        ``varying[i]``); else None."""
        m = self.layer_of.get(id(layer.runs[0].inputs[layer.varying[0]]))
        if m is None:
            return None
        source = self.plan.layers[m]
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
                 *_wrapped([self.var[id(p)] for p in code.params], "    ", " = values_of(params)"),
                 "    # forward"]
        for stage in self.plan.stages:
            if isinstance(stage, NodeStage):
                for node in stage.nodes:
                    lines += code.forward(node)
            else:
                lines += self._layer_forward(self.number[id(stage)], stage)
        lines.append("    # backward")
        lines += code.seed()
        for stage in reversed(self.plan.stages):
            if isinstance(stage, NodeStage):
                for node in reversed(stage.nodes):
                    lines += code.backward(node)
            else:
                lines += self._layer_backward(self.number[id(stage)], stage)
        lines.append("    # add this pass's gradients to the parameters' .grad, as backward() does")
        grads = [self.gradients.value_or_zero(p) for p in code.params]
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
        if k not in self.fed_by:
            return list(layer.varying)
        columns = [0] * len(layer.varying)
        for i, slot in zip(layer.varying, self.fed_by[k][1]):  # read as the feeding layer wrote them
            columns[slot] = i
        return columns

    def _layer_forward(self, k: int, layer: Layer) -> list:
        width, act, inputs = len(layer.rows), layer.activation, self._inputs(layer)
        neurons = f"{width} neuron{'s' * (width != 1)} ({act.name})"
        lines = [f"    # layer {k}: {neurons} over {len(inputs)} inputs, run {len(layer.runs)} times"]
        if k in self.fed_by:
            lines.append(f"    X{k} = H{self.fed_by[k][0]}")
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
            if act is IDENTITY:
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
        gradients, width, act = self.gradients, len(layer.rows), layer.activation
        lines = [f"    # layer {k} backward: its runs and neurons in reverse, as backward() meets them"]
        feeds = [reader for reader, (m, _) in self.fed_by.items() if m == k]
        if feeds:
            lines.append(f"    G{k} = GX{feeds[0]}")
        else:
            rows = [_tuple(gradients.value_or_zero(n) for n in run.neurons) for run in layer.runs]
            lines.append(f"    G{k} = [{', '.join(rows)}]")
        fresh = [w for row in layer.rows for w in row if not gradients.holds_value(w)]
        fresh = [gradients.claim(w) for w in fresh]  # (claimed after the test: a weight twice stays twice)
        for start in range(0, len(fresh), 16):
            lines.append(f"    {' = '.join(fresh[start:start + 16])} = 0.0")
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
        times_input_alone = _derivative_is_one_where_it_passes(act)
        grads = []
        for i in columns:
            weights = [self._weights(layer)[j][i] for j in reversed(range(width))]
            head, total = chained_sum(f"s{i}", [f"g{j} * {w}" if times_input_alone else f"g{j} * (d{j} * {w})"
                                                for j, w in zip(reversed(range(width)), weights)])
            lines += [f"        {line}" for line in head]
            grads.append(total)
        lines += [f"        GX{k}.append({_tuple(grads)})", f"    GX{k}.reverse()"]
        if k not in self.fed_by:  # the inputs' gradients, as variables (this run is their only reader)
            needs_grad, rows = self.code.needs_grad, []
            for run in layer.runs:
                targets = []
                for i in layer.varying:
                    v = run.inputs[i]
                    graded = type(v) is Scalar and id(v) in needs_grad and id(v) not in self.input_ids
                    targets.append(gradients.claim(v) if graded else "_")
                rows.append(_tuple(targets))
            lines.append(f"    {_tuple(rows)} = GX{k}")
        return lines

    def _neuron_backward(self, layer: Layer, j: int) -> list:
        """Neuron j's lines in the backward loop: its weights' gradient terms, skipped where a ReLU is off."""
        act = layer.activation
        grads = [self.gradients.name(w) for w in layer.rows[j]]
        if _derivative_is_one_where_it_passes(act):  # g * x: the product backward() makes with act'(z) = 1.0
            body = [f"{g} += {times_source(f'g{j}', x)}" for g, x in zip(grads, self._inputs(layer))]
        else:  # backward() multiplies each local derivative act'(z) * x by g: the same two products
            body = [f"{g} += g{j} * ({times_source(f'd{j}', x)})" for g, x in zip(grads, self._inputs(layer))]
        if act is IDENTITY:
            return [f"        {line}" for line in body]
        if act is RELU:  # the output is 0.0 exactly where z <= 0.0: an off ReLU passes nothing back
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
