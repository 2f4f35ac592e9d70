"""Run docs/tutorial.ipynb on a fresh Jupyter kernel and save it with its outputs, in place.

    python docs/build_tutorial.py

The notebook is stored with its outputs so that it reads well on GitHub. Run
this after editing a cell or changing what the library prints or draws. It
runs the notebook as CI does (a real kernel, no display, this checkout's
scalargrad, in docs/) and then drops what would change from run to run
without meaning anything: the memory addresses in reprs and the node ids
(also addresses) that Graphviz pictures are drawn with. The seeds are fixed,
so a second run on the same machine changes nothing. Needs nbclient,
ipykernel and everything the notebook uses (``pip install -r requirements.txt``).
"""

import re
import sys
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
NOTEBOOK = DOCS / "tutorial.ipynb"

sys.path.insert(0, str(DOCS.parent))
from tests.kernel import run_notebook  # tests/kernel.py: the same kernel set-up as the tests

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # <graphviz.graphs.Digraph at 0x7f3a...>
_NODE_ID = re.compile(r"\b\d{9,}")  # Graphviz node ids: id() of a Scalar, 12-15 digits


def _stable_node_ids(svg: str) -> str:
    """Rename the ids of a Graphviz picture n1, n2, ... in order of appearance."""
    names = {}
    return _NODE_ID.sub(lambda m: names.setdefault(m.group(), f"n{len(names) + 1}"), svg)


def stabilise(notebook) -> None:
    """Drop memory addresses from the outputs of ``notebook``, in place."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _ADDRESS.sub("", data["text/plain"])
            if "image/svg+xml" in data:
                data["image/svg+xml"] = _stable_node_ids(data["image/svg+xml"])


def main() -> None:
    """Re-run the tutorial and write it back with its outputs."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    before = set(DOCS.iterdir())
    run_notebook(notebook, DOCS, timeout=600, headless=True)
    for stray in sorted(set(DOCS.iterdir()) - before):
        print(f"warning: the notebook wrote {stray.relative_to(DOCS.parent)}", file=sys.stderr)
    stabilise(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(DOCS.parent)} ({NOTEBOOK.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
