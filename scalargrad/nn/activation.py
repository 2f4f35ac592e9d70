"""Activation modules: elementwise ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, Identity, and Softmax.

The elementwise ones take a Scalar, a number, or (nested) lists of them (numpy arrays too), so one
sample and a batch alike; Softmax takes a list of logits or a batch of them.
Layers that take an ``activation`` name fuse it into their own node instead
(``ACTIVATIONS`` lists the names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from .. import functional as F
from .._util.checks import is_number, number
from .._util.nested import is_nested, map_leaves, to_lists
from ..scalar import Scalar
from .module import Module

__all__ = ["ACTIVATIONS", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Softplus", "Tanh"]

# Activations by name; layers fuse the activation into the neuron's node (functional.linear).
ACTIVATIONS = F.ACTIVATIONS


class _Elementwise(Module):
    _fn: Callable = None  # the Scalar method applied to each element

    def forward(self, x: Any) -> Any:
        """Apply the activation to a Scalar or to each element of (nested) lists."""
        fn = type(self)._fn
        return map_leaves(lambda v: fn(v if isinstance(v, Scalar) else Scalar(v)), to_lists(x))


class ReLU(_Elementwise):
    """max(x, 0) elementwise."""

    _fn = Scalar.relu


class Sigmoid(_Elementwise):
    """1 / (1 + e**-x) elementwise."""

    _fn = Scalar.sigmoid


class Tanh(_Elementwise):
    """tanh(x) elementwise."""

    _fn = Scalar.tanh


class Softplus(_Elementwise):
    """log(1 + e**x) elementwise."""

    _fn = Scalar.softplus


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Any) -> Any:
        """``x`` itself."""
        return x


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise, elementwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number(negative_slope, "negative_slope")

    def forward(self, x: Any) -> Any:
        """Apply leaky ReLU to a Scalar or to each element of (nested) lists."""
        slope = self.negative_slope
        return map_leaves(lambda v: (v if isinstance(v, Scalar) else Scalar(v)).leaky_relu(slope),
                          to_lists(x))

    def extra_repr(self) -> str:
        """``negative_slope=...``."""
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """Turns a list of logits into probabilities (stable for any magnitude).

    The logits are a flat list (or tuple, or 1-D numpy array) of Scalars and
    numbers; a batch of them (a list of such lists, a 2-D array) gives one
    list of probabilities per sample, as ``torch.nn.Softmax(dim=1)`` on a
    batch. Anything else raises an error that says what was given.

    >>> probs = Softmax()([Scalar(1.0), Scalar(1.0)])
    >>> [p.data for p in probs]
    [0.5, 0.5]
    >>> [[p.data for p in row] for row in Softmax()([[0.0, 0.0], [1.0, 1.0]])]
    [[0.5, 0.5], [0.5, 0.5]]
    """

    sample_depth = 1

    def expected_input(self) -> str:
        """What the layer takes, for error messages:
        ``"Softmax expects a list of logits or a batch of them"``."""
        return "Softmax expects a list of logits or a batch of them (a list of lists of logits)"

    def forward(self, logits: Sequence[Scalar]) -> list[Scalar]:
        """Probabilities, one per logit."""
        logits = to_lists(logits, deep=False)
        if not is_nested(logits):
            raise TypeError(f"Softmax expects a list of logits, got {type(logits).__name__}")
        if not logits:
            raise ValueError("Softmax got an empty list of logits")
        for i, v in enumerate(logits):
            if not isinstance(v, Scalar) and not is_number(v):
                what = "a nested list (Softmax takes one flat list of logits)" if is_nested(v) \
                    else f"a {type(v).__name__}"
                raise TypeError(f"Softmax: logit {i} is {what}, not a Scalar or a number")
        return F.softmax([v if isinstance(v, Scalar) else Scalar(v) for v in logits])
