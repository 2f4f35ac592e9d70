"""The size arguments of layers (Neuron's size, Linear's size_in and size_out, Conv2D's channels).

A size is an int >= 1. Unlike ``_util.checks.positive_int``, a size of the
wrong type (``2.5``, ``True``, ``"3"``, ``None``) raises ValueError, not
TypeError: the tests pin that behaviour, so the project's policy is not
applied here until the lead decides.
"""

from __future__ import annotations

from typing import Any

__all__ = ["positive_size"]


def positive_size(value: Any, what: str) -> int:
    """``value`` if it is an int >= 1 (never a bool); ValueError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value
