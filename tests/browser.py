"""Shared code for the tests that run in a real browser: headless Chromium driven by Playwright.

Debian's ``chromium`` at /usr/bin/chromium is launched through its path (Playwright's own browser
downloads are not used: ``playwright install`` is never run); the fixtures ``browser`` and
``page`` (which tests/conftest.py makes available to every test) skip without it or without the
``playwright`` package. Screenshots go to ``SCREENSHOTS``: ``build/screenshots/``,
or the folder ``$SCALARGRAD_SCREENSHOTS`` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("SCALARGRAD_SCREENSHOTS", ROOT / "build" / "screenshots"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"localhost", "127.0.0.1"}


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname in LOCAL_HOSTS


@pytest.fixture
def page(browser):
    """A fresh tab that may not reach the web. What went wrong is collected as it happens:

    ``page.errors`` (console errors, uncaught exceptions), ``page.blocked`` (requests for anything
    but localhost, a file or inline data: aborted, so a page that needs a CDN fails loudly) and
    ``page.failed`` (requests that failed or were answered with an HTTP error).
    """
    tab = browser.new_page(viewport={"width": 1400, "height": 800})
    tab.errors, tab.blocked, tab.failed = [], [], []

    def route(request_route):
        if _is_local(request_route.request.url):
            request_route.continue_()
        else:
            tab.blocked.append(request_route.request.url)
            request_route.abort()

    tab.route("**/*", route)
    tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("requestfailed", lambda request: tab.failed.append(f"{request.url}: {request.failure}"))
    tab.on("response", lambda response: tab.failed.append(f"{response.url}: HTTP {response.status}")
           if response.status >= 400 else None)
    yield tab
    tab.close()


def screenshot(tab, name: str, full_page: bool = False) -> Path:
    """Save what ``tab`` shows as ``SCREENSHOTS/<name>.png``; the file must hold a real picture (> 5 KB)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(shot), full_page=full_page)
    assert shot.stat().st_size > 5000, f"{shot}: {shot.stat().st_size} bytes, an empty picture?"
    return shot


def shown_leaf_grads(tab) -> dict[str, str]:
    """An explorable graph's leaves table, as its panel shows it: label -> the grad it shows."""
    rows = tab.locator(".sgx-leaves tr").all_inner_texts()[1:]
    return {row.split("\t")[0]: row.split("\t")[2] for row in rows}


def step_to_the_end(tab) -> list[str]:
    """Click an explorable graph's Next until it is disabled: the panel's title at every step."""
    titles = [tab.inner_text(".sgx-title")]
    while tab.is_enabled(".sgx-next"):
        tab.click(".sgx-next")
        titles.append(tab.inner_text(".sgx-title"))
    return titles
