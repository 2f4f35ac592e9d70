"""``scalargrad.compat.micrograd``: micrograd's code runs with only its import changed, with micrograd's
numbers.

The references are micrograd 0.1.0 itself (installed from PyPI; the comparisons skip where it is
missing, as on PyPy) and torch float64 for the ops micrograd 0.1.0 lacks (``tanh``, ``exp``).
"""

from __future__ import annotations

import contextlib
import io
import math
import operator
import random

import pytest

from benchmarks.bench_compat import demo_training, native_training
from scalargrad import Scalar
from scalargrad.compat import micrograd as compat
from scalargrad.compat.micrograd import MLP, Layer, Module, Neuron, Value
from scalargrad.data import make_moons
from scalargrad.nn import Linear, Sequential

# micrograd's README example, word for word but for its import line.
README_EXAMPLE = """\
{import_line}

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{{g.data:.4f}}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{{a.grad:.4f}}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{{b.grad:.4f}}') # prints 645.5773, i.e. the numerical value of dg/db
"""
COMPAT_IMPORT = "from scalargrad.compat.micrograd import Value"
MICROGRAD_IMPORT = "from micrograd.engine import Value"
REL_TOL = 1e-12


def close(actual: float, expected: float, rel_tol: float = REL_TOL) -> bool:
    return math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=0.0)


def run_readme(import_line: str) -> tuple[str, dict]:
    """Run the README example with ``import_line``; its printed text and its variables."""
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        source = README_EXAMPLE.format(import_line=import_line)
        exec(compile(source, "README example", "exec"), namespace)  # noqa: S102
    return out.getvalue(), namespace


def micrograd():
    """micrograd's engine and nn modules, or a skip where it is not installed."""
    pytest.importorskip("micrograd")
    import micrograd.engine
    import micrograd.nn
    return micrograd.engine, micrograd.nn


# ---- micrograd's README example ------------------------------------------------

def test_readme_example_prints_what_micrograd_readme_says():
    printed, _ = run_readme(COMPAT_IMPORT)
    assert printed.split() == ["24.7041", "138.8338", "645.5773"]  # the numbers in micrograd's README


def test_readme_example_gives_micrograd_numbers():
    micrograd()
    printed, ours = run_readme(COMPAT_IMPORT)
    expected_printed, theirs = run_readme(MICROGRAD_IMPORT)
    assert printed == expected_printed
    assert ours["g"].data == theirs["g"].data  # the forward pass is the same float ops in the same order
    for name in "abcdefg":
        assert close(ours[name].data, theirs[name].data), name
        assert close(ours[name].grad, theirs[name].grad), name


def test_readme_example_matches_torch_float64():
    torch = pytest.importorskip("torch")
    _, ours = run_readme(COMPAT_IMPORT)
    a = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0 + 10.0 / f
    g.backward()
    assert close(ours["g"].data, g.item())
    assert close(ours["a"].grad, a.grad.item())
    assert close(ours["b"].grad, b.grad.item())


def test_lecture_neuron_with_tanh_and_exp_matches_torch():
    """The lecture's neuron (micrograd 0.1.0 has no tanh or exp): tanh directly and through exp."""
    torch = pytest.importorskip("torch")
    inputs = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}

    def neuron(values, through_exp):
        n = values["x1"] * values["w1"] + values["x2"] * values["w2"] + values["b"]
        if not through_exp:
            return n.tanh()
        e = (2 * n).exp()
        return (e - 1) / (e + 1)

    for through_exp in (False, True):
        ours = {name: Value(x, label=name) for name, x in inputs.items()}
        theirs = {name: torch.tensor(x, dtype=torch.float64, requires_grad=True)
                  for name, x in inputs.items()}
        o, t = neuron(ours, through_exp), neuron(theirs, through_exp)
        o.backward()
        t.backward()
        assert close(o.data, t.item())
        for name in inputs:
            assert close(ours[name].grad, theirs[name].grad.item(), 1e-9), (through_exp, name)


def test_micrograd_sanity_check_matches_micrograd_and_torch():
    """micrograd's own test_sanity_check expression: exactly micrograd's value and gradient."""
    engine, _ = micrograd()

    def expression(make):
        x = make(-4.0)
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return x, y

    x, y = expression(Value)
    x_ref, y_ref = expression(engine.Value)
    assert (y.data, x.grad) == (y_ref.data, x_ref.grad) == (-20.0, 46.0)


