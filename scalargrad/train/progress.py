"""How training progress is shown: a tqdm bar per epoch, one plain line per epoch, or nothing.

In a Jupyter kernel the bar is tqdm's notebook widget (it needs ipywidgets).

The callbacks ``ProgressBar`` and ``EpochLog`` (in ``callbacks/``) draw it;
this module decides which display a run gets and formats the numbers.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from .._util.checks import is_number
from .._util.notebook import in_notebook

__all__ = ["choose_display", "format_value", "summary", "tqdm_class"]

_tqdm_notice_shown = False  # the "tqdm is not installed" notice is shown once per process


def tqdm_class(notebook: bool = False) -> Any:
    """``tqdm.tqdm`` (``tqdm.notebook.tqdm``, the widget, with ``notebook=True``), or None when not
    installed."""
    try:
        if notebook:
            from tqdm.notebook import tqdm
        else:
            from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _terminal_columns(stream: Any) -> int:
    """The width the terminal reports; 80 when it cannot be asked (a notebook, say)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80


def choose_display(progress: bool | None) -> str:
    """'notebook', 'bar', 'plain' or 'silent' for the Trainer's ``progress`` option.

    None gives tqdm's widget in a Jupyter kernel that has ipywidgets, a text
    bar on a terminal, else one line per epoch; True a bar wherever tqdm is
    installed (the text bar in a kernel without ipywidgets).
    """
    global _tqdm_notice_shown
    if progress is False:
        return "silent"
    has_tqdm = tqdm_class() is not None
    if has_tqdm and in_notebook() and _has_ipywidgets():
        return "notebook"
    if progress is True:
        if has_tqdm:
            return "bar"
        if not _tqdm_notice_shown:
            _tqdm_notice_shown = True
            print("scalargrad: tqdm is not installed (pip install tqdm); showing one line per epoch "
                  "instead of a progress bar", file=sys.stderr, flush=True)
        return "plain"
    # A terminal that reports no width (some pseudo-terminals) draws a bar as blank lines.
    usable = _isatty(sys.stdout) and _terminal_columns(sys.stdout) > 0
    return "bar" if has_tqdm and usable else "plain"


def format_value(value: Any) -> str:
    """A logged value for display: floats to 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def summary(logs: dict[str, Any], pattern: str, separator: str) -> str:
    """The epoch's numbers (not ``epoch`` and ``seconds``), each formatted by ``pattern`` with key and value.

    >>> summary({'epoch': 2, 'train_loss': 0.25, 'lr': 0.1, 'seconds': 1.5}, '{}={}', ', ')
    'train_loss=0.25, lr=0.1'
    """
    return separator.join(pattern.format(k, format_value(v)) for k, v in logs.items()
                          if k not in ("epoch", "seconds") and is_number(v))
