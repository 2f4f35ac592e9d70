"""The documentation site builds strictly, documents every public name, and needs no network to read.

``mkdocs build --strict`` (mkdocs.yml at the repository root) runs once into a
temporary folder, as CI and a contributor run it: a broken link, a missing
docstring target or a page left out of the navigation fails the build. The
built HTML is then read: every name in the ``__all__`` of each public module
has an entry in the API reference, no page loads a script, style, font or
picture from the web, every link and picture of every page (the notebook's
and the explorable graphs' included) leads to a file of the site and, with an
``#anchor``, to an element with that id, the tutorial notebook shows its
stored outputs, and the search index finds ``backward``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]

# The modules a user imports from: each one's __all__ must be in the API reference. A module the
# README or docs/ tells readers to import from must be listed (test_every_module_the_docs_use_is_public).
PUBLIC_MODULES = [
    "scalargrad", "scalargrad.scalar", "scalargrad.functional", "scalargrad.nested_ops",
    "scalargrad.autograd", "scalargrad.extend", "scalargrad.replay", "scalargrad.compile", "scalargrad.nn",
    "scalargrad.nn.init", "scalargrad.nn.optim", "scalargrad.data", "scalargrad.train", "scalargrad.viz",
    "scalargrad.hooks", "scalargrad.anomaly", "scalargrad.compat", "scalargrad.compat.micrograd",
    "scalargrad.parallel", "scalargrad.losses", "scalargrad.elementwise", "scalargrad.reductions",
    "scalargrad.shapes", "scalargrad.dropout",
]
ID = re.compile(r'\bid="([^"]+)"')
# A cross-reference written in a page, [`Scalar`][scalargrad.Scalar]: (target, the name it shows).
CROSS_REFERENCE = re.compile(r'<a class="autorefs[^"]*"[^>]*\bhref="[^"#]*#([^"]+)"><code>([^<]+)</code></a>')
WEB = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)  # http://, https:// and protocol-relative //host
TAG_URL = re.compile(r"<(script|link|img|iframe|source|embed|object|audio|video)\b"
                     r"[^>]*?\b(src|href|data)=\"([^\"]*)\"", re.IGNORECASE)
CSS_URL = re.compile(r"@import\s+(?:url\()?\s*['\"]?([^'\")\s;]+)|url\(\s*['\"]?([^'\")]+)", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>|\bstyle=\"([^\"]*)\"", re.DOTALL | re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with ``mkdocs build --strict`` into a temporary folder."""
    for package in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter", "graphviz"):
        pytest.importorskip(package,
                            reason=f"{package} is not installed: pip install -r requirements-docs.txt")
    if shutil.which("dot") is None and not os.environ.get("CI"):  # CI installs it: there the build fails
        pytest.skip("the site's explorable graphs need Graphviz's dot program (apt-get install graphviz)")
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's notice about MkDocs 2
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    return folder


@pytest.fixture(scope="module")
def api_pages(site) -> dict[Path, str]:
    return {page: page.read_text(encoding="utf-8") for page in sorted((site / "api").rglob("*.html"))}


def _html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _resolves_to(anchor: str, obj: object) -> bool:
    """Whether ``anchor`` (``package.module.name``) names ``obj``: a module and one of its attributes."""
    module_name, _, name = anchor.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return name in vars(module) and vars(module)[name] is obj


def _module_page(api_pages: dict[Path, str], module: str) -> str:
    pages = [text for text in api_pages.values() if f'id="{module}"' in text]
    assert pages, f"no API page documents {module}: add '::: {module}' to a page of docs/api/"
    return pages[0]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_an_api_entry(module_name, api_pages):
    """Each name of ``__all__`` is documented under its own path, or its module's page links to where it is.

    A name that several modules hold (``scalargrad.Scalar`` is ``scalargrad.scalar.Scalar``) is documented
    once; the other modules' pages must link to that entry, and the entry must be the same object.
    """
    module = importlib.import_module(module_name)
    every_id = {anchor for text in api_pages.values() for anchor in ID.findall(text)}
    page = _module_page(api_pages, module_name)
    # Entries on this page under this module's path (scalargrad.nn.optim.sgd.sgd), and the page's links to
    # entries.
    here = {anchor for anchor in ID.findall(page) if anchor.startswith(f"{module_name}.")}
    here |= {target for target, shown in CROSS_REFERENCE.findall(page)
             if shown.rpartition(".")[2] == target.rpartition(".")[2]}
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if f"{module_name}.{name}" in every_id:
            continue
        if not any(anchor.endswith(f".{name}") and anchor in every_id and _resolves_to(anchor, obj)
                   for anchor in here):
            missing.append(name)
    assert not missing, f"{module_name}: no API entry for {missing}"


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # scalargrad.extend.defop: extend is a module, not a package
        return False


