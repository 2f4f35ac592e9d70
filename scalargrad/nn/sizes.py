"""The size arguments of layers (Neuron's size, Linear's size_in and size_out, Conv2D's channels).

A size is an int >= 1 (numpy ints are ints; a bool is not). Unlike ``_util.checks.positive_int``, a size of
the wrong type (``2.5``, ``True``, ``"3"``, ``None``) raises ValueError, not
TypeError: the tests pin that behaviour, so the project's policy is not
applied here until the lead decides.
"""

from __future__ import annotations

from typing import Any

from .._util.checks import is_integer

__all__ = ["positive_size"]


def positive_size(value: Any, what: str) -> int:
    """``value`` as an int if it is an int >= 1 (numpy ints too, never a bool); ValueError naming ``what``
    otherwise."""
    if not is_integer(value) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)
