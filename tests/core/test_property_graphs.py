"""Property-based tests: random expression graphs and random MLPs against PyTorch float64.

Hypothesis draws a random program of up to 50 ops over a few leaves: every
op of ``Scalar`` (``+ - * / **`` between Scalars and with plain numbers on
either side, unary minus, abs and the elementwise functions) and the list ops
of ``scalargrad.functional``, with operands picked among all earlier nodes so
sub-expressions are shared. The program runs once on Scalars and once on
float64 tensors; values and the gradient of every leaf must agree. A second
property draws MLPs (1-3 hidden layers of 1-12 units, any activation, a batch
of 1-8 samples, cross-entropy or MSE) and checks the loss and every parameter
gradient against ``model.to_torch()``.

Each op's operands are kept in its domain by guard ops that are part of the
program (``softplus(x) + 0.1`` before a log, ``x + 1`` before dividing by a
small ``x``, ``x + 0.5`` before a kink of abs/relu met near 0, ``x / 2**k``
when a value grows past 8), so torch runs exactly the same program, and
nothing overflows or lands on a point where the derivative jumps.

Settings come from the Hypothesis profiles in ``tests/conftest.py``: ``ci``
by default (a few hundred examples per property, derandomized, so every run
draws the same examples) and ``slow`` with ``pytest --slow`` (thousands).
"""

import math
import operator
from dataclasses import dataclass

import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

from scalargrad import functional as F
from scalargrad.nn import CrossEntropyLoss, Linear, MSELoss, Sequential
from scalargrad.scalar import Scalar
from tests.helpers import REL_TOL, same_float, tt

# Tolerance: the project's rel 1e-9 (helpers.REL_TOL) holds here too. But over up to 50 random ops, sums
# that cancel (x - y with x ~ y, softmax outputs added up) leave results tiny next to the terms they came
# from: the few roundings torch does differently are then large relative to the result, though only a few
# ulps of those terms. So a value may also differ by ABS_TOL times a scale: BOUND for node values (every
# node is kept below it), the largest gradient for gradients. A wrong derivative is off by far more.
REL = REL_TOL
ABS_TOL = 1e-12
BOUND = 8.0  # every node's value is rescaled to at most this magnitude

# ---------------------------------------------------------------------------
# The program: a list of steps (op, args, const). Args of elementwise ops are
# indices of earlier nodes; args of list ops hold indices (int) and plain
# numbers (float). Softmax and log_softmax add one node per input.
# ---------------------------------------------------------------------------

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}

WITH_NUMBER = {  # the number c on either side of the operator
    "add_c": lambda a, c: a + c, "radd_c": lambda a, c: c + a,
    "sub_c": lambda a, c: a - c, "rsub_c": lambda a, c: c - a,
    "mul_c": lambda a, c: a * c, "rmul_c": lambda a, c: c * a,
    "div_c": lambda a, c: a / c, "rdiv_c": lambda a, c: c / a,
    "pow_c": lambda a, c: a ** c, "rpow_c": lambda a, c: c ** a,
}

UNARY = {  # name: (on a Scalar, on a tensor); leaky_relu takes its slope as the const
    "neg": (operator.neg, operator.neg),
    "abs": (abs, abs),
    "exp": (Scalar.exp, torch.exp),
    "log": (Scalar.log, torch.log),
    "log1p": (Scalar.log1p, torch.log1p),
    "sqrt": (Scalar.sqrt, torch.sqrt),
    "sin": (Scalar.sin, torch.sin),
    "cos": (Scalar.cos, torch.cos),
    "tanh": (Scalar.tanh, torch.tanh),
    "arctanh": (Scalar.arctanh, torch.arctanh),
    "sigmoid": (Scalar.sigmoid, torch.sigmoid),
    "relu": (Scalar.relu, torch.relu),
    "softplus": (Scalar.softplus, lambda t: TF.softplus(t, threshold=math.inf)),  # exact (see the MLP test)
    "identity": (Scalar.identity, lambda t: t),
}


def _t(value):
    """A tensor for a node or a constant tensor for a plain number (torch side of the list ops)."""
    return value if isinstance(value, torch.Tensor) else torch.tensor(float(value), dtype=torch.float64)


