"""scalargrad.walk: the one graph walk above the engine (reading order), and the leaves nodes read."""

import random

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.extend import reading_order as public_reading_order
from scalargrad.walk import leaves_read_by, put_first, reading_order


def _named(*names):
    return [Scalar(float(i + 1), name=n) for i, n in enumerate(names)]


def test_a_formula_is_walked_as_it_reads():
    x0, w0, x1, w1, b = _named("x0", "w0", "x1", "w1", "b")
    f = x0 * w0 + x1 * w1 + b
    assert [v.name or v.op for v in reading_order(f)] == ["x0", "w0", "*", "x1", "w1", "*", "+", "b", "+"]
    assert reading_order(f)[-1] is f


def test_each_value_once_and_after_its_inputs():
    rng = random.Random(0)
    values = _named("a", "b", "c")
    for _ in range(200):  # sub-expressions shared at random
        x, y = rng.choice(values), rng.choice(values[-10:])
        values.append(x * y if rng.random() < 0.5 else x + y)
    root = F.sum(values[-20:])
    order = reading_order(root)
    assert len(order) == len({id(v) for v in order})
    place = {id(v): i for i, v in enumerate(order)}
    assert all(place[id(p)] < place[id(v)] for v in order for p in v.parents)
    below, stack = set(), [root]  # every value below the root is there
    while stack:
        for p in stack.pop().parents:
            if id(p) not in below:
                below.add(id(p))
                stack.append(p)
    assert below | {id(root)} == set(place)


def test_a_leaf_is_its_own_walk():
    x = Scalar(1.0)
    assert reading_order(x) == [x]


def test_a_deep_chain_needs_no_recursion():
    x = Scalar(0.0)
    y = x
    for _ in range(50_000):
        y = y + 1.0
    order = reading_order(y)
    assert len(order) == 50_001 and order[0] is x and order[-1] is y


def test_the_leaves_nodes_read_come_in_the_order_they_read_them():
    a, b, c = _named("a", "b", "c")
    first = b * c
    second = a + first
    assert [v.name for v in leaves_read_by([first, second])] == ["b", "c", "a"]
    assert [v.name for v in leaves_read_by([first, second], skip=[c])] == ["b", "a"]


def test_put_first_moves_the_leaves_asked_for_to_the_front_in_that_order():
    a, b, c, d, stranger = _named("a", "b", "c", "d", "stranger")
    # a stranger to the leaves is left out, a leaf asked for twice comes once, the rest keep their order
    assert [v.name for v in put_first([a, b, c, d], [c, stranger, a, c])] == ["c", "a", "b", "d"]
    assert [v.name for v in put_first([a, b, c], [])] == ["a", "b", "c"]


def test_the_walk_is_public_in_extend():
    assert public_reading_order is reading_order
