"""Getting graphviz pictures out: the graphviz package, the ``dot`` program, files and the screen.

Shared by ``viz.graph`` (a Scalar's graph) and ``viz.model`` (a model's
layers). graphviz and Pillow are optional and imported only when used. In a
web page (Pyodide) the page's Graphviz lays out instead of ``dot``: see
``viz.browser``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from typing import Any

from .._util.files import atomic_open
from . import browser

__all__ = ["FORMATS", "escape", "has_display", "import_graphviz", "picture_format", "run_dot", "show_png",
           "write_bytes"]

FORMATS = ("png", "svg", "pdf")


def import_graphviz() -> Any:
    """The ``graphviz`` module, or an ImportError saying what to install."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing a graph needs the graphviz package: pip install graphviz "
            "(and the Graphviz 'dot' program: apt-get install graphviz / brew install graphviz)"
        ) from None
    return graphviz


def picture_format(path: str | None, format: str | None) -> str:
    """``format``, else the suffix of ``path``, else png; ValueError unless png, svg or pdf."""
    fmt = format or (os.path.splitext(path)[1].lstrip(".").lower() if path else "") or "png"
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def escape(text: str) -> str:
    """Escape the characters that have a meaning inside a graphviz record label."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def run_dot(source: str, fmt: str, timeout: float) -> bytes:
    """Lay out and render ``source`` with the ``dot`` program, within ``timeout`` seconds.

    In a web page, with the page's Graphviz instead (``browser.layout``: SVG, or dot's ``plain`` text; no
    timeout)."""
    if browser.in_browser():
        return browser.layout(source, fmt)
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            "drawing a graph needs the Graphviz 'dot' program on PATH: "
            "apt-get install graphviz (Debian/Ubuntu) or brew install graphviz (macOS)"
        )
    done = subprocess.run([program, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_open(path, "wb") as f:  # an interrupted write leaves no half picture
        f.write(data)


def has_display() -> bool:
    """True when a window can be opened (always on Windows and macOS; X11 or Wayland elsewhere)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_png(png: bytes) -> None:
    """Open a PNG image in the system's viewer with Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("showing a graph needs Pillow: pip install pillow") from None
    Image.open(io.BytesIO(png)).show()