# ---- the graph micrograd's draw_dot reads -----------------------------------

def trace(root):
    """All nodes and edges below ``root``, as micrograd's trace_graph notebook collects them."""
    nodes, edges = set(), set()
    stack = [root]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    return nodes, edges


def graph_summary(root):
    """The traced graph as comparable data: each node (op, data, grad), each edge between two of them."""
    nodes, edges = trace(root)
    def key(v):
        return v._op, round(v.data, 12), round(v.grad, 12)
    return sorted(map(key, nodes)), sorted((key(a), key(b)) for a, b in edges)


def test_traced_graph_is_micrograd_graph():
    """The notebook's first example: the same nodes, ops, values, gradients and edges as micrograd's."""
    engine, _ = micrograd()

    def example(make):
        x = make(1.0)
        y = (x * 2 + 1).relu()
        y.backward()
        return y

    ours, theirs = graph_summary(example(Value)), graph_summary(example(engine.Value))
    assert ours == theirs
    assert [op for op, _, _ in ours[0]] == ["", "", "", "*", "+", "ReLU"]  # x, 2 and 1: leaves, as there


def test_traced_neuron_is_micrograd_neuron():
    """micrograd's README picture: a 2-D neuron, the same seed, the same graph."""
    engine, nn = micrograd()

    def neuron_graph(neuron_class, make):
        random.seed(1337)
        n = neuron_class(2)
        y = n([make(1.0), make(-2.0)])
        y.backward()
        return graph_summary(y)

    # nn is `from micrograd import nn`
    assert neuron_graph(compat.Neuron, compat.Value) == neuron_graph(nn.Neuron, engine.Value)


def test_draw_dot_from_the_notebook_runs():
    """The notebook's draw_dot, which reads _prev, _op, data and grad, makes one record per node."""
    graphviz = pytest.importorskip("graphviz")
    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    nodes, edges = trace(y)
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        dot.node(name=str(id(n)), label=f"{{ data {n.data:.4f} | grad {n.grad:.4f} }}", shape="record")
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    source = dot.source
    assert source.count("shape=record") == 6
    assert "{ data 3.0000 | grad 1.0000 }" in source and "{ data 1.0000 | grad 2.0000 }" in source
    assert 'label=ReLU' in source


# ---- Value's constructor, attributes and errors -----------------------------

def test_constructor_takes_micrograd_arguments():
    a, b = Value(2.0, (), ""), Value(3.0, label="b")
    c = Value(5.0, (a, b), "+", label="c")
    assert c._prev == {a, b} and c._op == "+" and c.label == "c" and b.label == "b" and a.label == ""
    assert isinstance(c.scalar, Scalar) and c.scalar.name == "c"
    assert a._prev == set() and a._op == ""


def test_hand_made_node_passes_no_gradient_as_in_micrograd():
    engine, _ = micrograd()
    for make in (Value, engine.Value):
        a, b = make(2.0), make(3.0)
        c = make(5.0, (a, b), "+")
        c.backward()
        assert (a.grad, b.grad, c.grad) == (0, 0, 1)


def test_parameter_update_and_zero_grad():
    p = Value(1.5)
    (p * p).backward()
    assert p.grad == 3.0
    p.data -= 0.1 * p.grad
    assert p.data == 1.5 - 0.1 * 3.0
    p.grad = 0
    assert p.grad == 0.0 and type(p.grad) is float
    (p * p).backward()
    (p * p).backward()  # leaves add up across calls: twice the gradient, not more
    assert close(p.grad, 2 * 2 * p.data)


def test_numpy_numbers_mix_as_in_the_demo():
    np = pytest.importorskip("numpy")
    score = Value(0.25)
    label = np.int64(-1)  # the demo's labels are numpy ints: y*2 - 1
    margin = (1 + -label * score).relu()
    assert isinstance(margin, Value) and margin.data == 1.25
    assert isinstance(Value(np.float64(0.5)).data, float)


