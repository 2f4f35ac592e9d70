"""The micrograd lecture's backward pass by hand, on ``scalargrad.compat.micrograd.Value``.

The lecture sets ``o.grad = 1.0`` and calls ``_backward()`` on one node after another, then does the same
in a loop over the graph's topological order. The reference is ``LectureValue`` below, micrograd's
semantics restated in a few lines (each op's result keeps a closure that adds its ``grad`` times the local
derivative into its inputs' ``grad`` with ``+=``, reading ``.data`` when it runs), and micrograd 0.1.0
itself where it is installed; every gradient of every node is compared after every single step. The
leaves' gradients are checked against torch float64, and ``backward()`` against the hand-stepped numbers.
"""

from __future__ import annotations

import gc
import importlib.util
import itertools
import math
import weakref

import pytest
import torch

from scalargrad.compat.micrograd import Value

REL_TOL = 1e-12


class LectureValue:
    """micrograd's ``Value`` as the lecture builds it: the reference for ``_backward``."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data, self.grad, self.label = data, 0.0, label
        self._prev, self._op = set(_children), _op
        self._backward = lambda: None  # a leaf passes nothing on

    def _result(self, data, children, op, contributions):
        """The op's output; its ``_backward`` adds ``out.grad`` times each local derivative (computed when
        it runs, from ``contributions(out)``) into the matching input."""
        out = LectureValue(data, children, op)

        def _backward():
            for child, local in zip(children, contributions(out)):
                child.grad += local * out.grad
        out._backward = _backward
        return out

    @staticmethod
    def _lift(x):
        return x if isinstance(x, LectureValue) else LectureValue(x)

    def __add__(self, other):
        other = self._lift(other)
        return self._result(self.data + other.data, (self, other), "+", lambda out: (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._result(self.data * other.data, (self, other), "*", lambda out: (other.data, self.data))

    def __pow__(self, k):
        return self._result(self.data**k, (self,), f"**{k}", lambda out: (k * self.data ** (k - 1),))

    def exp(self):
        return self._result(math.exp(self.data), (self,), "exp", lambda out: (out.data,))

    def tanh(self):
        t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)  # kept from build time
        return self._result(t, (self,), "tanh", lambda out: (1 - t**2,))

    def relu(self):
        data = 0.0 if self.data < 0 else self.data
        return self._result(data, (self,), "ReLU", lambda out: (float(out.data > 0),))

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return other + (-self)

    def __rtruediv__(self, other):
        return other * self**-1


def micrograd_value():
    """micrograd 0.1.0's Value from PyPI, or a skip (it is not a dependency)."""
    if importlib.util.find_spec("micrograd") is None:
        pytest.skip("micrograd is not installed")
    from micrograd.engine import Value as MicrogradValue
    return MicrogradValue


# ---- the expressions: leaves by name, then the graph (the same code runs on Values, LectureValues,
# micrograd's Values and torch tensors) ----------------------------------------------------------------

LECTURE_LEAVES = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def lecture_neuron(v):
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    return n.tanh()


def lecture_neuron_through_exp(v):
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    e = (2 * n).exp()
    return (e - 1) / (e + 1)


def micrograd_readme(v):
    a, b = v["a"], v["b"]
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    return f / 2.0 + 10.0 / f


CASES = {
    "lecture neuron": (LECTURE_LEAVES, lecture_neuron),
    "lecture neuron, tanh through exp": (LECTURE_LEAVES, lecture_neuron_through_exp),
    "a + a": ({"a": 3.0}, lambda v: v["a"] + v["a"]),
    "a * a * a": ({"a": -1.5}, lambda v: v["a"] * v["a"] * v["a"]),
    "a*b + a": ({"a": -2.0, "b": 3.0}, lambda v: v["a"] * v["b"] + v["a"]),
    "(a*b + a) * (a - b)": ({"a": 0.7, "b": -1.3}, lambda v: (v["a"] * v["b"] + v["a"]) * (v["a"] - v["b"])),
    "a - b": ({"a": 5.0, "b": 2.5}, lambda v: v["a"] - v["b"]),
    "-a * b": ({"a": 1.25, "b": -4.0}, lambda v: -v["a"] * v["b"]),
    "a / b": ({"a": 3.0, "b": -0.4}, lambda v: v["a"] / v["b"]),
    "a**3 + b**-2 + a**0.5": ({"a": 1.7, "b": -0.9}, lambda v: v["a"] ** 3 + v["b"] ** -2 + v["a"] ** 0.5),
    "2 - a": ({"a": 0.3}, lambda v: 2 - v["a"]),
    "3 / a + 1.5 * a": ({"a": -0.6}, lambda v: 3 / v["a"] + 1.5 * v["a"]),
    "1 + 2 * (a / 4.0 - 1)": ({"a": 2.2}, lambda v: 1 + 2 * (v["a"] / 4.0 - 1)),
    "relu, both sides of 0": ({"a": 1.5, "b": -2.0},
                              lambda v: (v["a"] * v["b"]).relu() + (v["a"] - v["b"]).relu() * v["a"]),
    "tanh(a*b) * exp(a)": ({"a": 0.4, "b": -1.1}, lambda v: (v["a"] * v["b"]).tanh() * v["a"].exp()),
    "micrograd's README": ({"a": -4.0, "b": 2.0}, micrograd_readme),
}


