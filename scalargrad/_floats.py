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

__all__ = ["FloatMath", "acos", "asin", "atan", "atanh", "clamp", "cos", "cosh", "div", "elu", "erf", "exp",
           "expm1", "gelu", "gelu_tanh", "identity", "leaky_relu", "log", "log1p", "logsigmoid",
           "logsumexp_parts", "maximum", "minimum", "pow", "relu", "share", "sigmoid", "sign", "silu", "sin",
           "sinh", "softplus", "softplus_beta", "sqrt", "square", "tan", "tanh"]
# softsign is left out: compiled code binds these names, and an extension's softsign (the example of
# scalargrad.extend) keeps its own name there

INF = math.inf
NAN = math.nan
tanh = math.tanh  # already IEEE: tanh(+-inf) is +-1, tanh(nan) is nan
atan = math.atan  # atan(+-inf) is +-pi/2
erf = math.erf  # erf(+-inf) is +-1

# torch's constants (C's M_SQRT1_2, M_2_SQRTPI, M_SQRT2 as doubles), for gelu and erf and their derivatives
SQRT1_2 = 0.7071067811865476
TWO_OVER_SQRT_PI = 1.1283791670955126
GELU_PDF = TWO_OVER_SQRT_PI * SQRT1_2 * 0.5  # the standard normal density at 0
GELU_BETA = 1.4142135623730951 * TWO_OVER_SQRT_PI * 0.5  # sqrt(2 / pi), for the tanh form
GELU_KAPPA = 0.044715


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


def tan(x: float) -> float:
    """Tangent; nan at +-inf."""
    try:
        return math.tan(x)
    except ValueError:
        return NAN


def asin(x: float) -> float:
    """Inverse sine; nan outside [-1, 1]."""
    return math.asin(x) if -1.0 <= x <= 1.0 else NAN


def acos(x: float) -> float:
    """Inverse cosine; nan outside [-1, 1]."""
    return math.acos(x) if -1.0 <= x <= 1.0 else NAN


def sinh(x: float) -> float:
    """Hyperbolic sine; +-inf when it overflows."""
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(INF, x)


def cosh(x: float) -> float:
    """Hyperbolic cosine; inf when it overflows."""
    try:
        return math.cosh(x)
    except OverflowError:
        return INF


def square(x: float) -> float:
    """x * x (inf when it overflows: float multiplication never raises)."""
    return x * x


def sign(x: float) -> float:
    """1.0, -1.0 or 0.0; 0.0 at nan, as torch gives it."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def sigmoid(x: float) -> float:
    """1 / (1 + e**-x), never exponentiating a positive number: stable for any input."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = exp(x)  # also the nan path
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|): no overflow for large x."""
    return (x if x > 0.0 else 0.0) + math.log1p(exp(-abs(x)))


def softplus_beta(x: float, constant: tuple[float, float]) -> float:
    """torch's softplus with ``constant = (beta, threshold)``: x where beta x > threshold, else
    log(1 + e**(beta x)) / beta, written ``softplus(beta x) / beta`` so that it never overflows (torch's
    log1p(exp(beta x)) gives inf past beta x = 709, below a threshold that high). With beta 1 and no
    threshold (inf), the bits of ``softplus``."""
    beta, threshold = constant
    bx = x * beta
    return x if bx > threshold else div(softplus(bx), beta)


def logsigmoid(x: float) -> float:
    """log(sigmoid(x)) = min(x, 0) - log1p(e**-|x|): no overflow for any x."""
    return (x if x < 0.0 else 0.0) - math.log1p(exp(-abs(x)))


def silu(x: float) -> float:
    """x * sigmoid(x), as torch computes it: x / (1 + e**-x) (nan at -inf)."""
    return x / (1.0 + exp(-x))


def gelu(x: float) -> float:
    """x * Phi(x), Phi the standard normal CDF: x / 2 * (1 + erf(x / sqrt(2))) (nan at -inf, as torch)."""
    return x * 0.5 * (1.0 + math.erf(x * SQRT1_2))


def gelu_tanh(x: float) -> float:
    """gelu's tanh approximation: x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x**3)))."""
    return 0.5 * x * (1.0 + math.tanh(GELU_BETA * (x + GELU_KAPPA * (x * x * x))))


def elu(x: float, alpha: float) -> float:
    """x for x > 0, alpha * (e**x - 1) otherwise."""
    return x if x > 0.0 else alpha * expm1(x)


def softsign(x: float) -> float:
    """x / (1 + |x|), as torch computes it (nan at +-inf)."""
    return x / (abs(x) + 1.0)


def clamp(x: float, bounds: tuple[float, float]) -> float:
    """min(max(x, low), high) for ``bounds = (low, high)``, as torch: high where low > high, nan for a nan
    x or a nan bound."""
    low, high = bounds
    if math.isnan(low) or math.isnan(high):
        return NAN
    y = low if x < low else x
    return high if y > high else y


def share(a: float, b: float) -> float:
    """The share of max(a, b)'s gradient that goes to a, as torch gives it: 1, 0, or half at a tie, and 1 when
    either is nan (both sides get all of it). It only compares, so it serves on Scalars too.

    >>> share(2.0, 1.0), share(1.0, 2.0), share(1.0, 1.0), share(NAN, 1.0)
    (1.0, 0.0, 0.5, 1.0)
    """
    return 0.5 if a == b else 0.0 if a < b else 1.0


def maximum(a: float, b: float) -> float:
    """The larger of a and b; nan if either is nan."""
    return a if a > b else b if a < b else a if a == b else NAN


def minimum(a: float, b: float) -> float:
    """The smaller of a and b; nan if either is nan."""
    return a if a < b else b if a > b else a if a == b else NAN


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
    tanh = staticmethod(tanh)
    sinh = staticmethod(sinh)
    cosh = staticmethod(cosh)
    erf = staticmethod(erf)
    div = staticmethod(div)
    pow = staticmethod(pow)