def _torch_dot(ws, xs, bias):
    """dot(ws, xs) + bias on tensors; either side may hold plain numbers."""
    terms = [_t(w) * _t(x) for w, x in zip(ws, xs)]
    y = torch.stack(terms).sum() if terms else _t(0.0)
    return y if bias is None else y + bias


SCALAR_OPS = {
    **{name: (lambda a, c, f=f: f(a)) for name, (f, _) in UNARY.items()},
    "leaky_relu": lambda a, c: a.leaky_relu(c),
    "sum": lambda items, c: F.sum(items, start=c),
    "mean": lambda items, c: F.mean(items),
    "dot": lambda args, c: F.dot(*args),
    "logsumexp": lambda items, c: F.logsumexp(items),
    "softmax": lambda items, c: F.softmax(items),
    "log_softmax": lambda items, c: F.log_softmax(items),
}

TORCH_OPS = {
    **{name: (lambda a, c, f=f: f(a)) for name, (_, f) in UNARY.items()},
    "leaky_relu": lambda a, c: TF.leaky_relu(a, c),
    "sum": lambda items, c: torch.stack([_t(v) for v in items]).sum() + c,
    "mean": lambda items, c: torch.stack([_t(v) for v in items]).mean(),
    "dot": lambda args, c: _torch_dot(*args),
    "logsumexp": lambda items, c: torch.logsumexp(torch.stack(items), 0),
    "softmax": lambda items, c: list(torch.softmax(torch.stack(items), 0).unbind()),
    "log_softmax": lambda items, c: list(torch.log_softmax(torch.stack(items), 0).unbind()),
}
for _ops in (SCALAR_OPS, TORCH_OPS):
    _ops.update({name: (lambda args, c, f=f: f(*args)) for name, f in BINARY.items()})
    _ops.update({name: (lambda args, c, f=f: f(args[0], c)) for name, f in WITH_NUMBER.items()})

ELEMENTWISE = {*UNARY, "leaky_relu"}


def _resolve(op, args, nodes):
    """The step's arguments with node indices replaced by the nodes."""
    def node_or_number(v):
        return nodes[v] if type(v) is int else v

    if op in ELEMENTWISE:
        return nodes[args[0]]
    if op == "dot":
        ws, xs, bias = args
        return [node_or_number(v) for v in ws], [node_or_number(v) for v in xs], (
            None if bias is None else node_or_number(bias))
    return [node_or_number(v) for v in args]


def run(steps, leaves, ops):
    """Execute ``steps`` over ``leaves`` with one backend's ops; every node in creation order."""
    nodes = list(leaves)
    for op, args, c in steps:
        out = ops[op](_resolve(op, args, nodes), c)
        nodes.extend(out if isinstance(out, list) else [out])
    return nodes


@dataclass
class Program:
    """Leaf values, the steps, and the float weights of the output: dot(unused nodes, weights)."""

    leaves: list
    steps: list
    sinks: list
    weights: list

    def output(self, nodes, on_torch: bool):
        """The value whose gradient is checked, from the nodes ``run`` made (Scalars, or tensors)."""
        picked = [nodes[i] for i in self.sinks]
        if on_torch:
            return torch.stack(picked) @ torch.tensor(self.weights, dtype=torch.float64)
        return F.dot(picked, self.weights)


