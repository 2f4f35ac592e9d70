"""The readable source of a compiled graph: one line per node, one line per local-derivative product.

``write_source(...)`` walks a Replay's nodes in order and writes one Python
function. Forward: each node's value from its op's template (``templates.py``),
named after the Scalars. Backward: the nodes in reverse, each local derivative
times the node's gradient added into its input's gradient, in the order
``backward()`` adds them, so the sums round the same way. An op without a
template is called through names bound in the function's globals: its value,
and its rule with ``maths`` (``FloatMath``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from .. import _floats as fl
from ..scalar import FloatMath, Scalar, declaration
from ..walk import leaves_read_by, put_first, reading_order
from .names import Namer, comment_text, gradient_name
from .templates import template_of

__all__ = ["FLOAT_FUNCTIONS", "Gradients", "Holder", "StraightLine", "add_grad", "aligned", "input_names",
           "needing_grad", "write_source"]

# the names templates may call: the engine's float functions
FLOAT_FUNCTIONS = {name: getattr(fl, name) for name in fl.__all__ if name != "FloatMath"}
_SIMPLE = re.compile(r"^[A-Za-z_][\w.]*(\[\d+\])?$|^\d[\d.e+]*$")  # needs no parentheses as a factor


class Holder:
    """A float with a ``.data`` attribute, for the ``recompute`` of an op without a template."""

    __slots__ = ("data",)

    def __init__(self, data: float) -> None:
        self.data = data


def add_grad(old: Any, new: float) -> float:
    """A parameter's ``.grad`` after a pass that gave ``new``, as ``backward()`` adds it."""
    return new + 0.0 if old is None or old == 0.0 else old + new


def values_of(params: tuple) -> list:
    """The parameters' current values (the fast form's first line)."""
    return [p.data for p in params]


def add_grads(params: tuple, grads: tuple) -> None:
    """``add_grad`` for many parameters at once (the fast form's last line)."""
    for p, new in zip(params, grads):
        p.grad = add_grad(p.grad, new)


class _Variables:
    """The variable of each Scalar (by id), named when the code first uses it: the fast form never
    names the thousands of nodes its loops compute, and naming costs time."""

    def __init__(self, names: Namer) -> None:
        self.names, self.wanted, self.named = names, {}, {}

    def register(self, scalar: Scalar, wanted: str) -> None:
        """The name ``scalar`` will get (made unique then)."""
        self.wanted[id(scalar)] = wanted

    def __getitem__(self, key: int) -> str:
        name = self.named.get(key)
        if name is None:
            name = self.named[key] = self.names.new(self.wanted[key])
        return name


class _Writer:
    """Collects the function's lines, the globals they read, and the name of every Scalar."""

    def __init__(self, inputs: list, params: list, nodes: list, output: Scalar, input_names: list,
                 defaults: dict[int, str], fast: bool) -> None:
        self.globals: dict[str, Any] = {**FLOAT_FUNCTIONS, "maths": FloatMath, "Holder": Holder,
                                        "add_grad": add_grad, "add_grads": add_grads, "values_of": values_of,
                                        "params": tuple(params)}
        self.names = Namer(self.globals, fast)
        self.var = _Variables(self.names)
        for kind, scalars in (("x", inputs), ("p", params), ("t", nodes)):
            for i, s in enumerate(scalars):
                default = input_names[i] if kind == "x" else "out" if s is output else f"{kind}{i}"
                self.var.register(s, defaults.get(id(s)) or s.name or default)
        self.bound: dict[int, str] = {}  # id of an object bound in the globals -> its name

    def name_of(self, value: Any) -> str:
        """Source for a Scalar (its variable) or a constant: a literal written from a real finite
        ``float`` (``float.__repr__`` round-trips), else a name bound in the globals (nan, inf, any
        other object: its own ``repr`` never becomes code)."""
        if isinstance(value, Scalar):
            return self.var[id(value)]
        if value is None:
            return "None"
        if type(value) is float and math.isfinite(value):
            literal = float.__repr__(value)
            return f"({literal})" if literal.startswith("-") else literal
        if type(value) is float:  # nan or an infinity: Python has no literal for them
            return self.bind(value, "nan" if math.isnan(value) else "inf" if value > 0.0 else "minus_inf")
        return self.bind(value, getattr(value, "__name__", "c") if callable(value) else "c")

    def bind(self, value: Any, hint: Any) -> str:
        """A global name for ``value``, one per object (the globals keep it alive: its id stays its own)."""
        name = self.bound.get(id(value))
        if name is None:
            name = self.bound[id(value)] = self.names.new(hint)
            self.globals[name] = value
        return name


def _factor(expression: str) -> str:
    return expression if _SIMPLE.match(expression) else f"({expression})"