def test_every_module_the_docs_use_is_public():
    """A module the README, docs/ or the examples import from is in PUBLIC_MODULES, so the reference covers
    it."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "examples").glob("*.py"))]
    notebook = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    words = "\n".join([*(path.read_text(encoding="utf-8") for path in texts),
                       *(c.source for c in notebook.cells)])
    used = set()
    for dotted in set(re.findall(r"\bscalargrad(?:\.[a-z_]+)*", words)):
        while dotted:  # the longest importable prefix: scalargrad.viz.plot_history -> scalargrad.viz
            if _is_module(dotted):
                used.add(dotted)
                break
            dotted = dotted.rpartition(".")[0]
    assert used - set(PUBLIC_MODULES) == set(), \
        "add these modules to PUBLIC_MODULES and to a page of docs/api/"


def _scalar_page(api_pages: dict[Path, str]) -> str:
    pages = [text for text in api_pages.values() if 'id="scalargrad.Scalar"' in text]
    assert len(pages) == 1, "Scalar is documented on one page: docs/api/scalar.md"
    return pages[0]


def test_scalar_has_a_page_with_its_operators(site, api_pages):
    """``Scalar`` has its own page, "Scalar" in the nav, listing every operator a Scalar takes."""
    page = _scalar_page(api_pages)
    assert page == (site / "api" / "scalar.html").read_text(encoding="utf-8")
    assert re.search(r"<h1[^>]*>Scalar<", page)
    assert re.search(r'<a [^>]*href="scalar.html"[^>]*>\s*<span class="md-ellipsis">\s*Scalar\s*</span>',
                     page), \
        "no 'Scalar' entry in the nav"
    text = unescape(re.sub(r"<[^>]+>", "", page))
    operators = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                 "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__abs__",
                 "x < y", "x <= y", "x > y", "x >= y", "x == y", "x != y"]
    assert [op for op in operators if op not in text] == []


def test_scalar_methods_made_in_the_class_body_are_documented(api_pages):
    """``Scalar.exp`` and the other one-input ops are made by a call, not a ``def``; they still get
    entries."""
    page = _scalar_page(api_pages)
    from scalargrad import Scalar

    methods = [name for name, value in vars(Scalar).items()
               if not name.startswith("_") and inspect.isfunction(value) and value.__doc__]
    assert {"exp", "log", "tanh", "relu", "sigmoid", "backward"} <= set(methods)
    missing = [name for name in methods if f'id="scalargrad.Scalar.{name}"' not in page]
    assert not missing, f"Scalar methods without an API entry: {missing}"
    entry = page[page.index('id="scalargrad.Scalar.exp"'):]
    assert Scalar.exp.__doc__.strip() in unescape(re.sub(r"<[^>]+>", "", entry))[:2000]


def test_docstring_examples_are_code_not_quotes(api_pages):
    """The ``>>>`` examples of the docstrings show as Python code, not as nested Markdown quotes.

    The reStructuredText ``::`` that introduces an indented example shows as one colon.
    """
    prompts = 0
    for page, text in api_pages.items():
        assert "<blockquote>" not in text, f"{page.name}: a docstring example rendered as a quote"
        assert "::</p>" not in text, f"{page.name}: a literal-block marker '::' shown as text"
        prompts += len(re.findall(r'<span class="gp">&gt;&gt;&gt;', text))
    assert prompts > 100


def _web_references(text: str) -> list[str]:
    found = [url for tag, _, url in TAG_URL.findall(text)
             if WEB.match(url) or (tag.lower() == "script" and url.strip() == "")]
    for body in INLINE_SCRIPT.findall(text):
        found += re.findall(r"(?:import\(|fetch\(|src\s*=)\s*['\"]((?:https?:)?//[^'\"]+)", body)
    for block, attribute in STYLE.findall(text):
        found += [url for pair in CSS_URL.findall(block + attribute) for url in pair if url
                  and WEB.match(url)]
    return found


def test_no_page_needs_the_network(site):
    """No script, style sheet, font, picture or frame comes from the web, and no script has an empty src."""
    problems = {}
    for page in _html_pages(site):
        references = _web_references(page.read_text(encoding="utf-8"))
        if references:
            problems[str(page.relative_to(site))] = references
    for sheet in sorted(site.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        references = [url for pair in CSS_URL.findall(text) for url in pair if url and WEB.match(url)]
        if references:
            problems[str(sheet.relative_to(site))] = references
    assert not problems, f"pages that need the network: {problems}"


def test_the_check_for_web_references_finds_them():
    """The check above is not blind: each kind of web reference it looks for is found."""
    samples = [
        '<script src="https://cdn.example.org/mathjax.js"></script>',
        '<script src=""></script>',
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">',
        '<img src="http://example.org/graph.png">',
        '<script type="module">const m = await import("https://cdn.example.org/mermaid.mjs");</script>',
        "<style>@import url('https://fonts.googleapis.com/css2?family=Roboto');</style>",
        '<div style="background: url(https://example.org/a.png)"></div>',
    ]
    for sample in samples:
        assert _web_references(sample), sample
    assert _web_references('<script src="../assets/bundle.js"></script><img src="../backward.png">') == []


def test_the_pictures_resolve(site):
    """Every picture a page shows (docs/*.png among them) is in the built site."""
    shown = 0
    for page in _html_pages(site):
        for source in re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page.read_text(encoding="utf-8")):
            if source.startswith("data:"):
                continue
            picture = (page.parent / source).resolve()
            assert picture.is_file() and picture.stat().st_size > 1000, f"{page.relative_to(site)}: {source}"
            shown += 1
    assert shown >= 3  # architecture.png, backward.png, derivative.png at least


class _Links(HTMLParser):
    """The addresses a page's tags point at (``href``, ``src``), and the ids an ``#anchor`` can name."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.addresses: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.addresses.append(value)


def _dead_links(site: Path) -> tuple[int, list[str]]:
    """(how many links were checked, the ones that lead nowhere) over every HTML page of ``site``.

    A link leads somewhere when its file is in the site and, if it names an ``#anchor`` in an HTML
    page, that page has an element with that id. Addresses with a scheme or a host (``https:``,
    ``data:``, ``mailto:``, ``//host``) are left to test_no_page_needs_the_network; one starting at
    ``/`` is read from the site's root, where the 404 page, the only one to use them, is served.
    """
    root = site.resolve()
    parsed: dict[Path, _Links] = {}

    def links_of(page: Path) -> _Links:
        if page not in parsed:
            parsed[page] = _Links(page.read_text(encoding="utf-8"))
        return parsed[page]

    checked, dead = 0, []
    for page in _html_pages(root):
        for address in links_of(page).addresses:
            parts = urlsplit(address)
            if parts.scheme or parts.netloc or address.startswith("//"):
                continue
            checked += 1
            path = unquote(parts.path)
            if not path:
                target = page
            else:
                target = ((root / path.lstrip("/")) if path.startswith("/")
                          else (page.parent / path)).resolve()
                if path.endswith("/"):
                    target = target / "index.html"
            where = f"{page.relative_to(root)}: {address}"
            if root not in target.parents or not target.is_file():
                dead.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html" \
                    and unquote(parts.fragment) not in links_of(target).ids:
                dead.append(f"{where} (no such anchor)")
    return checked, dead


def test_every_link_resolves(site):
    """Every link and picture of every built page, the tutorial notebook's and the explorable graphs'
    included, leads to a file of the site, and every ``#anchor`` to an element of its page.

    ``--strict`` checks the links written in the Markdown pages; this reads what was built, so it also
    covers the notebook (mkdocs-jupyter leaves its links as written), the theme and the build hooks.
    """
    checked, dead = _dead_links(site)
    assert checked > 1000
    assert dead == [], "links that lead nowhere:\n" + "\n".join(dead)


def test_the_link_check_finds_dead_links(tmp_path):
    """The check above is not blind: a missing page, a missing anchor and a link out of the site are found."""
    (tmp_path / "api").mkdir()
    (tmp_path / "guide.html").write_text('<h2 id="install">Install</h2>', encoding="utf-8")
    (tmp_path / "api" / "index.html").write_text(
        '<a href="../guide.html#install">ok</a> <a href="#top" id="top">ok</a> <img src="/guide.html">'
        '<a href="https://example.org/x.md">web</a> <a href="data:,x">data</a>'
        '<a href="../how-backward-works.md">page as written</a> <a href="../guide.html#setup">anchor</a>'
        '<a href="../../outside.html">outside</a>', encoding="utf-8")
    (tmp_path.parent / "outside.html").write_text("", encoding="utf-8")
    checked, dead = _dead_links(tmp_path)
    assert checked == 6
    assert dead == ["api/index.html: ../how-backward-works.md (no such file)",
                    "api/index.html: ../guide.html#setup (no such anchor)",
                    "api/index.html: ../../outside.html (no such file)"]


def test_the_tutorial_page_shows_the_stored_outputs(site):
    """The notebook is rendered as it is stored (not executed at build time): its pictures and printed
    text."""
    notebook = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    page = (site / "tutorial.html").read_text(encoding="utf-8")
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    pngs = sum("image/png" in output.get("data", {}) for output in outputs)
    svgs = sum("image/svg+xml" in output.get("data", {}) for output in outputs)
    assert pngs and svgs
    assert page.count("data:image/png;base64") >= pngs
    assert page.count("<svg") >= svgs
    printed = [output["text"].strip().splitlines()[-1] for output in outputs
               if output["output_type"] == "stream" and output["text"].strip()]
    text = unescape(page)
    assert printed and all(line in text for line in printed)


def test_the_search_index_finds_backward(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    hits = [entry["location"] for entry in index["docs"]
            if "backward" in (entry["title"] + " " + entry["text"]).lower()]
    assert any(location.startswith("how-backward-works.html") for location in hits)
    assert any("scalargrad.Scalar.backward" in location for location in hits)


def test_every_page_is_in_the_nav_and_built(site):
    import yaml  # mkdocs's own dependency

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(nav):
        for item in nav:
            if isinstance(item, dict):
                for value in item.values():
                    yield from pages(value) if isinstance(value, list) else [value]
            else:
                yield item

    built = list(pages(config["nav"]))
    docs = ROOT / "docs"
    written = [str(page.relative_to(docs)) for pattern in ("*.md", "*.ipynb", "api/*.md")
               for page in docs.glob(pattern)]
    assert sorted(set(written) - set(built)) == [], "pages missing from mkdocs.yml's nav"
    for source in built:
        assert (site / (source.rsplit(".", 1)[0] + ".html")).is_file(), f"{source} was not built"


# The explorable graphs docs/site_tools/explore_pages.py makes at build time, with the values the docs use:
# the README's quickstart (f = x0*w0 + x1*w1 + b) and the neuron of "How backward works" (y = tanh(x*w + b)).
EXPLORED = {
    "linear": (lambda x0, x1, w0, w1, b: (x0 * w0) + (x1 * w1) + b,
               {"x0": 0.1, "x1": 0.2, "w0": 0.3, "w1": 0.4, "b": 0.5}),
    "neuron": (lambda x, w, b: (x * w + b).tanh(), {"x": 2.0, "w": -0.5, "b": 0.3}),
}
EXPLORER_DATA = re.compile(r'<script type="application/json" class="sgx-data">(.*?)</script>', re.DOTALL)


@pytest.mark.parametrize("name", sorted(EXPLORED))
def test_the_explorable_graphs_are_built_and_linked(site, name, tmp_path):
    """``explore/<name>.html`` is in the site (so the offline checks above read it too), the home page
    and "How backward works" link it, and it steps through what ``explore_graph`` shows today for the
    docs' function and values."""
    from scalargrad import Scalar
    from scalargrad.viz import explore_graph

    built = site / "explore" / f"{name}.html"
    assert built in _html_pages(site)
    for linking in ("index.html", "how-backward-works.html"):
        assert f'href="explore/{name}.html"' in (site / linking).read_text(encoding="utf-8"), linking
    page = built.read_text(encoding="utf-8")
    for target in ("how-backward-works.html", "index.html"):  # and it links back
        assert f'href="../{target}"' in page and (built.parent / ".." / target).resolve().is_file(), target
    data = [json.loads(block) for block in EXPLORER_DATA.findall(built.read_text(encoding="utf-8"))]
    assert len(data) == 1, "one explorer on the page"
    function, values = EXPLORED[name]
    assert {leaf["label"]: float(leaf["data"]) for leaf in data[0]["leaves"]} == values
    f = function(*(Scalar(value, name=label) for label, value in values.items()))
    if name == "linear":
        f.name = "f"  # as the docs name it
    today = explore_graph(f, tmp_path / "graph.html")
    assert [step["title"] for step in data[0]["steps"]] == [step["title"] for step in today.steps]


def test_the_micrograd_page_embeds_the_lectures_neuron(site, tmp_path):
    """"The micrograd lecture, by hand" shows ``explore/micrograd.html`` in a frame, and that page steps
    through the lecture's neuron, micrograd ``Value``s with the lecture's labels and values, as
    ``explore_graph`` shows it today."""
    from scalargrad.compat.micrograd import Value
    from scalargrad.viz import explore_graph

    built = site / "explore" / "micrograd.html"
    assert built in _html_pages(site)
    page = (site / "micrograd-by-hand.html").read_text(encoding="utf-8")
    assert '<iframe src="explore/micrograd.html"' in page
    data = [json.loads(block) for block in EXPLORER_DATA.findall(built.read_text(encoding="utf-8"))]
    lecture = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    assert {leaf["label"]: float(leaf["data"]) for leaf in data[0]["leaves"]} == lecture
    x1, x2, w1, w2, b = (Value(value, label=label) for label, value in lecture.items())
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    today = explore_graph(o.scalar, tmp_path / "graph.html")
    assert [step["title"] for step in data[0]["steps"]] == [step["title"] for step in today.steps]
