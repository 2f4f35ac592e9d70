"""The explorable graph in a real browser: headless Chromium driven by Playwright.

It steps through the page with the buttons and the arrow keys and reads what is on screen: the
panel's title at every step, and at the end each leaf's gradient in the panel and on its record,
which must be Python's. Screenshots go to ``build/screenshots/`` (or ``$SCALARGRAD_SCREENSHOTS``).

Needs the ``playwright`` package and Debian's ``chromium`` at /usr/bin/chromium (Playwright's own
browser downloads are not used: ``playwright install`` is never run); skipped without them.
"""

import pytest

from scalargrad import Scalar
from tests.browser import screenshot, shown_leaf_grads, step_to_the_end  # fixtures: conftest.py

pytestmark = pytest.mark.usefixtures("dot_program")


def linear():
    leaves = [Scalar(v, name=n) for n, v in (("x0", 0.1), ("x1", 0.2), ("w0", 0.3), ("w1", 0.4), ("b", 0.5))]
    x0, x1, w0, w1, b = leaves
    return leaves, (x0 * w0) + (x1 * w1) + b


def neuron():
    values = (("x0", 2.0), ("w0", -0.5), ("x1", 1.5), ("w1", 0.25), ("b", 0.3))
    leaves = [Scalar(v, name=n) for n, v in values]
    x0, w0, x1, w1, b = leaves
    return leaves, (x0 * w0 + x1 * w1 + b).tanh()


def record_texts(tab, node):
    """The texts of the record drawn for ``node`` in the picture."""
    record = tab.locator("svg g.node", has=tab.locator(f"title:text-is('{id(node)}')"))
    return record.locator("text").all_text_contents()


@pytest.mark.parametrize("build", [linear, neuron])
def test_next_steps_through_everything_and_shows_pythons_gradients(page, tmp_path, build):
    leaves, f = build()
    explorer = f.render(str(tmp_path / "graph.html"))
    f.backward()
    page.goto((tmp_path / "graph.html").as_uri())
    titles = step_to_the_end(page)
    assert titles == [step["title"] for step in explorer.steps]  # one step per click, in order
    grads = shown_leaf_grads(page)
    for leaf in leaves:
        assert float(grads[leaf.name]) == leaf.grad  # the panel: the full float, exactly Python's
        assert record_texts(page, leaf)[-1] == f"grad {leaf.grad:.4g}"  # the picture, as render() writes it
    assert record_texts(page, f)[-2:] == [f"data {f.data:.4g}", "grad 1"]
    assert page.errors == []
    screenshot(page, f"explore-{build.__name__}", full_page=True)


def test_arrow_keys_previous_and_reset(page, tmp_path):
    leaves, f = linear()
    explorer = f.render(str(tmp_path / "graph.html"))
    titles = [step["title"] for step in explorer.steps]
    page.goto((tmp_path / "graph.html").as_uri())
    for _ in range(len(titles) - 3):  # into the backward pass
        page.keyboard.press("ArrowRight")
    assert page.inner_text(".sgx-title") == titles[-3]
    current = page.locator("svg g.node.sgx-current title").all_text_contents()
    assert str(id(explorer_node(explorer, -3, leaves, f))) in current  # the op whose turn it is: highlighted
    page.keyboard.press("ArrowLeft")
    assert page.inner_text(".sgx-title") == titles[-4]
    page.click(".sgx-prev")
    assert page.inner_text(".sgx-title") == titles[-5]
    page.click(".sgx-reset")
    assert page.inner_text(".sgx-title") == titles[0] and not page.is_enabled(".sgx-prev")
    assert set(shown_leaf_grads(page).values()) == {"?"}  # nothing computed yet
    for _ in range(len(titles) + 5):  # past the end: it stays on the last step
        page.keyboard.press("ArrowRight")
    assert page.inner_text(".sgx-title") == titles[-1] and not page.is_enabled(".sgx-next")
    page.keyboard.press("Home")
    assert page.inner_text(".sgx-title") == titles[0]
    assert page.errors == []


def explorer_node(explorer, index, leaves, f):
    """The Scalar that step ``index`` of ``explorer`` highlights."""
    wanted = explorer.steps[index]["node"]
    stack, seen = [f], set()
    while stack:
        node = stack.pop()
        if str(id(node)) == wanted:
            return node
        seen.add(id(node))
        stack.extend(p for p in node.parents if id(p) not in seen)
    raise AssertionError(f"step {index} highlights no node of the graph")