def _forward(writer: _Writer, node: Scalar) -> tuple[list, list, str | None]:
    """The lines that compute ``node``, the source of each local derivative, and a guard (or None)."""
    op, constant = declaration(node)
    y = writer.var[id(node)]
    args = [writer.var[id(p)] for p in node.parents]
    template = template_of(op)
    if callable(template):
        made = template(constant, args, y, writer.name_of, writer.names.new)
        if made is not None:
            return made
    elif template is not None:
        c = writer.name_of(constant)
        value, *derivatives = (t.format(*args, y=y, c=c) for t in template)
        return [(f"{y} = {value}", op.display_name(constant))], derivatives, None
    if op.shared is not None:  # its recompute reads values a Replay refreshes; compiled code keeps none
        raise ValueError(f"op {op.name!r} cannot be compiled: it reads shared values and has no template")
    c, d = writer.name_of(constant), writer.names.new(f"d_{y}")
    label = op.display_name(constant)
    if op.recompute is not None:
        holders = ", ".join(f"Holder({a})" for a in args)
        call = f"{writer.bind(op.recompute, f'{op.name}_recompute')}(({holders},), {c})"
        return [(f"{y}, {d} = {call}", f"{label}: value and local derivatives")], \
            [f"{d}[{i}]" for i in range(len(args))], None
    value, rule = writer.bind(op.value, op.name), writer.bind(op.derivative, f"{op.name}_derivative")
    xs = f"[{', '.join(args)}]" if op.arity == "n" else ", ".join(args)
    tail = f", {c}" if op.constant else ""
    lines = [(f"{y} = {value}({xs}{tail})", label),
             (f"{d} = {rule}(maths, {xs}, {y}, {c})", f"{label}: local derivative")]
    return lines, ([d] if op.arity == 1 else [f"{d}[{i}]" for i in range(len(args))]), None


def input_names(shapes: dict[str, tuple[int, ...]] | None, count: int) -> list[str]:
    """Default names of the fed inputs: ``x0, x1, ...``, or ``x_0_1`` for element [0][1] of input 'x'."""
    if shapes is None:
        return [f"x{i}" for i in range(count)]
    return [name if not dims else "_".join([name, *map(str, index)])
            for name, dims in shapes.items() for index in itertools.product(*map(range, dims))]


class Gradients:
    """The gradient variables of one function (``g_`` and a value's variable), and the one record of which
    of them hold a value yet: a gradient's first term is assigned (``g_w = ...``), the next ones added
    (``g_w += ...``), so the terms add in the order the lines run, which the writers make backward()'s."""

    def __init__(self, var: _Variables) -> None:
        self.var = var
        self._holding: set[int] = set()  # ids of the values whose gradient holds a value so far

    def name(self, scalar: Scalar) -> str:
        """The variable of ``scalar``'s gradient."""
        return gradient_name(self.var[id(scalar)])

    def holds_value(self, scalar: Scalar) -> bool:
        """Whether the lines written so far gave ``scalar``'s gradient a value."""
        return id(scalar) in self._holding

    def value_or_zero(self, scalar: Scalar) -> str:
        """Source for ``scalar``'s gradient so far: its variable, or ``0.0`` if no line gave it a value."""
        return self.name(scalar) if id(scalar) in self._holding else "0.0"

    def claim(self, scalar: Scalar) -> str:
        """``scalar``'s gradient variable, for a line that gives it its first value (``= 1.0``, ``= 0.0``, a
        tuple unpacking)."""
        self._holding.add(id(scalar))
        return self.name(scalar)

    def add(self, target: Scalar, term: str, indent: str = "    ", comment: str = "") -> tuple:
        """``g_target = term``, or ``+= term`` once it holds a value: terms add in the order written."""
        sign = "+=" if id(target) in self._holding else "="
        return f"{indent}{self.claim(target)} {sign} {term}", comment


