"""How a matplotlib figure shows inline in a Jupyter kernel (``in_notebook`` lives in ``_util.notebook``)."""

from __future__ import annotations

import io
from typing import Any

from .._util.notebook import in_notebook, ipython_shell

__all__ = ["in_notebook", "show_figures_inline"]


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
    formatters = ipython_shell().display_formatter.formatters
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