class _Builder:
    """Draws a program op by op, running it on Scalars to decide where guards go.

    Guards depend on the values, but they are steps of the program like any
    other, so torch later runs exactly the same ops; no choice is made twice.
    """

    def __init__(self, draw, leaves):
        self.draw = draw
        self.nodes = [Scalar(v) for v in leaves]
        self.steps = []
        self.used = set()
        self.usable = list(range(len(leaves)))  # nodes an op may take: all but those rescaled by bounded()

    def emit(self, op, args, c=None):
        """Run one step on Scalars, keep it; the index of its (first) new node."""
        index = len(self.nodes)
        out = SCALAR_OPS[op](_resolve(op, args, self.nodes), c)
        self.nodes.extend(out if isinstance(out, list) else [out])
        self.steps.append((op, args, c))
        flat_args = args if op != "dot" else [*args[0], *args[1], args[2]]
        self.used.update(v for v in flat_args if type(v) is int)
        return index

    def value(self, i):
        """The float value of node ``i``."""
        return self.nodes[i].data

    def pick(self, first=False):
        """An earlier node. An op's first operand is mostly the newest node, so chains grow as deep
        as the program is long; the others are any node, so sub-expressions are shared."""
        last = len(self.usable) - 1
        if first and self.draw(_MOSTLY):
            return self.usable[last]
        return self.usable[last - self.draw(st.integers(0, last))]

    def number(self, lo=-4.0, hi=4.0):
        """A plain float operand (0.0, -0.0 and subnormals included)."""
        return self.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))

    # ---- guards: each returns a node index whose value is in the op's domain ----

    def at_least(self, i, lo):
        """x if x >= lo, else softplus(x) + lo (smooth, > lo)."""
        if self.value(i) >= lo:
            return i
        return self.emit("add_c", (self.emit("softplus", (i,)),), lo)

    def away_from_zero(self, i, lo=0.25):
        """x if |x| >= lo, else x + 1 (for divisors and negative powers)."""
        return i if abs(self.value(i)) >= lo else self.emit("add_c", (i,), 1.0)

    def away_from_kink(self, i):
        """x, or x + 0.5 when x is so near 0 that torch's rounding could land on the other side."""
        return i if abs(self.value(i)) >= 1e-3 else self.emit("add_c", (i,), 0.5)

    def inside_unit(self, i):
        """x if |x| <= 0.9, else 0.9 * tanh(x) (for arctanh)."""
        return i if abs(self.value(i)) <= 0.9 else self.emit("rmul_c", (self.emit("tanh", (i,)),), 0.9)

    def bounded(self, i):
        """x, or x / 2**k so that |x| <= BOUND (exact: k is a power of two)."""
        v = abs(self.value(i))
        assert math.isfinite(v), f"the guards let a non-finite value through: {self.steps[-1]}"
        if v <= BOUND:
            return i
        return self.emit("div_c", (i,), 2.0 ** math.ceil(math.log2(v / BOUND)))

    # ---- one drawn op --------------------------------------------------------

    def items(self, numbers_allowed):
        """Operands of a list op: the first an earlier node, the others nodes or (where the op takes
        them) plain numbers."""
        n = self.draw(st.integers(1, 5))
        return (self.pick(first=True), *(self.number() if numbers_allowed and self.draw(st.booleans())
                                         else self.pick() for _ in range(n - 1)))

    def dot_args(self):
        """(ws, xs, bias) for dot: each side all nodes, all numbers or mixed; the bias none, a node or a
        number."""
        n = self.draw(st.integers(0, 5))
        sides = []
        for _ in range(2):
            kind = self.draw(st.sampled_from(["nodes", "numbers", "mixed"]))
            sides.append([self.pick(first=k == 0) if kind == "nodes"
                          or (kind == "mixed" and self.draw(st.booleans()))
                          else self.number() for k in range(n)])
        bias = self.draw(st.sampled_from(["none", "node", "number"]))
        if not any(type(v) is int for v in sides[0] + sides[1]):
            bias = "node"  # keep the chain going through the bias
        bias = None if bias == "none" else self.pick(first=True) if bias == "node" else self.number()
        return tuple(sides[0]), tuple(sides[1]), bias

    def two(self):
        """Two operands, the chain's newest node on either side."""
        a, b = self.pick(first=True), self.pick()
        return (b, a) if self.draw(st.booleans()) else (a, b)

    def step(self, op):
        """Draw the operands of ``op``, guard them, emit it and bound its result(s)."""
        first = len(self.nodes)
        if op in ("add", "sub", "mul"):
            self.emit(op, self.two())
        elif op == "div":
            a, b = self.two()
            self.emit(op, (a, self.away_from_zero(b)))
        elif op == "pow":  # positive base, any (bounded) exponent
            a, b = self.two()
            self.emit(op, (self.at_least(a, 0.1), b))
        elif op in ("add_c", "radd_c", "sub_c", "rsub_c", "mul_c", "rmul_c"):
            self.emit(op, (self.pick(first=True),), self.number())
        elif op == "div_c":
            c = self.number(0.25, 4.0) * self.draw(st.sampled_from([1.0, -1.0]))
            self.emit(op, (self.pick(first=True),), c)
        elif op == "rdiv_c":
            self.emit(op, (self.away_from_zero(self.pick(first=True)),), self.number())
        elif op == "pow_c":
            c = self.draw(st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, -1.0, -2.0]), st.floats(-3.0, 3.0)))
            a = self.pick(first=True)
            if c != int(c):  # a fractional power needs a positive base
                a = self.at_least(a, 0.1)
            elif c < 0:
                a = self.away_from_zero(a)
            self.emit(op, (a,), c)
        elif op == "rpow_c":
            self.emit(op, (self.pick(first=True),), self.number(0.1, 4.0))
        elif op in ("abs", "relu", "leaky_relu"):
            slope = self.number(0.0, 1.0) if op == "leaky_relu" else None
            self.emit(op, (self.away_from_kink(self.pick(first=True)),), slope)
        elif op in ("log", "sqrt"):
            self.emit(op, (self.at_least(self.pick(first=True), 0.1),))
        elif op == "log1p":
            self.emit(op, (self.at_least(self.pick(first=True), -0.9),))
        elif op == "arctanh":
            self.emit(op, (self.inside_unit(self.pick(first=True)),))
        elif op in ELEMENTWISE:
            self.emit(op, (self.pick(first=True),))
        elif op == "sum":
            self.emit(op, self.items(True), self.number() if self.draw(st.booleans()) else 0.0)
        elif op == "mean":
            self.emit(op, self.items(True))
        elif op == "dot":
            self.emit(op, self.dot_args())
        else:  # logsumexp, softmax, log_softmax: Scalars only
            self.emit(op, self.items(False))
        for i in range(first, len(self.nodes)):  # the new nodes, guards included
            self.usable.append(self.bounded(i))


