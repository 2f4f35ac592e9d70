"""An mkdocs hook: the rendered notebook pages keep no script that needs the network or does nothing.

mkdocs-jupyter's page template always adds MathJax (a ``<script src>`` of the
CDN address it is given, empty here, which makes a browser load the page
itself as a script) with its configuration, and a loader that imports
Mermaid from a CDN when a cell draws a Mermaid diagram. The tutorial has
neither formulas nor diagrams and the site must work offline, so those
scripts are dropped from each notebook page. mkdocs.yml loads this file
(``hooks:``); tests/train/test_docs_site.py checks the built pages.
"""

from __future__ import annotations

import re
from typing import Any

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)
NETWORK = re.compile(r"https?://")


def _unwanted(script: re.Match) -> bool:
    """An empty ``src``, MathJax's configuration, or anything that fetches from a web address."""
    attributes = script.group(1)
    return ('src=""' in attributes or "text/x-mathjax-config" in attributes
            or bool(NETWORK.search(script.group(0))))


def on_post_page(output: str, *, page: Any, config: Any) -> str:
    """Drop the unwanted scripts from a page rendered from a notebook; other pages pass unchanged."""
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    return SCRIPT.sub(lambda script: "" if _unwanted(script) else script.group(0), output)