INSERT_AS_JUPYTER_DOES = """fragments => {
    for (const source of fragments) {
        const host = document.createElement("div");
        document.body.appendChild(host);
        host.innerHTML = source;  // scripts set by innerHTML do not run: a trusted output's are made anew
        for (const old of host.querySelectorAll("script")) {
            const script = document.createElement("script");
            for (const attribute of old.attributes) script.setAttribute(attribute.name, attribute.value);
            script.textContent = old.textContent;
            old.parentNode.replaceChild(script, old);
        }
    }
}"""


def test_two_explorers_on_one_notebook_page_step_on_their_own(page, tmp_path):
    _, f = linear()
    _, y = neuron()
    first, second = f.render(str(tmp_path / "f.html")), y.render(str(tmp_path / "y.html"))
    page.set_content("<!DOCTYPE html><html><body></body></html>")
    page.evaluate(INSERT_AS_JUPYTER_DOES, [first._repr_html_(), second._repr_html_()])
    explorers = page.locator("div.sgx")
    assert explorers.count() == 2
    for _ in range(3):
        explorers.nth(1).locator(".sgx-next").click()
    assert explorers.nth(1).locator(".sgx-title").inner_text() == second.steps[3]["title"]
    assert explorers.nth(0).locator(".sgx-title").inner_text() == first.steps[0]["title"]
    page.keyboard.press("ArrowRight")  # the focus is in the second: the first stays
    explorers.nth(0).locator(".sgx-panel").click()  # a click on the first gives it the arrow keys
    page.keyboard.press("ArrowRight")
    assert explorers.nth(0).locator(".sgx-title").inner_text() == first.steps[1]["title"]
    assert explorers.nth(1).locator(".sgx-title").inner_text() == second.steps[4]["title"]
    assert page.errors == []


def test_zoom_shows_the_picture_at_its_own_size_and_back(page, tmp_path):
    _, f = neuron()
    f.render(str(tmp_path / "graph.html"))
    page.set_viewport_size({"width": 700, "height": 600})
    page.goto((tmp_path / "graph.html").as_uri())
    fitted = page.locator("svg").bounding_box()["width"]
    page.click(".sgx-zoom")
    natural = page.locator("svg").bounding_box()["width"]
    assert natural > fitted * 1.5  # the picture is wider than the window: zoomed, it scrolls
    page.click(".sgx-zoom")
    assert page.locator("svg").bounding_box()["width"] == fitted
    assert page.errors == []


CURRENT_AND_BOX = """root => {
    const box = root.querySelector(".sgx-graph"), marked = root.querySelectorAll("svg g.node.sgx-current");
    const rect = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const b = box.getBoundingClientRect();
    return {current: Array.from(marked, rect), scrollLeft: box.scrollLeft, scrollY: window.scrollY,
            box: [b.left + box.clientLeft, b.top + box.clientTop,
                  b.left + box.clientLeft + box.clientWidth, b.top + box.clientTop + box.clientHeight],
            window: [0, 0, window.innerWidth, window.innerHeight]};
}"""


def inside(inner, outer):
    return outer[0] - 0.5 <= inner[0] and outer[1] - 0.5 <= inner[1] and inner[2] <= outer[2] + 0.5 \
        and inner[3] <= outer[3] + 0.5


def test_after_zoom_next_scrolls_the_current_op_into_view(page, tmp_path):
    _, f = neuron()
    explorer = f.render(str(tmp_path / "graph.html"))
    page.set_viewport_size({"width": 700, "height": 600})
    page.goto((tmp_path / "graph.html").as_uri())
    explorer_element = page.locator("div.sgx")
    for _ in range(3):  # fitted to the width, stepping scrolls nothing
        page.click(".sgx-next")
        seen = explorer_element.evaluate(CURRENT_AND_BOX)
        assert seen["scrollLeft"] == 0 and seen["scrollY"] == 0
    page.click(".sgx-reset")
    page.click(".sgx-zoom")
    scrolled = []
    for k in range(1, len(explorer.steps)):
        page.click(".sgx-next")
        seen = explorer_element.evaluate(CURRENT_AND_BOX)
        assert len(seen["current"]) == (0 if explorer.steps[k]["node"] is None else
                                        1 if not explorer.steps[k]["inputs"] else 2)  # the record and its op
        for rect in seen["current"]:
            assert inside(rect, seen["box"]), (explorer.steps[k]["title"], seen)
            assert inside(rect, seen["window"]), (explorer.steps[k]["title"], seen)
        scrolled.append(seen["scrollLeft"])
    assert max(scrolled) > 0  # the picture is wider than its box: some ops were out of view until scrolled
    assert page.errors == []
    screenshot(page, "explore-zoomed-backward")
