"""Reductions on nested lists, with torch's ``dim`` and ``keepdim``: sum, mean, softmax, ...

(Being written: for now the one-list forms.)
"""

from __future__ import annotations

from .list_ops import mean, sum
from .softmax import log_softmax, logsumexp, softmax

__all__ = ["log_softmax", "logsumexp", "mean", "softmax", "sum"]
