"""Where a picture goes in Jupyter: is this a notebook kernel, and how does a matplotlib figure show inline.

IPython is looked at only when it is already imported (a kernel imports it
first), so a script pays nothing for this module.
"""

from __future__ import annotations

import io
import sys
from typing import Any

__all__ = ["in_notebook", "show_figures_inline"]


def _shell() -> Any:
    """The running IPython shell, or None (never imports IPython)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return None
    try:
        return get_ipython()
    except Exception:  # noqa: BLE001 - a half-initialised IPython is "no shell"
        return None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code's notebooks, ...).

    A terminal IPython session is not a notebook: it has no kernel, so pictures
    go to a viewer or a file there, as in a script.
    """
    shell = _shell()
    if shell is None:
        return False
    if getattr(shell, "kernel", None) is not None:
        return True
    try:
        return "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001 - an unusual shell without a config
        return False


def _figure_png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def show_figures_inline(figure_type: type) -> None:
    """In a kernel, let ``figure_type`` (matplotlib's Figure) display as a PNG when a cell returns one.

    ``%matplotlib inline`` (or importing pyplot in a kernel) does the same; a
    display the user has set up already (say, SVG or retina figures) is kept.
    A figure then shows once when it is a cell's value or passed to
    ``IPython.display.display``, and never by itself.
    """
    if not in_notebook():
        return
    formatters = _shell().display_formatter.formatters
    if any(_has_printer(formatters.get(mime), figure_type) for mime in ("image/png", "image/svg+xml")):
        return
    formatters["image/png"].for_type(figure_type, _figure_png)


def _has_printer(formatter: Any, figure_type: type) -> bool:
    if formatter is None:
        return False
    try:
        formatter.lookup_by_type(figure_type)
    except KeyError:
        return False
    return True
