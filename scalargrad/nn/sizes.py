"""The size arguments of layers (Neuron's size, Linear's size_in and size_out, Conv2D's channels).

A size is an int >= 1 (numpy ints are ints; a bool is not), checked by ``_util.checks.positive_int``.
"""

from __future__ import annotations

from typing import Any

from .._util.checks import positive_int

__all__ = ["positive_size"]


def positive_size(value: Any, what: str) -> int:
    """``value`` as an int if it is an int >= 1 (numpy ints too, never a bool); ValueError naming ``what``
    otherwise.

    >>> positive_size(2.5, "Linear size_in")
    Traceback (most recent call last):
    ...
    ValueError: Linear size_in must be a positive int, got 2.5
    """
    try:
        return positive_int(value, what)
    except TypeError:  # ValueError for a wrong type too, against the policy: test_non_positive_sizes pins it
        raise ValueError(f"{what} must be a positive int, got {value!r}") from None
