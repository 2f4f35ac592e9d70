"""What an op is: one declaration of its name, its float forward and its derivative rule.

The engine (``scalar.py``) declares each of its ops with ``Op(...)`` right
beside the method that uses it; ``functional``, the losses and user
extensions (``scalargrad.extend.defop``) declare theirs the same way. Every
other part of the library reads an op from its declaration: backward and
``create_graph`` call ``derivative``, a Replay recomputes with ``value``,
pictures and anomaly messages show ``display_name``. An op holds math only:
its form in compiled code is the compiler's (``scalargrad.compile.templates``).

A derivative rule takes ``maths`` (a math namespace: ``FloatMath`` on floats,
``ScalarMath`` on Scalars when a backward pass is recorded), the op's inputs,
its output ``y`` and its ``constant``, and returns the local derivatives:
``rule(maths, x, y, constant) -> dx`` for one input,
``rule(maths, a, b, y, constant) -> (da, db)`` for two, and
``rule(maths, xs, y, constant) -> [dx, ...]`` for a list of inputs.

>>> square = Op("square", lambda x: x * x, lambda maths, x, y, constant: 2.0 * x)
>>> square.evaluate([3.0]), square.derivative(None, 3.0, 9.0, None)
(9.0, 6.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from . import _floats as fl

__all__ = ["Op", "ScalarMath", "declare"]


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
    """

    __slots__ = ("arity", "constant", "derivative", "label", "name", "recompute", "replayable", "shared",
                 "value")

    def __init__(self, name: str, value: Callable, derivative: Callable, *, arity: int | str = 1,
                 constant: bool = False, label: Callable[[Any], str] | None = None,
                 recompute: Callable | None = None, shared: Callable | None = None,
                 replayable: bool = True) -> None:
        if arity not in (1, 2, "n"):
            raise ValueError(f"arity must be 1, 2 or 'n', got {arity!r}")
        if not callable(value) or not callable(derivative):
            raise TypeError(f"op {name!r}: value and derivative must be functions")
        self.name, self.value, self.derivative, self.arity = name, value, derivative, arity
        self.constant, self.label, self.recompute = constant, label, recompute
        self.shared, self.replayable = shared, replayable

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
        """The rule: d(y)/d(input) for each input (``inputs`` as ``evaluate`` takes them), on plain
        floats, or on Scalars with ``maths=ScalarMath`` (the backward pass of ``create_graph``).

        >>> times = Op("*", lambda a, b: a * b, lambda maths, a, b, y, constant: (b, a), arity=2)
        >>> times.local_derivatives([2.0, 3.0], 6.0)
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
    """Decorator: the decorated function is the derivative rule of a new ``Op`` (see ``Op``), for a
    rule that needs statements; ``scalargrad.extend.defop`` also gives the function on Scalars.

    >>> @declare("cube", lambda x: x * x * x)
    ... def cube(maths, x, y, constant):
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
    tanh = _on_scalar_or_float("tanh", fl.tanh)
    sinh = _on_scalar_or_float("sinh", fl.sinh)
    cosh = _on_scalar_or_float("cosh", fl.cosh)
    erf = _on_scalar_or_float("erf", fl.erf)

    @staticmethod
    def expm1(x: Any) -> Any:
        return fl.expm1(x) if isinstance(x, (int, float)) else x.exp() - 1.0

    @staticmethod
    def div(a: Any, b: Any) -> Any:
        return fl.div(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a / b

    @staticmethod
    def pow(a: Any, b: Any) -> Any:
        return fl.pow(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a ** b