def build(make, case):
    """The case's leaves as ``make(x)``, and its output."""
    values, expression = CASES[case]
    leaves = {name: make(x) for name, x in values.items()}
    return leaves, expression(leaves)


# ---- walking and comparing graphs ------------------------------------------------------------------------

def build_topo(v, visited, topo):
    """The lecture's walk: depth first over ``_prev``, each node after its children."""
    if v not in visited:
        visited.add(v)
        for child in v._prev:
            build_topo(child, visited, topo)
        topo.append(v)


def lecture_topo(root):
    """The lecture's topological order of the graph of ``root``."""
    topo = []
    build_topo(root, set(), topo)
    return topo


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-300)


def same_graph(ours, theirs):
    """{our node: their node} for two graphs of the same shape (ops, values, children), or None.

    ``_prev`` is a set, so a node's children are paired in each order: a search over every pairing that
    backs up when a choice fails further on (two alike nodes, one of them used twice)."""
    def extend(pairs, mapping, taken):
        if not pairs:
            yield mapping
            return
        (a, b), rest = pairs[0], pairs[1:]
        if a in mapping:
            if mapping[a] is b:
                yield from extend(rest, mapping, taken)
            return
        if id(b) in taken or a._op != b._op or not close(a.data, b.data) or len(a._prev) != len(b._prev):
            return
        children = list(a._prev)
        for order in itertools.permutations(b._prev):
            yield from extend([*zip(children, order), *rest], {**mapping, a: b}, taken | {id(b)})
    return next(extend([(ours, theirs)], {}, frozenset()), None)


def grads_differ(mapping):
    """The (op, our grad, their grad) of every node whose gradients differ."""
    return [(a._op, a.grad, b.grad) for a, b in mapping.items() if not close(a.grad, b.grad)]


def step_by_hand_beside(case, make_reference):
    """Build the case with Value and with the reference, step both by hand in the lecture's order with a
    comparison after every step; our leaves, our output and the mapping of our nodes to theirs."""
    leaves, out = build(Value, case)
    _, expected = build(make_reference, case)
    mapping = same_graph(out, expected)
    assert mapping is not None, "not the graph micrograd builds"
    out.grad = expected.grad = 1.0
    topo = lecture_topo(out)
    assert len(topo) == len(mapping)
    for step, node in enumerate(reversed(topo)):
        node._backward()
        mapping[node]._backward()
        assert grads_differ(mapping) == [], f"{case}: after step {step} ({node._op})"
    return leaves, out, mapping


# ---- the lecture's steps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_each_backward_step_gives_the_lecture_numbers(case):
    step_by_hand_beside(case, LectureValue)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_backward_step_gives_micrograd_numbers(case):
    micrograd = micrograd_value()
    try:
        build(micrograd, case)
    except AttributeError:
        pytest.skip("micrograd 0.1.0 has no tanh or exp (the lecture adds them)")
    step_by_hand_beside(case, micrograd)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_stepped_gradients_match_torch(case):
    leaves, out = build(Value, case)
    out.grad = 1.0
    for node in reversed(lecture_topo(out)):
        node._backward()
    tensors, expected = build(lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True), case)
    expected.backward()
    assert close(out.data, expected.item())
    for name, leaf in leaves.items():
        assert close(leaf.grad, tensors[name].grad.item()), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_gives_the_hand_stepped_numbers(case):
    """Stepping by hand, then zeroing every grad and calling backward(): the same numbers, every node."""
    _, out, mapping = step_by_hand_beside(case, LectureValue)
    by_hand = {node: node.grad for node in mapping}
    for node in mapping:
        node.grad = 0.0
    out.backward()
    assert [(node._op, node.grad, grad) for node, grad in by_hand.items() if not close(node.grad, grad)] == []


def test_the_lecture_steps_node_by_node():
    """The lecture's own sequence: name every node, seed o.grad, then _backward() on each in turn."""
    results = []
    for make in (Value, LectureValue):
        x1, x2 = make(2.0, label="x1"), make(0.0, label="x2")
        w1, w2 = make(-3.0, label="w1"), make(1.0, label="w2")
        b = make(6.8813735870195432, label="b")
        x1w1, x2w2 = x1 * w1, x2 * w2
        x1w1x2w2 = x1w1 + x2w2
        n = x1w1x2w2 + b
        o = n.tanh()
        nodes = [o, n, b, x1w1x2w2, x2w2, x1w1, x1, x2, w1, w2]
        o.grad = 1.0
        steps = [[v.grad for v in nodes]]
        for node in (o, n, b, x1w1x2w2, x2w2, x1w1):
            node._backward()
            steps.append([v.grad for v in nodes])
        results.append((o.data, steps))
    (data, steps), (expected_data, expected_steps) = results
    assert close(data, expected_data)
    for got, expected in zip(steps, expected_steps, strict=True):
        assert all(map(close, got, expected)), (got, expected)
    # what the lecture shows: o = tanh(n) = 1/sqrt(2), so n.grad = 1 - o**2 = 0.5; x_i.grad = w_i * 0.5
    assert close(data, math.sqrt(0.5))
    assert [round(g, 12) for g in steps[-1][1:]] == [0.5, 0.5, 0.5, 0.5, 0.5, -1.5, 0.5, 1.0, 0.0]


