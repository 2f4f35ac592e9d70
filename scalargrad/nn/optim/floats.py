"""torch's element-wise float ops, on Python floats, for the update rules.

Each one gives the float64 result torch gives, bit for bit, where Python's
own operator would raise or round differently:

>>> div(1.0, 0.0), lerp_each([0.0], [10.0], 0.1), maximum(1.0, float('nan'))
(inf, [1.0], nan)
"""

from __future__ import annotations

import math

from ...scalar import FloatMath

__all__ = ["directed_gradients", "div", "lerp_each", "maximum", "sqrt"]

div = FloatMath.div    # IEEE division: x / 0 gives inf or nan, as torch does, instead of raising
sqrt = FloatMath.sqrt  # sqrt of a (rounding-)negative number gives nan, as torch does


def lerp_each(starts: list[float], ends: list[float], weight: float) -> list[float]:
    """torch.lerp of each start towards its end by one ``weight``, with torch's choice of formula by
    weight (keeps results bit-identical), made once for the whole list.

    >>> lerp_each([2.0, 0.0], [4.0, 10.0], 0.25)
    [2.5, 2.5]
    """
    if abs(weight) < 0.5:
        return [start + weight * (end - start) for start, end in zip(starts, ends)]
    one_minus_weight = 1.0 - weight
    return [end - (end - start) * one_minus_weight for start, end in zip(starts, ends)]


def maximum(a: float, b: float) -> float:
    """torch.maximum: nan if either input is nan (Python's max would drop it).

    >>> maximum(1.0, 2.0)
    2.0
    """
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a >= b else b


def directed_gradients(grads: list[float], params: list[float], weight_decay: float,
                       maximize: bool) -> list[float]:
    """The gradients an update follows: negated to maximize, then plus the L2 term ``weight_decay * param``.

    >>> directed_gradients([0.5], [2.0], 0.1, maximize=True)
    [-0.3]
    """
    if maximize:
        grads = [-grad for grad in grads]
    if weight_decay != 0.0:
        grads = [grad + weight_decay * param for grad, param in zip(grads, params)]
    return grads