def test_repr_is_micrograd_repr():
    engine, nn = micrograd()
    x, x_ref = Value(-4.0), engine.Value(-4.0)
    (x * x).backward()
    (x_ref * x_ref).backward()
    assert repr(x) == repr(x_ref) == "Value(data=-4.0, grad=-8.0)"
    random.seed(0)
    assert repr(MLP(2, [16, 16, 1])) == repr(nn.MLP(2, [16, 16, 1]))
    assert repr(Layer(3, 2, nonlin=False)) == "Layer of [LinearNeuron(3), LinearNeuron(3)]"


@pytest.mark.parametrize("make, error, words", [
    (lambda: Value(2.0) ** Value(3.0), TypeError, "exponent must be an int or float"),
    (lambda: Value(2.0) ** Scalar(3.0), TypeError, "x.scalar ** y.scalar"),
    (lambda: 2 ** Value(3.0), TypeError, "int ** Value: micrograd raises only Values to a power"),
    (lambda: Value("2"), TypeError, "Value data must be an int or float, got str"),
    (lambda: Value(Value(2.0)), TypeError, "got Value"),
    (lambda: Value(2.0, (1.0,)), TypeError, "children must be Values, got float"),
    (lambda: Value(2.0) + "a", TypeError, "'Value' and 'str'"),
    (lambda: Value(2.0) + Scalar(1.0), TypeError, "'Value' and 'Scalar'"),
    (lambda: setattr(Value(2.0), "data", "x"), TypeError, "Value data must be"),
    (lambda: Neuron(2)([1.0, 2.0, 3.0]), ValueError, "ReLUNeuron(2) takes 2 inputs, got 3"),
    (lambda: Neuron(0), ValueError, "nin must be a positive int"),
    (lambda: Layer(2, 1.5), TypeError, "nout must be an int"),
    (lambda: MLP(2, 16), TypeError, "nouts must be a non-empty list"),
])
def test_wrong_use_fails_clearly(make, error, words):
    with pytest.raises(error) as raised:
        make()
    assert words in str(raised.value)


# ---- Module, Neuron, Layer, MLP -------------------------------------------------

def test_layers_call_as_in_micrograd():
    random.seed(3)
    layer = Layer(2, 1)
    assert isinstance(layer([1.0, -2.0]), Value)  # one output: the Value itself
    assert len(Layer(2, 3)([Value(1.0), 2])) == 3  # Values and numbers mix as inputs
    narrow = MLP(2, [1, 1])  # a one-output layer feeds the next
    out = narrow((0.5, -0.5))
    assert isinstance(out, Value)
    assert isinstance(Module().parameters(), list) and Module().parameters() == []


def test_parameters_order_and_same_seed_gives_micrograd_weights():
    _, nn = micrograd()
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = nn.MLP(2, [16, 16, 1])
    assert len(ours.parameters()) == 337
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    first = ours.layers[0].neurons[0]
    assert first.parameters() == [*first.w, first.b]


def test_training_steps_match_micrograd():
    """Copy micrograd's initial weights into ours; three demo steps give its losses and weights."""
    engine, nn = micrograd()
    x, labels = make_moons(30, noise=0.1, seed=5)
    y = [2 * label - 1 for label in labels]
    random.seed(11)
    theirs = nn.MLP(2, [8, 8, 1])
    random.seed(99)
    ours = MLP(2, [8, 8, 1])
    for p, q in zip(ours.parameters(), theirs.parameters()):
        p.data = q.data
    expected = demo_training(engine.Value, theirs, x, y, 3)
    losses = demo_training(Value, ours, x, y, 3)
    assert all(close(a, b) for a, b in zip(losses, expected)), (losses, expected)
    assert all(close(p.data, q.data) for p, q in zip(ours.parameters(), theirs.parameters()))
    assert losses[2] < losses[0]


def test_demo_on_numpy_arrays_as_in_the_notebook():
    """The notebook feeds numpy rows and numpy int labels (sklearn's moons): the same steps as micrograd's."""
    np = pytest.importorskip("numpy")
    engine, nn = micrograd()
    points, labels = make_moons(30, noise=0.1, seed=1337)
    X, y = np.array(points), np.array(labels) * 2 - 1
    models = []
    for make in (MLP, nn.MLP):
        random.seed(1337)
        models.append(make(2, [8, 8, 1]))
    losses = demo_training(Value, models[0], X, y, 2)
    expected = demo_training(engine.Value, models[1], X, y, 2)
    assert all(close(a, b) for a, b in zip(losses, expected)), (losses, expected)
    assert all(close(p.data, q.data) for p, q in zip(models[0].parameters(), models[1].parameters()))


