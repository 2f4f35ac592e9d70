"""What ``detect_anomaly()`` checks: the first op that makes a nan or inf, forward or backward.

The engine turns the mode on and off (``scalar.detect_anomaly``) and calls
an ``AnomalyChecker`` for each node it makes and each gradient backward
computes. The checker keeps, outside the nodes, where each node was made,
in a table keyed by node id whose entries go away with their nodes.
"""

from __future__ import annotations

import math
import os
import sys
import weakref
from typing import Any

__all__ = ["AnomalyChecker", "AnomalyError"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """Raised inside ``detect_anomaly()`` by the first op that makes a nan or inf."""


def _value(v: Any) -> float:
    """The float of a Scalar or of a number (gradients are Scalars under create_graph)."""
    return getattr(v, "data", v)


def _describe(values: tuple) -> str:
    shown = [repr(_value(v)) for v in values[:6]]
    return "[" + ", ".join(shown) + (f", ... ({len(values)} in all)]" if len(values) > 6 else "]")


def _caller_outside_package() -> str:
    """'file:line in function' of the nearest frame outside scalargrad (where the op was called)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) \
            .startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


class AnomalyChecker:
    """Checks each new node's value, and each gradient that backward makes, for a fresh nan or inf."""

    def __init__(self) -> None:
        self._sites: dict[int, tuple] = {}  # id -> (weakref to the node, where it was made)

    def created(self, node: Any) -> None:
        """Remember where ``node`` was made, then check its value."""
        key = id(node)
        self._sites[key] = (weakref.ref(node, lambda _, k=key: self._sites.pop(k, None)),
                            _caller_outside_package())
        self.check_forward(node)

    def check_forward(self, node: Any) -> None:
        """Raise if ``node``'s value is not finite while all its inputs are."""
        parents = node.parents
        if not math.isfinite(node.data) and all(math.isfinite(_value(p)) for p in parents):
            raise AnomalyError(f"{node.op!r} made {node.data} from finite inputs {_describe(parents)} "
                               f"(at {self.site(node)})")

    def site(self, node: Any) -> str:
        """Where ``node`` was made, if it was made inside ``detect_anomaly()``."""
        entry = self._sites.get(id(node))
        return entry[1] if entry is not None else "a place outside detect_anomaly()"

    def check_backward(self, node: Any, i: int, g: Any, d: Any, v: Any) -> None:
        """Raise if the gradient ``v = g * d`` for input ``i`` of ``node`` is not finite while ``g`` is."""
        if not math.isfinite(_value(v)) and math.isfinite(_value(g)):
            parents = node.parents
            raise AnomalyError(
                f"backward of {node.op!r} (made at {self.site(node)}) gave {_value(v)}"
                f" for its input {i} of {len(parents)} (value {parents[i].data}): incoming gradient "
                f"{_value(g)}, local derivative {_value(d)}; its inputs are {_describe(parents)}")
