"""The "Watch it learn" page in a real browser: scalargrad trains in a Web Worker and the page draws it.

The site is built and served as in test_site_browser.py; requests for anything but localhost are
aborted, the worker's included. Each check drives the page as a reader would (choose settings, press
Train or Stop) and compares what it shows with what CPython computes here: the script the page shows
is run with ``python script.py`` and must print the lines the page printed, and the decision boundary
the page drew must be the one CPython's trained model gives on the same grid. The page must stay
responsive while Python trains, and Stop must end the training for good.

Time limits: Python (Pyodide) loads in ~3 s here and has LOAD_LIMIT; the default run (moons, 300
steps) trains in ~2-3 s in the browser and has TRAIN_LIMIT; a short run (100 steps) has SHORT_LIMIT.
The measured times go to ``build/screenshots/learn-timings.json``, the pictures to ``learn-*.png``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser import SCREENSHOTS, screenshot  # fixtures: conftest.py
from tests.train.test_docs_site import site  # noqa: F401 (the fixture site_url needs)
from tests.train.test_site_browser import open_clean, site_url  # noqa: F401 (the fixture: the site served)

ROOT = Path(__file__).resolve().parents[2]
LOAD_LIMIT = 60_000  # ms for Python and scalargrad to load in the worker (~3 s here)
TRAIN_LIMIT = 120_000  # ms for the default run, moons for 300 steps (~3 s here)
SHORT_LIMIT = 60_000  # ms for a run of 100 steps
CPYTHON_LIMIT = 120  # s for the same script in CPython (~1.5 s here)
PROGRESS = re.compile(r"^step (\d+): loss (\S+), accuracy (\S+)$")
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44)]  # learn.js's class colours
TIMINGS = {}  # what test_moons_train_... measured, written to learn-timings.json


def open_learn(tab, url: str) -> None:
    """Open the page and wait until Python is ready in its worker."""
    open_clean(tab, url + "watch-it-learn.html")
    tab.wait_for_function("document.getElementById('learn-status').textContent === 'Ready'",
                          timeout=LOAD_LIMIT)
    assert tab.is_enabled("#learn-train")


def choose(tab, **settings) -> None:
    """Set the page's settings by their form names: dataset, layers, width, activation, lr, ..."""
    for name, value in settings.items():
        tab.select_option(f"#learn-settings [name={name}]", str(value))


def show_the_pictures(tab) -> None:
    """Scroll the buttons to the top of the window (under the header), the pictures below them."""
    tab.evaluate("document.querySelector('.learn-actions').scrollIntoView(); scrollBy(0, -70)")
    tab.wait_for_timeout(500)  # the header's title changes with the scroll, in an animation


def status(tab) -> str:
    return tab.inner_text("#learn-status")


def train_to_the_end(tab, limit: int) -> float:
    """Press Train and wait until the status says Done; the seconds it took, seen from here."""
    start = time.perf_counter()
    tab.click("#learn-train")
    tab.wait_for_function("/^(Done|The script failed)/.test(document.getElementById('learn-status')"
                          ".textContent)", timeout=limit)
    assert status(tab).startswith("Done: accuracy"), tab.inner_text("#learn-output")
    return time.perf_counter() - start


def printed(tab) -> list[str]:
    return tab.inner_text("#learn-output").splitlines()


def progress(lines: list[str]) -> list[tuple[int, float, float]]:
    """(step, loss, accuracy) of each progress line; every line printed must be one."""
    found = [PROGRESS.match(line) for line in lines]
    assert lines and all(found), lines
    return [(int(m[1]), float(m[2]), float(m[3])) for m in found]


def assert_same_run(page_lines: list[str], cpython_lines: list[str]) -> None:
    """The page printed what CPython printed. The steps and the accuracies (counts over 200) must be
    equal; a loss may differ in its last printed digit, because Pyodide's Python 3.14 adds with a
    compensated sum() and an older CPython does not."""
    ours, theirs = progress(page_lines), progress(cpython_lines)
    assert [(s, a) for s, _, a in ours] == [(s, a) for s, _, a in theirs], (page_lines, cpython_lines)
    assert all(abs(x - y) <= 2e-4 for (_, x, _), (_, y, _) in zip(ours, theirs)), (page_lines, cpython_lines)


