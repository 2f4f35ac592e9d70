"""Checkpoints as JSON: written atomically, read without running any code.

>>> import os, tempfile
>>> from scalargrad.nn import Linear, save, load
>>> layer = Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), 'layer.json')
>>> save(layer, path)
>>> Linear(2, 1).load_state_dict(load(path))
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from .._util import nested
from .._util.files import atomic_open
from ..scalar import Scalar

__all__ = ["load", "save"]

_FORMAT = "scalargrad-checkpoint"
_VERSION = 1


def _plain(obj: Any, where: str = "checkpoint") -> Any:
    """Turn modules, optimizers and schedulers into their state dicts; check the rest is JSON data."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return _plain(obj.state_dict(), where)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings, got {type(k).__name__} {k!r}")
            out[k] = _plain(v, f"{where}[{k!r}]")
        return out
    if nested.is_nested(obj):
        # The shared walker copies any depth of lists without recursion; an error inside names the list.
        return nested.map_leaves(lambda leaf: _plain(leaf, f"{where}[...]"), obj)
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, Scalar):
        return obj.data
    raise TypeError(f"{where}: cannot store a {type(obj).__name__} in a JSON checkpoint")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (a model, or a dict of models, optimizers, schedulers and plain data) to ``path``.

    Anything with a ``state_dict()`` is stored as its state dict. The file is
    written to a temporary file in the same folder, flushed to disk and then
    renamed over ``path``, so a crash mid-write leaves the previous
    checkpoint intact, never a truncated one.
    """
    path = os.fspath(path)
    payload = {"format": _FORMAT, "version": _VERSION, "state": _plain(obj)}
    text = json.dumps(payload, allow_nan=True, separators=(",", ":"))
    with atomic_open(path, "w") as f:
        f.write(text)


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``save``: plain dicts, lists and numbers, no code run.

    A missing, corrupt or truncated file raises ValueError (FileNotFoundError
    for a missing one) naming the file.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a scalargrad checkpoint (not UTF-8 text)") from None
    try:
        payload = json.loads(text, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: corrupt or truncated checkpoint ({e.msg} at line {e.lineno}, "
                         f"column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a scalargrad checkpoint (nested too deeply)") from None
    except ValueError as e:  # json's other refusals, such as an int longer than sys.get_int_max_str_digits()
        raise ValueError(f"{path}: corrupt checkpoint ({e})") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT or "state" not in payload:
        raise ValueError(f"{path}: not a scalargrad checkpoint (no '{_FORMAT}' header)")
    version = payload.get("version")
    if not isinstance(version, int) or version > _VERSION:
        raise ValueError(f"{path}: checkpoint version {version!r} is newer than this scalargrad reads ({_VERSION})")
    return payload["state"]


def _constant(name: str) -> float:
    # json writes nan/inf parameters as NaN/Infinity; read them back as floats.
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]
