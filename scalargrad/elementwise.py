"""torch's elementwise functions on a Scalar, a number, nested lists or a numpy array (in ``functional``).

Each function applies the Scalar method of the same name (see ``Scalar``: values, gradients and their
choices at ties and bounds, as torch float64 gives them) to every element, and gives the result in the
nesting of its input: a Scalar for a Scalar or a number, nested lists for nested lists, tuples or an
array. The two-input ones (``maximum``, ``minimum``, ``pow``, ``where``) broadcast as torch does
(``scalargrad.nested_ops.map``): a number goes with any list, a row with every row.

A number is a constant, as a torch tensor that does not require grad: a function of numbers only gives a
Scalar holding the value, a leaf with no graph behind it; with a Scalar it is the op's constant.

>>> from scalargrad import Scalar
>>> from scalargrad import functional as F
>>> x = [Scalar(-1.0), Scalar(0.5)]
>>> [v.data for v in F.clamp(x, min=0.0)], F.relu(-2.0).data, F.relu(-2.0).is_leaf
([0.0, 0.5], 0.0, True)
>>> y = F.maximum(x, [[0.5], [-2.0]])       # shape (2, 1) with (2,): (2, 2)
>>> [[v.data for v in row] for row in y]
[[0.5, 0.5], [-1.0, 0.5]]
"""

from __future__ import annotations

from typing import Any, Callable

from ._util.checks import boolean, is_number, number
from ._util.nested import map_leaves, to_lists
from .extend import Scalar
from .nested_ops import Nested, broadcast_apply

__all__ = ["abs", "acos", "arctanh", "asin", "atan", "atanh", "clamp", "clip", "cos", "cosh", "elu", "erf",
           "exp", "gelu", "hardtanh", "leaky_relu", "log", "log1p", "logsigmoid", "maximum", "minimum", "neg",
           "pow", "relu", "sigmoid", "sign", "silu", "sin", "sinh", "softplus", "softsign", "sqrt", "square",
           "tan", "tanh", "where"]


# ---- the two helpers: every function below is one of them with its Scalar method -----------------------

def _each(op: str, method: Callable[[Scalar], Scalar], x: Nested) -> Any:
    """``method`` on every element of ``x``; a number's result is a constant (a leaf)."""
    def one(v: Any) -> Scalar:
        return method(v) if isinstance(v, Scalar) else Scalar(method(Scalar(v)).data)
    return broadcast_apply(op, one, (x,))


def _pair(op: str, method: Callable[[Scalar, Any], Scalar], reflected: Callable[[Scalar, Any], Scalar],
          a: Nested, b: Nested) -> Any:
    """``method(a, b)`` element by element, broadcast; ``reflected(b, a)`` where only b is a Scalar."""
    def one(u: Any, v: Any) -> Scalar:
        if isinstance(u, Scalar):
            return method(u, v)
        if isinstance(v, Scalar):
            return reflected(v, u)
        return Scalar(method(Scalar(u), v).data)
    return broadcast_apply(op, one, (a, b))


# ---- one input -----------------------------------------------------------------------------------------

def relu(x: Nested) -> Any:
    """max(x, 0) elementwise (``torch.relu``); the gradient at 0 is 0, at nan 1."""
    return _each("relu", Scalar.relu, x)


def sigmoid(x: Nested) -> Any:
    """1 / (1 + e**-x) elementwise (``torch.sigmoid``), stable for any input."""
    return _each("sigmoid", Scalar.sigmoid, x)


def tanh(x: Nested) -> Any:
    """Hyperbolic tangent elementwise (``torch.tanh``)."""
    return _each("tanh", Scalar.tanh, x)


def exp(x: Nested) -> Any:
    """e**x elementwise (``torch.exp``); inf where it overflows."""
    return _each("exp", Scalar.exp, x)


def log(x: Nested) -> Any:
    """Natural log elementwise (``torch.log``): -inf at 0, nan below."""
    return _each("log", Scalar.log, x)


def log1p(x: Nested) -> Any:
    """log(1 + x) elementwise (``torch.log1p``), accurate for small x."""
    return _each("log1p", Scalar.log1p, x)


