"""Neuron and Linear: fully connected units over a flat list of inputs (or a batch of them).

A neuron's weighted sum plus bias and its activation are one fused node
(``functional.neuron``; a Linear's neurons go through ``functional.linear``),
so it costs one multiply-add per input in backward.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from .. import functional as F
from .._util.checks import number, one_of
from .._util.nested import to_lists
from ..scalar import Scalar
from .module import Module
from .sizes import positive_size

__all__ = ["Linear", "Neuron"]


def _inputs(x: Any, size: int, who: str) -> list | tuple:
    """``x`` as a list of ``size`` inputs (a 1-D numpy array becomes one), checked."""
    if type(x) is not list:  # (plain lists, the usual input, skip the call)
        x = to_lists(x, deep=False)
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{who} expects a list of {size} inputs, got {type(x).__name__}")
    if len(x) != size:
        raise ValueError(f"{who} expects {size} inputs, got {len(x)}")
    return x


def _expects(who: str, size: int) -> str:
    return f"{who} expects {size} numbers or a batch of lists of {size}"


class Neuron(Module):
    """One unit: ``activation(w . x + b)``, computed as one fused dot node.

    Called on a batch (a list of input lists) it returns one output per sample.

    >>> n = Neuron(size=3, activation='relu')
    >>> n.initialize(w=[0.1, 0.2, 0.3], b=0.1)
    >>> round(n([1.0, 1.0, 1.0]).data, 6)
    0.7
    """

    sample_depth = 1

    def __init__(self, size: int, activation: str = "identity", bias: bool = True) -> None:
        super().__init__()
        self.size = positive_size(size, "Neuron size")
        self.activation = one_of(activation, "activation", F.ACTIVATIONS)
        self.w = [Scalar(0.0) for _ in range(size)]
        self.b = Scalar(0.0) if bias else None
        self.initialize()

    def initialize(self, w: Sequence[float] | None = None, b: float | None = None) -> None:
        """Set the weights and bias to the given values, or draw them like PyTorch.

        Random values are uniform in (-1/sqrt(size), 1/sqrt(size)). The
        Scalar objects are kept, so an optimizer holding them stays valid.
        Values are Scalars or numbers (numpy numbers too); a string or a bool
        raises TypeError.
        """
        bound = 1.0 / math.sqrt(self.size)
        if w is None:
            for p in self.w:
                p.data = random.uniform(-bound, bound)
        else:
            w = [v.data if isinstance(v, Scalar) else number(v, f"weight {i}") for i, v in enumerate(w)]
            if len(w) != self.size:
                raise ValueError(f"Neuron of size {self.size} got {len(w)} weights")
            for p, v in zip(self.w, w):
                p.data = v
        if self.b is not None:
            if b is None:
                self.b.data = random.uniform(-bound, bound)
            else:
                self.b.data = b.data if isinstance(b, Scalar) else number(b, "bias")

    def forward(self, x: Sequence[Scalar | float]) -> Scalar:
        """``activation(dot(w, x) + b)``."""
        x = _inputs(x, self.size, f"Neuron of size {self.size}")
        return F.neuron(self.w, x, self.b, self.activation)

    def expected_input(self) -> str:
        """What the layer takes, for error messages:
        ``"Neuron of size 3 expects 3 numbers or a batch of lists of 3"``."""
        return _expects(f"Neuron of size {self.size}", self.size)

    def extra_repr(self) -> str:
        """``size=..., activation=...`` (and ``bias=False`` without a bias)."""
        return f"size={self.size}, activation={self.activation!r}" + ("" if self.b is not None
                                                                      else ", bias=False")


class Linear(Module):
    """A fully connected layer: ``size_out`` neurons over ``size_in`` inputs.

    Called on a batch (a list of ``size_in``-lists, or a 2-D numpy array) it
    returns the list of the outputs, one list per sample, as ``torch.nn.Linear``
    does on a batch.

    >>> layer = Linear(3, 2, activation='sigmoid')
    >>> len(layer([0.1, 0.2, 0.3])), layer.num_parameters()
    (2, 8)
    >>> [len(y) for y in layer([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])]
    [2, 2]
    """

    listed_as_one_layer = True
    sample_depth = 1

    def __init__(self, size_in: int, size_out: int, activation: str = "identity", bias: bool = True) -> None:
        super().__init__()
        self.size_in = positive_size(size_in, "Linear size_in")
        self.size_out = positive_size(size_out, "Linear size_out")
        self.activation = one_of(activation, "activation", F.ACTIVATIONS)
        self.neurons = [Neuron(size_in, activation, bias) for _ in range(size_out)]

    def initialize(self, neurons: Sequence[Any] | None = None) -> None:
        """Re-draw all weights, or copy them from ``neurons``.

        ``neurons`` is a list of ``size_out`` items, each a Neuron, a dict
        ``{'w': [...], 'b': float}`` or a ``(w, b)`` pair.
        """
        if neurons is None:
            for n in self.neurons:
                n.initialize()
            return
        if len(neurons) != self.size_out:
            raise ValueError(f"Linear with {self.size_out} neurons got {len(neurons)} to initialize from")
        # Check every neuron's values on scratch copies first, so a bad entry changes nothing.
        pairs = []
        for i, src in enumerate(neurons):
            if isinstance(src, Neuron):
                w, b = src.w, src.b
            elif isinstance(src, dict):
                w, b = src["w"], src.get("b")
            else:
                w, b = src
            scratch = Neuron(self.size_in, bias=self.neurons[i].b is not None)
            try:
                scratch.initialize(w=w, b=b)
            except (TypeError, ValueError) as e:
                raise type(e)(f"neuron {i}: {e}") from None
            pairs.append((w, b))
        for n, (w, b) in zip(self.neurons, pairs):
            n.initialize(w=w, b=b)

    def forward(self, x: Sequence[Scalar | float]) -> list[Scalar]:
        """One output per neuron; ``x`` is a list (or a 1-D numpy array) of ``size_in`` Scalars or numbers
        (``__call__`` gives it each sample of a batch)."""
        x = _inputs(x, self.size_in, f"Linear({self.size_in}, {self.size_out})")
        neurons = self.neurons
        biases = [n.b for n in neurons] if neurons[0].b is not None else None
        return F.linear([n.w for n in neurons], x, biases, self.activation)

    def expected_input(self) -> str:
        """What the layer takes, for error messages:
        ``"Linear(3, 2) expects 3 numbers or a batch of lists of 3"``."""
        return _expects(f"Linear({self.size_in}, {self.size_out})", self.size_in)

    @property
    def output_size(self) -> int:
        """How many values the layer returns."""
        return self.size_out

    def weight(self) -> list[list[float]]:
        """The weights as a ``size_out x size_in`` list of floats (rows are neurons)."""
        return [[p.data for p in n.w] for n in self.neurons]

    def extra_repr(self) -> str:
        """``size_in=..., size_out=..., activation=...`` (and ``bias=False`` without a bias)."""
        bias = "" if self.neurons[0].b is not None else ", bias=False"
        return f"size_in={self.size_in}, size_out={self.size_out}, activation={self.activation!r}{bias}"

    def __repr__(self) -> str:  # one line, as torch prints its Linear; the neurons are implied
        return f"Linear({self.extra_repr()})"