def test_to_scalargrad_is_the_same_network_and_trains_the_same():
    """MLP.to_scalargrad(): Linear layers with the same weights and outputs; two demo steps, the same losses
    and weights."""
    random.seed(21)
    model = MLP(2, [6, 4, 1])
    native = model.to_scalargrad()
    assert isinstance(native, Sequential) and all(isinstance(m, Linear) for m in native.modules)
    assert [m.activation for m in native.modules] == ["relu", "relu", "identity"]
    assert [p.data for p in native.parameters()] == [p.data for p in model.parameters()]

    x, labels = make_moons(20, noise=0.1, seed=2)
    y = [2 * label - 1 for label in labels]
    for row in x:
        assert close(native(row)[0].data, model(row).data)
    expected = demo_training(Value, model, x, y, 2)
    losses = native_training(native, x, y, 2)
    assert all(close(a, b) for a, b in zip(losses, expected)), (losses, expected)
    assert all(close(p.data, q.data) for p, q in zip(native.parameters(), model.parameters()))


# ---- a plain number on the left: the reflected operators ----------------------------------------

REFLECTED = {
    "2 + v": lambda v: 2 + v,
    "2 - v": lambda v: 2 - v,
    "0.1 - v": lambda v: 0.1 - v,
    "2 * v": lambda v: 2 * v,
    "2 / v": lambda v: 2 / v,
    "-3 / v": lambda v: -3 / v,
    "1.5 * v - 1 / v": lambda v: 1.5 * v - 1 / v,
    "(2 - v) * (3 / v) + (1 - v)**2": lambda v: (2 - v) * (3 / v) + (1 - v) ** 2,
}
REFLECTED_CASES = [(name, x) for name in REFLECTED for x in (5.0, -0.3, 0.7)]


@pytest.mark.parametrize(("name", "x"), REFLECTED_CASES)
def test_a_number_on_the_left_gives_micrograd_value_grad_and_graph(name, x):
    engine, _ = micrograd()
    results = []
    for make in (Value, engine.Value):
        v = make(x)
        y = REFLECTED[name](v)
        y.backward()
        results.append((y.data, v.grad, graph_summary(y)))
    (data, grad, graph), (expected_data, expected_grad, expected_graph) = results
    assert data == expected_data  # the same float ops in the same order
    assert close(grad, expected_grad)  # summed in another order: equal to rounding
    assert graph == expected_graph  # 2 - v is 2 + (v * -1), with 2 and -1 as leaves


@pytest.mark.parametrize(("name", "x"), REFLECTED_CASES)
def test_a_number_on_the_left_matches_torch(name, x):
    torch = pytest.importorskip("torch")
    v, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y, expected = REFLECTED[name](v), REFLECTED[name](t)
    y.backward()
    expected.backward()
    assert isinstance(y, Value)
    assert close(y.data, expected.item()) and close(v.grad, t.grad.item())


def test_number_minus_value_is_the_number_minus_its_data():
    v = Value(5)
    y = 2 - v
    y.backward()
    assert (y.data, v.grad) == (-3.0, -1.0)  # not 5 - 2: the operands keep their order


def test_a_number_to_a_value_power_is_refused_as_in_micrograd():
    engine, _ = micrograd()
    for make in (Value, engine.Value):
        with pytest.raises(TypeError):
            2 ** make(3.0)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv])
def test_numpy_numbers_on_the_left_work_as_plain_numbers(op):
    np = pytest.importorskip("numpy")
    results = []
    for number in (2.0, np.float64(2.0), np.int64(2)):
        v = Value(0.7)
        y = op(number, v)  # number.__sub__(v), then v.__rsub__(number)
        y.backward()
        assert isinstance(y, Value)
        results.append((y.data, v.grad))
    assert results[1] == results[2] == results[0]