def sqrt(x: Nested) -> Any:
    """Square root elementwise (``torch.sqrt``): nan below 0."""
    return _each("sqrt", Scalar.sqrt, x)


def abs(x: Nested) -> Any:
    """|x| elementwise (``torch.abs``); the gradient at 0 is 0."""
    return _each("abs", Scalar.abs, x)


def neg(x: Nested) -> Any:
    """-x elementwise (``torch.neg``)."""
    return _each("neg", Scalar.__neg__, x)


def sin(x: Nested) -> Any:
    """Sine elementwise (``torch.sin``)."""
    return _each("sin", Scalar.sin, x)


def cos(x: Nested) -> Any:
    """Cosine elementwise (``torch.cos``)."""
    return _each("cos", Scalar.cos, x)


def tan(x: Nested) -> Any:
    """Tangent elementwise (``torch.tan``)."""
    return _each("tan", Scalar.tan, x)


def asin(x: Nested) -> Any:
    """Inverse sine elementwise (``torch.asin``): nan outside [-1, 1], the gradient inf at +-1."""
    return _each("asin", Scalar.asin, x)


def acos(x: Nested) -> Any:
    """Inverse cosine elementwise (``torch.acos``): nan outside [-1, 1], the gradient -inf at +-1."""
    return _each("acos", Scalar.acos, x)


def atan(x: Nested) -> Any:
    """Inverse tangent elementwise (``torch.atan``)."""
    return _each("atan", Scalar.atan, x)


def sinh(x: Nested) -> Any:
    """Hyperbolic sine elementwise (``torch.sinh``); +-inf where it overflows."""
    return _each("sinh", Scalar.sinh, x)


def cosh(x: Nested) -> Any:
    """Hyperbolic cosine elementwise (``torch.cosh``); inf where it overflows."""
    return _each("cosh", Scalar.cosh, x)


def arctanh(x: Nested) -> Any:
    """Inverse hyperbolic tangent elementwise (``torch.arctanh``, also ``atanh``): +-inf at +-1."""
    return _each("arctanh", Scalar.arctanh, x)


atanh = arctanh
"""``arctanh``, by its other name in torch."""


def erf(x: Nested) -> Any:
    """The error function elementwise (``torch.erf``)."""
    return _each("erf", Scalar.erf, x)


def square(x: Nested) -> Any:
    """x * x elementwise (``torch.square``)."""
    return _each("square", Scalar.square, x)


def sign(x: Nested) -> Any:
    """1, -1 or 0 elementwise (``torch.sign``), with gradient 0; as in torch, the sign of nan is 0."""
    return _each("sign", Scalar.sign, x)


def silu(x: Nested) -> Any:
    """x * sigmoid(x) elementwise (``torch.nn.functional.silu``)."""
    return _each("silu", Scalar.silu, x)


def softsign(x: Nested) -> Any:
    """x / (1 + |x|) elementwise (``torch.nn.functional.softsign``); nan at +-inf, as in torch."""
    return _each("softsign", Scalar.softsign, x)


def logsigmoid(x: Nested) -> Any:
    """log(sigmoid(x)) elementwise (``torch.nn.functional.logsigmoid``), stable for any input."""
    return _each("logsigmoid", Scalar.logsigmoid, x)


# ---- one input and torch's arguments --------------------------------------------------------------------

def leaky_relu(x: Nested, negative_slope: float = 0.01) -> Any:
    """x for x > 0, ``negative_slope * x`` otherwise, elementwise (``torch.nn.functional.leaky_relu``)."""
    slope = number(negative_slope, "negative_slope")
    return _each("leaky_relu", lambda v: v.leaky_relu(slope), x)


def gelu(x: Nested, approximate: str = "none") -> Any:
    """x Phi(x) elementwise, Phi the standard normal CDF (``torch.nn.functional.gelu``); with
    ``approximate='tanh'``, torch's tanh approximation. ValueError for another ``approximate``."""
    return _each("gelu", lambda v: v.gelu(approximate), x)


