"""Neural networks on Scalars: modules, layers, losses, optimizers, checkpoints.

>>> from scalargrad.nn import Linear, Sequential, CrossEntropyLoss, SGD
>>> model = Sequential([Linear(2, 4, activation='relu'), Linear(4, 2)])
>>> len(model.parameters())      # 4 neurons of 2 weights and a bias, then 2 of 4 weights and a bias
22
>>> loss_fn = CrossEntropyLoss()
>>> loss = loss_fn([model([1.0, 0.0])], [1])
>>> optim = SGD(model.parameters(), lr=0.1)
>>> optim.zero_grad(); loss.backward(); optim.step()
>>> loss_fn([model([1.0, 0.0])], [1]).data < loss.data    # the step lowered the loss
True
"""

from . import init
from .layers import (
    ACTIVATIONS,
    Conv2D,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2D,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, L1Loss, MSELoss, NLLLoss
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, ReduceLROnPlateau, StepLR
from .module import Module
from .optim import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .serialization import load, save

__all__ = [
    "ACTIVATIONS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "BCELoss", "BCEWithLogitsLoss", "Conv2D",
    "CosineAnnealingLR", "CrossEntropyLoss", "Dropout", "ExponentialLR", "Flatten", "HingeLoss", "Identity",
    "L1Loss", "LRScheduler", "LeakyReLU", "Linear", "MSELoss", "MaxPool2D", "Module", "NLLLoss", "Neuron",
    "Optimizer", "RMSprop", "ReLU", "ReduceLROnPlateau", "Sequential", "Sigmoid", "Softmax", "Softplus",
    "StepLR", "Tanh", "init", "load", "save",
]
