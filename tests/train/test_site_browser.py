"""The documentation site in a real browser: built, served over http, read in headless Chromium.

The site is built once with ``mkdocs build --strict`` (test_docs_site.py's fixture) and served
from a thread on a free localhost port, as ``python -m http.server -d site`` serves it. Requests
for anything but localhost are aborted (tests/browser.py), so a page that needs the network fails
here. Each check reads what a reader sees: pages that load with no console error and no failed
request, material's search box finding ``backward``, and the explorable graph of the quickstart
reached by its link and stepped with Next to the gradients Python computes. Screenshots go to
``build/screenshots/site-*.png`` (or ``$SCALARGRAD_SCREENSHOTS``).

Needs the ``playwright`` package, Debian's ``chromium``, the docs' requirements and Graphviz's
``dot``; skipped without them.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scalargrad import Scalar
from tests.browser import screenshot, shown_leaf_grads, step_to_the_end  # fixtures: conftest.py
from tests.train.test_docs_site import site  # noqa: F401 (the fixture: the site built once for this module)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass  # one line per request would bury pytest's output


@pytest.fixture(scope="module")
def site_url(site):  # noqa: F811 (the fixture imported above)
    """The built site served over http on a free localhost port, for as long as the module runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def open_clean(tab, url: str) -> None:
    """Open ``url`` and wait until the network is quiet; nothing may have gone wrong on the way."""
    tab.goto(url, wait_until="networkidle")
    assert tab.errors == [], f"console errors on {url}"
    assert tab.blocked == [], f"{url} asked for the web"
    assert tab.failed == [], f"failed requests on {url}"


PAGES = {  # page -> an element only that page has, once its content is there
    "index.html": "h1#scalargrad",
    "api/scalar.html": '[id="scalargrad.Scalar.backward"]',
    "tutorial.html": ".jp-Notebook .jp-OutputArea-output img",
}


@pytest.mark.parametrize("address", sorted(PAGES))
def test_the_page_loads_with_no_error(page, site_url, address):
    """The page, its styles, scripts and pictures all load from the site, and the theme's script runs."""
    open_clean(page, site_url + address)
    assert page.locator(PAGES[address]).count() > 0
    broken = page.evaluate("[...document.images].filter(img => !img.complete || img.naturalWidth === 0)"
                           ".map(img => img.src)")
    assert broken == [], "pictures that did not load"
    # material's script builds the header's search from the page: it ran, with its styles applied
    assert page.locator(".md-search__input").is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
    screenshot(page, "site-" + address.replace("/", "-").removesuffix(".html"))


def test_the_search_finds_backward(page, site_url):
    """Typed into the header's search box, ``backward`` lists "How backward works" and Scalar.backward."""
    open_clean(page, site_url + "index.html")
    page.click(".md-search__input")
    page.keyboard.type("backward")
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=10_000)  # the search index loads in a web worker
    # The list is redrawn while the worker answers the query as typed so far: wait until it holds both
    # results, then read every address in one call (one link at a time can meet a link that is gone).
    hrefs = "[...document.querySelectorAll('.md-search-result__item a')].map(a => a.getAttribute('href'))"
    found = (f"{hrefs}.some(h => h.includes('how-backward-works.html'))"
             f" && {hrefs}.some(h => h.endsWith('#scalargrad.Scalar.backward'))")
    page.wait_for_function(found, timeout=10_000)
    targets = [href.removeprefix(site_url) for href in page.evaluate(hrefs)]
    assert any(target.startswith("how-backward-works.html") for target in targets), targets
    assert any(target.endswith("#scalargrad.Scalar.backward") for target in targets), targets
    assert page.errors == [] and page.blocked == [] and page.failed == []
    screenshot(page, "site-search-backward")


def quickstart():
    """The README's quickstart linear function, made here, as a reader would make it."""
    x0, x1 = Scalar(0.1, name="x0"), Scalar(0.2, name="x1")
    w0, w1, b = Scalar(0.3, name="w0"), Scalar(0.4, name="w1"), Scalar(0.5, name="b")
    f = (x0 * w0) + (x1 * w1) + b
    return [x0, x1, w0, w1, b], f


def test_the_linear_functions_graph_steps_to_pythons_gradients(page, site_url):
    """From "How backward works", the link opens the quickstart's explorable graph; Next steps through
    the forward pass, then the backward pass, and the leaves end with Python's gradients."""
    open_clean(page, site_url + "how-backward-works.html")
    with page.expect_navigation():
        page.click("a[href='explore/linear.html']")
    assert page.url == site_url + "explore/linear.html"
    titles = step_to_the_end(page)
    forward = [title for title in titles if title.startswith("Forward")]
    backward = [title for title in titles if title.startswith("Backward ")]
    assert len(forward) == len(backward) == 4  # 4 ops, each computed, then each passing its gradient back
    assert titles.index(forward[-1]) < titles.index(backward[0])
    assert titles[-1].startswith("Done")
    (x0, x1, w0, w1, b), f = quickstart()
    f.backward()
    assert (w0.grad, w1.grad, x0.grad, x1.grad, b.grad) == (x0.data, x1.data, w0.data, w1.data, 1.0)
    shown = shown_leaf_grads(page)
    assert {label: float(grad) for label, grad in shown.items()} == {
        leaf.name: leaf.grad for leaf in (x0, x1, w0, w1, b)}
    assert page.errors == [] and page.blocked == [] and page.failed == []
    screenshot(page, "site-explore-linear", full_page=True)


def test_the_checks_see_a_page_that_needs_the_web(page, site_url):
    """The checks above are not blind: a page asking a CDN for a script has its request blocked
    and a console error, and a missing file is a failed request."""
    page.route(site_url + "cdn.html", lambda route: route.fulfill(
        content_type="text/html",
        body='<script src="https://cdn.example.org/lib.js"></script><img src="missing.png">'))
    page.goto(site_url + "cdn.html", wait_until="networkidle")
    assert page.blocked == ["https://cdn.example.org/lib.js"]
    assert page.errors and any(failure.startswith(site_url + "missing.png") for failure in page.failed)


ALL_TARGETS = """() => [...document.querySelectorAll(
    'a[href], img[src], link[href], script[src], iframe[src]')].map(element => element.href || element.src)"""


def test_every_link_of_every_built_page_is_served(page, site_url, site):  # noqa: F811 (the fixture)
    """Each page, the notebook's and the explorable graphs' included, opened in the browser: every link,
    picture, style and script it names on this site is served (test_docs_site checks the anchors)."""
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    targets = set()
    for address in pages:
        page.goto(site_url + address, wait_until="domcontentloaded")
        targets.update(url.split("#")[0] for url in page.evaluate(ALL_TARGETS) if url.startswith(site_url))
    dead = []
    for url in sorted(targets):
        response = page.request.get(url)
        if response.status != 200:
            dead.append(f"{url.removeprefix(site_url)}: {response.status}")
    assert len(pages) > 20 and len(targets) > len(pages)  # the pages, their styles, scripts and pictures
    assert dead == [], "links of the built site that lead nowhere:\n" + "\n".join(dead)
