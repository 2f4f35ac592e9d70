"""Flatten: nested lists (an image ``[channels][height][width]``) to one flat list."""

from __future__ import annotations

from typing import Any

from .._util.nested import leaves
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Nested lists (e.g. ``[channels][height][width]``) to one flat list."""

    def forward(self, x: Any) -> list:
        """The elements of ``x`` in row-major order."""
        return leaves(x)
