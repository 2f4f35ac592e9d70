"""The argument rules the data modules share: counts, and the random source a seed gives."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .._util import checks

__all__ = ["count", "random_source", "type_as_value_error"]


def type_as_value_error(check: Callable[[Any, str], Any], value: Any, name: str) -> Any:
    """``check(value, name)`` (a rule of ``_util.checks``), with a wrong type raising ValueError rather than
    the package's TypeError (for the counts, ``batch_size`` and ``start``)."""
    # An exception to the policy kept on purpose: test_data's test_bad_n_samples/_batch_size pin ValueError.
    try:
        return check(value, name)
    except TypeError as e:
        raise ValueError(str(e)) from None


def count(n: int, what: str = "n_samples") -> int:
    """A positive number of samples (or classes, features, centres); ValueError otherwise, for a wrong type
    too."""
    return type_as_value_error(checks.positive_int, n, what)


def random_source(seed: int | None):
    """``random.Random(seed)``, or Python's global ``random`` when ``seed`` is None."""
    return random if seed is None else random.Random(seed)
