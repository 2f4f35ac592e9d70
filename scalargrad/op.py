"""What an op is: one declaration of its name, its float forward and its derivative rule.

The engine (``scalar.py``) declares its ops with ``Op(...)`` or ``@declare``
right beside the methods that use them; ``functional``, the losses and user
extensions (``scalargrad.extend``) declare theirs the same way. Every other
part of the library reads an op from its declaration: backward and
``create_graph`` call ``derivative``, a Replay recomputes with ``value``,
pictures and anomaly messages show ``display_name``.

A derivative rule takes ``M`` (a math namespace: ``FloatMath`` on floats,
``ScalarMath`` on Scalars when a backward pass is recorded), the op's inputs,
its output ``y`` and its constant ``c``, and returns the local derivatives:
``rule(maths, x, y, c) -> dx`` for one input, ``rule(maths, a, b, y, c) -> (da, db)``
for two, ``rule(maths, xs, y, c) -> [dx, ...]`` for a list of inputs.

>>> square = Op("square", lambda x: x * x, lambda maths, x, y, const: 2.0 * x)
>>> square.evaluate([3.0]), square.derivative(None, 3.0, 9.0, None)
(9.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from . import _floats as fl

__all__ = ["CHAIN", "Op", "ScalarMath", "chained_sum", "declare", "summed", "times_source"]


def summed(terms: Sequence[str]) -> str:
    """Compiled code's form of ``builtins.sum(terms, 0.0)``: the same additions in the same order.

    The sum starts at 0.0 as ``sum()`` does (0.0 + -0.0 is 0.0). From CPython 3.12, ``sum()`` of floats
    compensates its rounding, so the chain can differ from it in the last bits there.

    >>> summed(["a * x", "b"])
    '0.0 + a * x + b'
    """
    return " + ".join(["0.0", *terms])


def times_source(factor: str, x: str) -> str:
    """Compiled code's ``factor * x``: ``factor`` alone where ``x`` is the literal 1.0 (a bias's input: b * 1.0 is b).

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


