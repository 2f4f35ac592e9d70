"""An mkdocs hook: what the playground pages load, added to the site each time it is built.

The Playground and "Watch it learn" pages run scalargrad itself in the
browser, under Pyodide (CPython compiled to WebAssembly), and draw graphs
with Graphviz compiled to WebAssembly (@viz-js/viz). Nothing is fetched
from the web when a page is read, so the build puts into the site:

- ``playground/pyodide/``: Pyodide's interpreter and standard library, from
  ``node_modules/pyodide`` (``npm ci`` installs the version package.json and
  package-lock.json pin);
- ``playground/viz.js``: @viz-js/viz, one ES module with its WebAssembly inside;
- ``playground/scalargrad.zip``: the package as this checkout has it (every
  ``.py`` under ``scalargrad/``), with the pure-Python ``graphviz`` package
  that ``render()`` builds its DOT with. So the pages always run the code of
  the commit that built the site.

The pages' own scripts are in ``docs/playground/`` and copied as they are.
mkdocs.yml loads this file (``hooks:``); tests/train/test_playground_browser.py
and tests/train/test_learn_browser.py read the built pages in Chromium.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
FOLDER = "playground"
# What loadPyodide reads from its indexURL when no package beyond the standard library is loaded
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json")
VIZ_FILE = Path("@viz-js", "viz", "dist", "viz.js")
# A fixed time for every member: the same checkout gives the same zip, byte for byte
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _vendored(name: str) -> Path:
    """A file npm installed, or a PluginError that says to run ``npm ci``."""
    path = NODE_MODULES / name
    if not path.is_file():
        raise PluginError(f"the playground needs {path.relative_to(ROOT)}: run `npm ci` in {ROOT} first "
                          f"(package.json pins Pyodide and @viz-js/viz)")
    return path


def _add_python_package(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    """Every ``.py`` file under ``folder``, in sorted order, as ``prefix/<its path>``."""
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        member = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", ZIP_TIME)
        member.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(member, path.read_bytes())


def package_zip() -> bytes:
    """``scalargrad/`` from this checkout and the installed ``graphviz`` package, as one zip."""
    try:
        import graphviz
    except ImportError as error:
        raise PluginError("the playground ships the graphviz package: "
                          "pip install -r requirements.txt") from error
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add_python_package(archive, ROOT / "scalargrad", "scalargrad")
        _add_python_package(archive, Path(graphviz.__file__).parent, "graphviz")
    return buffer.getvalue()


def on_files(files: Files, *, config: Any) -> Files:
    """Add the playground's Pyodide, Viz.js and scalargrad zip to the site's files."""
    for name in PYODIDE_FILES:
        files.append(File.generated(config, f"{FOLDER}/pyodide/{name}",
                                    abs_src_path=str(_vendored(str(Path("pyodide", name))))))
    files.append(File.generated(config, f"{FOLDER}/viz.js", abs_src_path=str(_vendored(str(VIZ_FILE)))))
    files.append(File.generated(config, f"{FOLDER}/scalargrad.zip", content=package_zip()))
    return files