def test_a_leaf_passes_nothing_on():
    """A leaf's _backward(), a number turned leaf, and a Value made by hand with children: no change."""
    a, b = Value(2.0), Value(3.0)
    made = Value(5.0, (a, b), "+")
    constant = (a + 4)._prev - {a}
    for node in (a, made, *constant):
        node.grad = 7.0
        node._backward()
    assert (a.grad, b.grad, made.grad) == (7.0, 0.0, 7.0)


def test_each_call_adds_again_as_in_micrograd():
    """_backward() twice on the same node adds twice, the lecture's warning about +=."""
    got = []
    for make in (Value, LectureValue):
        a, b = make(1.5), make(-2.0)
        c = a * b
        c.grad = 2.0
        c._backward()
        c._backward()
        got.append((a.grad, b.grad))
    assert got[0] == got[1] == (2 * 2.0 * -2.0, 2 * 2.0 * 1.5)


def test_a_leaf_edited_by_hand_is_read_as_micrograd_reads_it():
    """_backward() reads the current data, as micrograd's closures do: edit leaves, step again."""
    def leaf_grads(make, edit):
        a, b = make(0.5), make(-1.5)
        out = (a * b + a**3).exp() - b / a
        if edit:
            a.data, b.data = -0.8, 2.5
        out.grad = 1.0
        for node in reversed(lecture_topo(out)):
            node._backward()
        return a.grad, b.grad

    edited, expected = leaf_grads(Value, edit=True), leaf_grads(LectureValue, edit=True)
    assert all(map(close, edited, expected)), (edited, expected)
    assert not any(map(close, edited, leaf_grads(Value, edit=False)))  # the edit changes every number


def test_the_hand_stepped_graph_is_freed_without_the_garbage_collector():
    """_backward is a method, not a closure over the output: stepping leaves no reference cycle behind."""
    gc.collect()
    gc.disable()
    try:
        leaves, out = build(Value, "lecture neuron, tanh through exp")
        out.grad = 1.0
        for node in reversed(lecture_topo(out)):
            node._backward()
        output_node = weakref.ref(out.scalar)
        del node, out
        assert output_node() is None
        assert leaves["w1"].grad != 0.0
    finally:
        gc.enable()


def test_the_graph_comparison_can_fail():
    """same_graph tells graphs apart (an op, a value, a shape), and finds the mapping a shared node needs."""
    _, a_minus_b = build(Value, "a - b")
    _, a_over_b = build(LectureValue, "a / b")
    _, other_values = build(LectureValue, "a - b")
    assert same_graph(a_minus_b, build(LectureValue, "a - b")[1]) is not None
    assert same_graph(a_minus_b, a_over_b) is None
    next(iter(other_values._prev)).data += 1.0
    assert same_graph(a_minus_b, other_values) is None

    def shared(make):  # u and v look alike, but u is used twice: only one mapping gives equal grads
        a = make(2.0)
        u, v = a * 2, a * 2
        return u * v + u

    ours, theirs = shared(Value), shared(LectureValue)
    mapping = same_graph(ours, theirs)
    ours.grad = theirs.grad = 1.0
    for node in reversed(lecture_topo(ours)):
        node._backward()
        mapping[node]._backward()
    assert grads_differ(mapping) == []


def test_where_an_edited_graph_differs_from_micrograd_as_documented():
    """Only once values no longer follow from each other: relu's rule reads its input (micrograd's closure
    its output), and tanh reads its output now (micrograd's closure kept it from build time)."""
    grads = []
    for make in (Value, LectureValue):
        x = make(2.0)
        r = x.relu()
        x.data = -1.0  # r.data is still 2.0
        r.grad = 1.0
        r._backward()
        n = make(0.3)
        t = n.tanh()
        t.data = 0.5
        t.grad = 1.0
        t._backward()
        grads.append((x.grad, n.grad))
    (relu_grad, tanh_grad), (micrograd_relu_grad, micrograd_tanh_grad) = grads
    assert (relu_grad, micrograd_relu_grad) == (0.0, 1.0)
    assert close(tanh_grad, 1 - 0.5**2) and close(micrograd_tanh_grad, 1 - math.tanh(0.3) ** 2)
