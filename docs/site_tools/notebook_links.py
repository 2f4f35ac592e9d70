"""An mkdocs hook: a notebook's links to other pages of docs/ work on the built site.

mkdocs turns a Markdown page's link to ``architecture.md`` into one to
``architecture.html``, and ``--strict`` fails on a link to a page that does
not exist. mkdocs-jupyter does neither for a notebook: its links stay as
written. The tutorial links ``how-backward-works.md`` so that it also works
where the notebook is read on its own (GitHub, Jupyter); on the site that
address does not exist. This hook rewrites each relative link of a notebook
page that names a page of docs/ (``.md`` or ``.ipynb``, with or without an
``#anchor``) to the page's built address, and warns (an error under
``--strict``) about one that names no page. mkdocs.yml loads this file
(``hooks:``); tests/train/test_docs_site.py checks every link of the built
site.
"""

from __future__ import annotations

import logging
import posixpath
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.notebook_links")

PAGES: dict[str, str] = {}  # each page of docs/ -> where it is built; set by on_files for this build
HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^":#?]+\.(?:md|ipynb))((?:#[^"]*)?")')


def _built(page: Any, match: re.Match) -> str:
    """The link of ``match`` with its target's built address, or as it was (with a warning) if there is
    none."""
    link = match.group(2)
    source = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), link))
    if source not in PAGES:
        log.warning("%s links %s, which is not a page of docs/", page.file.src_uri, link)
        return match.group(0)
    target = posixpath.relpath(PAGES[source], posixpath.dirname(page.file.dest_uri) or ".")
    return match.group(1) + target + match.group(3)


def on_files(files: Any, *, config: Any) -> Any:
    """Remember where each page of docs/ is built: ``architecture.md`` -> ``architecture.html``."""
    PAGES.clear()
    PAGES.update((file.src_uri, file.dest_uri) for file in files if file.src_uri.endswith((".md", ".ipynb")))
    return files


def on_post_page(output: str, *, page: Any, config: Any) -> str:
    """Point a notebook page's links to other pages at their built addresses; other pages pass unchanged."""
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    return HREF.sub(lambda match: _built(page, match), output)
