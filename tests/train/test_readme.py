"""The README is the front door: its Python blocks must run and print what it shows.

The pages under ``docs/`` are held to the same rule.
"""

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)


def _blocks(page: Path = README):
    """(python source, expected output or None) for every ```python block of a Markdown page."""
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for i, m in enumerate(fences):
        if m.group(1) != "python":
            continue
        expected = None
        if i + 1 < len(fences):
            nxt = fences[i + 1]
            between = text[m.end():nxt.start()]
            if nxt.group(1) == "" and "Output" in between:
                expected = nxt.group(2)
        found.append((m.group(2), expected))
    return found


BLOCKS = _blocks()
DOC_BLOCKS = [(page.name, source, expected) for page in DOCS for source, expected in _blocks(page)]


def test_readme_has_the_quickstarts():
    sources = "\n".join(src for src, _ in BLOCKS)
    assert "f.render()" in sources and "CrossEntropyLoss" in sources
    assert sum(expected is not None for _, expected in BLOCKS) >= 2


def test_readme_links_the_docs_and_their_pictures_exist():
    text = README.read_text(encoding="utf-8")
    assert DOCS, "docs/ has no pages"
    for page in DOCS:
        assert f"docs/{page.name}" in text, f"the README does not link docs/{page.name}"
        for picture in re.findall(r'src="([^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / picture).stat().st_size > 1000, f"{page.name}: missing picture {picture}"


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_block_runs_and_prints_what_it_shows(index):
    """The docs' blocks run in order within a page, sharing names, as a reader would run them."""
    page = DOC_BLOCKS[index][0]
    namespace = {"__name__": "__docs__"}
    for name, source, expected in DOC_BLOCKS[:index + 1]:
        if name != page:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"{name} block", "exec"), namespace)  # noqa: S102
    if expected is not None:
        assert out.getvalue().strip() == expected.strip(), f"{page}: the output differs from what the code prints"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_and_prints_what_it_shows(index, tmp_path, monkeypatch):
    source, expected = BLOCKS[index]
    if "render(" in source and shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("the Graphviz 'dot' program is not installed (CI installs it)")
    monkeypatch.chdir(tmp_path)  # render() writes graph.png here on a machine with no display
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"README block {index}", "exec"), {"__name__": "__readme__"})  # noqa: S102
    printed = [line for line in out.getvalue().splitlines() if not line.startswith("no display found")]
    if expected is not None:
        assert "\n".join(printed).strip() == expected.strip(), "README output differs from what the code prints"
    if "render(" in source:
        assert (tmp_path / "graph.png").stat().st_size > 1000