def elu(x: Nested, alpha: float = 1.0) -> Any:
    """x for x > 0, alpha (e**x - 1) otherwise, elementwise (``torch.nn.functional.elu``); as in torch, the
    gradient at 0 is alpha."""
    return _each("elu", lambda v: v.elu(alpha), x)


def hardtanh(x: Nested, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    """x clamped to [min_val, max_val] elementwise (``torch.nn.functional.hardtanh``); the gradient is 0 at
    the bounds, unlike ``clamp``'s. ValueError if min_val > max_val."""
    return _each("hardtanh", lambda v: v.hardtanh(min_val, max_val), x)


def softplus(x: Nested, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + e**(beta x)) / beta elementwise, and x itself where beta x > threshold
    (``torch.nn.functional.softplus``, with its defaults).

    >>> softplus([0.0, 30.0])[1].data
    30.0
    """
    return _each("softplus", lambda v: v.softplus(beta, threshold), x)


def clamp(x: Nested, min: float | None = None, max: float | None = None) -> Any:
    """min(max(x, min), max) elementwise (``torch.clamp``, also ``clip``), a bound None for none; the
    bounds are numbers. As in torch: max where min > max, the gradient 1 at the bounds themselves and 0
    at nan; ValueError when both are None.

    >>> [v.data for v in clamp([-2, 0.5, 3], -1, 1)]
    [-1.0, 0.5, 1.0]
    """
    return _each("clamp", lambda v: v.clamp(min, max), x)


clip = clamp
"""``clamp``, by its other name in torch."""


# ---- two inputs, broadcast -------------------------------------------------------------------------------

def maximum(a: Nested, b: Nested) -> Any:
    """The larger of a and b element by element, broadcast (``torch.maximum``): nan if either is nan. As in
    torch, a tie gives each side half the gradient, and a nan all of it to both.

    >>> x = Scalar(1.0)
    >>> y = maximum(x, 1.0)
    >>> y.backward(); x.grad
    0.5
    """
    return _pair("maximum", Scalar.maximum, Scalar.maximum, a, b)


def minimum(a: Nested, b: Nested) -> Any:
    """The smaller of a and b element by element, broadcast (``torch.minimum``): nan if either is nan; a tie
    gives each side half the gradient, as in torch."""
    return _pair("minimum", Scalar.minimum, Scalar.minimum, a, b)


def pow(x: Nested, exponent: Nested) -> Any:
    """x ** exponent element by element, broadcast (``torch.pow``); either side may be a number.

    >>> [v.data for v in pow([1.0, 2.0, 3.0], 2)], pow(2, [Scalar(3.0)])[0].data
    ([1.0, 4.0, 9.0], 8.0)
    """
    return _pair("pow", Scalar.pow, lambda e, base: base ** e, x, exponent)


def _condition(value: Any) -> float:
    """One element of ``where``'s condition as 1.0 or 0.0: a bool, or a number (true unless 0, nan true)."""
    if isinstance(value, Scalar):
        raise TypeError("where: condition holds a Scalar; compare it first (x > 0 gives a bool), as torch "
                        "takes a bool tensor")
    holds = value != 0 if is_number(value) else boolean(value, "where: an element of condition")
    return 1.0 if holds else 0.0


def where(condition: Any, a: Nested, b: Nested) -> Any:
    """a where ``condition`` holds, b elsewhere, element by element, all three broadcast (``torch.where``).

    ``condition`` holds bools (a Scalar compared already: ``x > 0``) or numbers (true unless 0). The result
    holds the chosen elements themselves (a number as a constant Scalar), so the gradient flows to the
    chosen side only, as in torch.

    >>> x = [Scalar(-1.0), Scalar(2.0)]
    >>> [v.data for v in where([v > 0 for v in x], x, 0.0)]
    [0.0, 2.0]
    """
    chosen = map_leaves(_condition, to_lists(condition))
    return broadcast_apply("where", lambda c, u, v: _constant(u if c else v), (chosen, a, b))


def _constant(value: Any) -> Scalar:
    return value if isinstance(value, Scalar) else Scalar(value)
