"""Each op's form in compiled code: one template per op, kept here, beside the code that writes it.

An op's math is declared once, with the op (``Op`` in ``op.py``: its float value and its derivative
rule); how the op reads as Python source is the compiler's concern, so its template lives in this
table, keyed by the ``Op`` object. A template is either

- a tuple of Python expressions, the value then one local derivative per input, in which ``{0}``,
  ``{1}`` are the inputs, ``{y}`` the output and ``{c}`` the constant: ``("exp({0})", "{y}")``, with
  the float functions of ``_floats`` (``exp``, ``div``, ``log``, ...) as names; or
- for an op that needs several lines, a function ``template(constant, inputs, y, name_of, fresh)``
  (``name_of(scalar_or_number)`` gives its source, ``fresh(hint)`` a new variable name) that returns
  ``(lines, derivatives, guard)``: ``(code, comment)`` pairs, one expression per input, and a variable
  whose falsity skips the backward lines (or None); or that returns None to fall back.

An op without a template (those of ``defop``, the losses) is called through its own ``value`` and rule
(or its ``recompute``), so every op compiles. ``register_template`` adds a template
(``defop(..., inline=...)`` calls it).

A sum is written as additions from 0.0 in order (``summed``), which is what ``sum()`` computes up to
CPython 3.11 and on PyPy: the same bits. From CPython 3.12, ``sum()`` of floats compensates its
rounding, and the chain of n terms may differ from it by up to (n - 1) * 2**-53 * sum(|terms|).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Union

from .. import _floats as fl
from .. import list_ops
from ..neuron import NEURON, RELU, NeuronConstant
from ..op import Op
from ..scalar import SCALAR_OPS

__all__ = ["CHAIN", "TEMPLATES", "Template", "chained_sum", "register_template", "summed", "template_of",
           "times_source"]

Template = Union[tuple, Callable]


# ---- sums and products as source ------------------------------------------------------------------

def summed(terms: Sequence[str]) -> str:
    """Compiled code's form of ``builtins.sum(terms, 0.0)``: the same additions in the same order, from
    0.0 as ``sum()`` starts (0.0 + -0.0 is 0.0); see the module docstring for CPython 3.12's ``sum()``.

    >>> summed(["a * x", "b"])
    '0.0 + a * x + b'
    """
    return " + ".join(["0.0", *terms])


def times_source(factor: str, x: str) -> str:
    """Compiled code's ``factor * x``: ``factor`` alone where ``x`` is the literal 1.0 (a bias's input:
    b * 1.0 is b).

    >>> times_source("w", "x"), times_source("b", "1.0")
    ('w * x', 'b')
    """
    return factor if x == "1.0" else f"{factor} * {x}"


CHAIN = 200  # terms per expression: CPython's compiler recurses once per + of a chain (3,000 fail)


def chained_sum(target: str, terms: Sequence[str]) -> tuple[list[str], str]:
    """``summed(terms)`` split so that no expression adds more than ``CHAIN`` terms: the statements
    that add the first terms into the variable ``target``, and the expression that adds the rest
    (the same additions in the same order).

    >>> chained_sum("s", ["a", "b"])
    ([], '0.0 + a + b')
    """
    head, expression = [], summed(terms[:CHAIN])
    for start in range(CHAIN, len(terms), CHAIN):
        head.append(f"{target} = {expression}")
        expression = " + ".join([target, *terms[start:start + CHAIN]])
    return head, expression


def _summed_lines(y: str, terms: list, then: str, comment: str) -> list:
    """The lines for ``y = then.format(sum(terms, 0.0))``, as long as the sum is."""
    head, expression = chained_sum(y, terms)
    return [*((line, comment) for line in head), (f"{y} = {then.format(expression)}", comment)]


# ---- the engine's ops (scalar.py), by their names in SCALAR_OPS --------------------------------------

# the longer derivatives: each op's rule of scalar.py, in the same order of operations (the same bits)
_ABS_PLUS_1 = "(abs({0}) + 1.0)"
_SOFTSIGN = f"1.0 / {_ABS_PLUS_1} - abs({{0}}) / {_ABS_PLUS_1} / {_ABS_PLUS_1}"
_GELU = f"0.5 * (1.0 + erf({{0}} * {fl.SQRT1_2!r})) + {{0}} * ({fl.GELU_PDF!r} * exp({{0}} * {{0}} * -0.5))"
_TANH = f"tanh({fl.GELU_BETA!r} * ({{0}} + {fl.GELU_KAPPA!r} * ({{0}} * {{0}} * {{0}})))"
_GELU_TANH = (f"0.5 * (1.0 + {_TANH}) + 0.5 * {{0}} * (1.0 - {_TANH} * {_TANH}) * "
              f"({fl.GELU_BETA!r} * (1.0 + 3.0 * {fl.GELU_KAPPA!r} * ({{0}} * {{0}})))")

_ENGINE: dict[str, tuple] = {
    "add": ("{0} + {1}", "1.0", "1.0"),
    "add_constant": ("{0} + {c}", "1.0"),
    "sub": ("{0} - {1}", "1.0", "-1.0"),
    "sub_constant": ("{0} - {c}", "1.0"),
    "subtract_from": ("{c} - {0}", "-1.0"),
    "mul": ("{0} * {1}", "{1}", "{0}"),
    "scale": ("{0} * {c}", "{c}"),
    "div": ("div({0}, {1})", "div(1.0, {1})", "div(-{y}, {1})"),
    "div_by_constant": ("div({0}, {c})", "div(1.0, {c})"),
    "divide_constant": ("div({c}, {0})", "-{c} * (div(1.0, {0}) * div(1.0, {0}))"),
    "pow": ("pow({0}, {1})", "0.0 if {1} == 0.0 else {1} * pow({0}, {1} - 1.0)",
            "0.0 if ({0} == 0.0 and {1} >= 0.0) else {y} * log({0})"),
    "pow_constant": ("pow({0}, {c})", "0.0 if {c} == 0.0 else {c} * pow({0}, {c} - 1.0)"),
    "constant_pow": ("pow({c}, {0})", "0.0 if ({c} == 0.0 and {0} >= 0.0) else {y} * log({c})"),
    "neg": ("-{0}", "-1.0"),
    "abs": ("abs({0})", "1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0"),
    "exp": ("exp({0})", "{y}"),
    "log": ("log({0})", "div(1.0, {0})"),
    "log1p": ("log1p({0})", "div(1.0, 1.0 + {0})"),
    "sqrt": ("sqrt({0})", "div(0.5, {y})"),
    "sin": ("sin({0})", "cos({0})"),
    "cos": ("cos({0})", "-sin({0})"),
    "tanh": ("tanh({0})", "1.0 - {y} * {y}"),
    "arctanh": ("atanh({0})", "div(1.0, 1.0 - {0} * {0})"),
    "sigmoid": ("sigmoid({0})", "{y} * (1.0 - {y})"),
    "relu": ("0.0 if {0} <= 0.0 else {0}", "0.0 if {0} <= 0.0 else 1.0"),
    "softplus": ("softplus({0})", "sigmoid({0})"),
    "identity": ("{0}", "1.0"),
    "leaky_relu": ("leaky_relu({0}, {c})", "1.0 if {0} > 0.0 else {c}"),
    "softplus_beta": ("softplus_beta({0}, {c})", "1.0 if {0} * {c}[0] > {c}[1] else sigmoid({0} * {c}[0])"),
    "erf": ("erf({0})", f"{fl.TWO_OVER_SQRT_PI!r} * exp(-({{0}} * {{0}}))"),
    "tan": ("tan({0})", "1.0 + {y} * {y}"),
    "asin": ("asin({0})", "div(1.0, sqrt(1.0 - {0} * {0}))"),
    "acos": ("acos({0})", "-div(1.0, sqrt(1.0 - {0} * {0}))"),
    "atan": ("atan({0})", "div(1.0, {0} * {0} + 1.0)"),
    "sinh": ("sinh({0})", "cosh({0})"),
    "cosh": ("cosh({0})", "sinh({0})"),
    "square": ("{0} * {0}", "2.0 * {0}"),
    "sign": ("sign({0})", "0.0"),
    "silu": ("silu({0})", "sigmoid({0}) * (1.0 + {0} * (1.0 - sigmoid({0})))"),
    "softsign": (f"{{0}} / {_ABS_PLUS_1}", _SOFTSIGN),
    "logsigmoid": ("logsigmoid({0})", "sigmoid(-{0})"),
    "gelu": ("gelu({0})", _GELU),
    "gelu_tanh": ("gelu_tanh({0})", _GELU_TANH),
    "elu": ("elu({0}, {c})", "{c} * exp({0}) if {0} <= 0.0 else 1.0"),
    "clamp": ("clamp({0}, {c})", "1.0 if {c}[0] <= {0} <= {c}[1] else 0.0"),
    "hardtanh": ("clamp({0}, {c})", "0.0 if {0} <= {c}[0] or {0} >= {c}[1] else 1.0"),
    "maximum": ("maximum({0}, {1})", "share({0}, {1})", "share({1}, {0})"),
    "maximum_constant": ("maximum({0}, {c})", "share({0}, {c})"),
    "minimum": ("minimum({0}, {1})", "share({1}, {0})", "share({0}, {1})"),
    "minimum_constant": ("minimum({0}, {c})", "share({c}, {0})"),
}

TEMPLATES: dict[Op, Template] = {SCALAR_OPS[name]: template for name, template in _ENGINE.items()}


def template_of(op: Op) -> Template | None:
    """``op``'s template, or None (compiled code then calls its functions)."""
    return TEMPLATES.get(op)


