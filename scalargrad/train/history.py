"""``History``: the per-epoch records of a training run, with JSON and CSV files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .._util.checks import boolean
from .._util.files import atomic_open, read_json, read_text

__all__ = ["History"]

_INT = re.compile(r"[+-]?\d+\Z")


def _parse_cell(text: str) -> Any:
    """A CSV cell back as the int or float it was written from (else the text)."""
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


class History:
    """Per-epoch records of a run: ``{'epoch', 'train_loss', 'val_<metric>', ..., 'lr', 'seconds'}``.

    ``history['train_loss']`` gives that column as a list (None where an
    epoch lacks it), ``history[0]`` the first record, ``len(history)`` the
    number of epochs. ``interrupted`` is True when the run was stopped by
    Ctrl-C (or ``Trainer.request_interrupt()``).

    >>> h = History([{'epoch': 1, 'train_loss': 0.5}, {'epoch': 2, 'train_loss': 0.25}])
    >>> h['train_loss'], len(h), h.keys()
    ([0.5, 0.25], 2, ['epoch', 'train_loss'])
    """

    def __init__(self, records: Iterable[dict[str, Any]] | None = None, interrupted: bool = False) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in records] if records is not None else []
        for i, r in enumerate(self.records):
            if not all(isinstance(k, str) for k in r):
                raise TypeError(f"History record {i} has a key that is not a str")
        self.interrupted = bool(interrupted)

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's record."""
        self.records.append(dict(record))

    def keys(self) -> list[str]:
        """Every key of every record, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            if self.records and not any(key in r for r in self.records):
                raise KeyError(f"no history key {key!r}; the keys are {self.keys()}")
            return [r.get(key) for r in self.records]
        return self.records[key]

    def __contains__(self, key: object) -> bool:
        return any(key in r for r in self.records)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.records == other.records and self.interrupted == other.interrupted

    def state_dict(self) -> dict[str, Any]:
        """``{'records': [...], 'interrupted': bool}`` (JSON-able)."""
        return {"records": [dict(r) for r in self.records], "interrupted": self.interrupted}

    @classmethod
    def from_state(cls, state: Any) -> History:
        """A History from ``state_dict()`` output (or a bare list of records)."""
        if isinstance(state, list):
            return cls(state)
        if not isinstance(state, dict) or not isinstance(state.get("records"), list) \
                or not all(isinstance(r, dict) for r in state["records"]):
            raise ValueError("a history must be {'records': [dict, ...], 'interrupted': bool}")
        return cls(state["records"], boolean(state.get("interrupted", False), "a history's 'interrupted'"))

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the records (and the interrupted flag) as JSON."""
        with atomic_open(path, "w") as f:
            json.dump(self.state_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> History:
        """Read a History written by ``to_json``; ValueError naming the file when it is not one."""
        state = read_json(path, "History file")
        try:
            return cls.from_state(state)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{os.fspath(path)}: {e}") from None

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one row per epoch, one column per key (empty where a record lacks it)."""
        with atomic_open(path, "w") as f:
            writer = csv.DictWriter(f, fieldnames=self.keys(), restval="")
            writer.writeheader()
            for r in self.records:
                writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> History:
        """Read a History written by ``to_csv`` (numbers come back as ints and floats).

        ValueError naming the file for a row with more cells than the header,
        and for what ``read_text`` refuses (a FIFO, a device, a huge file).
        """
        path = os.fspath(path)
        records = []
        try:
            for i, row in enumerate(csv.DictReader(io.StringIO(read_text(path, "History file"), newline=""))):
                if None in row:
                    raise ValueError(f"row {i + 1} has more cells than the header")
                records.append({k: _parse_cell(v) for k, v in row.items() if v})
        except (csv.Error, ValueError) as e:
            raise ValueError(f"{path}: not a History CSV file ({e})") from None
        return cls(records)

    def __repr__(self) -> str:
        flag = ", interrupted" if self.interrupted else ""
        return f"History({len(self)} epochs, keys={self.keys()}{flag})"