OPS = sorted(set(SCALAR_OPS))
_MOSTLY = st.sampled_from([True] * 7 + [False])  # 7 in 8


@st.composite
def programs(draw, max_ops=50):
    """A random program of 1..max_ops drawn ops (plus their guards) over 1-6 leaves."""
    leaves = draw(st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=1, max_size=6))
    builder = _Builder(draw, leaves)
    for _ in range(draw(st.integers(1, max_ops))):
        builder.step(draw(st.sampled_from(OPS)))
    sinks = [i for i in range(len(builder.nodes)) if i not in builder.used]
    # unequal: sums of softmax outputs do not cancel
    weights = [1.0 + 0.125 * (k % 8) for k in range(len(sinks))]
    return Program(leaves, builder.steps, sinks, weights)


def close(actual, expected, scale, what):
    """``actual`` (scalargrad) against ``expected`` (torch): rel REL, or ABS_TOL * scale (see the top)."""
    expected = expected.item() if isinstance(expected, torch.Tensor) else float(expected)
    assert type(actual) is float, f"{what}: expected a float, got {actual!r}"
    assert same_float(actual, expected, REL, ABS_TOL * scale), \
        f"{what}: scalargrad {actual!r}, torch {expected!r}"


def describe(program):
    """The steps of a program, one a line, for failure messages."""
    return "\n".join(f"  {i}: {step}" for i, step in enumerate(program.steps))


@given(programs(), st.booleans())
def test_random_graphs_match_torch(program, twice):
    leaves = [Scalar(v) for v in program.leaves]
    nodes = run(program.steps, leaves, SCALAR_OPS)
    y = program.output(nodes, on_torch=False)
    y.backward()

    t_leaves = [tt(v) for v in program.leaves]
    t_nodes = run(program.steps, t_leaves, TORCH_OPS)
    ty = program.output(t_nodes, on_torch=True)
    ty.backward()

    where = f"program:\n{describe(program)}"
    for i, (n, t) in enumerate(zip(nodes, t_nodes)):
        close(n.data, t, BOUND, f"node {i}\n{where}")
    close(y.data, ty, 1.0 + sum(BOUND * w for w in program.weights), f"output\n{where}")
    t_grads = [0.0 if t.grad is None else t.grad.item() for t in t_leaves]
    scale = max(1.0, *map(abs, t_grads))
    for i, (leaf, g) in enumerate(zip(leaves, t_grads)):
        close(leaf.grad, g, scale, f"grad of leaf {i}\n{where}")

    if twice:  # leaf gradients add up across calls, as in torch: exactly twice the first
        # (Compared with twice torch's first gradient, not with a second torch backward: torch 2.13
        # double-counts when 0-d leaves share one gradient buffer, e.g. after torch.stack([b, a]).sum().)
        first = [leaf.grad for leaf in leaves]
        y.backward()
        assert [leaf.grad for leaf in leaves] == [2.0 * g for g in first], where


