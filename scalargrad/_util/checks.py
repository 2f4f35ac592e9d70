"""Argument checks: one function per rule, one policy for the whole package.

The policy, as Python's own functions have it: a value of the wrong *type*
raises ``TypeError``, a value of the right type that is out of range raises
``ValueError``. A bool is never a number (``lr=True`` is a mistake, not 1.0);
numpy numbers and 0-d numpy arrays are numbers (read by duck typing: numpy is
never imported). Each check returns the value as a plain Python
``float``/``int``/``bool``, so callers keep what the check gives back.
``where`` is appended to messages (e.g. ``" (parameter group 1)"``).

Exceptions kept because tests pin them (each commented where it stands): a wrong type raises ValueError
for a layer's size (``nn/sizes.py``), for the counts, ``batch_size`` and ``start`` of ``data/``,
for a loss's output (``nn/losses.py``) and for a choice of ``one_of`` that is not a str.

>>> positive_int(3, "size")
3
>>> number(True, "lr")
Traceback (most recent call last):
...
TypeError: lr must be an int or float, got bool
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable
from typing import Any

__all__ = [
    "boolean", "dict_with_keys", "finite", "int_at_least", "integer", "is_integer", "is_number",
    "nonnegative", "nonnegative_int", "number", "one_of", "plain_number", "positive", "positive_int",
    "positive_int_or_tuple", "unit_interval",
]


def plain_number(value: Any) -> int | float | None:
    """The number rule: ``value`` as a plain number if it is a real number, else None.

    Ints and floats count, as themselves; numpy numbers and 0-d numpy arrays
    (anything whose ``tolist()`` gives an int or a float) as the int or float
    ``tolist()`` gives; other ``numbers.Real`` (a Fraction) as they are. A bool
    (Python's or numpy's) never counts, nor a complex, a string or an array with
    more than one value.

    >>> plain_number(2), plain_number(True), plain_number("2")
    (2, None, None)
    """
    kind = type(value)
    if kind is float or kind is int:
        return value
    if hasattr(value, "tolist"):  # numpy numbers and 0-d arrays
        value = value.tolist()
        kind = type(value)
        return value if kind is float or kind is int else None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value
    return None


def is_number(value: Any) -> bool:
    """True for ints, floats, numpy numbers and 0-d numpy arrays; False for bools and everything else."""
    if isinstance(value, numbers.Real):
        return not isinstance(value, bool)
    return plain_number(value) is not None


def is_integer(value: Any) -> bool:
    """True for ints and numpy ints; False for bools, floats and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def number(value: Any, name: str, where: str = "") -> float:
    """``value`` as a float; TypeError unless it is a real number (not a bool)."""
    if type(value) is float:
        return value
    plain = plain_number(value)
    if plain is None:
        raise TypeError(f"{name} must be an int or float, got {_kind(value)}{where}")
    try:
        return float(plain)
    except OverflowError:
        raise ValueError(f"{name} is too large for a float ({value!r:.40}...){where}") from None


def _kind(value: Any) -> str:
    """The type of a value that is not a number, for a message (with a numpy array's shape)."""
    shape = getattr(value, "shape", None)
    if hasattr(value, "tolist") and isinstance(shape, tuple) and shape:
        hint = "; .item() gives its one number" if getattr(value, "size", 0) == 1 else ""
        return f"a numpy array of shape {shape}{hint}"
    return type(value).__name__


def integer(value: Any, name: str, where: str = "") -> int:
    """``value`` as an int; TypeError unless it is an int (numpy ints too, never a bool or a float)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got bool{where}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}{where}") from None


def positive_int(value: Any, name: str, where: str = "") -> int:
    """An int >= 1."""
    n = integer(value, name, where)
    if n < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}{where}")
    return n


def positive_int_or_tuple(value: Any, name: str, where: str = "") -> int | tuple[int, ...]:
    """An int >= 1, or a non-empty tuple (or list) of them given back as a tuple (a size such as
    ``(1, 8, 8)``).

    >>> positive_int_or_tuple([1, 8, 8], "input_size")
    (1, 8, 8)
    """
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError(f"{name} must not be empty{where}")
        return tuple(positive_int(v, f"{name} entry", where) for v in value)
    return positive_int(value, name, where)


def nonnegative_int(value: Any, name: str, where: str = "") -> int:
    """An int >= 0."""
    n = integer(value, name, where)
    if n < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}{where}")
    return n


def int_at_least(value: Any, name: str, minimum: int, where: str = "") -> int:
    """An int >= ``minimum`` (for bounds other than 0 and 1, e.g. ``last_epoch >= -1``).

    >>> int_at_least(-1, "last_epoch", -1)
    -1
    """
    n = integer(value, name, where)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}{where}")
    return n


def positive(value: Any, name: str, where: str = "") -> float:
    """A float > 0 (nan is refused)."""
    x = number(value, name, where)
    if not x > 0.0:
        raise ValueError(f"{name} must be positive, got {value!r}{where}")
    return x


def nonnegative(value: Any, name: str, where: str = "") -> float:
    """A float >= 0 (nan is refused)."""
    x = number(value, name, where)
    if not x >= 0.0:
        raise ValueError(f"{name} must be non-negative, got {value!r}{where}")
    return x


def finite(value: Any, name: str, where: str = "") -> float:
    """A float that is neither inf nor nan."""
    x = number(value, name, where)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}{where}")
    return x


def unit_interval(value: Any, name: str, include_one: bool = True, where: str = "") -> float:
    """A float in [0, 1] (or [0, 1) with ``include_one=False``)."""
    x = number(value, name, where)
    if not (0.0 <= x <= 1.0 if include_one else 0.0 <= x < 1.0):
        raise ValueError(f"{name} must be in {'[0, 1]' if include_one else '[0, 1)'}, got {value!r}{where}")
    return x


def boolean(value: Any, name: str, where: str = "") -> bool:
    """A bool (numpy bools too); TypeError for anything else, 0 and 1 included."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__}{where}")


def one_of(value: Any, name: str, choices: Iterable[str], where: str = "") -> str:
    """One of the strings ``choices``; ValueError listing them otherwise, for a value that is not a str too.

    >>> one_of(None, "activation", ("relu", "tanh"))
    Traceback (most recent call last):
    ...
    ValueError: unknown activation None; choose one of: relu, tanh
    """
    choices = tuple(choices)
    # ValueError, not TypeError, for a non-str: as torch (Conv2d(padding_mode=None)); test_module pins it
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}{where}")
    return value


def dict_with_keys(value: Any, required: Iterable[str], name: str, where: str = "") -> dict:
    """A dict holding every key of ``required``; TypeError for another type, ValueError naming a
    missing key (the saved states of callbacks, positions and the like).

    >>> dict_with_keys({'best': 1.0}, ['best', 'wait'], 'state')
    Traceback (most recent call last):
    ...
    ValueError: state is missing the field 'wait'
    """
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}{where}")
    for key in required:
        if key not in value:
            raise ValueError(f"{name} is missing the field {key!r}{where}")
    return value