def register_template(op: Op, template: Template) -> None:
    """Give ``op`` a template (see the module docstring): its form in compiled code from now on.

    >>> from scalargrad.extend import Op
    >>> double = Op("double", lambda x: 2.0 * x, lambda maths, x, y, constant: 2.0)
    >>> register_template(double, ("2.0 * {0}", "2.0"))
    >>> template_of(double)
    ('2.0 * {0}', '2.0')
    """
    if not isinstance(op, Op):
        raise TypeError(f"register_template needs an Op, got {type(op).__name__}")
    strings = isinstance(template, tuple) and all(isinstance(t, str) for t in template)
    if not (strings or callable(template)):
        raise TypeError(f"op {op.name!r}: a template is a tuple of strings or a function, "
                        f"got {type(template).__name__}")
    TEMPLATES[op] = template


# ---- the list-level ops and the neuron: several lines each ----------------------------------------------

def _sum(constant: float, xs: list, y: str, name_of: Callable, fresh: Callable):
    """``sum``: the terms, then the sum of the numbers among them (the constant)."""
    return _summed_lines(y, [*xs, name_of(constant)], "{}", "sum"), ["1.0"] * len(xs), None


def _mean(constant: tuple, xs: list, y: str, name_of: Callable, fresh: Callable):
    """``mean``: the sum as ``sum``'s, over n; the constant is (1 / n, the numbers' sum, n)."""
    lines = _summed_lines(y, [*xs, name_of(constant[1])], f"({{}}) / {constant[2]}", "mean")
    return lines, [name_of(constant[0])] * len(xs), None