# Runs a script as `python script.py` does, timed, then the trained model's class of given points
RUN_AND_PREDICT = """
import json, runpy, sys, time
from scalargrad import no_grad
start = time.perf_counter()
namespace = runpy.run_path(sys.argv[1], run_name="__main__")
seconds = time.perf_counter() - start
cells = json.loads(sys.argv[2])
with no_grad():
    outputs = namespace["model"](cells)
classes = [max(range(len(out)), key=lambda c: out[c].data) for out in outputs]
print(json.dumps({"seconds": seconds, "classes": classes}), file=sys.stderr)
"""


def run_in_cpython(code: str, folder: Path, cells=()) -> tuple[list[str], dict]:
    """``code`` saved as script.py and run by this Python: its printed lines, and (for ``cells``, a list of
    points) the time it took and the class the trained model gives each point."""
    script = folder / "script.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cells:
        command = [sys.executable, "-c", RUN_AND_PREDICT, str(script), json.dumps(cells)]
    else:
        command = [sys.executable, "script.py"]  # exactly what the page tells a reader to run
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=CPYTHON_LIMIT, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), json.loads(done.stderr) if cells else {}


SHOWN_CELLS = """() => {
    const canvas = document.getElementById("learn-boundary");
    if (!canvas.dataset.grid) return null;  // no boundary drawn yet
    const grid = Number(canvas.dataset.grid);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const cells = [];
    for (let j = 0; j < grid; j++) for (let i = 0; i < grid; i++) {
        const x = Math.floor((i + 0.5) * canvas.width / grid);
        const y = Math.floor((j + 0.5) * canvas.height / grid);
        cells.push([...pixels.slice(4 * (y * canvas.width + x), 4 * (y * canvas.width + x) + 4)]);
    }
    return {grid, bounds: canvas.dataset.bounds.split(",").map(Number), cells};
}"""


def shown_boundary(tab) -> tuple[list[list[float]], list[int | None]]:
    """The boundary as drawn: the centre of each grid cell in the data's coordinates, and the class
    whose colour the canvas shows there (None where a data point covers it or nothing is drawn)."""
    shown = tab.evaluate(SHOWN_CELLS)
    assert shown is not None, "no boundary drawn"
    grid, (left, right, bottom, top) = shown["grid"], shown["bounds"]
    width, height = (right - left) / grid, (top - bottom) / grid
    centres = [[left + (i + 0.5) * width, top - (j + 0.5) * height] for j in range(grid) for i in range(grid)]
    classes = []
    for r, g, b, alpha in shown["cells"]:
        if not 40 <= alpha <= 120:  # a cell's light tint; a point is opaque, an empty canvas clear
            classes.append(None)
            continue
        distances = [(r - cr) ** 2 + (g - cg) ** 2 + (b - cb) ** 2 for cr, cg, cb in COLOURS]
        classes.append(distances.index(min(distances)))
    return centres, classes


def boundary_picture(tab) -> str:
    """A digest of the boundary canvas's pixels, as a PNG: equal digests, the same picture."""
    return hashlib.sha256(tab.evaluate("document.getElementById('learn-boundary').toDataURL()")
                          .encode()).hexdigest()


