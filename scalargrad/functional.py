"""torch's functional names on Scalars, nested lists and numpy arrays, gathered from their modules.

- ``scalargrad.elementwise``: every Scalar function on a Scalar, a nested list or an array (``relu``,
  ``tanh``, ``gelu``, ``clamp``, ``maximum``, ``where``, ...), the result nested as the input.
- ``scalargrad.reductions``: ``sum``, ``mean``, ``prod``, ``amax``, ``max``, ``var``, ``logsumexp``,
  ``softmax``, ``log_softmax``, ``argmax``, ... with ``dim`` and ``keepdim``.
- ``scalargrad.shapes`` and ``scalargrad.nested_ops``: ``reshape``, ``transpose``, ``permute``,
  ``flatten``, ``squeeze``, ``unsqueeze``, ``cat``, ``stack``, ``broadcast_to``, ``sum_to``,
  ``tensordot`` and the broadcasting ``add``, ``mul`` and ``map``.
- ``scalargrad.losses``: ``mse_loss``, ``cross_entropy``, ``nll_loss``, ``kl_div``, ... (the
  ``nn`` loss classes call them).
- ``scalargrad.dropout``: ``dropout``.
- ``scalargrad.list_ops`` (``dot``, ``matvec``, ``matmul``, ``window_max``: one node each) and
  ``scalargrad.neuron`` (the fused neuron: ``linear``, ``neuron``).

Every op takes numpy arrays where it takes lists of numbers, and gives exactly what the lists
(``array.tolist()``) give.

>>> from scalargrad import Scalar
>>> from scalargrad import functional as F
>>> w = [Scalar(0.5), Scalar(-1.0)]
>>> y = F.dot(w, [2.0, 3.0])       # one node with two parents
>>> y.backward()
>>> y.data, w[0].grad, w[1].grad
(-2.0, 2.0, 3.0)
"""

from __future__ import annotations

# a module's name must not hide a function's: F.dropout is the function, not scalargrad.dropout
from . import dropout as _dropout_module
from . import elementwise, losses, nested_ops, reductions, shapes
from .list_ops import dot, matmul, matvec, max_index, window_max
from .neuron import ACTIVATIONS, linear, neuron

# The modules whose names are looked up on access (__getattr__) rather than imported one by one, so each
# module's __all__ stays the one list of its names. 
_GATHERED = (elementwise, reductions, shapes, nested_ops, losses, _dropout_module)

__all__ = ["ACTIVATIONS", "dot", "linear", "matmul", "matvec", "max_index", "neuron", "window_max"]
__all__ += elementwise.__all__  # no name is in two of these modules: tests/core/test_functional.py checks
__all__ += reductions.__all__
__all__ += shapes.__all__
__all__ += nested_ops.__all__
__all__ += losses.__all__
__all__ += _dropout_module.__all__


def __getattr__(name: str):
    for module in _GATHERED:
        if name in module.__all__:
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
