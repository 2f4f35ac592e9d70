"""An mkdocs hook: the site's explorable graphs, made by ``explore_graph`` each time the site is built.

Three pages, linked from the home page, "How backward works" and "The
micrograd lecture, by hand": ``explore/linear.html``, the quickstart's
``f = x0*w0 + x1*w1 + b`` with the README's values, ``explore/neuron.html``,
the neuron ``y = tanh(x*w + b)`` that "How backward works" follows, and
``explore/micrograd.html``, the lecture's neuron built from micrograd
``Value``s. Being made at build time they always show what the current code
computes. They are added to the site's files before the
pages are built, so ``mkdocs build --strict`` checks the links to them like
any other. Drawing them needs Graphviz (the package and the ``dot`` program).
mkdocs.yml loads this file (``hooks:``); tests/train/test_docs_site.py and
tests/train/test_site_browser.py check the built pages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

FOLDER = "explore"


def linear_function() -> Any:
    """The quickstart's linear function, with the README's values."""
    from scalargrad import Scalar

    x0, x1 = Scalar(0.1, name="x0"), Scalar(0.2, name="x1")
    w0, w1, b = Scalar(0.3, name="w0"), Scalar(0.4, name="w1"), Scalar(0.5, name="b")
    f = (x0 * w0) + (x1 * w1) + b
    f.name = "f"
    return f


def neuron() -> Any:
    """The neuron of "How backward works"."""
    from scalargrad import Scalar

    x, w, b = Scalar(2.0, name="x"), Scalar(-0.5, name="w"), Scalar(0.3, name="b")
    return (x * w + b).tanh()


def micrograd_neuron() -> Any:
    """The neuron of micrograd's lecture, as "The micrograd lecture, by hand" builds it."""
    from scalargrad.compat.micrograd import Value

    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o.scalar


GRAPHS = {"linear": linear_function, "neuron": neuron, "micrograd": micrograd_neuron}


# target="_top": a page shown in an iframe (the micrograd page embeds one) leaves the frame for the site
BACK = ('<p><a href="../how-backward-works.html" target="_top">&larr; How backward works</a> &middot; '
        '<a href="../index.html" target="_top">scalargrad</a></p>')


def _with_way_back(html: str) -> str:
    """The page with links back into the site above the graph (the page itself stands alone)."""
    return html.replace("<body>", "<body>\n" + BACK, 1)


def on_files(files: Files, *, config: Any) -> Files:
    """Add ``explore/<name>.html`` for each graph of ``GRAPHS`` to the site's files."""
    from scalargrad.viz import explore_graph

    with tempfile.TemporaryDirectory() as folder:
        for name, build in GRAPHS.items():
            try:
                page = explore_graph(build(), Path(folder) / f"{name}.html")
            except (ImportError, RuntimeError) as error:
                raise PluginError(f"the docs' explorable graph {FOLDER}/{name}.html: {error}") from error
            files.append(File.generated(config, f"{FOLDER}/{name}.html", content=_with_way_back(page.html)))
    return files
