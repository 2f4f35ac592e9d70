"""Weight initialisation, as ``torch.nn.init``, drawing from Python's ``random``.

Each function takes a layer (Neuron, Linear, Conv2D) or a nested list of
Scalars shaped ``[fan_out][fan_in...]``, sets the values in place (the
Scalar objects are kept) and returns what it was given.

>>> import random
>>> from scalargrad.nn import Linear, init
>>> random.seed(0)
>>> layer = init.xavier_uniform_(Linear(4, 3))
>>> init.zeros_([n.b for n in layer.neurons])[0].data
0.0
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from .._util import checks, nested
from ..scalar import Scalar

__all__ = [
    "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_", "uniform_",
    "xavier_normal_", "xavier_uniform_", "zeros_",
]


def _weights(target: Any) -> tuple[list[Scalar], int, int]:
    """(list of weight Scalars, fan_in, fan_out) for a layer or a nested list of Scalars."""
    from .layers import Conv2D, Linear, Neuron

    if isinstance(target, Linear):
        return [p for n in target.neurons for p in n.w], target.size_in, target.size_out
    if isinstance(target, Neuron):
        return list(target.w), target.size, 1
    if isinstance(target, Conv2D):
        kh, kw = target.kernel_size
        return nested.leaves(target.weight), target.fan_in, target.out_channels * kh * kw
    flat = nested.leaves(target)
    for leaf in flat:
        if not isinstance(leaf, Scalar):
            raise TypeError("expected a layer, a Scalar or (nested) lists of Scalars, got "
                            f"{type(leaf).__name__}")
    if nested.is_nested(target) and target and nested.is_nested(target[0]):
        # [out][in] or [out][in][kh][kw]: as torch, fans include the receptive field
        fan_in = len(flat) // len(target)
        receptive = fan_in // len(target[0])
        return flat, fan_in, len(target) * receptive
    return flat, len(flat), len(flat)


def _fill(target: Any, draw: Callable[[], float]) -> Any:
    params = target if isinstance(target, list) and all(isinstance(p, Scalar) for p in target) else None
    weights = params if params is not None else _weights(target)[0]
    for p in weights:
        p.data = draw()
    return target


def uniform_(target: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Values uniform in [a, b)."""
    return _fill(target, lambda: random.uniform(a, b))


def normal_(target: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Values from N(mean, std**2)."""
    return _fill(target, lambda: random.gauss(mean, std))


def constant_(target: Any, value: float) -> Any:
    """Every value set to ``value``."""
    value = float(value)
    return _fill(target, lambda: value)


def zeros_(target: Any) -> Any:
    """Every value set to 0."""
    return constant_(target, 0.0)


def ones_(target: Any) -> Any:
    """Every value set to 1."""
    return constant_(target, 1.0)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def xavier_uniform_(target: Any, gain: float = 1.0) -> Any:
    """Glorot uniform: bound = gain * sqrt(6 / (fan_in + fan_out))."""
    weights, fan_in, fan_out = _weights(target)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    for p in weights:
        p.data = random.uniform(-bound, bound)
    return target


def xavier_normal_(target: Any, gain: float = 1.0) -> Any:
    """Glorot normal: std = gain * sqrt(2 / (fan_in + fan_out))."""
    weights, fan_in, fan_out = _weights(target)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    for p in weights:
        p.data = random.gauss(0.0, std)
    return target


def _kaiming_std(fan_in: int, fan_out: int, a: float, mode: str, nonlinearity: str) -> float:
    checks.one_of(mode, "mode", ("fan_in", "fan_out"))
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(target: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Any:
    """He uniform: bound = sqrt(3) * gain / sqrt(fan)."""
    weights, fan_in, fan_out = _weights(target)
    bound = math.sqrt(3.0) * _kaiming_std(fan_in, fan_out, a, mode, nonlinearity)
    for p in weights:
        p.data = random.uniform(-bound, bound)
    return target


def kaiming_normal_(target: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    """He normal: std = gain / sqrt(fan)."""
    weights, fan_in, fan_out = _weights(target)
    std = _kaiming_std(fan_in, fan_out, a, mode, nonlinearity)
    for p in weights:
        p.data = random.gauss(0.0, std)
    return target
