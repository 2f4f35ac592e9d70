"""Dropout: zero inputs at random while training (``scalargrad.dropout.dropout``, ``F.dropout``, does the
work)."""

from __future__ import annotations

from typing import Any

from .._util.checks import is_number
from ..dropout import dropout
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each input with probability ``p`` in training mode, scaling the rest by 1/(1-p).

    In eval mode it returns its input unchanged. It takes one sample or a
    batch alike (any nesting: each element is drawn for in row-major order).
    Random draws come from Python's ``random`` module, so ``random.seed``
    makes them repeatable. See ``scalargrad.functional.dropout``.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        # numpy numbers are numbers; a wrong type is a ValueError here, as the tests pin
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be between 0 and 1, got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        """``functional.dropout(x, self.p, self.training)``."""
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        """``p=...``."""
        return f"p={self.p}"