def test_moons_train_to_the_boundary_cpython_computes(page, site_url, tmp_path):  # noqa: F811
    """The default settings (moons, 2-16-16-2, relu, Adam): Train reaches accuracy >= 0.95 within
    TRAIN_LIMIT, the loss curve falls, and the final picture is CPython's: the same printed lines and
    the boundary of the same trained model."""
    start = time.perf_counter()
    open_learn(page, site_url)
    load_seconds = time.perf_counter() - start
    code = page.inner_text("#learn-code")
    page.click("#learn-train")
    page.wait_for_function("document.getElementById('learn-output').textContent.includes('step 0:')",
                           timeout=TRAIN_LIMIT)
    first_picture = boundary_picture(page)
    assert any(shown_boundary(page)[1]), "a boundary from the first progress line on"
    page.wait_for_function("/^(Done|The script failed)/.test(document.getElementById('learn-status')"
                           ".textContent)", timeout=TRAIN_LIMIT)
    wall_seconds = time.perf_counter() - start - load_seconds
    lines = printed(page)
    steps = progress(lines)
    final_accuracy = steps[-1][2]
    browser_seconds = float(page.get_attribute("#learn-status", "data-seconds"))
    done = re.fullmatch(r"Done: accuracy (\S+) in (\S+) s", status(page))
    assert done and done[1] == f"{final_accuracy:.3f}" and abs(float(done[2]) - browser_seconds) <= 0.051
    assert final_accuracy >= 0.95 and steps[-1][0] == 300
    assert steps[-1][1] < steps[0][1] / 5  # the loss fell
    assert int(page.get_attribute("#learn-curve", "data-points")) == len(steps) == 13
    # the curve is drawn: its red loss line and green accuracy line are on the canvas
    colours = page.evaluate("""() => { const c = document.getElementById('learn-curve');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let k = 0; k < d.length; k += 4) if (d[k + 3] === 255) seen.add(d.slice(k, k + 3).join(','));
        return [...seen]; }""")
    assert "214,39,40" in colours and "44,160,44" in colours
    final_picture = boundary_picture(page)
    assert final_picture != first_picture  # redrawn as the network learned

    centres, shown = shown_boundary(page)
    cpython_lines, cpython = run_in_cpython(code, tmp_path, centres)
    assert_same_run(lines, cpython_lines)
    assert cpython_lines[-1] == lines[-1]
    checked = [(ours, theirs) for ours, theirs in zip(shown, cpython["classes"]) if ours is not None]
    agree = sum(ours == theirs for ours, theirs in checked)
    assert len(checked) > 0.6 * len(shown)  # most cells are not covered by a point
    assert agree >= 0.99 * len(checked), f"{agree} of {len(checked)} cells show CPython's class"
    assert {0, 1} <= set(cpython["classes"])  # two regions, not one colour everywhere
    screenshot(page, "learn-moons-page", full_page=True)
    show_the_pictures(page)
    screenshot(page, "learn-moons-trained")
    view_seconds = float(page.get_attribute("#learn-status", "data-view-seconds"))
    TIMINGS.update({
        "script": "moons, 2-16-16-2 relu, Adam lr 0.01, batch 20, 300 steps",
        "python_load_s": round(load_seconds, 2),
        "browser_script_s": browser_seconds,
        "browser_boundary_pictures_s": view_seconds,
        "browser_training_s": round(browser_seconds - view_seconds, 3),
        "browser_click_to_done_s": round(wall_seconds, 2),
        "cpython_training_s": round(cpython["seconds"], 3),
        "cpython_version": sys.version.split()[0],
        "browser_over_cpython": round((browser_seconds - view_seconds) / cpython["seconds"], 2),
        "final_line_browser": lines[-1], "final_line_cpython": cpython_lines[-1],
    })
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "learn-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n", encoding="utf-8")
    assert page.errors == [] and page.blocked == [] and page.failed == []


def step_now(tab) -> int:
    """The step the last printed progress line reached (0 before any)."""
    lines = printed(tab)
    return progress(lines)[-1][0] if lines else 0


WORST_GAP = """() => new Promise(resolve => {
    let last = performance.now(), worst = 0;
    const timer = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last);
                                      last = now; }, 10);
    setTimeout(() => { clearInterval(timer); resolve(worst); }, 2000);
})"""


def test_the_page_stays_responsive_and_stop_ends_the_training(page, site_url):  # noqa: F811
    """While Python trains for 5000 steps, the page's own timers run on time and a click is answered;
    Stop ends the training (nothing more arrives) and a fresh Python is ready for the next Train."""
    open_learn(page, site_url)
    choose(page, steps=5000)
    page.click("#learn-train")
    page.wait_for_function("document.getElementById('learn-output').textContent.includes('step 25:')",
                           timeout=TRAIN_LIMIT)
    assert page.is_disabled("#learn-train") and page.is_disabled("#learn-settings [name=lr]")
    before, picture = step_now(page), boundary_picture(page)
    start = time.perf_counter()
    assert page.evaluate("1 + 1") == 2
    answered = time.perf_counter() - start
    worst_gap = page.evaluate(WORST_GAP)  # 2 s of a 10 ms timer on the page's thread
    page.click("#learn-copy")  # handled at once: its label changes
    page.wait_for_function("document.getElementById('learn-copy').textContent !== 'Copy'", timeout=2000)
    after = step_now(page)
    assert after > before, "the training went on meanwhile"
    assert boundary_picture(page) != picture, "the boundary is redrawn during the training"
    assert answered < 1.0 and worst_gap < 500, (answered, worst_gap)  # Python on this thread: seconds

    page.click("#learn-stop")
    stopped = status(page)
    assert re.fullmatch(r"Stopped at step \d+", stopped), stopped
    lines = printed(page)
    page.wait_for_timeout(3000)  # a 25-step progress line takes ~0.3 s: several would have come
    assert printed(page) == lines and status(page) == stopped, "progress after Stop"
    assert step_now(page) < 5000 and stopped == f"Stopped at step {step_now(page)}"
    assert page.is_disabled("#learn-stop") and page.is_enabled("#learn-settings [name=lr]")
    show_the_pictures(page)
    screenshot(page, "learn-stopped")

    page.wait_for_function("!document.getElementById('learn-train').disabled", timeout=LOAD_LIMIT)
    choose(page, steps=100)
    train_to_the_end(page, SHORT_LIMIT)
    assert [step for step, _, _ in progress(printed(page))] == [0, 25, 50, 75, 100]
    assert page.errors == [] and page.blocked == [] and page.failed == []