# ---------------------------------------------------------------------------
# Random MLPs
# ---------------------------------------------------------------------------

@st.composite
def mlp_cases(draw):
    """((sizes, activations, weights), inputs, targets, loss name, loss options): an MLP and a batch."""
    n_in = draw(st.integers(1, 12))
    hidden = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    loss = draw(st.sampled_from(["cross_entropy", "mse"]))
    n_out = draw(st.integers(1, 6))
    activations = draw(st.lists(st.sampled_from(F.ACTIVATIONS), min_size=len(hidden) + 1,
                                max_size=len(hidden) + 1))
    sizes = [n_in, *hidden, n_out]
    # PyTorch's default init, drawn here (Linear would draw from the global random module); a gain of 3
    # saturates sigmoids and tanhs and makes large logits.
    rnd = draw(st.randoms(use_true_random=False))
    gain = draw(st.sampled_from([1.0, 3.0]))
    weights = [[rnd.uniform(-gain, gain) / math.sqrt(a) for _ in range((a + 1) * b)]
               for a, b in zip(sizes, sizes[1:])]
    batch = draw(st.integers(1, 8))
    x = draw(st.lists(st.lists(st.floats(-4.0, 4.0, allow_nan=False), min_size=n_in, max_size=n_in),
                      min_size=batch, max_size=batch))
    if loss == "cross_entropy":
        y = draw(st.lists(st.integers(0, n_out - 1), min_size=batch, max_size=batch))
        options = {"reduction": draw(st.sampled_from(["mean", "sum"])),
                   "label_smoothing": draw(st.sampled_from([0.0, 0.1]))}
    else:
        y = draw(st.lists(st.lists(st.floats(-4.0, 4.0, allow_nan=False), min_size=n_out, max_size=n_out),
                          min_size=batch, max_size=batch))
        options = {"reduction": draw(st.sampled_from(["mean", "sum"]))}
    return (sizes, activations, weights), x, y, loss, options


def make_mlp(sizes, activations, weights):
    """The MLP with these layer sizes and activations (the last may have one too), weights in parameter
    order."""
    model = Sequential([Linear(a, b, activation=act) for a, b, act in zip(sizes, sizes[1:], activations)])
    for layer, values in zip(model, weights):
        params = layer.parameters()
        assert len(params) == len(values)
        for p, v in zip(params, values):
            p.data = v
    return model


@given(mlp_cases())
def test_random_mlps_match_torch(case):
    spec, x, y, loss_name, options = case
    model = make_mlp(*spec)
    torch_model = model.to_torch()
    for m in torch_model.modules():
        if isinstance(m, torch.nn.Softplus):
            # torch's Softplus returns x itself above x = 20 (its documented `threshold`), 2e-9 off at
            # 20; scalargrad computes log(1 + e^x) exactly. Compare against the exact formula.
            m.threshold = math.inf
    t_x = torch.tensor(x, dtype=torch.float64)
    if loss_name == "cross_entropy":
        loss = CrossEntropyLoss(**options)([model(xi) for xi in x], y)
        t_loss = torch.nn.CrossEntropyLoss(**options)(torch_model(t_x), torch.tensor(y))
    else:
        loss = MSELoss(**options)([model(xi) for xi in x], y)
        t_loss = torch.nn.MSELoss(**options)(torch_model(t_x), torch.tensor(y, dtype=torch.float64))
    loss.backward()
    t_loss.backward()

    what = f"{model!r}, {loss_name} {options}, batch {len(x)}"
    close(loss.data, t_loss, 1.0 + abs(t_loss.item()), f"loss of {what}")
    t_linears = [m for m in torch_model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(t_linears) == len(model)
    scale = max(1.0, *(g.abs().max().item() for lin in t_linears for g in (lin.weight.grad, lin.bias.grad)))
    for k, (layer, lin) in enumerate(zip(model, t_linears)):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                close(w.grad, lin.weight.grad[j, i], scale, f"layer {k} weight [{j}, {i}] of {what}")
            close(neuron.b.grad, lin.bias.grad[j], scale, f"layer {k} bias [{j}] of {what}")
