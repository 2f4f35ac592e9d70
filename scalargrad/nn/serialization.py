"""Checkpoints as JSON: written atomically, read without running any code.

>>> import os, tempfile
>>> from scalargrad.nn import Linear, save, load
>>> layer = Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), 'layer.json')
>>> save(layer, path)
>>> copy = Linear(2, 1)
>>> copy.load_state_dict(load(path))
>>> copy.state_dict() == layer.state_dict()
True
"""

from __future__ import annotations

import json
import os
from typing import Any

from .._util import nested
from .._util.files import MAX_READ_BYTES, atomic_open, read_json
from ..scalar import Scalar

__all__ = ["MAX_READ_BYTES", "load", "save"]

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
    checkpoint intact, never a truncated one. A symlink at ``path`` is
    followed (its target is replaced) and an existing file keeps its
    permissions (and, as root, its owner). Refused before anything is
    written, naming ``path``: a target that is not a regular file
    (ValueError for ``/dev/null``, a FIFO or a socket; IsADirectoryError
    for a folder) and a read-only file (PermissionError). A failure while
    writing (a full disk) names ``path``.
    """
    path = os.fspath(path)
    try:
        payload = {"format": _FORMAT, "version": _VERSION, "state": _plain(obj)}
        text = json.dumps(payload, allow_nan=True, separators=(",", ":"))
    except RecursionError:
        raise ValueError(f"{path}: cannot save data nested this deeply") from None
    with atomic_open(path, "w") as f:
        f.write(text)


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``save``: plain dicts, lists and numbers, no code run.

    A missing, corrupt or truncated file raises ValueError (FileNotFoundError
    for a missing one) naming the file, as does anything that is not a
    regular file (a folder, a FIFO, a device), a file over
    ``MAX_READ_BYTES``, an object that gives a key twice (named too) and a
    checkpoint of an unknown version. ``NaN`` and ``Infinity`` read as floats.
    """
    path = os.fspath(path)
    payload = read_json(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT or "state" not in payload:
        raise ValueError(f"{path}: not a scalargrad checkpoint (no '{_FORMAT}' header)")
    version = payload.get("version")
    if type(version) is not int or not 1 <= version <= _VERSION:
        raise ValueError(f"{path}: unsupported checkpoint version {version!r:.40} "
                         f"(this scalargrad reads versions 1 to {_VERSION})")
    return payload["state"]
