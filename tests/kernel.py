"""Running code on a real Jupyter kernel, for the tests of notebook behaviour (nbclient).

A test hands a list of cell sources to ``run_cells``; they run in a fresh
``python3`` kernel, in order, in the folder ``cwd``, and the outputs of each
cell come back as nbformat output dicts (``output_type`` is ``stream``,
``display_data``, ``execute_result`` or ``error``; ``data`` maps MIME types
such as ``image/png`` to content). The kernel imports the scalargrad of this
checkout (the repository root leads its PYTHONPATH), whatever is installed. A cell that raises fails the run
with nbclient's ``CellExecutionError`` unless ``allow_errors=True``. ``run_notebook``
runs a whole notebook (a tutorial, say) the same way, filling in its outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def run_cells(sources: list[str], cwd, timeout: float = 300, allow_errors: bool = False) -> list[list[dict]]:
    """Run ``sources`` as the code cells of one notebook on a real kernel; the outputs of each cell."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    run_notebook(notebook, cwd, timeout, allow_errors)
    return [cell.outputs for cell in notebook.cells]


def run_notebook(notebook, cwd, timeout: float = 300, allow_errors: bool = False,
                 headless: bool = False) -> None:
    """Run the code cells of ``notebook`` (an nbformat node, as ``nbformat.read`` gives) in place, outputs
    included.

    ``headless=True`` gives the kernel no DISPLAY or WAYLAND_DISPLAY, as on a server: nothing can open a
    window.
    """
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            record_timing=False, resources={"metadata": {"path": str(cwd)}})
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if headless:
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
    client.execute(env=env)


def mime_types(outputs: list[dict]) -> set[str]:
    """Every MIME type that a cell's rich outputs (display_data, execute_result) carry."""
    return {mime for out in outputs if out.get("output_type") in ("display_data", "execute_result")
            for mime in out.get("data", {})}


def text_of(outputs: list[dict]) -> str:
    """What a cell printed (stdout and stderr streams) joined, and the text/plain of its results."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("display_data", "execute_result"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)
