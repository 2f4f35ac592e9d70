"""The Playground page in a real browser: scalargrad under Pyodide in the built site, against CPython here.

The site is built once (test_docs_site.py's ``site``) and served on localhost (test_site_browser.py's
``site_url``); requests for anything but localhost are aborted (tests/browser.py), so Pyodide, Graphviz
and the scalargrad zip must all come from the site. Each check types or picks code, runs it in the page
and reads what a reader sees: the printed text, compared with what CPython prints for the same code in
this process; the picture ``render()`` draws; the explorable graph, stepped with its own Next button to
the gradients CPython computes; a traceback; the examples; Ctrl-Enter; Stop ending a run that loops.
Screenshots go to ``build/screenshots/playground-*.png`` (or ``$SCALARGRAD_SCREENSHOTS``), with the measured
load and run times in ``playground-timings.json`` there.

Needs the ``playwright`` package, Debian's ``chromium``, the docs' requirements, Graphviz's ``dot`` (the
site's own explorable pages) and ``npm ci`` (Pyodide and viz-js); skipped without the first ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import time

import pytest

from scalargrad import Scalar
from tests.browser import SCREENSHOTS, screenshot, shown_leaf_grads, step_to_the_end  # fixtures: conftest.py
from tests.train.test_docs_site import ROOT, site  # noqa: F401 (the fixture: the site built once)
from tests.train.test_site_browser import open_clean, site_url  # noqa: F401 (the fixture: the site served)

# Time limits, generous for a loaded CI machine. Measured here (2 cores): Python and Graphviz ready
# 3-5 s after the page is opened; a first Run of the quickstart about 0.2 s, a render about 0.4 s.
READY_SECONDS = 60
RUN_SECONDS = 30
STATE = ".sgp"  # its data-state: waiting, loading, ready, running, stopped or failed
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def open_playground(page, site_url) -> float:  # noqa: F811 (the fixture imported above)
    """Open the Playground with nothing going wrong, wait until Python is ready; the seconds it took."""
    started = time.perf_counter()
    open_clean(page, site_url + "playground.html")
    page.wait_for_selector(f"{STATE}[data-state=ready]", state="attached", timeout=READY_SECONDS * 1000)
    assert page.is_enabled(".sgp-run")
    assert page.inner_text(".sgp-status").startswith("Ready: Python 3.14")
    return time.perf_counter() - started


def wait_for_the_run(page) -> None:
    # run() says "running" before it yields to the browser, so once the click or key has been handled
    # the state is "running" until the run is over
    page.wait_for_function(f"document.querySelector('{STATE}').dataset.state === 'ready'",
                           timeout=RUN_SECONDS * 1000)


def run(page, code: str | None = None) -> float:
    """Put ``code`` in the editor (if given), press Run and wait for the run to end; its seconds."""
    if code is not None:
        page.fill(".sgp-editor", code)
    started = time.perf_counter()
    page.click(".sgp-run")
    wait_for_the_run(page)
    return time.perf_counter() - started


def picture(page, name: str) -> None:
    """A screenshot of the whole page, taken from its top (so the theme's sticky header stays there)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name, full_page=True)


def printed(page) -> list[tuple[str, str]]:
    """The output area's pieces, in order: (stdout, stderr or error, the text)."""
    return page.eval_on_selector(".sgp-output", """output => [...output.children].map(
        piece => [piece.className.replace('sgp-', ''), piece.textContent])""")


def printed_text(page) -> str:
    return "".join(text for _, text in printed(page))


def cpython_prints(code: str) -> str:
    """What ``code`` prints to stdout when CPython runs it here, in a namespace of its own."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        exec(compile(code, "<playground>", "exec"), {"__name__": "__main__"})  # noqa: S102 (the test's code)
    return captured.getvalue()


def assert_same_printout(shown: str, expected: str) -> None:
    """The same lines; numbers may differ in their last digits (Python 3.14's ``sum`` compensates)."""
    shown_lines, expected_lines = shown.splitlines(), expected.splitlines()
    assert len(shown_lines) == len(expected_lines), (shown, expected)
    for got, want in zip(shown_lines, expected_lines):
        if got == want:
            continue
        assert NUMBER.sub("#", got) == NUMBER.sub("#", want), (got, want)
        for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
            assert math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-15), (got, want)


def without_carets(traceback: str) -> list[str]:
    """A traceback's lines without the ~~~^^^ lines under the code (their extent varies between versions)."""
    return [line for line in traceback.splitlines() if not re.fullmatch(r" *[~^]+ *", line)]


def assert_nothing_went_wrong(page) -> None:
    assert page.errors == [], "console errors"
    assert page.blocked == [], "the page asked for the web"
    assert page.failed == [], "failed requests"


def readme_quickstart() -> str:
    """The README's first Python block that builds f = x0*w0 + x1*w1 + b and calls backward()."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    return next(block for block in blocks if "(x0 * w0) + (x1 * w1) + b" in block and "f.backward()" in block)


def test_the_quickstart_runs_and_prints_what_cpython_prints(page, site_url):  # noqa: F811
    """The page opens with the README's quickstart, word for word; Run prints what CPython prints."""
    ready = open_playground(page, site_url)
    code = page.input_value(".sgp-editor")
    assert code == readme_quickstart()
    first_run = run(page)
    assert [kind for kind, _ in printed(page)] == ["stdout"] * 3
    assert_same_printout(printed_text(page), cpython_prints(code))
    assert printed_text(page) == "forward: 0.61\ndf/dw0: 0.1\ndf/dw1: 0.2\n"  # the README's Output
    assert re.fullmatch(r"Ran in \d+\.\d\d s", page.inner_text(".sgp-status"))
    assert ready < READY_SECONDS and first_run < RUN_SECONDS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    timings = {"open_to_ready_seconds": round(ready, 2), "first_run_seconds": round(first_run, 2),
               "page_status": page.inner_text(".sgp-status")}
    (SCREENSHOTS / "playground-timings.json").write_text(json.dumps(timings, indent=2) + "\n",
                                                         encoding="utf-8")
    print(f"\nPlayground: ready {ready:.2f} s after opening, first Run {first_run:.2f} s")
    assert_nothing_went_wrong(page)
    picture(page, "playground-quickstart")


def test_render_draws_the_graph_beside_the_output(page, site_url):  # noqa: F811
    """``f.render()`` puts Graphviz's SVG in the graph panel: one picture, with the graph's names."""
    open_playground(page, site_url)
    run(page, readme_quickstart() + "f.render()\n")
    assert printed_text(page) == "forward: 0.61\ndf/dw0: 0.1\ndf/dw1: 0.2\n"
    pictures = page.locator(".sgp-graphs .sgp-picture svg")
    assert pictures.count() == 1 and page.locator(".sgp-graphs iframe").count() == 0
    labels = pictures.first.locator("text").all_text_contents()
    assert {"x0", "x1", "w0", "w1", "b"} <= set(labels)
    assert sum(label.startswith("grad") for label in labels) == 9  # 5 leaves, 4 ops: every box's gradient
    assert pictures.first.bounding_box()["width"] > 300
    assert_nothing_went_wrong(page)
    picture(page, "playground-render")


EXPRESSION = """from scalargrad import Scalar
a = Scalar(1.5, name='a'); b = Scalar(-2.0, name='b'); c = (a * b + a).tanh(); c.render('c.html')
"""


def test_the_explorable_graph_steps_to_cpythons_gradients(page, site_url):  # noqa: F811
    """``render('c.html')`` shows the explorable graph in a frame; its Next steps through the forward and
    backward passes to the leaves' gradients CPython computes, and Previous steps back."""
    open_playground(page, site_url)
    run(page, EXPRESSION)
    assert printed(page) == []
    frames = page.locator(".sgp-graphs iframe.sgp-explorer")
    assert frames.count() == 1
    frame = frames.first.element_handle().content_frame()
    frame.wait_for_selector(".sgx-next")
    titles = step_to_the_end(frame)
    assert titles[0] == "The graph of output: 2 leaves, 3 ops" and titles[-1].startswith("Done")
    assert len([title for title in titles if title.startswith("Forward")]) == 3
    assert len([title for title in titles if title.startswith("Backward ")]) == 3
    a, b = Scalar(1.5, name="a"), Scalar(-2.0, name="b")
    c = (a * b + a).tanh()
    c.backward()
    shown = shown_leaf_grads(frame)
    assert shown.keys() == {"a", "b"}
    for leaf in (a, b):
        assert math.isclose(float(shown[leaf.name]), leaf.grad, rel_tol=1e-12), (shown, leaf.grad)
    frame.click(".sgx-prev")
    assert frame.inner_text(".sgx-title") == titles[-2]
    frame.click(".sgx-next")
    assert_nothing_went_wrong(page)
    picture(page, "playground-explorable")


FAILING = """import sys
print('before the error')
print('a note on stderr', file=sys.stderr)
from scalargrad import Scalar
Scalar(1.0) + 'x'
"""


def test_an_error_shows_pythons_traceback_and_the_page_stays_usable(page, site_url):  # noqa: F811
    """A failing snippet: what it printed first (stdout and stderr, in order), then the traceback with the
    exception CPython raises for the same code, in the error style; a good snippet then runs as usual."""
    open_playground(page, site_url)
    run(page, FAILING)
    with pytest.raises(TypeError) as raised:
        cpython_prints(FAILING)
    expected_error = f"{raised.type.__name__}: {raised.value}"
    pieces = printed(page)
    assert [kind for kind, _ in pieces] == ["stdout", "stderr", "error"]
    assert pieces[0][1] == "before the error\n" and pieces[1][1] == "a note on stderr\n"
    traceback = without_carets(pieces[2][1])
    assert traceback == ["Traceback (most recent call last):",  # Pyodide's own frames are left out
                         '  File "playground.py", line 5, in <module>',
                         "    Scalar(1.0) + 'x'",  # the line that failed, as typed
                         expected_error]
    assert expected_error == "TypeError: unsupported operand type(s) for +: 'Scalar' and 'str'"
    colours = page.eval_on_selector(".sgp-output", """output => Object.fromEntries([...output.children].map(
        piece => [piece.className, getComputedStyle(piece).color]))""")
    assert colours["sgp-error"] != colours["sgp-stdout"]
    red, green, blue = map(int, re.findall(r"\d+", colours["sgp-error"])[:3])
    assert red > 150 and red > 3 * green and red > 3 * blue, colours
    assert page.inner_text(".sgp-status").startswith("Failed in")
    picture(page, "playground-error")

    assert page.is_enabled(".sgp-run")
    run(page, "print(6 * 7)\n")
    assert printed(page) == [["stdout", "42\n"]]
    assert page.inner_text(".sgp-status").startswith("Ran in")
    run(page, "def twice():\n    1 / 0\ntwice()\n")
    assert without_carets(printed_text(page)) == [
        "Traceback (most recent call last):",
        '  File "playground.py", line 3, in <module>', "    twice()",
        '  File "playground.py", line 2, in twice', "    1 / 0",
        "ZeroDivisionError: division by zero"]
    assert_nothing_went_wrong(page)


def test_each_run_starts_afresh(page, site_url):  # noqa: F811
    """A run leaves no names, no output and no picture to the next one, and a last line without a
    newline is shown."""
    open_playground(page, site_url)
    run(page, "secret = 42\nprint('first run')\n" + EXPRESSION + "c.render()\n")
    assert page.locator(".sgp-graphs > *").count() == 2  # the explorable graph, then the picture
    run(page, "print('secret' in globals(), __name__)\nprint('no newline', end='')\n")
    assert printed_text(page) == "False __main__\nno newline\n"
    assert page.locator(".sgp-graphs > *").count() == 0
    assert_nothing_went_wrong(page)


def without_pictures(code: str) -> str:
    """``code`` without its render() and explore_graph() calls: CPython here has no page to show them in."""
    return "".join(line for line in code.splitlines(keepends=True)
                   if not re.match(r"\s*[^#]*(\.render\(|explore_graph\()", line) or line.startswith("from "))


# The examples, in the order the page lists them: (the first words of the title, what they show)
EXAMPLES = [("Quickstart", None), ("A neuron", "svg"), ("The micrograd lecture", "iframe"),
            ("A new op with defop", "svg")]


def test_every_example_runs_and_prints_what_cpython_prints(page, site_url):  # noqa: F811
    """Each example picked from the list goes into the editor, runs with no error, prints what CPython prints
    for it and shows its graph; the defop example's gradient is 3 x**2, checked by gradcheck."""
    open_playground(page, site_url)
    options = page.locator(".sgp-examples option").all_text_contents()
    assert len(options) == len(EXAMPLES)
    for index, ((title, shows), option) in enumerate(zip(EXAMPLES, options)):
        assert option.startswith(title)
        page.select_option(".sgp-examples", index=index)
        code = page.input_value(".sgp-editor")
        run(page)
        assert page.inner_text(".sgp-status").startswith("Ran in"), printed_text(page)
        assert {kind for kind, _ in printed(page)} == {"stdout"}
        expected = cpython_prints(without_pictures(code))
        assert_same_printout(printed_text(page), expected)
        graphs = page.locator(".sgp-graphs > *")
        if shows is None:
            assert graphs.count() == 0
        else:
            assert graphs.count() == 1
            tag = graphs.first.evaluate("element => element.tagName.toLowerCase()")
            assert tag == ("iframe" if shows == "iframe" else "div")
            if shows == "svg":
                assert graphs.first.locator("svg").count() == 1
        if title.startswith("A new op"):
            assert expected == "cube(1.5) = 3.375, dy/dx = 6.75\ngradcheck: True\n"
            assert "cube" in graphs.first.locator("svg text").all_text_contents()
        if title.startswith("The micrograd"):
            assert expected.splitlines()[-1] == "x1: -1.5000, w1: 1.0000, x2: 0.5000, w2: 0.0000"
            graphs.first.element_handle().content_frame().wait_for_selector(".sgx-next")
        picture(page, f"playground-example-{index + 1}")
    assert_nothing_went_wrong(page)


def test_ctrl_enter_runs_and_tab_indents(page, site_url):  # noqa: F811
    """Typed into the editor: Tab indents by four spaces, Ctrl-Enter runs the code (adding no line)."""
    open_playground(page, site_url)
    page.fill(".sgp-editor", "")
    page.click(".sgp-editor")
    page.keyboard.type("for i in range(3):\n")
    page.keyboard.press("Tab")
    page.keyboard.type("print(i, i * i)")
    code = page.input_value(".sgp-editor")
    assert code == "for i in range(3):\n    print(i, i * i)"
    page.keyboard.press("Control+Enter")
    wait_for_the_run(page)
    assert page.input_value(".sgp-editor") == code
    assert printed_text(page) == cpython_prints(code) == "0 0\n1 1\n2 4\n"
    assert_nothing_went_wrong(page)
    picture(page, "playground-ctrl-enter")


def python_workers(page) -> list[str]:
    """The Playground's Web Workers alive in the page (Playwright forgets one once it is terminated)."""
    return [worker.url for worker in page.workers if worker.url.endswith("/playground-worker.js")]


def test_stop_ends_a_run_that_never_ends_and_the_page_stays_responsive(page, site_url):  # noqa: F811
    """A run that prints and then loops for ever: what it printed shows at once, the page answers while
    it runs, Stop (enabled only then) ends it, and the next Run, in a fresh Python, prints what CPython
    prints."""
    open_playground(page, site_url)
    assert not page.is_enabled(".sgp-stop")
    page.fill(".sgp-editor", "print('before')\nwhile True: pass\n")
    page.click(".sgp-run")
    # printed before the loop began: the line is in the page while the code still runs
    page.wait_for_function("document.querySelector('.sgp-output').textContent === 'before\\n'",
                           timeout=RUN_SECONDS * 1000)
    assert printed(page) == [["stdout", "before\n"]]
    assert page.get_attribute(STATE, "data-state") == "running"
    started = time.perf_counter()
    assert page.evaluate("1 + 1") == 2
    assert time.perf_counter() - started < 1, "the page did not answer while the code ran"
    assert page.is_enabled(".sgp-stop") and not page.is_enabled(".sgp-run")
    time.sleep(0.5)
    assert page.get_attribute(STATE, "data-state") == "running"  # the loop really does not end
    assert len(python_workers(page)) == 1
    page.click(".sgp-stop")
    assert page.get_attribute(STATE, "data-state") == "stopped"
    # the looping worker is gone (not left spinning), and a fresh one has taken its place
    deadline = time.perf_counter() + 10
    while len(python_workers(page)) != 1 and time.perf_counter() < deadline:
        page.wait_for_timeout(100)
    assert len(python_workers(page)) == 1, python_workers(page)
    assert page.inner_text(".sgp-status").startswith("Stopped after")
    assert printed(page) == [["stdout", "before\n"]]
    assert not page.is_enabled(".sgp-stop")
    code = readme_quickstart()
    run(page, code)  # waits for the fresh Python if it is still loading
    assert page.inner_text(".sgp-status").startswith("Ran in"), printed_text(page)
    assert_same_printout(printed_text(page), cpython_prints(code))
    assert not page.is_enabled(".sgp-stop") and page.is_enabled(".sgp-run")
    assert_nothing_went_wrong(page)
    picture(page, "playground-stopped-then-run")


def test_a_python_that_cannot_load_is_said_in_the_page(page, site_url):  # noqa: F811
    """When a file Python needs is missing (here the scalargrad zip, answered with 404), the page says that
    Python could not be loaded, and why, and Run stays disabled."""
    page.route(site_url + "playground/scalargrad.zip", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(site_url + "playground.html")
    page.wait_for_selector(f"{STATE}[data-state=failed]", state="attached", timeout=READY_SECONDS * 1000)
    assert page.inner_text(".sgp-status") == "Python could not be loaded: see below."
    message = "The playground could not start Python in this page: Error: scalargrad.zip: HTTP 404\n"
    assert printed(page) == [["error", message]]
    assert not page.is_enabled(".sgp-run")
    page.focus(".sgp-editor")
    page.keyboard.press("Control+Enter")  # nothing to run with: nothing happens
    assert page.get_attribute(STATE, "data-state") == "failed"
    assert page.blocked == [] and any("scalargrad.zip" in failure for failure in page.failed)
    picture(page, "playground-load-failure")