class StraightLine:
    """The state shared by the lines of one function: the Scalars' names, which values need a gradient,
    their gradients (``Gradients``); and one node's forward lines and backward lines.

    The readable form is all straight line; the fast form (``fast.py``) uses it between its layer loops.
    ``names`` are the inputs' default names; a Scalar's own name comes before them, and ``defaults``
    (names by id) before both. ``params`` are the leaves that are not inputs (found if not given, in the
    order ``nodes`` read them), and ``needs_grad`` the ids of the values a gradient reaches
    (worked out if not given). Nodes are named ``t0, t1, ...`` in the order of ``nodes``. ``fast`` tells
    that the function is the fast form's: the names of its loops' variables are kept from the Scalars.
    """

    def __init__(self, inputs: list, output: Scalar, nodes: list, names: list[str],
                 defaults: dict[int, str] | None = None, params: list | None = None,
                 needs_grad: set[int] | None = None, fast: bool = False) -> None:
        if params is None:
            params = leaves_read_by(nodes, skip=inputs)
        self.params = params
        self.writer = _Writer(inputs, self.params, nodes, output, names, defaults or {}, fast)
        self.var = self.writer.var
        self.gradients = Gradients(self.var)
        self.output = output
        if needs_grad is None:
            needs_grad = needing_grad(nodes, {id(p) for p in params})
        self.needs_grad = needs_grad
        self._backward_parts: dict[int, tuple] = {}

    def header(self, function_name: str, arguments: list[str]) -> list:
        """The ``def`` line and the parameters' current values."""
        return [f"def {function_name}({', '.join(arguments)}):", "    # the parameters' current values",
                *[(f"    {self.var[id(p)]} = params[{i}].data", "") for i, p in enumerate(self.params)]]

    def forward(self, node: Scalar) -> list:
        """The lines that compute ``node``'s value (kept for its backward lines)."""
        code, derivatives, guard = _forward(self.writer, node)
        y = self.var[id(node)]
        value_line = next((text for text, _ in code if text.startswith((f"{y} ", f"{y},"))), code[-1][0])
        self._backward_parts[id(node)] = (value_line, derivatives, guard)
        return [(f"    {text}", f"# {comment_text(note)}") for text, note in code]

    def seed(self) -> list:
        """The output's gradient with respect to itself."""
        if id(self.output) not in self.needs_grad:
            return []
        out = self.var[id(self.output)]
        return [(f"    {self.gradients.claim(self.output)} = 1.0", f"# d{out}/d{out}")]

    def backward(self, node: Scalar) -> list:
        """The lines that add ``node``'s gradient times each local derivative into its inputs' gradients."""
        if id(node) not in self.needs_grad:
            return []
        line, derivatives, guard = self._backward_parts[id(node)]
        gradients = self.gradients
        g, indent, lines = gradients.name(node), "    ", []
        targets = [(p, d) for p, d in zip(node.parents, derivatives) if id(p) in self.needs_grad]
        if guard is not None:
            for p, _ in targets:
                if not gradients.holds_value(p):
                    lines.append(gradients.add(p, "0.0"))
            lines.append((f"    if {guard}:", "# passes no gradient when it is 0 (an off ReLU)"))
            indent = "        "
        lines += [gradients.add(p, f"{g} * {_factor(d)}", indent, f"# from {line}") for p, d in targets]
        return lines

    def footer(self) -> list:
        """Add this pass's gradients into the parameters' ``.grad``, and return the output's value."""
        return ["    # add this pass's gradients to the parameters' .grad, as backward() does",
                *[f"    params[{i}].grad = add_grad(params[{i}].grad, {self.gradients.name(p)})"
                  for i, p in enumerate(self.params) if self.gradients.holds_value(p)],
                f"    return {self.var[id(self.output)]}"]


def needing_grad(nodes: list, param_ids: set[int]) -> set[int]:
    """The ids of the values a gradient flows into: the parameters' and those of the ``nodes`` (every node
    after its inputs) that read one, directly or not."""
    needs = set(param_ids)
    for node in nodes:
        for p in node.parents:  # (mostly the first parent answers: a neuron's weight or hidden input)
            if id(p) in needs:
                needs.add(id(node))
                break
    return needs


def write_source(function_name: str, inputs: list, output: Scalar, nodes: list,
                 names: list[str] | None = None, first: Sequence[Scalar] = ()) -> tuple[str, dict]:
    """The readable source of ``function_name(inputs...)`` computing ``output`` over ``nodes`` (in order)
    and adding the gradients of the other leaves (the parameters) into their ``.grad``; and its globals.
    ``names`` are the inputs' default names (a Scalar's own name comes first); the parameters are listed
    with those in ``first`` first (``walk.put_first``)."""
    # any order with inputs first gives the same values: this one reads left to right
    reading = [value for value in reading_order(output) if not value.is_leaf]
    code = StraightLine(inputs, output, reading, names or input_names(None, len(inputs)),
                        params=put_first(leaves_read_by(reading, skip=inputs), first))
    lines = code.header(function_name, [code.var[id(p)] for p in inputs])
    lines.append("    # forward: one line per node")
    for node in reading:
        lines += code.forward(node)
    out = code.var[id(output)]
    lines.append(f"    # backward: d{out}/d(each value), one line per local-derivative product")
    lines += code.seed()
    for node in reversed(nodes):  # backward()'s order: each gradient adds its terms in the same order
        lines += code.backward(node)
    lines += code.footer()
    return aligned(lines), code.writer.globals


def aligned(lines: list) -> str:
    """Join the lines, their comments in one column (as far as the code allows) in a function short
    enough to read; in a longer one, right after the code (padding would make a third of its text)."""
    width = max([len(item[0]) for item in lines if type(item) is tuple and item[1]] + [0])
    width = min(width, 60) if len(lines) <= 1000 else 0
    out = []
    for item in lines:
        if type(item) is tuple:
            code, comment = item
            out.append(f"{code:<{width}}  {comment}".rstrip() if comment else code)
        else:
            out.append(item)
    return "\n".join(out) + "\n"
