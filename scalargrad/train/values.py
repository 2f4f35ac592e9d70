"""Turning model outputs, targets and data sets into plain Python numbers and lists.

Metrics, the Evaluator and the Trainer accept Scalars, floats, ints, lists of
them and numpy arrays; the functions here bring all of those to floats, class
ids and lists. ``who`` names the caller in error messages.

>>> output_values([Scalar(1.5), 2], "MSEMetric")
[1.5, 2.0]
>>> class_id([0.0, 1.0, 0.0], "AccuracyMetric")
1
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from .._util.checks import is_number, number
from .._util.nested import to_lists
from ..data import sample_list
from ..scalar import Scalar

__all__ = ["as_float", "class_id", "output_values", "paired_batch", "paired_samples"]


def as_float(value: Any, who: str) -> float:
    """A Scalar's value, or a number (numpy numbers too, never a bool: ``checks.number``) as a float.

    >>> as_float(True, "MSEMetric")
    Traceback (most recent call last):
    ...
    TypeError: MSEMetric: a value must be an int or float, got bool
    """
    return value.data if isinstance(value, Scalar) else number(value, f"{who}: a value")


def output_values(output: Any, who: str) -> list[float]:
    """An output (Scalar, float, 1-element list, list of Scalars, numpy array) as a list of floats."""
    if isinstance(output, Scalar):
        return [output.data]
    output = to_lists(output, deep=False)
    if isinstance(output, (list, tuple)):
        return [v.data if isinstance(v, Scalar) else as_float(v, who) for v in output]
    return [as_float(output, who)]


def class_id(target: Any, who: str) -> int:
    """A class id from an int (numpy ints too), a whole float, a bool (a binary label) or a one-hot list."""
    if isinstance(target, Scalar):
        target = target.data
    if isinstance(target, bool):
        return int(target)
    try:
        return operator.index(target)
    except TypeError:
        pass
    if is_number(target) and float(target).is_integer():
        return int(target)
    if isinstance(target, (list, tuple)) and target:
        if len(target) == 1:
            return class_id(target[0], who)
        # one-hot (or scores): the class is its argmax; a one-hot of bools (a numpy mask) reads True as 1
        values = output_values([int(v) if isinstance(v, bool) else v for v in target], who)
        return values.index(max(values))
    raise TypeError(f"{who}: class targets must be ints (or one-hot lists), got {target!r}"[:200])


def paired_batch(outputs: Any, targets: Any, who: str) -> tuple[Sequence, Sequence]:
    """One batch's outputs and targets as sequences of equal length (numpy arrays become lists)."""
    outputs, targets = to_lists(outputs, deep=False), to_lists(targets)  # a target may be an array (one-hot)
    if not hasattr(outputs, "__len__") or not hasattr(targets, "__len__"):
        raise TypeError(f"{who} expects a list of outputs and a list of targets")
    if len(outputs) != len(targets):
        raise ValueError(f"{who} got {len(outputs)} outputs but {len(targets)} targets")
    return outputs, targets


def paired_samples(x: Any, y: Any, who: str) -> tuple[list, list]:
    """Inputs ``x`` and targets ``y`` as two lists of the same, non-zero length."""
    for values, what in ((x, "x"), (y, "y")):
        if values is None:
            raise TypeError(f"{what}= is required")
    x, y = sample_list(x, "x"), sample_list(y, "y")
    if len(x) != len(y):
        raise ValueError(f"{who}: x has {len(x)} samples but y has {len(y)} targets")
    if not x:
        raise ValueError(f"{who}: the data is empty (x and y have no samples)")
    return x, y