def _neuron(constant: NeuronConstant, parents: list, y: str, name_of: Callable, fresh: Callable):
    """A neuron of ``linear`` (``scalargrad.neuron``): z summed as its recompute sums, act(z), act'(z) from
    the activation's template. A neuron not built by a Replay is left to its recompute (None)."""
    if not constant.replayed:
        return None
    sources = constant.inputs.sources
    w = [name_of(p) for p in constant.weights.sources]
    fixed = constant.inputs.values[len(sources):]  # a network's input of numbers, the bias's 1.0
    x = [name_of(p) for p in sources] + [name_of(v) for v in fixed]
    z, d = fresh(f"z_{y}"), fresh(f"d_{y}")
    products = [times_source(wi, xi) for wi, xi in zip(w, x)]
    act = constant.activation
    value, derivative = (t.format(z, y=y, c=name_of(constant.slope)) for t in TEMPLATES[act])
    lines = [*_summed_lines(z, products, "{}", "dot (the sum starts at 0.0, as sum() does)"),
             (f"{y} = {value}", act.name), (f"{d} = {derivative}", f"{act.name}'({z})")]
    partners = w[:len(sources)] + x if constant.inputs_recorded else x
    return lines, [f"{d} * {v}" for v in partners], (d if act is RELU else None)  # an off ReLU: no gradient


def _window_max(constant: None, xs: list, y: str, name_of: Callable, fresh: Callable):
    """``window_max`` (max pooling): the index ``max_index`` picks, then that element."""
    k, window = fresh(f"k_{y}"), f"({', '.join(xs)},)"
    lines = [(f"{k} = {name_of(list_ops.max_index)}({window})", "max: the first largest (a nan wins)"),
             (f"{y} = {window}[{k}]", "max")]
    return lines, [f"(1.0 if {k} == {i} else 0.0)" for i in range(len(xs))], None


TEMPLATES.update({list_ops.sum.op: _sum, list_ops.mean.op: _mean, NEURON: _neuron,
                  list_ops.window_max.op: _window_max})