class Op:
    """One op, declared once: its display name, its float forward and its derivative rule.

    ``value`` computes the op's result on floats: ``value(x)`` for one input,
    ``value(a, b)`` for two, ``value(xs)`` for a list (``arity='n'``), with
    the op's constant as one more argument when ``constant=True``.
    ``derivative`` is the rule (see the module docstring). Optional:
    ``label(constant)`` gives a name that depends on the constant;
    ``recompute(inputs, constant) -> (value, local derivatives)`` replaces
    the generic in-place recomputation of an n-ary op in a Replay;
    ``shared(constant)`` lists the shared values (objects with ``refresh()``)
    that recomputation reads; ``replayable=False`` marks an op whose value
    cannot be recomputed from its inputs.

    ``inline`` is the op's form in compiled code (``scalargrad.compile``):
    a tuple of Python expressions, the value then one local derivative per
    input, in which ``{0}``, ``{1}`` are the inputs, ``{y}`` the output and
    ``{c}`` the constant (``("exp({0})", "{y}")``, names from ``_floats``);
    or, for ops that need several lines, a function ``inline(constant,
    inputs, y, name_of, fresh)`` (``name_of(scalar_or_number)`` gives its
    source, ``fresh(hint)`` a new variable name) returning ``(lines,
    derivatives, guard)``: ``(code, comment)`` pairs, one expression per
    input, and a variable whose falsity skips the backward lines (or None),
    or returning None to fall back. Without it, compiled code calls
    ``value`` and the rule (or ``recompute``), so every op compiles.
    """

    __slots__ = ("arity", "constant", "derivative", "inline", "label", "name", "recompute", "replayable",
                 "shared", "value")

    def __init__(self, name: str, value: Callable, derivative: Callable, *, arity: int | str = 1,
                 constant: bool = False, label: Callable[[Any], str] | None = None,
                 recompute: Callable | None = None, shared: Callable | None = None,
                 replayable: bool = True, inline: tuple[str, ...] | Callable | None = None) -> None:
        if arity not in (1, 2, "n"):
            raise ValueError(f"arity must be 1, 2 or 'n', got {arity!r}")
        if not callable(value) or not callable(derivative):
            raise TypeError(f"op {name!r}: value and derivative must be functions")
        self.name, self.value, self.derivative, self.arity, self.constant = name, value, derivative, arity, constant
        self.label, self.recompute, self.shared, self.replayable = label, recompute, shared, replayable
        self.inline = inline

    def display_name(self, constant: Any = None) -> str:
        """The name pictures and ``Scalar.op`` show."""
        return self.label(constant) if self.label is not None else self.name

    def evaluate(self, inputs: Sequence[float], constant: Any = None) -> float:
        """The op's value on plain floats (``inputs`` is the list of input values)."""
        args = [list(inputs)] if self.arity == "n" else list(inputs)
        if self.constant:
            args.append(constant)
        return self.value(*args)

    def local_derivatives(self, inputs: Sequence[Any], y: Any, constant: Any = None,
                          maths: Any = fl.FloatMath) -> list:
        """The rule: d(y)/d(input) for each input (``inputs`` as ``evaluate`` takes them), on plain floats,
        or on Scalars with ``maths=ScalarMath`` (the backward pass of ``create_graph``).

        >>> Op("*", lambda a, b: a * b, lambda maths, a, b, y, c: (b, a), arity=2).local_derivatives([2.0, 3.0], 6.0)
        [3.0, 2.0]
        """
        if self.arity == "n":
            return list(self.derivative(maths, list(inputs), y, constant))
        if self.arity == 1:
            return [self.derivative(maths, inputs[0], y, constant)]
        return list(self.derivative(maths, inputs[0], inputs[1], y, constant))

    def float_in_rule_error(self) -> TypeError:
        """The error for a rule that turned a Scalar into a float while ``create_graph`` recorded it."""
        return TypeError(
            f"the derivative rule of op {self.name!r} turned a Scalar into a float (math.exp(x), "
            "float(x), ...): with create_graph=True that drops the recorded graph and every higher "
            "derivative. Write the rule with its first argument, maths.exp(x), maths.log(x), "
            "maths.div(a, b), ..., which works on floats and on Scalars; see help(scalargrad.extend.defop)")

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity!r})"


def declare(name: str, value: Callable, **options: Any) -> Callable[[Callable], Op]:
    """Decorator: the decorated function is the derivative rule of a new ``Op`` (see ``Op``).

    >>> @declare("cube", lambda x: x * x * x)
    ... def cube(maths, x, y, c):
    ...     return 3.0 * x * x
    >>> cube
    Op('cube', arity=1)
    """
    def make(rule: Callable) -> Op:
        return Op(name, value, rule, **options)
    return make


def _on_scalar_or_float(method: str, on_float: Callable) -> Callable:
    def apply(x: Any) -> Any:
        return on_float(x) if isinstance(x, (int, float)) else getattr(x, method)()
    return staticmethod(apply)


class ScalarMath:
    """The functions of ``FloatMath`` for rules that run on Scalars (and floats), recording a graph.

    A Scalar is recognised by not being a plain number, so this module needs
    no import of the engine: ``ScalarMath.exp(x)`` is ``x.exp()``.
    """

    exp = _on_scalar_or_float("exp", fl.exp)
    log = _on_scalar_or_float("log", fl.log)
    sqrt = _on_scalar_or_float("sqrt", fl.sqrt)
    sin = _on_scalar_or_float("sin", fl.sin)
    cos = _on_scalar_or_float("cos", fl.cos)
    sigmoid = _on_scalar_or_float("sigmoid", fl.sigmoid)

    @staticmethod
    def expm1(x: Any) -> Any:
        return fl.expm1(x) if isinstance(x, (int, float)) else x.exp() - 1.0

    @staticmethod
    def div(a: Any, b: Any) -> Any:
        return fl.div(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a / b

    @staticmethod
    def pow(a: Any, b: Any) -> Any:
        return fl.pow(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a ** b
