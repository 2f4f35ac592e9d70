"""Dropout: zero inputs at random while training."""

from __future__ import annotations

import random
from typing import Any

from .._util.checks import is_number
from .._util.nested import map_leaves, to_lists
from ..extend import building_replay
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each input with probability ``p`` in training mode, scaling the rest by 1/(1-p).

    In eval mode it returns its input unchanged. Random draws come from
    Python's ``random`` module, so ``random.seed`` makes them repeatable.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        # numpy numbers are numbers; a wrong type is a ValueError here, as the tests pin
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be between 0 and 1, got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        """Drop elements of a list (or nested lists) at random while training."""
        if not self.training or self.p == 0.0:
            return x
        if building_replay():
            raise ValueError("Dropout draws a new mask every step, but a Replay would keep the first one; "
                             "call model.eval() before building the Replay, or rebuild the graph each step")
        keep_scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        p, rand = self.p, random.random

        def drop(v: Any) -> Any:
            return v * (0.0 if rand() < p else keep_scale)

        return map_leaves(drop, to_lists(x))

    def extra_repr(self) -> str:
        """``p=...``."""
        return f"p={self.p}"
