"""torch's functional names on Scalars: the list-level ops, the fused neuron, softmax and nested lists.

``sum``, ``dot``, ``mean``, ``matvec``, ``matmul`` and ``window_max`` live in
``scalargrad.list_ops``; the fused neuron (``linear``, ``neuron``: one node
per output, the weighted sum, bias and activation together) in
``scalargrad.neuron``; ``softmax``, ``log_softmax`` and ``logsumexp`` in
``scalargrad.softmax``; the nested-list ops (``reshape``, ``tensordot``,
``add``, ...) in ``scalargrad.nested_ops``. They are gathered here. Every op
takes numpy arrays where it takes lists of numbers, and gives exactly what
the lists (``array.tolist()``) give.

>>> from scalargrad import Scalar
>>> from scalargrad import functional as F
>>> w = [Scalar(0.5), Scalar(-1.0)]
>>> y = F.dot(w, [2.0, 3.0])       # one node with two parents
>>> y.backward()
>>> y.data, w[0].grad, w[1].grad
(-2.0, 2.0, 3.0)
"""

from __future__ import annotations

from . import nested_ops
from .list_ops import dot, matmul, matvec, max_index, mean, sum, window_max
from .neuron import ACTIVATIONS, linear, neuron
from .softmax import log_softmax, logsumexp, softmax

__all__ = ["ACTIVATIONS", "dot", "linear", "log_softmax", "logsumexp", "matmul", "matvec", "max_index",
           "mean", "neuron", "softmax", "sum", "window_max"]
__all__ += nested_ops.__all__  # (looked up on access: see the end of this module)


# ---- nested lists as tensors: reshape, transpose, tensordot, add, mul, map, ... --------------------
# They are looked up on access (__getattr__) rather than imported one by one, so nested_ops.__all__ stays
# the one list of their names.

def __getattr__(name: str):
    if name in nested_ops.__all__:
        return getattr(nested_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *nested_ops.__all__])
