"""Optimizers with PyTorch ``torch.optim`` semantics, step for step, on Scalars.

Every optimizer reads ``p.grad`` of each parameter and updates ``p.data`` in
place with exactly the update rule of its ``torch.optim`` namesake (float64),
so a scalargrad model and the same model in PyTorch follow the same path.
Each algorithm is a plain function over lists of floats (``sgd``, ``adam``,
``rmsprop``, ``adagrad``, ``adadelta``, as torch's ``_single_tensor_*``);
its class gathers a parameter group's values, gradients and state into lists
(``optimizer.gather``), calls it, and writes the results back (``write_back``).

>>> from scalargrad import Scalar
>>> w = Scalar(1.0)
>>> opt = SGD([w], lr=0.1, momentum=0.9)
>>> for _ in range(2):
...     opt.zero_grad()
...     loss = w * w
...     loss.backward()
...     opt.step()
>>> round(w.data, 6)
0.46

Parameters can be a list (or any iterable, e.g. a generator) of Scalars, or a
list of parameter groups: dicts with a ``'params'`` entry and hyperparameters
that override the optimizer's defaults for that group::

    Adam([{'params': model.layers[0].parameters(), 'lr': 1e-2},
          {'params': model.layers[1].parameters()}], lr=1e-3)

``state_dict()`` is plain JSON-able data (floats, ints, lists, dicts with str
keys); per-parameter state is keyed by the parameter's position, as in torch.
"""

from .adadelta import Adadelta, adadelta
from .adagrad import Adagrad, adagrad
from .adam import Adam, AdamW, adam
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop
from .sgd import SGD, sgd

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "adadelta", "adagrad",
           "adam", "rmsprop", "sgd"]