def test_the_code_shown_is_the_code_that_runs(page, site_url, tmp_path):  # noqa: F811
    """The settings are written into the code shown; the Copy button copies it; and that text, run by
    ``python script.py``, prints what the page printed when it trained with the same settings."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    open_learn(page, site_url)
    default = page.inner_text("#learn-code")
    assert "make_moons(n_samples=200" in default and "Adam(model.parameters(), lr=0.01)" in default
    assert default.count("activation='relu'") == 2 and "steps, batch_size = 300, 20" in default
    choose(page, lr=0.003)
    assert page.inner_text("#learn-code") == default.replace("lr=0.01", "lr=0.003")
    choose(page, dataset="circles", layers=3, width=8, activation="tanh", optimizer="sgd", lr=0.03,
           batch=10, steps=100)
    code = page.inner_text("#learn-code")
    assert code != default
    assert "from scalargrad.data import make_circles" in code and "make_circles(n_samples=200" in code
    assert re.findall(r"Linear\((\d+), (\d+), activation='tanh'\)", code) == [
        ("2", "8"), ("8", "8"), ("8", "8")]
    assert "Linear(8, classes)" in code
    assert "SGD(model.parameters(), lr=0.03, momentum=0.9)" in code and "Adam" not in code
    assert "steps, batch_size = 100, 10" in code
    page.click("#learn-copy")
    page.wait_for_function("document.getElementById('learn-copy').textContent === 'Copied'", timeout=5000)
    assert page.evaluate("navigator.clipboard.readText()") == code

    train_to_the_end(page, SHORT_LIMIT)
    assert page.inner_text("#learn-code") == code  # unchanged by the run
    cpython_lines, _ = run_in_cpython(code, tmp_path)
    assert len(cpython_lines) == 5 and cpython_lines[-1].startswith("step 100: loss ")
    assert_same_run(printed(page), cpython_lines)
    show_the_pictures(page)
    screenshot(page, "learn-code-circles")
    assert page.errors == [] and page.blocked == [] and page.failed == []


@pytest.mark.parametrize("dataset", ["circles", "spirals", "xnor"])
def test_each_data_set_trains(page, site_url, tmp_path, dataset):  # noqa: F811
    """Circles, spirals (3 classes) and XNOR train for 100 steps with the default network and print
    what CPython prints; the boundary shows as many classes as the data has."""
    open_learn(page, site_url)
    choose(page, dataset=dataset, steps=100)
    code = page.inner_text("#learn-code")
    train_to_the_end(page, SHORT_LIMIT)
    lines = printed(page)
    cpython_lines, _ = run_in_cpython(code, tmp_path)
    assert_same_run(lines, cpython_lines)
    _, shown = shown_boundary(page)
    classes = 3 if dataset == "spirals" else 2
    assert set(shown) - {None} <= set(range(classes)) and len(set(shown) - {None}) >= 2
    show_the_pictures(page)
    screenshot(page, f"learn-{dataset}")
    assert page.errors == [] and page.blocked == [] and page.failed == []


def test_a_python_that_does_not_load_is_said(page, site_url):  # noqa: F811
    """Without scalargrad.zip the status says Python did not load, and Train stays disabled."""
    page.route(site_url + "playground/scalargrad.zip", lambda route: route.abort())
    page.goto(site_url + "watch-it-learn.html")
    page.wait_for_function("document.getElementById('learn-status').textContent.startsWith('Python did')",
                           timeout=LOAD_LIMIT)
    assert "scalargrad.zip" in status(page) or "fetch" in status(page).lower()
    assert page.is_disabled("#learn-train")
