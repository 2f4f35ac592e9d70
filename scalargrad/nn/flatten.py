"""Flatten: nested lists (an image ``[channels][height][width]``) to one flat list."""

from __future__ import annotations

from typing import Any

from .._util.checks import is_number
from .._util.nested import is_nested, leaves, to_lists
from ..scalar import Scalar
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Nested lists (e.g. ``[channels][height][width]``) to one flat list.

    A numpy array is read as nested lists; a single Scalar or number gives a
    list of one, as ``torch.flatten`` does with a 0-d tensor. Anything else
    (a string, None, a dict) raises TypeError.

    One sample is nested at most 3 deep (an image, as ``Conv2D`` and
    ``MaxPool2D`` give one); lists nested 4 deep are a batch of images, each
    flattened on its own (torch's ``nn.Flatten()`` on a batch). A batch of
    shallower samples cannot be told from one sample by its nesting, and is
    flattened whole.

    >>> Flatten()([[[1.0, 2.0], [3.0, 4.0]]])
    [1.0, 2.0, 3.0, 4.0]
    >>> Flatten()([[[[1.0, 2.0]]], [[[3.0, 4.0]]]])
    [[1.0, 2.0], [3.0, 4.0]]
    """

    sample_depth = 3  # Module.__call__ takes anything shallower as one sample too

    def expected_input(self) -> str:
        """What the layer takes, for error messages:
        ``"Flatten expects one sample nested at most 3 deep or a batch of them"``."""
        return ("Flatten expects one sample nested at most 3 deep (an image [channels][height][width]) or a "
                "batch of images")

    def forward(self, x: Any) -> list:
        """The elements of ``x`` in row-major order."""
        x = to_lists(x)
        if not is_nested(x) and not isinstance(x, Scalar) and not is_number(x):
            raise TypeError(f"Flatten expects (nested) lists of Scalars or numbers, got {type(x).__name__}")
        out = leaves(x)
        for v in out:
            if not isinstance(v, Scalar) and not is_number(v):
                raise TypeError("Flatten expects (nested) lists of Scalars or numbers, found a "
                                f"{type(v).__name__}")
        return out
