"""The README is the front door: its Python blocks must run and print what it shows.

The blocks run in order in one namespace, as a reader pastes them into one
session. The pages under ``docs/`` (the API reference's included) are held to
the same rule. The README links every page of ``docs/``, and its links and
CONTRIBUTING.md's lead to files and headings that exist.
"""

import contextlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = DOCS + sorted((ROOT / "docs" / "api").glob("*.md"))  # every page whose blocks run
CAN_RENDER = shutil.which("dot") is not None or bool(os.environ.get("CI"))  # CI installs Graphviz
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
CPYTHON_ONLY = "# (CPython)"  # a block whose output is CPython's (reference counting) says so in a comment


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
DOC_BLOCKS = [(str(page.relative_to(ROOT / "docs")), source, expected)
              for page in PAGES for source, expected in _blocks(page)]


def test_readme_has_the_quickstarts():
    sources = "\n".join(src for src, _ in BLOCKS)
    assert "f.render()" in sources and "CrossEntropyLoss" in sources
    assert sum(expected is not None for _, expected in BLOCKS) >= 2


def test_readme_links_the_docs_and_their_pictures_exist():
    text = README.read_text(encoding="utf-8")
    assert DOCS, "docs/ has no pages"
    for page in DOCS:
        assert f"docs/{page.name}" in text, f"the README does not link docs/{page.name}"
        for picture in re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / picture).stat().st_size > 1000, f"{page.name}: missing picture {picture}"


@pytest.mark.parametrize("page", [README, CONTRIBUTING, *PAGES], ids=lambda page: str(page.relative_to(ROOT)))
def test_code_fences_stand_on_their_own_lines(page):
    """Text after a closing fence (```` ``` text````) leaves the block open and turns the rest of the page
    into code."""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if "```" in line:
            assert re.fullmatch(r"```\w*", line.strip()), f"{page.name}:{number}: {line!r}"


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_block_runs_and_prints_what_it_shows(index, tmp_path, monkeypatch):
    """The docs' blocks run in order within a page, sharing names, as a reader would run them.

    They run in an empty folder, so a block that saves a file (``nn.save(model, 'model.json')``)
    leaves nothing in the repository.
    """
    page = DOC_BLOCKS[index][0]
    if CPYTHON_ONLY in DOC_BLOCKS[index][1] and platform.python_implementation() != "CPython":
        pytest.skip("the block shows CPython's reference counting")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for name, source, expected in DOC_BLOCKS[:index + 1]:
        if name != page:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"{name} block", "exec"), namespace)  # noqa: S102
    if expected is not None:
        assert out.getvalue().strip() == expected.strip(), \
            f"{page}: the output differs from what the code prints"


@pytest.fixture(scope="module")
def readme_session(tmp_path_factory):
    """Run the README's blocks in order in one namespace, as a reader pastes them into one session.

    Gives, per block, what it printed (or the exception it raised, or None when
    skipped) and the size of the ``graph.png`` a bare ``render()`` wrote.
    """
    folder = tmp_path_factory.mktemp("readme")
    namespace = {"__name__": "__readme__"}
    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # render() writes graph.png here on a machine with no display
        patch.delenv("DISPLAY", raising=False)
        patch.delenv("WAYLAND_DISPLAY", raising=False)
        for index, (source, _) in enumerate(BLOCKS):
            if "render(" in source and not CAN_RENDER:
                results.append((None, 0))
                continue
            (folder / "graph.png").unlink(missing_ok=True)
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(source, f"README block {index}", "exec"), namespace)  # noqa: S102
            except Exception as error:  # noqa: BLE001 (raised again by this block's test)
                results.append((error, 0))
                continue
            picture = folder / "graph.png"
            results.append((out.getvalue(), picture.stat().st_size if picture.exists() else 0))
    return results


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_and_prints_what_it_shows(index, readme_session):
    source, expected = BLOCKS[index]
    printed, picture_size = readme_session[index]
    if printed is None:
        pytest.skip("the Graphviz 'dot' program is not installed (CI installs it)")
    if isinstance(printed, Exception):
        raise printed
    lines = [line for line in printed.splitlines() if not line.startswith("no display found")]
    if expected is not None:
        assert "\n".join(lines).strip() == expected.strip(), "README output differs from what the code prints"
    if "render(" in source:
        assert picture_size > 1000


OPTIONAL = ("graphviz", "PIL", "matplotlib", "tqdm", "numpy", "torch", "sklearn", "IPython")


def test_the_first_quickstart_needs_only_the_core():
    """`pip install .` installs no extra: the first block a newcomer runs imports none and prints its
    output."""
    source, expected = BLOCKS[0]
    check = f"import sys\n{source}\nprint(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=True)
    *printed, optional_imported = result.stdout.strip().splitlines()
    assert optional_imported == "[]"
    assert "\n".join(printed).strip() == expected.strip()


def _test_command(page: Path) -> str:
    """The bash block of ``page`` that ends in ``python -m pytest -q``: the one command that runs the
    tests."""
    blocks = [m.group(2) for m in FENCE.finditer(page.read_text(encoding="utf-8")) if m.group(1) == "bash"]
    commands = [block for block in blocks if block.rstrip().endswith("python -m pytest -q")]
    assert len(commands) == 1, f"{page.name} gives {len(commands)} test commands"
    return commands[0]


def test_contributing_gives_the_readmes_test_command():
    assert _test_command(CONTRIBUTING) == _test_command(README)


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) in Markdown


def _anchors(page: Path) -> set:
    """The anchors GitHub makes for the headings of a Markdown page (outside code blocks)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", [README, CONTRIBUTING], ids=lambda page: page.name)
def test_links_lead_to_files_and_headings(page):
    """Every relative link of the README and CONTRIBUTING.md names a file of the repository and, with
    ``#anchor``, a heading of that Markdown file, as GitHub shows them."""
    links = LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))
    assert links
    dead = []
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # https://..., mailto:...
        path, _, anchor = link.partition("#")
        target = (page.parent / unquote(path)) if path else page
        if not target.is_file():
            dead.append(f"{link} (no such file)")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            dead.append(f"{link} (no such heading)")
    assert dead == [], f"{page.name}: links that lead nowhere: {dead}"
