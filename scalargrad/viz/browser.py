"""Pictures inside a web page: scalargrad under Pyodide (CPython compiled to WebAssembly).

There is no ``dot`` program, no window and no file a user can open in a
browser, so the page that runs scalargrad provides Graphviz (compiled to
WebAssembly: @viz-js/viz) and a place to show things, as two JavaScript
functions on ``globalThis``:

- ``scalargradLayout(source, format)`` lays out the DOT ``source``
  synchronously and returns the result as text; ``format`` is ``"svg"``,
  or ``"plain"`` for the layout's size (viz-js makes no PNG or PDF);
- ``scalargradShow(kind, content)`` shows ``content`` in the page: ``kind``
  ``"svg"`` is a picture, ``"html"`` a whole explorable page (shown in an
  iframe).

Python reaches them through Pyodide's ``js`` module, which exists only
there; it is imported when a function here is called, so this module loads
anywhere. ``viz.output.run_dot`` lays out with ``layout`` under the browser,
and ``draw_graph`` and ``explore_graph`` show their result with ``show``.

>>> in_browser()  # CPython on a desktop or a server
False
"""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["KINDS", "LAYOUT_FUNCTION", "SHOW_FUNCTION", "check_format", "in_browser", "layout", "show"]

LAYOUT_FUNCTION = "scalargradLayout"
SHOW_FUNCTION = "scalargradShow"
KINDS = ("svg", "html")


def in_browser() -> bool:
    """True under Pyodide in a web page (``sys.platform == "emscripten"``): no ``dot``, no window."""
    return sys.platform == "emscripten"


def _page_function(name: str, signature: str, what: str) -> Callable[..., Any]:
    """The page's ``globalThis.<name>``, or a RuntimeError saying that the page must define it."""
    missing = (f"{what} in the browser needs the page to define globalThis.{name}{signature}; "
               f"see scalargrad.viz.browser")
    try:
        import js  # Pyodide's view of the page's globalThis; only Pyodide has it
    except ImportError:
        raise RuntimeError(f"{missing} (and Pyodide's js module, which is missing here)") from None
    function = getattr(js, name, None)
    if function is None or not callable(function):
        raise RuntimeError(missing)
    return function


def check_format(fmt: str) -> None:
    """ValueError unless ``fmt`` is ``"svg"``, the one format the page's Graphviz draws."""
    if fmt != "svg":
        raise ValueError(f"in the browser Graphviz draws SVG only: use a .svg path, or none (got {fmt!r})")


def layout(source: str, fmt: str) -> bytes:
    """Lay out the DOT ``source`` with the page's Graphviz (``globalThis.scalargradLayout``): SVG (or dot's
    ``plain`` text), in UTF-8.

    ValueError for another format; RuntimeError when the page
    does not provide the function or when it fails; TypeError when it returns
    no text (a Promise, say: the layout must be synchronous). There is no
    timeout: the page's Graphviz runs to the end.
    """
    if fmt != "plain":  # dot's layout as text, which draw_graph measures; a picture is SVG
        check_format(fmt)
    function = _page_function(LAYOUT_FUNCTION, "(source, format) returning SVG text (@viz-js/viz)",
                              "drawing a graph")
    try:
        svg = function(source, fmt)
    except Exception as error:  # a JavaScript error arrives as Pyodide's JsException: said plainly
        raise RuntimeError(f"Graphviz in the page failed: {error}") from error
    if not isinstance(svg, str):
        raise TypeError(f"globalThis.{LAYOUT_FUNCTION} must return the SVG text synchronously, "
                        f"got {type(svg).__name__}")
    return svg.encode("utf-8")


def show(kind: str, content: str) -> None:
    """Show ``content`` in the page (``globalThis.scalargradShow``): ``kind`` ``"svg"`` is a picture's
    SVG text, ``"html"`` a whole HTML page. ValueError for another kind; RuntimeError when the page
    does not provide the function."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    function = _page_function(SHOW_FUNCTION, "(kind, content)", "showing a picture")
    function(kind, content)
