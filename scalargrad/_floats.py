"""IEEE float64 functions: the value torch gives where Python's ``math`` would raise.

``math.exp(1000)`` raises OverflowError and ``math.log(0)`` raises
ValueError; torch gives ``inf`` and ``-inf``. Every op's float forward is
one of these functions (or a plain operator), so each formula is written
once, here, and the engine, replay and the losses all call the same code.

>>> exp(1000.0), log(0.0), div(1.0, 0.0)
(inf, -inf, inf)
"""

from __future__ import annotations

import math

__all__ = ["FloatMath", "atanh", "cos", "div", "exp", "expm1", "identity", "leaky_relu", "log", "log1p",
           "logsumexp_parts", "pow", "relu", "sigmoid", "sin", "softplus", "sqrt", "tanh"]

INF = math.inf
NAN = math.nan
tanh = math.tanh  # already IEEE: tanh(+-inf) is +-1, tanh(nan) is nan


def exp(x: float) -> float:
    """e**x; inf when it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def expm1(x: float) -> float:
    """e**x - 1, accurate for small x; inf when it overflows."""
    try:
        return math.expm1(x)
    except OverflowError:
        return INF


def log(x: float) -> float:
    """Natural log: -inf at 0, nan below."""
    if x > 0.0:
        return math.log(x)
    return -INF if x == 0.0 else NAN


def log1p(x: float) -> float:
    """log(1 + x), accurate for small x: -inf at -1, nan below."""
    if x > -1.0:
        return math.log1p(x)
    return -INF if x == -1.0 else NAN


def sqrt(x: float) -> float:
    """Square root; nan below 0."""
    return math.sqrt(x) if x >= 0.0 else NAN


def sin(x: float) -> float:
    """Sine; nan at +-inf."""
    try:
        return math.sin(x)
    except ValueError:
        return NAN


def cos(x: float) -> float:
    """Cosine; nan at +-inf."""
    try:
        return math.cos(x)
    except ValueError:
        return NAN


def atanh(x: float) -> float:
    """Inverse hyperbolic tangent: +-inf at +-1, nan outside [-1, 1]."""
    if -1.0 < x < 1.0:
        return math.atanh(x)
    if x == 1.0:
        return INF
    return -INF if x == -1.0 else NAN


def sigmoid(x: float) -> float:
    """1 / (1 + e**-x), never exponentiating a positive number: stable for any input."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = exp(x)  # also the nan path
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|): no overflow for large x."""
    return (x if x > 0.0 else 0.0) + math.log1p(exp(-abs(x)))


def relu(x: float) -> float:
    """max(x, 0), keeping nan (``max`` would not)."""
    return 0.0 if x <= 0.0 else x


def leaky_relu(x: float, slope: float) -> float:
    """x for x > 0, slope * x otherwise."""
    return x if x > 0.0 else x * slope


def identity(x: float) -> float:
    """x itself."""
    return x


def div(a: float, b: float) -> float:
    """a / b with IEEE results at b == 0: +-inf, or nan for 0 / 0."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or math.isnan(a):
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def _is_odd_integer(b: float) -> bool:
    return math.isfinite(b) and b == int(b) and int(b) % 2 == 1


def pow(a: float, b: float) -> float:
    """a ** b with IEEE results: +-inf on overflow and for 0 to a negative power, nan for a
    negative base with a non-integer exponent."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -INF if a < 0.0 and _is_odd_integer(b) else INF
    except ValueError:
        if a == 0.0:  # zero to a negative power
            return -INF if math.copysign(1.0, a) < 0.0 and _is_odd_integer(b) else INF
        return NAN  # negative base, non-integer exponent


def logsumexp_parts(values: list[float]) -> tuple[float, float]:
    """``(m, s)`` with m the largest value and s = sum e**(v - m): log(sum e**v) = m + log(s), no overflow."""
    m = max(values)
    if math.isinf(m) or math.isnan(m):
        return m, 1.0
    return m, sum([exp(v - m) for v in values])


class FloatMath:
    """The math namespace derivative rules use on plain floats (the forward pass).

    ``ScalarMath`` in the engine has the same names on Scalars, which is how a
    rule written once also records a backward pass for higher derivatives.
    """

    exp = staticmethod(exp)
    expm1 = staticmethod(expm1)
    log = staticmethod(log)
    sqrt = staticmethod(sqrt)
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    sigmoid = staticmethod(sigmoid)
    div = staticmethod(div)
    pow = staticmethod(pow)
