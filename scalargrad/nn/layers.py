"""All layers in one namespace: ``from scalargrad.nn.layers import Linear, Conv2D, ...``.

Each layer lives in a module of its own concern (``linear``, ``container``,
``activation``, ``dropout``, ``flatten``, ``conv``); this module gathers
them, as ``scalargrad.nn`` does.
"""

from __future__ import annotations

from .activation import ACTIVATIONS, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .container import Sequential
from .conv import Conv2D, MaxPool2D
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear, Neuron

__all__ = [
    "ACTIVATIONS", "Conv2D", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear", "MaxPool2D",
    "Neuron", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
]
